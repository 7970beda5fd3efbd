"""The tagged-text format (``<LABEL>…</LABEL>`` around entities, the rest XML-escaped).

Render gold spans, parse model output. Pure Python.

``render(text, spans)`` escapes ``text`` and wraps each ``(start, end, label)`` span in
``<LABEL>``…``</LABEL>``; ``parse(tagged, source)`` maps tags in model output back to char spans
of ``source``, exactly for rendered text and tolerantly (never raising) for anything else.
"""

from .escape import escape, escape_offsets, unescape, unescape_lenient
from .labels import LABEL_RE, CharSpan, is_valid_label
from .lexer import strip_tags
from .parse import parse
from .render import render, validate_spans

__all__ = [
    "LABEL_RE",
    "CharSpan",
    "escape",
    "escape_offsets",
    "is_valid_label",
    "parse",
    "render",
    "strip_tags",
    "unescape",
    "unescape_lenient",
    "validate_spans",
]
