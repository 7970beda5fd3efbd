"""XML escaping of the source text for the tagged-text format.

The source is escaped in prompts and targets so that a literal ``<`` in user text can never be
read as a tag. Only ``&``, ``<`` and ``>`` are escaped: quotes need no escaping in
element content, and every extra entity would be one more thing the model has to learn to copy.
"""

from __future__ import annotations

import html.entities
import re
from itertools import accumulate

ESCAPES: dict[str, str] = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
"""The escape table of the tagged format: the one definition (the decoder's constraint uses it too)."""
_STRICT_RE = re.compile(r"&(amp|lt|gt);")
_STRICT = {"amp": "&", "lt": "<", "gt": ">"}
_LENIENT_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_HTML5 = html.entities.html5


def escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` (and nothing else), so tags are unambiguous."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Invert :func:`escape`: decode exactly ``&amp;``, ``&lt;`` and ``&gt;`` in one pass.

    One pass matters: ``&amp;lt;`` is the escaped form of the literal ``&lt;``.
    """
    if "&" not in text:
        return text
    return _STRICT_RE.sub(lambda m: _STRICT[m.group(1)], text)


def unescape_lenient(text: str) -> str:
    """Decode any HTML5 named or numeric character reference that ends in ``;``.

    For model output that escapes differently from :func:`escape` (``&quot;``, ``&#39;``,
    ``&nbsp;``). A bare ``&`` or an unknown reference is kept as written.
    """
    if "&" not in text:
        return text
    return _LENIENT_RE.sub(_decode_reference, text)


def _decode_reference(match: re.Match[str]) -> str:
    """Decode one ``&...;`` reference, or keep it verbatim when it names no character."""
    ref = match.group(1)
    if ref[0] != "#":
        return _HTML5.get(ref + ";", match.group(0))
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return match.group(0)
    return chr(code)


def escape_offsets(text: str) -> list[int]:
    """For each char offset ``0..len(text)`` (inclusive), its offset in ``escape(text)``.

    Lets the decoder map spaCy token boundaries (offsets into the source) into the escaped
    string the model copies.
    """
    return list(accumulate((len(ESCAPES.get(char, char)) for char in text), initial=0))
