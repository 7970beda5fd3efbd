"""Span and label types of the tagged-text format, and the spelling of its tags."""

from __future__ import annotations

import re

CharSpan = tuple[int, int, str]
"""``(start, end, label)``: character offsets into a text, end exclusive."""

LABEL_PATTERN = r"[A-Za-z_][A-Za-z0-9_.\-]*"
"""The label grammar, the one definition the rest imports: an XML tag name in ASCII, without
``:`` (namespaces). A letter or ``_`` first, then letters, digits, ``_``, ``-`` and ``.``, so
corpus labels such as WNUT-17's ``creative-work`` work as they are."""

LABEL_RE = re.compile(LABEL_PATTERN)
"""Valid label syntax; use with ``fullmatch``."""


def is_valid_label(label: object) -> bool:
    """Whether ``label`` can be a tag name (``LABEL_PATTERN``)."""
    return isinstance(label, str) and LABEL_RE.fullmatch(label) is not None


def suggest_label(label: str) -> str:
    """A valid label close to ``label``, so an error message can name the fix."""
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]+", "_", label).strip("_.-") or "LABEL"
    return cleaned if cleaned[0].isascii() and (cleaned[0].isalpha() or cleaned[0] == "_") else f"L_{cleaned}"


def open_tag(label: str) -> str:
    """The opening tag of ``label`` in the tagged format: ``<LABEL>``."""
    return f"<{label}>"


def close_tag(label: str) -> str:
    """The closing tag of ``label``: ``</LABEL>``."""
    return f"</{label}>"
