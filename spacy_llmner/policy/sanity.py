"""Spans that cannot be what any label means: punctuation-only, or running across a blank line.

Real model output on notes held ``(`` tagged as AGE and a PERSON that ran on over the next
paragraph. No label of ours is ever punctuation alone or spans two paragraphs, so these are
fixed after decoding, where it is exact and cheap: the text is never touched, only the span.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..tagging.labels import CharSpan

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


def _meaningful(text: str) -> bool:
    """At least one letter or digit (any script): what every label's value has."""
    return any(ch.isalnum() for ch in text)


def clean_span(source: str, span: CharSpan) -> CharSpan | None:
    """``span`` cut at its first blank line and trimmed of outer whitespace; ``None`` when what
    is left has no letter or digit."""
    start, end, label = span
    text = source[start:end]
    blank = _BLANK_LINE.search(text)
    if blank is not None:
        end = start + blank.start()
        text = source[start:end]
    stripped = text.strip()
    if not stripped or not _meaningful(stripped):
        return None
    lead = len(text) - len(text.lstrip())
    return start + lead, start + lead + len(stripped), label


def clean_spans(source: str, spans: Iterable[CharSpan]) -> list[CharSpan]:
    """Every span through ``clean_span``; the dropped ones are left out."""
    out = []
    for span in spans:
        cleaned = clean_span(source, span)
        if cleaned is not None:
            out.append(cleaned)
    return out
