"""Parse tagged model output back into character spans of the source. Never raises.

Exact when the output is ``render(source, spans)``. Otherwise tolerant, with these choices:

- Tags: see :mod:`.lexer`. Names outside ``labels`` (when given) are plain text; a tag cut off
  at the very end (``...<PERS``) is dropped; ``<X/>`` and empty entities (``<X></X>``) are dropped.
- Pairing: a closing tag closes the innermost open tag of its label, discarding tags opened
  inside it that were never closed; a closing tag with no open tag of its label (stray or
  mismatched, ``<A>x</B>``) is ignored; a tag still open at the end is ignored.
- Nesting: the outermost entity wins (``<A>x <B>y</B></A>`` → A over "x y"); the model decided
  the outer one first, and the format has no nesting.
- Text: tags are removed and character references decoded; when that text equals the source
  (the normal case, always so with constrained decoding) offsets carry over unchanged. Else
  (rephrased, dropped, repeated or added text, raw or differently escaped ``&``/``<``) the text is
  aligned to the source (:mod:`.align`) and each entity maps through its first and last
  character, after shedding unaligned whitespace at its edges; an entity whose first or last
  character is unaligned (e.g. it lies in text the model added, or in a repeated copy: the
  first copy is the one aligned) is dropped.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Callable, Collection
from itertools import accumulate

from .align import Block, align
from .escape import unescape, unescape_lenient
from .labels import CharSpan
from .lexer import Lexed, lex

logger = logging.getLogger("spacy_llmner")


def parse(tagged: str, source: str, labels: Collection[str] | None = None) -> list[CharSpan]:
    """Entities of ``tagged`` as sorted, non-overlapping, non-empty char spans of ``source``.

    ``labels`` restricts which tag names count (others are plain text); None accepts any
    valid name.
    """
    try:
        return _parse(tagged, source, labels)
    except Exception as error:  # noqa: BLE001 - model output must never crash the pipeline
        # A bug, not bad input: every step is built not to raise. Name the type only, never
        # the message, which could quote the text.
        logger.warning("tagging.parse failed (%s); returning no entities", type(error).__name__)
        return []


def _parse(tagged: str, source: str, labels: Collection[str] | None) -> list[CharSpan]:
    """:func:`parse` without its safety net (tests call this to see real errors)."""
    if labels is not None:
        labels = frozenset(labels)  # read several times below; also accepts any iterable
    lexed = lex(tagged, labels)
    pairs = _pair(lexed)
    text, entities = _decode(lexed, pairs, unescape)
    if text != source:
        lenient_text, lenient_entities = _decode(lexed, pairs, unescape_lenient)
        raw_text, raw_entities = _decode(lexed, pairs, _identity)
        if lenient_text == source:
            entities = lenient_entities
        elif raw_text == source:
            entities = raw_entities
        else:
            entities = _map_aligned(lenient_text, source, lenient_entities)
    return _valid(entities, len(source), labels)


def _identity(text: str) -> str:
    """Decode nothing: for output that copied escaped-looking source text verbatim."""
    return text


def _decode(
    lexed: Lexed, pairs: list[tuple[int, int, str]], decode: Callable[[str], str]
) -> tuple[str, list[CharSpan]]:
    """The decoded text and the entities as spans of it.

    Pieces are decoded one by one, so a reference is never split by a tag and tag positions in
    the decoded text are plain cumulative lengths.
    """
    pieces = [decode(piece) for piece in lexed.pieces]
    offsets = list(accumulate((len(piece) for piece in pieces), initial=0))
    # tags[i] sits before pieces[i + 1]
    entities = [(offsets[i + 1], offsets[j + 1], label) for i, j, label in pairs]
    return "".join(pieces), entities


def _pair(lexed: Lexed) -> list[tuple[int, int, str]]:
    """Match opening and closing tags into entities; keep the outermost non-empty ones.

    Returns ``(opening tag index, closing tag index, label)``. Decoding never empties a piece,
    so emptiness and nesting are the same in every decoding and pairing is done once.
    """
    tags, sizes = lexed.tags, [len(piece) for piece in lexed.pieces]
    offsets = list(accumulate(sizes, initial=0))
    stack: list[tuple[int, str]] = []  # open tags: (tag index, label)
    depths: dict[str, list[int]] = {}  # label -> its stack depths, so closing is O(1) amortized
    pairs: list[tuple[int, int, int, int, str]] = []  # (start, -end, opening, closing, label)
    for index, tag in enumerate(tags):
        if not tag.closing:
            if not tag.self_closing:
                depths.setdefault(tag.label, []).append(len(stack))
                stack.append((index, tag.label))
            continue
        if not depths.get(tag.label):
            continue  # stray or mismatched closing tag
        depth = depths[tag.label][-1]
        for _, label in reversed(stack[depth:]):  # close it; drop unclosed tags inside
            depths[label].pop()
        opened, label = stack[depth]
        del stack[depth:]
        start, end = offsets[opened + 1], offsets[index + 1]
        if start < end:
            pairs.append((start, -end, opened, index, label))
    pairs.sort()
    kept: list[tuple[int, int, str]] = []
    last_end = 0
    for start, neg_end, opened, closed, label in pairs:  # outermost first at each start
        if start >= last_end:
            kept.append((opened, closed, label))
            last_end = -neg_end
    return kept


def _map_aligned(text: str, source: str, entities: list[CharSpan]) -> list[CharSpan]:
    """Map entities of ``text`` onto ``source`` through a character alignment."""
    if not entities:
        return []
    blocks = align(text, source)
    starts = [block[0] for block in blocks]
    mapped: list[CharSpan] = []
    for start, end, label in entities:
        while start < end and _unaligned_space(text, blocks, starts, start):
            start += 1
        while start < end and _unaligned_space(text, blocks, starts, end - 1):
            end -= 1
        if start >= end:
            continue
        first = _source_index(blocks, starts, start)
        last = _source_index(blocks, starts, end - 1)
        if first is not None and last is not None and first <= last:
            mapped.append((first, last + 1, label))
    return mapped


def _unaligned_space(text: str, blocks: list[Block], starts: list[int], position: int) -> bool:
    """Whether ``text[position]`` is whitespace the model added (shed from entity edges)."""
    return text[position].isspace() and _source_index(blocks, starts, position) is None


def _source_index(blocks: list[Block], starts: list[int], position: int) -> int | None:
    """The source offset aligned to ``text[position]``, or None where it is unaligned."""
    index = bisect_right(starts, position) - 1
    if index < 0:
        return None
    i, j, size = blocks[index]
    return j + (position - i) if position < i + size else None


def _valid(entities: list[CharSpan], length: int, labels: Collection[str] | None) -> list[CharSpan]:
    """Keep only in-range, non-empty, non-overlapping spans of allowed labels, sorted.

    The steps above already guarantee this; the check makes it a local, visible contract.
    """
    kept: list[CharSpan] = []
    for start, end, label in sorted(entities):
        if not 0 <= start < end <= length or (labels is not None and label not in labels):
            continue
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end, label))
    return kept
