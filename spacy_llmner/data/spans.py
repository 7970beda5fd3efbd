"""The one reader of the span corpus: JSONL ``{"text": ..., "spans": [...]}``, one document a line.

Training's converters (``convert``, ``convert-cluener``), evaluation (``evaluate``, locally and
on Ray) and the benchmarks all read gold data here, so a file is accepted or refused the same way
everywhere. A span is ``{"start", "end", "label"}`` (end exclusive), Presidio's
``{"start", "end", "entity_type"}`` (``start_position``/``end_position`` too) or a
``[start, end, label]`` triple. Structure is checked strictly, with coded errors that name the
line and the span, never the text (these files hold personal data): E103 not JSON, E104 no
``text``, E105 a malformed span, E106 offsets outside the text, E108 no such file, E113
annotations in a layout this reader does not know. Pure: no spaCy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError

CharSpan = tuple[int, int, str]

#: What the reader takes, as its errors name it.
SPAN_FORMAT = '{"text": ..., "spans": [{"start": 0, "end": 4, "label": "PERSON"}]} (end exclusive)'

#: Reads another layout's annotations of one record as span dicts (``None``: not that layout).
Converter = Callable[[dict[str, Any], int, Path], "list[Any] | None"]

_START, _END, _LABEL = ("start", "start_position"), ("end", "end_position"), ("label", "entity_type")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _first(span: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    return next((span[k] for k in keys if k in span), None)


def parse_span(span: Any, index: int, line: int, path: str | Path, length: int) -> CharSpan:
    """One span of a record, checked (E105 malformed, E106 outside the text)."""
    if isinstance(span, Mapping):
        start, end, label = _first(span, _START), _first(span, _END), _first(span, _LABEL)
    elif isinstance(span, (list, tuple)) and len(span) == 3:
        start, end, label = span
    else:
        start = end = label = None
    if not (_is_int(start) and _is_int(end) and isinstance(label, str)):
        raise LLMNERError(Errors.E105.format(index=index, line=line, path=path))
    if not 0 <= start < end <= length:
        raise LLMNERError(Errors.E106.format(index=index, line=line, path=path, start=start, end=end, length=length))
    return start, end, label


def parse_span_line(
    line: str, number: int, path: str | Path, spans_of: Converter | None = None
) -> tuple[str, list[CharSpan]]:
    """One non-blank line as ``(text, spans)``. ``spans_of`` reads another layout's annotations
    (the CLUENER converter's); a layout this reader does not know is refused (E113), never read
    as unlabelled."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise LLMNERError(Errors.E103.format(line=number, path=path, reason=err.msg)) from None
    if isinstance(record, dict) and "spans" not in record:
        converted = spans_of(record, number, Path(path)) if spans_of is not None else None
        if converted is not None:
            record = {**record, "spans": converted}
        elif "label" in record or "entities" in record or "labels" in record:
            found = "label" if "label" in record else "entities" if "entities" in record else "labels"
            raise LLMNERError(Errors.E113.format(
                line=number, path=path, converter="this converter",
                problem=f"annotations under '{found}', not 'spans'",
                expected=SPAN_FORMAT + "; official CLUENER files: `convert-cluener`"))
    if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not isinstance(
        record.get("spans") or [], list
    ):
        raise LLMNERError(Errors.E104.format(line=number, path=path))
    text: str = record["text"]
    spans = [parse_span(span, i, number, path, len(text)) for i, span in enumerate(record.get("spans") or [])]
    return text, spans


def read_span_records(
    path: str | Path, spans_of: Converter | None = None
) -> Iterator[tuple[int, str, list[CharSpan]]]:
    """``(line_number, text, spans)`` for every non-blank line of the file (E108: no file)."""
    path = Path(path)
    if not path.is_file():
        raise LLMNERError(Errors.E108.format(path=path))
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if line.strip():
                text, spans = parse_span_line(line, number, path, spans_of)
                yield number, text, spans


__all__ = ["SPAN_FORMAT", "CharSpan", "Converter", "parse_span", "parse_span_line", "read_span_records"]
