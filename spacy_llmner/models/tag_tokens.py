"""Label tags as whole tokens of the tokenizer (``<PERSON>`` one id instead of five pieces).

A byte-level BPE tokenizer splits ``<PERSON>`` into ``<``, ``P``, ``ERS``, ``ON``, ``>``: the
model spends several decisions (and the fast decoder several passes) on every tag, and the
pieces carry no meaning of their own. Added as tokens, each tag is one decision with an
embedding of its own, trained with the adapter (peft ``trainable_token_indices``: only the new
rows, and with tied embeddings the same rows of the output head).

The adapter carries the trained rows (``adapter_model.safetensors``); its metadata records the
tags and the ids they got. At load time the same tags are added to the base tokenizer in the same
order, which gives the same ids (checked, E018), and the model's embeddings are resized before the
adapter is attached. So a pipeline needs no tokenizer copy of its own, and ``spacy.load`` works
anywhere the base can be had.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import Errors, LLMNERError
from ..tagging.labels import close_tag, open_tag


def tag_strings(labels: Iterable[str]) -> list[str]:
    """Every label's opening and closing tag, in label order."""
    return [tag for label in labels for tag in (open_tag(label), close_tag(label))]


def _add(tokenizer: Any, tags: list[str]) -> dict[str, int]:
    from tokenizers import AddedToken

    # normalized=False: the tag is matched on the raw text, before any normalizer; not special,
    # so it is decoded (and copied into the output) like any other text.
    tokens = [AddedToken(tag, normalized=False, special=False) for tag in tags]
    tokenizer.add_tokens(tokens)
    return {tag: int(tokenizer.convert_tokens_to_ids(tag)) for tag in tags}


def add_tag_tokens(tokenizer: Any, model: Any, labels: Iterable[str]) -> dict[str, int]:
    """Add the tags to ``tokenizer``, grow ``model``'s embeddings, and start each new row at the
    mean of its former pieces' rows (a tag begins as what the model read before, not noise).

    Returns {tag: id}, for the adapter's metadata and peft's ``trainable_token_indices``.
    """
    import torch

    tags = tag_strings(labels)
    pieces = {tag: tokenizer.encode(tag, add_special_tokens=False) for tag in tags}
    ids = _add(tokenizer, tags)
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    weight = model.get_input_embeddings().weight
    with torch.no_grad():
        for tag, tid in ids.items():
            weight[tid] = weight[pieces[tag]].mean(dim=0)
    return ids


def restore_tag_tokens(tokenizer: Any, model: Any, meta: Mapping[str, Any], adapter: str) -> None:
    """Before attaching an adapter trained with tag tokens: the same tokens, at the same ids.

    The rows' values need no starting point here: the adapter carries every trained row whole
    (peft's trainable tokens replace the rows, they do not add to them)."""
    recorded: dict[str, int] = dict(meta.get("tag_tokens") or {})  # AdapterMeta.tag_tokens
    if not recorded:
        return
    got = _add(tokenizer, list(recorded))
    if got != recorded:
        raise LLMNERError(
            Errors.E018.format(path=adapter, size=len(tokenizer) - len(recorded), first=min(recorded.values()))
        )
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
