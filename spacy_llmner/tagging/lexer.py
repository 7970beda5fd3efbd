"""Split tagged text (model output) into text pieces and tags, tolerantly.

A tag is ``<NAME>``, ``</NAME>`` or ``<NAME/>``, optionally with whitespace after ``<``, around
``/`` and before ``>``, and with attributes (``<PERSON type="x">``; ignored). Anything else that
starts with ``<`` is plain text, so raw ``<`` in the output survives as text.

Label policy: when a label set is given, a tag whose name is not in it (matched exactly, else
case-insensitively when that is unambiguous: ``<person>`` → ``PERSON``) is not a tag at all but
plain text. That keeps a literal ``<b>`` from the source (which the model failed to escape)
alignable, and text inside an invented tag is kept as text either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import NamedTuple

from .labels import LABEL_RE

_BRACKET_RE = re.compile(r"[<>]")
_LEAD_RE = re.compile(r"\s*(?:(/)\s*)?")
_NAME_RE = LABEL_RE

Resolver = Callable[[str], "str | None"]


class Tag(NamedTuple):
    """One tag: its canonical label, and whether it closes (``</X>``) or is empty (``<X/>``)."""

    label: str
    closing: bool
    self_closing: bool


@dataclass(frozen=True)
class Lexed:
    """Text pieces with the tags between them: ``tags[i]`` sits before ``pieces[i + 1]``.

    There is always one more piece than tags (pieces may be empty strings).
    """

    pieces: list[str]
    tags: list[Tag]


def make_resolver(labels: Collection[str] | None) -> Resolver:
    """Map a tag name to its configured label, or None when it is not a label."""
    if labels is None:
        return lambda name: name
    exact = frozenset(labels)
    folded: dict[str, str | None] = {}
    for label in exact:
        key = label.lower()
        folded[key] = None if key in folded else label  # ambiguous case-folds resolve to None
    return lambda name: name if name in exact else folded.get(name.lower())


def _is_label_prefix(name: str, labels: Collection[str] | None) -> bool:
    """Whether ``name`` could be the start of a label (for tags cut off at the end)."""
    if labels is None:
        return True
    folded = name.lower()
    return any(label.lower().startswith(folded) for label in labels)


def _read_tag(inner: str, resolve: Resolver) -> Tag | None:
    """Parse the text between ``<`` and ``>``; None when it is not a tag of a known label."""
    lead = _LEAD_RE.match(inner)
    assert lead is not None  # the pattern matches the empty string
    name = _NAME_RE.match(inner, lead.end())
    if name is None:
        return None
    rest = inner[name.end() :]
    stripped = rest.strip()
    if rest and not rest[0].isspace() and stripped != "/":
        return None  # e.g. "<a+b>" or "<PERSON's>": not a tag name
    label = resolve(name.group())
    if label is None:
        return None
    return Tag(label=label, closing=lead.group(1) is not None, self_closing=stripped.endswith("/"))


def _is_truncated_tag(inner: str, labels: Collection[str] | None, resolve: Resolver) -> bool:
    """Whether ``<`` + ``inner`` at the very end of the output is a tag cut off mid-way."""
    lead = _LEAD_RE.match(inner)
    assert lead is not None
    rest = inner[lead.end() :]
    if not rest:
        return True  # "<", "</", "< "
    name = _NAME_RE.match(rest)
    if name is None:
        return False
    tail = rest[name.end() :]
    if not tail:
        return _is_label_prefix(name.group(), labels)
    if tail[0].isspace() or tail.strip() == "/":
        return resolve(name.group()) is not None  # a complete name, then attributes
    return False


def lex(tagged: str, labels: Collection[str] | None = None) -> Lexed:
    """Split model output into text pieces (still escaped) and the tags between them.

    A tag cut off at the very end (``...<PERS``) is dropped, as generation stopped inside it.
    """
    resolve = make_resolver(labels)
    known: dict[str, Tag | None] = {}  # the same few tags recur: read each once
    pieces: list[str] = []
    tags: list[Tag] = []
    text_start = 0
    pos = tagged.find("<")
    while pos != -1:
        bracket = _BRACKET_RE.search(tagged, pos + 1)
        if bracket is None:
            if _is_truncated_tag(tagged[pos + 1 :], labels, resolve):
                pieces.append(tagged[text_start:pos])
                return Lexed(pieces=pieces, tags=tags)
            break
        if bracket.group() == "<":
            pos = bracket.start()  # this "<" is plain text; retry from the next one
            continue
        inner = tagged[pos + 1 : bracket.start()]
        tag = known[inner] if inner in known else known.setdefault(inner, _read_tag(inner, resolve))
        if tag is not None:
            pieces.append(tagged[text_start:pos])
            tags.append(tag)
            text_start = bracket.end()
        pos = tagged.find("<", bracket.end())
    pieces.append(tagged[text_start:])
    return Lexed(pieces=pieces, tags=tags)


def strip_tags(tagged: str, labels: Collection[str] | None = None) -> str:
    """The text of ``tagged`` with its tags removed, still escaped."""
    return "".join(lex(tagged, labels).pieces)
