"""The chat template around the document, split once so it can be tokenized in segments.

Training and inference both tokenize a conversation as three segments::

    prefix  | escaped document + suffix | tagged completion + end
    (shared)  (per document)              (labels; generated at inference)

so the completion mask is exact by construction, and the shared prefix's KV cache can be
reused for every document. The frame is found by rendering the tokenizer's chat template around
sentinels — no torch here, only the tokenizer's ``apply_chat_template`` and ``encode``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import Errors, LLMNERError, Warnings
from ..tagging import escape
from .template import Message

logger = logging.getLogger("spacy_llmner")

_DOC = "SPACYLLMNERDOCUMENTSENTINEL"
_ANSWER = "SPACYLLMNERANSWERSENTINEL"


class ChatTokenizer(Protocol):
    chat_template: Any

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...

    def encode(self, text: str, **kwargs: Any) -> list[int]: ...


@dataclass(frozen=True)
class ChatFrame:
    """``prefix`` + escaped document + ``suffix`` is the prompt; the answer is followed by ``end``."""

    prefix: str
    suffix: str
    end: str


def _render(tokenizer: ChatTokenizer, messages: Sequence[Message], gen: bool) -> str:
    out = tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=gen
    )
    return str(out)


def chat_frame(tokenizer: ChatTokenizer, messages: Sequence[Message], name: str = "") -> ChatFrame:
    """Split the chat template around the document and the answer."""
    if not getattr(tokenizer, "chat_template", None):
        raise LLMNERError(Errors.E004.format(name=name or type(tokenizer).__name__))
    prompt = _render(tokenizer, [*messages, {"role": "user", "content": _DOC}], gen=True)
    if prompt.count(_DOC) != 1:
        raise LLMNERError(
            Errors.E011.format(
                name="chat_template",
                value="<template>",
                hint="The chat template must render the user's message verbatim exactly once.",
            )
        )
    prefix, suffix = prompt.split(_DOC)
    full = _render(
        tokenizer,
        [*messages, {"role": "user", "content": _DOC}, {"role": "assistant", "content": _ANSWER}],
        gen=False,
    )
    end = full.split(_ANSWER, 1)[1] if full.count(_ANSWER) == 1 else ""
    return ChatFrame(prefix=prefix, suffix=suffix, end=end)


def encode_segments(
    tokenizer: ChatTokenizer, frame: ChatFrame, escaped_doc: str, completion: str | None = None
) -> tuple[list[int], list[int], list[int]]:
    """Token ids of (prefix, document+suffix, completion+end); completion ids empty if None.

    Special tokens come from the template text itself, so nothing is added here.
    """
    prefix = tokenizer.encode(frame.prefix, add_special_tokens=False)
    doc = tokenizer.encode(escaped_doc + frame.suffix, add_special_tokens=False)
    answer = (
        tokenizer.encode(completion + frame.end, add_special_tokens=False)
        if completion is not None
        else []
    )
    return list(prefix), list(doc), list(answer)


@dataclass(frozen=True)
class PromptFrame:
    """A conversation's frame and the token ids of its prefix (the part shared by every document)."""

    frame: ChatFrame
    prefix_ids: list[int]


def prompt_frame(tokenizer: ChatTokenizer, messages: Sequence[Message], name: str = "") -> PromptFrame:
    """The frame around the document for ``messages``, and its prefix tokenized: what inference,
    training and the benchmark all start from."""
    frame = chat_frame(tokenizer, messages, name)
    prefix, _, _ = encode_segments(tokenizer, frame, "")
    return PromptFrame(frame=frame, prefix_ids=prefix)


def document_ids(tokenizer: ChatTokenizer, frame: ChatFrame, source: str) -> list[int]:
    """Token ids of one document's turn after the prefix (the source XML-escaped, then the suffix)."""
    return encode_segments(tokenizer, frame, escape(source))[1]


_warned_prefix = False


def check_prefix_consistency(
    tokenizer: ChatTokenizer, frame: ChatFrame, escaped_doc: str, completion: str
) -> bool:
    """Warn (once, counts only — never text) if segment tokenization differs from whole-string."""
    global _warned_prefix
    a, b, c = encode_segments(tokenizer, frame, escaped_doc, completion)
    whole = tokenizer.encode(
        frame.prefix + escaped_doc + frame.suffix + completion + frame.end,
        add_special_tokens=False,
    )
    segmented = a + b + c
    n_prompt = len(a) + len(b)
    same = whole[:n_prompt] == segmented[:n_prompt]
    if not same and not _warned_prefix:
        n_diff = sum(x != y for x, y in zip(whole, segmented)) + abs(len(whole) - len(segmented))
        logger.warning(Warnings.W001.format(n_diff=n_diff))
        _warned_prefix = True
    return same


def eos_ids(tokenizer: Any, frame: ChatFrame) -> list[int]:
    """Ids that end the answer: the first token of the template's end marker, and the EOS token."""
    ids: list[int] = []
    if frame.end.strip():
        end_ids = tokenizer.encode(frame.end, add_special_tokens=False)
        if end_ids:
            ids.append(int(end_ids[0]))
    eos = getattr(tokenizer, "eos_token_id", None)
    if isinstance(eos, int) and eos not in ids:
        ids.append(eos)
    return ids
