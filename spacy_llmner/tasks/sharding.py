"""Split long docs into shards whose prompt (and copied answer) fits the model's context.

Shards are cut at spaCy token boundaries — preferably after a sentence end, else after
whitespace — and fuse back with ``Doc.from_docs(..., ensure_whitespace=False)``, so the fused
text is the input, character for character. Nothing is ever truncated.
"""

from __future__ import annotations

from spacy.tokens import Doc

_SENT_END = {".", "!", "?", "。", "！", "？", ";"}


def doc_budget_bytes(context_length: int | None, prompt_bytes: int, bytes_per_token: float) -> int | None:
    """Bytes of document per shard: prompt + document + its copy must fit the context.

    Estimates are deliberately conservative (``bytes_per_token`` = 1 assumes the worst case of a
    byte-level tokenizer); the instruction text is English, ~3 bytes per token.
    """
    if not context_length:
        return None
    prefix_tokens = prompt_bytes / 3 + 64
    free = context_length - prefix_tokens
    # The document appears twice (prompt and copied answer), plus room for tags.
    return max(int(free * bytes_per_token / 2.2), 0)


def shard_doc(doc: Doc, budget: int | None) -> list[Doc]:
    """Token-aligned shards of at most ``budget`` bytes each (a single oversized token alone)."""
    if budget is None or len(doc.text.encode("utf-8", "surrogatepass")) <= budget or len(doc) < 2:
        return [doc]
    shards: list[Doc] = []
    start = 0
    size = 0
    best_cut = -1  # index after which to cut, preferring sentence ends
    best_ws = -1
    i = start
    while i < len(doc):
        tok = doc[i]
        n = len(tok.text_with_ws.encode("utf-8", "surrogatepass"))
        if size + n > budget and i > start:
            cut = best_cut if best_cut >= start + (i - start) // 2 else best_ws
            cut = cut if cut >= start else i - 1
            shards.append(doc[start : cut + 1].as_doc(copy_user_data=False))
            start, size, best_cut, best_ws = cut + 1, 0, -1, -1
            i = start
            continue
        size += n
        if tok.text in _SENT_END or "\n" in tok.whitespace_ or (tok.is_space and "\n" in tok.text):
            best_cut = i
        if tok.whitespace_ or tok.is_space:
            best_ws = i
        i += 1
    if start < len(doc):
        shards.append(doc[start:].as_doc(copy_user_data=False))
    return shards
