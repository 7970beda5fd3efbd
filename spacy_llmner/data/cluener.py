"""CLUENER2020 span JSONL -> spaCy ``DocBin`` on ``spacy.blank("zh")``'s character tokens.

``spacy.blank("zh")`` segments by character by default (``segmenter = "char"``): every
non-space character is a token, so a tag may sit between any two characters and every CLUENER
span (character offsets) is a token span. Conversion still checks it, span by span, under
``alignment_mode="strict"``, and counts any that do not align rather than snapping them.

Subsampling is a seeded draw of line indices, kept in file order, so a 300-document corpus
is the same 300 documents on every machine. Stats carry counts only, never text.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from spacy.tokens import DocBin

from ..errors import Errors, LLMNERError
from .blank import blank
from .jsonl import ConversionStats, _records, make_doc

LANG = "zh"
# The tokenizer conversion must use: spacy.blank("zh") with its default character segmenter.
SEGMENTER = "char"


def sample_indices(n_total: int, limit: int, seed: int) -> list[int]:
    """``limit`` of ``range(n_total)`` drawn with ``seed``, in ascending order (0: all)."""
    if limit < 0:
        raise LLMNERError(Errors.E102.format(n=limit))
    if limit == 0 or limit >= n_total:
        return list(range(n_total))
    return sorted(random.Random(seed).sample(range(n_total), limit))


def check_char_segmenter(lang: str = LANG) -> None:
    """Refuse a ``zh`` tokenizer configured with a word segmenter (jieba/pkuseg): CLUENER spans
    then stop aligning, and XML tags could only go between words."""
    tokenizer = blank(lang).tokenizer
    segmenter = getattr(tokenizer, "segmenter", SEGMENTER)
    if str(getattr(segmenter, "value", segmenter)) != SEGMENTER:
        raise LLMNERError(Errors.E111.format(segmenter=segmenter))


def cluener_to_docbin(path: str | Path, limit: int = 0, seed: int = 0) -> tuple[DocBin, ConversionStats]:
    """Read a CLUENER span JSONL file (``{"text", "spans": [{start, end, label}]}``) into a
    ``DocBin``; ``limit`` > 0 keeps a seeded sample of that many documents."""
    check_char_segmenter()
    records = list(_records(Path(path)))
    keep = sample_indices(len(records), limit, seed)
    nlp = blank(LANG)
    stats = ConversionStats()
    db = DocBin(store_user_data=False)
    for index in keep:
        _, text, spans = records[index]
        db.add(make_doc(nlp.make_doc(text), spans, None, "strict", stats))
    return db, stats


def summary(stats: ConversionStats, n_source: int | None = None) -> dict[str, Any]:
    """What the CLI prints: counts, misaligned spans (must be 0 on character tokens), labels."""
    out = stats.to_dict()
    out["segmenter"] = SEGMENTER
    if n_source is not None:
        out["source_documents"] = n_source
    return out
