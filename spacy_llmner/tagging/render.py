"""Render gold spans as tagged text: the training target and the few-shot examples.

Rendering runs on gold data, so invalid spans raise coded errors instead of being repaired:
a silently fixed annotation would teach the model something the annotator never said.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any, cast

from ..errors import Errors, LLMNERError
from .escape import escape
from .labels import CharSpan, close_tag, is_valid_label, open_tag, suggest_label


def validate_spans(text: str, spans: Iterable[CharSpan]) -> list[CharSpan]:
    """Check spans against ``text`` and return them sorted by start.

    Raises LLMNERError (E401–E405) for malformed, out-of-range, empty, overlapping or
    invalidly labelled spans.
    """
    checked = [_check_span(text, index, span) for index, span in enumerate(spans)]
    checked.sort()
    for (s1, e1, l1), (s2, e2, l2) in zip(checked, checked[1:]):
        if s2 < e1:
            raise LLMNERError(
                Errors.E403.format(start1=s1, end1=e1, label1=l1, start2=s2, end2=e2, label2=l2)
            )
    return checked


def _check_span(text: str, index: int, span: object) -> CharSpan:
    """Validate one span on its own (shape, range, emptiness, label)."""
    try:
        start_obj, end_obj, label = cast("tuple[Any, Any, object]", span)
        start, end = operator.index(start_obj), operator.index(end_obj)
    except (TypeError, ValueError):
        raise LLMNERError(Errors.E405.format(index=index, kind=_describe(span))) from None
    if not isinstance(label, str):
        raise LLMNERError(Errors.E405.format(index=index, kind=_describe(span)))
    if start >= end:
        raise LLMNERError(Errors.E402.format(start=start, end=end, label=label))
    if start < 0 or end > len(text):
        raise LLMNERError(Errors.E401.format(start=start, end=end, label=label, length=len(text)))
    if not is_valid_label(label):
        raise LLMNERError(
            Errors.E404.format(label=label, start=start, end=end, suggestion=suggest_label(label))
        )
    return (start, end, label)


def _describe(span: object) -> str:
    """Name the shape of a malformed span by types only: it may hold user text."""
    if isinstance(span, tuple | list):
        inner = ", ".join(type(item).__name__ for item in span)
        return f"{type(span).__name__} of ({inner})"
    return type(span).__name__


def render(text: str, spans: Iterable[CharSpan]) -> str:
    """Escape ``text`` and wrap each span in ``<LABEL>``…``</LABEL>`` (spans in any order)."""
    pieces: list[str] = []
    cursor = 0
    for start, end, label in validate_spans(text, spans):
        pieces.append(escape(text[cursor:start]))
        pieces.append(open_tag(label) + escape(text[start:end]) + close_tag(label))
        cursor = end
    pieces.append(escape(text[cursor:]))
    return "".join(pieces)
