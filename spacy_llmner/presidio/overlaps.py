"""The overlap policy: turn any set of detections into non-overlapping spans, losing no PII.

Presidio's analyzer only removes duplicates of the *same* entity type, and its anonymizer
settles overlaps between types with a generic, score-only strategy. Our LLM and the pattern
recognizers often hit the same characters, so every result list passes through
:func:`resolve_overlaps` before it is returned or anonymized:

1. **Validated patterns win.** A pattern result whose validation passed (Luhn for
   CREDIT_CARD, mod-97 for IBAN_CODE, address checks for IP_ADDRESS/EMAIL_ADDRESS; Presidio
   scores these 1.0 and records ``validation_result=True``) beats anything it overlaps: a
   checksum is stronger evidence than a model's label for these formats.
2. **Contained results go.** Among the rest, a result strictly inside another one is dropped
   (as Presidio's anonymizer does): the larger span already covers its characters.
3. **Higher score wins a partial or exact overlap.** Ties go to the LLM (it saw the context),
   then to the longer span, then to the earlier one.
4. **Losers are trimmed, not dropped.** A result that loses part of its span keeps the
   characters no winner covers, trimmed of edge whitespace (a fragment of only whitespace is
   dropped), so every detected non-whitespace character stays covered and is anonymized.

The output never overlaps, so anonymization replaces exactly these spans and nothing else.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from .mapping import LABEL_KEY

R = TypeVar("R")


def is_validated(result: Any) -> bool:
    """True for pattern results whose checksum/format validation passed."""
    explanation = getattr(result, "analysis_explanation", None)
    return bool(explanation is not None and explanation.validation_result is True)


def is_llm(result: Any) -> bool:
    """True for results that came from the LLM recognizer."""
    return LABEL_KEY in (getattr(result, "recognition_metadata", None) or {})


def _priority(result: Any) -> tuple[float, bool, int, int]:
    return (result.score, is_llm(result), result.end - result.start, -result.start)


def _subtract(start: int, end: int, taken: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    parts = [(start, end)]
    for t_start, t_end in taken:
        next_parts = []
        for p_start, p_end in parts:
            if t_end <= p_start or p_end <= t_start:
                next_parts.append((p_start, p_end))
                continue
            if p_start < t_start:
                next_parts.append((p_start, t_start))
            if t_end < p_end:
                next_parts.append((t_end, p_end))
        parts = next_parts
    return parts


def _fragment(result: R, start: int, end: int) -> R:
    piece = copy.copy(result)
    piece.start, piece.end = start, end  # type: ignore[attr-defined]
    return piece


def _greedy(results: Sequence[R], taken: list[tuple[int, int]], text: str | None) -> list[R]:
    """Keep results in the given order, trimming each against what is already taken."""
    kept: list[R] = []
    for result in results:
        start, end = result.start, result.end  # type: ignore[attr-defined]
        parts = _subtract(start, end, taken)
        if parts == [(start, end)]:
            kept.append(result)
        else:
            for p_start, p_end in parts:
                if text is not None:  # a fragment never starts or ends with whitespace
                    while p_start < p_end and text[p_start].isspace():
                        p_start += 1
                    while p_end > p_start and text[p_end - 1].isspace():
                        p_end -= 1
                if p_end > p_start:
                    kept.append(_fragment(result, p_start, p_end))
        taken.extend(parts)
    return kept


def _drop_contained(results: Sequence[R]) -> list[R]:
    ordered = sorted(results, key=lambda r: (r.start, -r.end))  # type: ignore[attr-defined]
    out: list[R] = []
    max_end = -1
    for result in ordered:
        start, end = result.start, result.end  # type: ignore[attr-defined]
        strictly_inside = end <= max_end and any(
            (o.start, o.end) != (start, end) and o.start <= start and end <= o.end  # type: ignore[attr-defined]
            for o in out
        )
        if not strictly_inside:
            out.append(result)
        max_end = max(max_end, end)
    return out


def resolve_overlaps(results: Iterable[R], text: str | None = None) -> list[R]:
    """Apply the overlap policy (module docstring); returns results sorted by start.

    Works on Presidio analyzer or anonymizer ``RecognizerResult`` objects (anything with
    ``start``, ``end``, ``entity_type`` and ``score``). Pass ``text`` to drop whitespace-only
    fragments. Results with a score of 0 or an empty span are dropped.
    """
    live = [r for r in results if r.score > 0 and r.end > r.start]  # type: ignore[attr-defined]
    validated = sorted((r for r in live if is_validated(r)), key=_priority, reverse=True)
    others = [r for r in live if not is_validated(r)]
    taken: list[tuple[int, int]] = []
    kept = _greedy(validated, taken, text)
    kept += _greedy(sorted(_drop_contained(others), key=_priority, reverse=True), taken, text)
    return sorted(kept, key=lambda r: (r.start, r.end))  # type: ignore[attr-defined]
