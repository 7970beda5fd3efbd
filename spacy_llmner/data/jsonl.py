"""JSONL ``{"text", "spans": [{"start", "end", "label"}]}`` <-> spaCy ``DocBin`` (the file is read
by ``data/spans.py``, the one reader of that format).

Real corpora are messy: spans that cut through a token, overlapping annotations, labels named
differently. Conversion is lenient with annotations (drops and counts what cannot be stored as
``doc.ents``) but strict with structure (a malformed line raises an error naming its line number).
Errors and stats never quote the text: these files hold personal data.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spacy.tokens import Doc, DocBin, Span
from spacy.util import filter_spans

from ..errors import Errors, LLMNERError
from .blank import blank
from .spans import SPAN_FORMAT, read_span_records

ALIGNMENT_MODES = ("strict", "contract", "expand")
LabelMap = Mapping[str, "str | None"]


@dataclass
class ConversionStats:
    """Counts from one conversion (no text, so it is safe to log)."""

    docs: int = 0
    spans_in: int = 0
    spans_kept: int = 0
    renamed: int = 0
    dropped_label: int = 0  # label mapped to None / ""
    dropped_misaligned: int = 0  # no token-aligned span for these offsets
    adjusted: int = 0  # kept, but snapped to token boundaries (contract/expand)
    dropped_overlap: int = 0  # overlapped a longer span
    labels: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "labels"}
        out["labels"] = dict(sorted(self.labels.items()))
        return out


#: Official CLUENER2020: ``label`` → {label: {entity text: [[start, end], ...]}}, end inclusive.
CLUENER_FORMAT = '{"text": ..., "label": {"name": {"叶老桂": [[9, 11]]}}} (end inclusive)'


def check_entities(stats: ConversionStats, path: Path, expected: str) -> None:
    """A labelled source that converts to no entities at all is an error, not empty gold data."""
    if stats.docs and not stats.spans_kept:
        raise LLMNERError(Errors.E114.format(path=path, n=stats.docs, expected=expected))


def _check_mode(alignment_mode: str) -> None:
    if alignment_mode not in ALIGNMENT_MODES:
        raise LLMNERError(Errors.E107.format(mode=alignment_mode))


def make_doc(
    doc: Doc, spans: list[tuple[int, int, str]], label_map: LabelMap | None, alignment_mode: str,
    stats: ConversionStats,
) -> Doc:
    """Set ``doc.ents`` from char spans: rename, align, resolve overlaps (longer wins), count."""
    aligned: list[Span] = []
    for start, end, label in spans:
        stats.spans_in += 1
        if label_map is not None and label in label_map:
            new = label_map[label]
            if not new:
                stats.dropped_label += 1
                continue
            if new != label:
                stats.renamed += 1
            label = new
        span = doc.char_span(start, end, label=label, alignment_mode=alignment_mode)
        if span is None or len(span) == 0:
            stats.dropped_misaligned += 1
            continue
        if (span.start_char, span.end_char) != (start, end):
            stats.adjusted += 1
        aligned.append(span)
    kept = filter_spans(aligned)  # longest first; ties keep the earlier span
    stats.dropped_overlap += len(aligned) - len(kept)
    doc.ents = kept
    stats.spans_kept += len(kept)
    stats.labels.update(span.label_ for span in kept)
    stats.docs += 1
    return doc


def jsonl_to_docbin(
    path: str | Path,
    label_map: LabelMap | None = None,
    alignment_mode: str = "strict",
    lang: str = "en",
) -> tuple[DocBin, ConversionStats]:
    """Read a span JSONL file into a ``DocBin`` (tokenized with ``spacy.blank(lang)``).

    ``label_map`` renames labels (labels not in it are kept; a ``None`` or ``""`` target drops
    the label). Spans that do not align to tokens under ``alignment_mode`` are dropped, and of
    overlapping spans the longer is kept; both are counted in the returned stats.
    """
    _check_mode(alignment_mode)
    nlp = blank(lang)
    stats = ConversionStats()
    db = DocBin(store_user_data=False)
    for _, text, spans in read_span_records(Path(path)):
        db.add(make_doc(nlp.make_doc(text), spans, label_map, alignment_mode, stats))
    check_entities(stats, Path(path), SPAN_FORMAT)
    return db, stats


def docbin_to_jsonl(
    source: DocBin | str | Path, out_path: str | Path | None = None, lang: str = "en"
) -> list[dict[str, Any]]:
    """The inverse: one ``{"text", "spans"}`` record per doc; also written to ``out_path`` if given."""
    db = DocBin().from_disk(source) if isinstance(source, (str, Path)) else source
    records = [
        {
            "text": doc.text,
            "spans": [{"start": e.start_char, "end": e.end_char, "label": e.label_} for e in doc.ents],
        }
        for doc in db.get_docs(blank(lang).vocab)
    ]
    if out_path is not None:
        with Path(out_path).open("w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return records


def parse_label_map(value: str) -> dict[str, str | None]:
    """A label map from a JSON file path or from ``old=new,other=`` (empty target drops the label).

    A value is a file when one exists at that path, or when it names a ``.json`` file and holds
    no ``=`` (so ``doc=notes.json`` stays an inline pair, and a missing ``map.json`` is E109).
    """
    path = Path(value)
    if path.is_file() or (value.endswith(".json") and "=" not in value):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise LLMNERError(Errors.E109.format(value=value, reason=type(err).__name__)) from None
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in data.items()
        ):
            raise LLMNERError(Errors.E109.format(value=value, reason="expected an object of strings"))
        return {k: (v or None) for k, v in data.items()}
    out: dict[str, str | None] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        old, sep, new = item.partition("=")
        if not sep or not old.strip():
            raise LLMNERError(Errors.E109.format(value=value, reason=f"'{item}' is not old=new"))
        out[old.strip()] = new.strip() or None
    return out
