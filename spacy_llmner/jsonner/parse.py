"""Model output -> ``[(label, string), ...]``, tolerantly: never raises on model output.

Three readers, strictest first: ``json.loads``; ``ast.literal_eval`` (the seed's answers are
Python dict literals with single quotes); then a salvage scanner for broken or truncated output,
which keeps every complete ``"key": ["string", ...`` it can find and drops an unterminated
string. Keys are matched to labels exactly, case-insensitively, or through ``aliases`` (e.g.
the seed's ``属于人名类实体有?`` -> ``name``); unknown keys and non-string items are dropped.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_FENCE = re.compile(r"^\s*```(?:json|python)?\s*|\s*```\s*$")
# A quoted string: double or single quotes, backslash escapes, no raw newline.
_STRING = r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
_KEY_LIST = re.compile(rf"({_STRING})\s*[:：]\s*\[")
_ITEM = re.compile(rf"\s*({_STRING})\s*(,|\]|$)?")
# Inputs past this size are not handed to literal_eval (its parser recursion grows with nesting).
_MAX_EVAL = 100_000


def _unquote(literal: str) -> str | None:
    try:
        value = json.loads(literal) if literal[0] == '"' else ast.literal_eval(literal)
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return None
    return value if isinstance(value, str) else None


def _whole(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    if len(text) <= _MAX_EVAL:
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
            pass
    return None


def _salvage(text: str) -> list[tuple[str, list[str]]]:
    """Every ``key: [complete strings...`` in ``text``, also when the output stops halfway."""
    found: list[tuple[str, list[str]]] = []
    for match in _KEY_LIST.finditer(text):
        key = _unquote(match.group(1))
        if key is None:
            continue
        items: list[str] = []
        pos = match.end()
        while True:
            item = _ITEM.match(text, pos)
            if item is None:
                break
            value = _unquote(item.group(1))
            if value is not None:
                items.append(value)
            pos = item.end()
            if item.group(2) != ",":
                break
        found.append((key, items))
    return found


def _label_of(key: str, labels: Sequence[str], aliases: Mapping[str, str]) -> str | None:
    if key in labels:
        return key
    if key in aliases:
        return aliases[key]
    lowered = {label.lower(): label for label in labels}
    return lowered.get(key.strip().lower())


def parse_answer(
    raw: str, labels: Sequence[str], aliases: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """``(label, string)`` pairs in answer order; empty strings and unknown keys dropped."""
    aliases = aliases or {}
    text = _FENCE.sub("", str(raw)).strip()
    whole = _whole(text)
    if isinstance(whole, dict):
        groups = [(k, v if isinstance(v, list) else [v]) for k, v in whole.items() if isinstance(k, str)]
    else:
        groups = _salvage(text)
    out: list[tuple[str, str]] = []
    for key, values in groups:
        label = _label_of(key, labels, aliases)
        if label is None:
            continue
        out.extend((label, v) for v in values if isinstance(v, str) and v.strip())
    return out
