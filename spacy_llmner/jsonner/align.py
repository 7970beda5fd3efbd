"""Entity strings -> character spans of the source: the documented policy of JSONNER.v1.

Policy ``"all"`` (the default): a listed string marks **every** occurrence of it in the source.
The answer names strings, not places, so there is no way to say which occurrence was meant; in
CLUENER2020 97.8% of (label, string) pairs are annotated at every occurrence (train: 22,834 of
23,338; dev: 2,902 of 2,982), so "all" is right far more often than "first". Policy ``"first"``
marks only the first occurrence.

Occurrences that do not fall on token boundaries (when ``starts``/``ends`` are given) are
skipped, so "John" never tags the inside of "Johnson". Overlaps are resolved longest first,
then earlier start, then answer order ("北京" inside a listed "北京大学" is dropped). A string that
is not a substring of the source is dropped and counted: that is the copy constraint of the JSON
format, applied after decoding.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ..tagging import CharSpan, unescape

OCCURRENCE_POLICIES = ("all", "first")


@dataclass
class AlignStats:
    """Counts only (no text): strings read, strings not in the source, occurrences dropped."""

    strings: int = 0
    not_in_source: int = 0
    overlaps_dropped: int = 0

    def add(self, other: AlignStats) -> None:
        self.strings += other.strings
        self.not_in_source += other.not_in_source
        self.overlaps_dropped += other.overlaps_dropped


def _occurrences(source: str, value: str) -> list[int]:
    found, pos = [], source.find(value)
    while pos != -1:
        found.append(pos)
        pos = source.find(value, pos + len(value))
    return found


def align_strings(
    source: str,
    pairs: Sequence[tuple[str, str]],
    policy: str = "all",
    starts: Collection[int] | None = None,
    ends: Collection[int] | None = None,
) -> tuple[list[CharSpan], AlignStats]:
    """Spans ``(start, end, label)`` sorted by start, non-overlapping; and what was dropped.

    A string absent as written is tried XML-unescaped too (the prompt shows the source escaped,
    so a model may copy ``&amp;``).
    """
    if policy not in OCCURRENCE_POLICIES:
        raise ValueError(f"policy must be one of {OCCURRENCE_POLICIES}, not {policy!r}")
    stats = AlignStats()
    candidates: list[tuple[int, int, int, str]] = []  # (-length, start, answer order, label)
    seen: set[tuple[str, str]] = set()
    for order, (label, value) in enumerate(pairs):
        stats.strings += 1
        if (label, value) in seen:
            continue
        seen.add((label, value))
        positions = _occurrences(source, value) if value else []
        if not positions and unescape(value) != value:
            value = unescape(value)
            positions = _occurrences(source, value)
        positions = [
            p for p in positions
            if (starts is None or p in starts) and (ends is None or p + len(value) in ends)
        ]
        if not positions:
            stats.not_in_source += 1
            continue
        if policy == "first":
            positions = positions[:1]
        candidates.extend((-len(value), p, order, label) for p in positions)
    taken: list[CharSpan] = []
    used = bytearray(len(source))
    for neg_len, start, _, label in sorted(candidates):
        end = start - neg_len
        if any(used[start:end]):
            stats.overlaps_dropped += 1
            continue
        used[start:end] = b"\x01" * (end - start)
        taken.append((start, end, label))
    return sorted(taken), stats
