"""The fast decoder's options, validated once (``FastOptions.__post_init__``), with coded errors.

``HFModel`` builds them at construction, so a typo in a config fails there and not at the first
document; ``FastDecoder`` takes them as they are. Pure: no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..errors import Errors, LLMNERError

# Which copy tokens the constraint lets through: every tokenization of the source, or only the
# tokenizer's own (canonical.py).
COPY_TOKENS = ("any", "canonical")
# How rows see the prompt prefix: "cascade" (one shared copy, split attention), "copy" (repeated
# in every row's cache; any architecture), "auto" (cascade where exact and measured faster).
SHARED_PREFIX = ("auto", "cascade", "copy")
# A draft stretched to cover ``draft_bytes`` stops at this many times ``max_draft`` tokens.
DRAFT_CAP = 4


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise LLMNERError(Errors.E011.format(name=name, value=value, hint=f"Use one of {list(choices)}."))


def check_copy_tokens(copy_tokens: str, tokenizer: Any) -> None:
    """``copy_tokens`` is one of ``COPY_TOKENS``; "canonical" needs the tokenizer (a decoder
    without one cannot know the tokenizer's own split)."""
    _check_choice("copy_tokens", copy_tokens, COPY_TOKENS)
    if copy_tokens == "canonical" and tokenizer is None:
        raise LLMNERError(
            Errors.E011.format(
                name="copy_tokens",
                value=copy_tokens,
                hint="Canonical copies need the tokenizer: pass tokenizer=... to the decoder.",
            )
        )


@dataclass(frozen=True)
class FastOptions:
    """How the fast decoder runs. Every choice copies the same source text; they change speed, memory,
    and (``copy_tokens``) which copy decisions the model is asked to make."""

    # "any": every tokenization of the source may be copied; "canonical": only the tokenizer's
    # own (see canonical.py; needs the tokenizer, which the decoder checks).
    copy_tokens: str = "any"
    # How batched rows share the prompt prefix's KV (see cascade.py and ``SHARED_PREFIX``).
    shared_prefix: str = "auto"
    # Rows (documents) decoded together; halved on out-of-memory.
    batch_size: int = 16
    # Draft tokens verified per row and pass (speculative copy).
    max_draft: int = 16
    # Source bytes a draft covers at least, in up to ``DRAFT_CAP`` x ``max_draft`` tokens: text
    # the tokenizer splits finely (escaped markup ``&lt;`` = 3 tokens, control bytes, CJK, emoji:
    # 1-3 bytes a token against ~5 for prose) would otherwise cost a pass per 16 tokens, i.e.
    # 3-8x the passes of prose of the same length. 0: ``max_draft`` tokens only.
    draft_bytes: int = 64
    # Inside a tag several labels may finish, the draft is a tree (cascade attention only): the
    # likeliest ``tree_labels`` labels in full (+ a few copy tokens), every other label's first
    # token, so a label costs no extra pass when it is among them. 0: a linear draft (one guess).
    tree_labels: int = 3

    def __post_init__(self) -> None:
        _check_choice("copy_tokens", self.copy_tokens, COPY_TOKENS)
        _check_choice("shared_prefix", self.shared_prefix, SHARED_PREFIX)
        for name in ("batch_size", "max_draft"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise LLMNERError(Errors.E011.format(name=name, value=value, hint="Use an int >= 1."))
        for name in ("draft_bytes", "tree_labels"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise LLMNERError(Errors.E011.format(name=name, value=value, hint="Use an int >= 0."))

    def with_changes(self, **changes: Any) -> FastOptions:
        """A copy with the given fields changed (``None`` leaves a field as it is), checked again."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
