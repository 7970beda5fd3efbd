"""Character alignment of model output against the source, fast on long texts.

Used only when the model did not copy its input exactly (free generation). The alignment is a
longest common subsequence in spirit, built so that a few edits in a 100,000-character text
stay cheap:

1. common prefix and suffix are matched with C-speed slice comparisons;
2. a large remaining region is split at anchors: words (else word 4-grams) that occur exactly
   once on each side, kept in order (patience diff), and each gap is aligned on its own;
3. a small region, or one without anchors, gets Myers' O((N+M)·D) diff, capped at ``_MAX_D``
   edits; a region beyond the cap stays unaligned (its characters map nowhere).

Every step's cost is bounded, so no input makes alignment quadratic in the text length.
"""

from __future__ import annotations

import re
from bisect import bisect_left

Block = tuple[int, int, int]
"""``(i, j, size)``: ``a[i:i + size] == b[j:j + size]``."""

Region = tuple[int, int, int, int]
"""``(a0, a1, b0, b1)``: align ``a[a0:a1]`` with ``b[b0:b1]``."""

_SMALL = 4_000  # regions up to this many characters (both sides) try Myers before anchors
_MAX_D = 256  # edit budget of one Myers run: cost grows with its square
_NGRAM_SIZES = (1, 4)
_WORD_RE = re.compile(r"\w+")


def align(a: str, b: str) -> list[Block]:
    """Matching blocks of a monotone alignment of ``a`` to ``b``, sorted, non-overlapping."""
    blocks: list[Block] = []
    regions: list[Region] = [(0, len(a), 0, len(b))]
    while regions:
        a0, a1, b0, b1 = regions.pop()
        size = _common_prefix(a, b, a0, b0, min(a1 - a0, b1 - b0))
        if size:
            blocks.append((a0, b0, size))
            a0, b0 = a0 + size, b0 + size
        size = _common_suffix(a, b, a1, b1, min(a1 - a0, b1 - b0))
        if size:
            blocks.append((a1 - size, b1 - size, size))
            a1, b1 = a1 - size, b1 - size
        if a0 == a1 or b0 == b1:
            continue
        small = (a1 - a0) + (b1 - b0) <= _SMALL
        found = _myers(a, b, a0, a1, b0, b1) if small else None
        if found is not None:
            blocks.extend(found)
            continue
        anchors = _anchors(a, b, a0, a1, b0, b1)
        if anchors:
            blocks.extend(anchors)
            regions.extend(_gaps(anchors, a0, a1, b0, b1))
        elif not small:
            blocks.extend(_myers(a, b, a0, a1, b0, b1) or ())
    blocks.sort()
    return blocks


def _gaps(anchors: list[Block], a0: int, a1: int, b0: int, b1: int) -> list[Region]:
    """The regions between consecutive anchors (and the region's ends)."""
    gaps: list[Region] = []
    for i, j, size in anchors:
        gaps.append((a0, i, b0, j))
        a0, b0 = i + size, j + size
    gaps.append((a0, a1, b0, b1))
    return gaps


def _common_prefix(a: str, b: str, i: int, j: int, limit: int) -> int:
    """Length of the common prefix of ``a[i:i+limit]`` and ``b[j:j+limit]`` (galloping)."""
    if limit <= 0 or a[i] != b[j]:
        return 0
    equal = 1
    while equal < limit:
        probe = min(limit, equal * 2)
        if a[i + equal : i + probe] != b[j + equal : j + probe]:
            break
        equal = probe
    else:
        return equal
    unequal = probe
    while unequal - equal > 1:
        mid = (equal + unequal) // 2
        if a[i + equal : i + mid] == b[j + equal : j + mid]:
            equal = mid
        else:
            unequal = mid
    return equal


def _common_suffix(a: str, b: str, i: int, j: int, limit: int) -> int:
    """Length of the common suffix of ``a[i-limit:i]`` and ``b[j-limit:j]`` (galloping)."""
    if limit <= 0 or a[i - 1] != b[j - 1]:
        return 0
    equal = 1
    while equal < limit:
        probe = min(limit, equal * 2)
        if a[i - probe : i - equal] != b[j - probe : j - equal]:
            break
        equal = probe
    else:
        return equal
    unequal = probe
    while unequal - equal > 1:
        mid = (equal + unequal) // 2
        if a[i - mid : i - equal] == b[j - mid : j - equal]:
            equal = mid
        else:
            unequal = mid
    return equal


def _myers(a: str, b: str, a0: int, a1: int, b0: int, b1: int) -> list[Block] | None:
    """Myers' greedy diff of ``a[a0:a1]`` against ``b[b0:b1]``; None beyond ``_MAX_D`` edits.

    ``v[off + k]`` is the furthest x reached on diagonal ``k = x - y``, -1 where unreachable.
    """
    n, m = a1 - a0, b1 - b0
    max_d = min(_MAX_D, n + m)
    off = max_d + 1
    v = [-1] * (2 * max_d + 3)
    v[off + 1] = 0
    trace: list[list[int]] = []
    for d in range(max_d + 1):
        trace.append(v[off - d - 1 : off + d + 2])
        for k in range(-d, d + 1, 2):
            x, _ = _step(v[off + k + 1], v[off + k - 1], k, n, m)
            if x < 0:
                v[off + k] = -1
                continue
            y = x - k
            if x < n and y < m and a[a0 + x] == b[b0 + y]:
                x += _common_prefix(a, b, a0 + x, b0 + y, min(n - x, m - y))
            v[off + k] = x
            if x == n and x - k == m:
                return _backtrack(trace, n, m, a0, b0)
    return None


def _step(down: int, right: int, k: int, n: int, m: int) -> tuple[int, bool]:
    """Start x on diagonal ``k`` from the better neighbour, and whether it came down.

    ``down`` is x on diagonal k+1 (then y grows), ``right`` is x on diagonal k-1 (then x grows);
    -1 marks unreachable. Ties go down; ``_backtrack`` replays this rule to recover the path.
    """
    if down >= 0 and down - k > m:
        down = -1
    right = right + 1 if right >= 0 else -1
    if right > n:
        right = -1
    return (down, True) if down >= right else (right, False)


def _backtrack(trace: list[list[int]], n: int, m: int, a0: int, b0: int) -> list[Block]:
    """Recover the matching blocks (snakes) of the path that reached ``(n, m)``."""
    blocks: list[Block] = []
    x, y = n, m
    for d in range(len(trace) - 1, 0, -1):
        snap = trace[d]  # v before step d; diagonal k is at index k + d + 1
        k = x - y
        start_x, came_down = _step(snap[k + d + 2], snap[k + d], k, n, m)
        prev_x = start_x if came_down else start_x - 1
        prev_y = prev_x - (k + 1 if came_down else k - 1)
        if x > start_x:
            blocks.append((a0 + start_x, b0 + start_x - k, x - start_x))
        x, y = prev_x, prev_y
    if x > 0:
        blocks.append((a0, b0, x))
    blocks.reverse()
    return blocks


def _anchors(a: str, b: str, a0: int, a1: int, b0: int, b1: int) -> list[Block]:
    """Word n-grams found exactly once on each side, as the longest in-order chain."""
    for n in _NGRAM_SIZES:
        in_a = _unique_ngrams(a, a0, a1, n)
        in_b = _unique_ngrams(b, b0, b1, n)
        common = sorted((i, in_b[key], len(key)) for key, i in in_a.items() if key in in_b)
        chain = _increasing_chain(common)
        if chain:
            return chain
    return []


def _unique_ngrams(text: str, start: int, end: int, n: int) -> dict[str, int]:
    """Word n-grams of ``text[start:end]`` (exact substrings) that occur once, with offsets."""
    words = [(w.start(), w.end()) for w in _WORD_RE.finditer(text, start, end)]
    seen: dict[str, int] = {}
    repeated: set[str] = set()
    for first, last in zip(words, words[n - 1 :]):
        key = text[first[0] : last[1]]
        if key in seen:
            repeated.add(key)
        else:
            seen[key] = first[0]
    return {key: pos for key, pos in seen.items() if key not in repeated}


def _increasing_chain(candidates: list[Block]) -> list[Block]:
    """Longest chain increasing in both offsets (patience sort), without overlaps."""
    tails: list[int] = []  # tails[length - 1] = smallest j ending a chain of that length
    tail_index: list[int] = []
    previous: list[int] = []
    for index, (_, j, _) in enumerate(candidates):
        length = bisect_left(tails, j)
        if length == len(tails):
            tails.append(j)
            tail_index.append(index)
        else:
            tails[length] = j
            tail_index[length] = index
        previous.append(tail_index[length - 1] if length else -1)
    chain: list[Block] = []
    index = tail_index[-1] if tail_index else -1
    while index >= 0:
        chain.append(candidates[index])
        index = previous[index]
    chain.reverse()
    kept: list[Block] = []
    for i, j, size in chain:
        if not kept or (i >= kept[-1][0] + kept[-1][2] and j >= kept[-1][1] + kept[-1][2]):
            kept.append((i, j, size))
    return kept
