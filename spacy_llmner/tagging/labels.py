"""Span and label types of the tagged-text format (DESIGN.md §3)."""

from __future__ import annotations

import re

CharSpan = tuple[int, int, str]
"""``(start, end, label)``: character offsets into a text, end exclusive."""

LABEL_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
"""Valid label syntax (an XML tag name without ``-``, ``.`` or ``:``); use with ``fullmatch``."""


def is_valid_label(label: object) -> bool:
    """Whether ``label`` can be a tag name: an ASCII letter, then ASCII letters, digits, ``_``."""
    return isinstance(label, str) and LABEL_RE.fullmatch(label) is not None


def suggest_label(label: str) -> str:
    """A valid label close to ``label``, so an error message can name the fix."""
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", label).strip("_") or "LABEL"
    return cleaned if cleaned[0].isascii() and cleaned[0].isalpha() else f"L_{cleaned}"
