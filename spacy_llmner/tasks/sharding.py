"""Split long docs into shards the model decodes as rows of one batch.

Two limits apply, the smaller wins: the model's context (prompt + document + its copied answer
must fit) and ``max_shard_bytes``, the length of text the model was trained to tag in one go.
The second is what makes a long note cheap: a 20,000-character note becomes ~25 shards that
decode side by side in one batch (the fast decoder's rows), where one context-sized shard would
run its passes one after another on small matmuls, and it keeps each shard as long as the
documents the model saw in training.

Shards are cut at spaCy token boundaries, preferring (in that order) a blank line, a line end,
a sentence end and whitespace, past the first quarter of the window, so a cut falls between
paragraphs or lines of a note and not inside a name or an address. They fuse back with
``Doc.from_docs(..., ensure_whitespace=False)``, so the fused text is the input, character for
character. Nothing is ever truncated.
"""

from __future__ import annotations

from spacy.tokens import Doc

_SENT_END = {".", "!", "?", "。", "！", "？", ";", "；"}

# Default ``max_shard_bytes``: about twice the longest document of the generated training data
# (584 bytes), so ordinary notes stay whole and a cut only ever falls in long ones.
MAX_SHARD_BYTES = 1024

# Cut kinds, best last.
_WS, _SENT, _LINE, _PARA = 0, 1, 2, 3


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


def shard_budget(context_budget: int | None, max_shard_bytes: int | None) -> int | None:
    """The smaller of the context's budget and ``max_shard_bytes`` (None or 0: no such limit)."""
    limits = [b for b in (context_budget, max_shard_bytes or None) if b is not None]
    return min(limits) if limits else None


def _cut_kind(doc: Doc, i: int) -> int | None:
    """What kind of boundary follows token ``i`` (None: no whitespace there, so no cut)."""
    tok = doc[i]
    space = tok.text if tok.is_space else tok.whitespace_
    lines = space.count("\n")
    if lines >= 2:
        return _PARA
    if lines == 1:
        return _LINE
    if not space:
        return None
    return _SENT if tok.text in _SENT_END else _WS


def shard_doc(doc: Doc, budget: int | None) -> list[Doc]:
    """Token-aligned shards of at most ``budget`` bytes each (a single oversized token alone)."""
    if budget is None or len(doc.text.encode("utf-8", "surrogatepass")) <= budget or len(doc) < 2:
        return [doc]
    shards: list[Doc] = []
    start = 0
    size = 0
    cuts: list[tuple[int, int]] = []  # (token index to cut after, kind) since ``start``
    i = start
    while i < len(doc):
        tok = doc[i]
        n = len(tok.text_with_ws.encode("utf-8", "surrogatepass"))
        if size + n > budget and i > start:
            # Past the first quarter: a paragraph or line break wins over a fuller shard.
            quarter = start + (i - start) // 4
            late = [c for c in cuts if c[0] >= quarter] or cuts
            # The best kind of cut, the latest of that kind; none at all: before this token.
            cut = max(late, key=lambda c: (c[1], c[0]))[0] if late else i - 1
            shards.append(doc[start : cut + 1].as_doc(copy_user_data=False))
            start, size, cuts = cut + 1, 0, []
            i = start
            continue
        size += n
        kind = _cut_kind(doc, i)
        if kind is not None:
            cuts.append((i, kind))
        i += 1
    if start < len(doc):
        shards.append(doc[start:].as_doc(copy_user_data=False))
    return shards
