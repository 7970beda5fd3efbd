"""CLUENER2020 (official ``label`` files or span JSONL) -> spaCy ``DocBin`` on ``spacy.blank("zh")``'s character tokens.

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
from .jsonl import CLUENER_FORMAT, ConversionStats, check_entities, make_doc
from .spans import SPAN_FORMAT, read_span_records

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


def official_spans(record: dict[str, Any], line: int, path: Path) -> list[dict[str, Any]] | None:
    """Spans of an official CLUENER line (``label`` dict, end inclusive), checked against the text.

    ``None`` when the line has no ``label`` (not this layout). Offsets that do not select the
    entity text they are listed under are refused: a shifted file would give wrong gold spans.
    """
    if "label" not in record:
        return None
    labels, text = record["label"], record.get("text")

    def refuse(problem: str) -> LLMNERError:
        return LLMNERError(Errors.E113.format(line=line, path=path, converter="convert-cluener",
                                              problem=problem, expected=CLUENER_FORMAT))

    if not isinstance(labels, dict) or not isinstance(text, str):
        raise refuse("'label' is not an object of labels, or 'text' is not a string")
    spans = []
    for label, entities in labels.items():
        if not isinstance(entities, dict):
            raise refuse(f"label '{label}' does not map entity texts to offset lists")
        for entity, offsets in entities.items():
            for pair in offsets if isinstance(offsets, list) else [None]:
                if not (isinstance(pair, list) and len(pair) == 2 and all(type(x) is int for x in pair)):
                    raise refuse(f"an offset of label '{label}' is not [start, end]")
                start, end = pair[0], pair[1] + 1  # CLUENER ends are inclusive
                if text[start:end] != entity:
                    raise refuse(f"offsets [{pair[0]}, {pair[1]}] of label '{label}' do not select "
                                 "the entity they are listed under")
                spans.append({"start": start, "end": end, "label": label})
    return sorted(spans, key=lambda s: (s["start"], s["end"]))


def cluener_to_docbin(path: str | Path, limit: int = 0, seed: int = 0) -> tuple[DocBin, ConversionStats]:
    """Read CLUENER into a ``DocBin``: the official files (``label`` dict, end inclusive) or span
    JSONL (``{"text", "spans": [{start, end, label}]}``); ``limit`` > 0 keeps a seeded sample.

    A file that converts to no entities at all is refused (E114): that is a format problem.
    """
    check_char_segmenter()
    records = list(read_span_records(Path(path), official_spans))
    keep = sample_indices(len(records), limit, seed)
    nlp = blank(LANG)
    stats = ConversionStats()
    db = DocBin(store_user_data=False)
    for index in keep:
        _, text, spans = records[index]
        db.add(make_doc(nlp.make_doc(text), spans, None, "strict", stats))
    check_entities(stats, Path(path), f"{CLUENER_FORMAT}, or {SPAN_FORMAT}")
    return db, stats


def summary(stats: ConversionStats, n_source: int | None = None) -> dict[str, Any]:
    """What the CLI prints: counts, misaligned spans (must be 0 on character tokens), labels."""
    out = stats.to_dict()
    out["segmenter"] = SEGMENTER
    if n_source is not None:
        out["source_documents"] = n_source
    return out
