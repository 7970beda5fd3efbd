"""Entity confidence scores on spaCy Docs (the contract between the NER task and Presidio).

Scores live in ``doc._.llmner_scores`` as a list of ``[start_char, end_char, label, score]``
(plain lists, so they survive ``DocBin(store_user_data=True)`` and ``doc.to_bytes``); each
entity reads its own through ``span._.llmner_score`` (``None`` when the model gave none, e.g. an
unconstrained REST model).
"""

from __future__ import annotations

from collections.abc import Iterable

from spacy.tokens import Doc, Span

DOC_ATTR = "llmner_scores"
SPAN_ATTR = "llmner_score"

ScoredSpan = tuple[int, int, str, float]


def _span_score(span: Span) -> float | None:
    for start, end, label, score in span.doc._.get(DOC_ATTR) or ():
        if start == span.start_char and end == span.end_char and label == span.label_:
            return float(score)
    return None


def register_extensions() -> None:
    """Register the Doc/Span extensions once; safe to call repeatedly."""
    if not Doc.has_extension(DOC_ATTR):
        Doc.set_extension(DOC_ATTR, default=None)
    if not Span.has_extension(SPAN_ATTR):
        Span.set_extension(SPAN_ATTR, getter=_span_score)


def set_entity_scores(doc: Doc, scored: Iterable[ScoredSpan]) -> None:
    """Store one score per entity (char offsets into ``doc.text``)."""
    register_extensions()
    doc._.set(DOC_ATTR, [[int(s), int(e), str(lab), float(sc)] for s, e, lab, sc in scored])


def get_entity_score(span: Span) -> float | None:
    """The model's confidence for this entity, or ``None`` if it has none."""
    register_extensions()
    return _span_score(span)


register_extensions()
