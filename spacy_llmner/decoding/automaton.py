"""The copy constraint: the output may only be the (escaped) source plus well-placed tags.

A deterministic automaton over output bytes. From a state the allowed bytes are: the next source
byte (inside an entity only up to the last token end, so every entity can be closed); ``<``
when a tag may start (an opening tag at a token start with no entity open, or the closing tag of
the open entity at a token end); the continuation of a tag being written. The
escaped source never contains ``<``, so copying and tagging never compete for the same byte.
EOS is allowed only once the whole source is copied and no entity is open.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ..tagging.escape import ESCAPES
from ..tagging.labels import close_tag, open_tag
from .vocab import VocabTrie

if TYPE_CHECKING:
    from .canonical import CanonicalCopy

_LT = ord("<")


class State(NamedTuple):
    """``pos``: bytes of target copied; ``label``: open entity's label index or -1;
    ``tag``: bytes of a tag being written (b"" if none); ``start``: where the open entity began."""

    pos: int
    label: int
    tag: bytes
    start: int


class Event(NamedTuple):
    """A completed tag: ``opened`` or closed, label index, target byte position."""

    opened: bool
    label: int
    pos: int


@dataclass(frozen=True)
class Constraint:
    """Per document: the target bytes, where tags may go, and the label tags."""

    target: bytes
    starts: frozenset[int]
    ends: frozenset[int]
    labels: tuple[str, ...]
    char_at: dict[int, int]  # target byte offset of each boundary → char offset in the source

    @classmethod
    def build(
        cls,
        source: str,
        labels: Sequence[str],
        token_spans: Iterable[tuple[int, int]],
        lead: bytes = b"",
    ) -> Constraint:
        """``token_spans``: (start_char, end_char) of the spaCy tokens that may begin/end entities."""
        byte_at = [len(lead)] * (len(source) + 1)
        n = len(lead)
        for i, ch in enumerate(source):
            n += len(ESCAPES.get(ch, ch).encode("utf-8", "surrogatepass"))
            byte_at[i + 1] = n
        starts: set[int] = set()
        ends: set[int] = set()
        char_at: dict[int, int] = {}
        for s, e in token_spans:
            if 0 <= s < e <= len(source):
                starts.add(byte_at[s])
                ends.add(byte_at[e])
                char_at[byte_at[s]] = s
                char_at[byte_at[e]] = e
        target = lead + "".join(ESCAPES.get(ch, ch) for ch in source).encode("utf-8", "surrogatepass")
        return cls(target, frozenset(starts), frozenset(ends), tuple(labels), char_at)

    @property
    def open_tags(self) -> tuple[bytes, ...]:
        return tuple(open_tag(lab).encode() for lab in self.labels)

    @property
    def close_tags(self) -> tuple[bytes, ...]:
        return tuple(close_tag(lab).encode() for lab in self.labels)


_TABLE_KEYS: dict[tuple[tuple[bytes, int], ...], int] = {}


class _TagTable(NamedTuple):
    """Every prefix of a set of tags → the bytes that may follow it, and for a whole tag its
    label index (-1 otherwise). Dict lookups instead of scanning every label per byte: the trie
    walk at a tag position visits every byte of every tag."""

    next: dict[bytes, tuple[int, ...]]
    done: dict[bytes, int]
    key: int  # one number per distinct set of tags (and labels), for caches

    @classmethod
    def build(cls, tags: Sequence[tuple[bytes, int]]) -> _TagTable:
        nxt: dict[bytes, set[int]] = {}
        done: dict[bytes, int] = {}
        for tag, label in tags:
            for k in range(1, len(tag)):
                nxt.setdefault(tag[:k], set()).add(tag[k])
            done[tag] = label
        key = _TABLE_KEYS.setdefault(tuple(done.items()), len(_TABLE_KEYS))
        return cls({k: tuple(sorted(v)) for k, v in nxt.items()}, done, key)


@functools.lru_cache(maxsize=64)
def _tag_tables(labels: tuple[str, ...]) -> tuple[_TagTable, list[_TagTable]]:
    """The open-tag table and one close-tag table per label; the same for every document of a
    task, so built once (read-only afterwards)."""
    opens = [open_tag(lab).encode() for lab in labels]
    closes = [close_tag(lab).encode() for lab in labels]
    return (
        _TagTable.build([(t, i) for i, t in enumerate(opens)]),
        [_TagTable.build([(t, i)]) for i, t in enumerate(closes)],
    )


class _TagWalk(NamedTuple):
    """``_tag_walk``'s answer. ``ends``: tokens that end inside a tag (with the tag bytes written
    after them); ``whole``: the trie nodes where a whole tag ends (node, its tokens, label);
    ``leaf_ids`` / ``inner``: the same split by whether any token goes on past the tag (with tags
    as single tokens none does, and their ids are all an id-only walk needs)."""

    ends: list[tuple[int, bytes]]
    whole: list[tuple[int, list[int], int]]
    leaf_ids: list[int]
    inner: list[tuple[int, list[int], int]]


def _tag_walk(trie: VocabTrie, node: int, buf: bytes, table: _TagTable) -> _TagWalk:
    """From trie ``node`` with tag bytes ``buf`` written: the tokens that write (the rest of) a
    tag. Cached on the trie: the same few (node, buf, tag set) recur for every document."""
    key = (table.key, node, buf)
    hit = trie.tag_walks.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    ends: list[tuple[int, bytes]] = []
    whole: list[tuple[int, list[int], int]] = []
    stack = [(node, buf)]
    while stack:
        n, b = stack.pop()
        for byte in table.next.get(b, ()) if b else (_LT,):
            child = trie.children[n].get(byte)
            if child is None:
                continue
            b2 = b + bytes((byte,))
            label = table.done.get(b2)
            if label is not None:
                whole.append((child, list(trie.tokens.get(child, ())), label))
                continue
            if b2 not in table.next:
                continue
            ends.extend((tid, b2) for tid in trie.tokens.get(child, ()))
            stack.append((child, b2))
    leaf_ids = [tid for child, tids, _ in whole if not trie.children[child] for tid in tids]
    inner = [w for w in whole if trie.children[w[0]]]
    walk = trie.tag_walks[key] = _TagWalk(ends, whole, leaf_ids, inner)
    return walk


def memo_allowed_ids(memo: dict[Any, list[int]], st: Any, trie: VocabTrie, walk: Callable[..., None]) -> list[int]:
    """``walk(st, trie, out, states=False)``'s token ids, sorted, memoised per (state, trie) in
    ``memo`` (cleared past 4,096 entries): the allowed-id lookup of every constraint automaton."""
    key = (st, id(trie))
    hit = memo.get(key)
    if hit is None:
        if len(memo) > 4096:
            memo.clear()
        out: list[Any] = []
        walk(st, trie, out, states=False)
        hit = memo[key] = sorted(set(out))
    return hit


class Automaton:
    """Stepping logic for one Constraint (kept separate so tag tables are built once)."""

    def __init__(self, constraint: Constraint, canonical: CanonicalCopy | None = None) -> None:
        """``canonical``: restrict pure copies to the tokenizer's own split (``canonical.py``)."""
        self.c = constraint
        self.canonical = canonical
        self.n = len(constraint.target)
        self.opens = constraint.open_tags
        self.closes = constraint.close_tags
        # An open entity may not copy past the last token end: nothing after it (trailing
        # whitespace) could close it, and the output would dead-end with an unclosable tag.
        self.last_end = max(constraint.ends, default=0)
        self._open_cands = tuple((t, True, i) for i, t in enumerate(self.opens))
        self._open_table, self._close_tables = _tag_tables(constraint.labels)
        self._allowed: dict[tuple[State, int], list[int]] = {}

    initial = State(0, -1, b"", 0)

    def tag_candidates(self, st: State) -> Sequence[tuple[bytes, bool, int]]:
        """Tags that may be written at this state: (bytes, is_open, label index)."""
        if st.label < 0:
            if st.pos in self.c.starts and st.pos < self.n:
                return self._open_cands
            return ()
        if st.pos in self.c.ends and st.pos > st.start:
            return ((self.closes[st.label], False, st.label),)
        return ()

    def _tag_table(self, st: State) -> _TagTable | None:
        """The tags that may be written at ``st``'s position, as a prefix table."""
        if st.label < 0:
            return self._open_table if st.pos in self.c.starts and st.pos < self.n else None
        return self._close_tables[st.label] if st.pos in self.c.ends and st.pos > st.start else None

    def next_bytes(self, st: State) -> Sequence[int]:
        """Bytes allowed next (small: usually one, at boundaries a few)."""
        if st.tag:
            table = self._tag_table(st)
            return table.next.get(st.tag, ()) if table is not None else ()
        copy = st.pos < self.n and (st.label < 0 or st.pos < self.last_end)
        out = [self.c.target[st.pos]] if copy else []
        if self._tag_table(st) is not None:
            out.append(_LT)
        return out

    def step(self, st: State, b: int, events: list[Event] | None = None) -> State | None:
        """Advance by one byte; None if the byte is not allowed."""
        if not st.tag:
            if (
                st.pos < self.n
                and self.c.target[st.pos] == b
                and (st.label < 0 or st.pos < self.last_end)
            ):
                return State(st.pos + 1, st.label, b"", st.start)
            if b != _LT:
                return None
        table = self._tag_table(st)
        if table is None:
            return None
        buf = st.tag + bytes((b,))
        label = table.done.get(buf)
        if label is not None:
            is_open = st.label < 0
            if events is not None:
                events.append(Event(is_open, label, st.pos))
            if is_open:
                return State(st.pos, label, b"", st.pos)
            return State(st.pos, -1, b"", st.start)
        if buf in table.next:
            return State(st.pos, st.label, buf, st.start)
        return None

    def copy(self, st: State, data: bytes) -> State | None:
        """``advance`` for bytes that only copy (outside a tag, no ``<``), without a step per
        byte; None if they are not the source here (or run past where an open entity can end)."""
        end = st.pos + len(data)
        if st.tag or not data or not self.c.target.startswith(data, st.pos):
            return None
        if st.label >= 0 and end > self.last_end:
            return None
        return State(end, st.label, b"", st.start)

    def advance(self, st: State, data: bytes, events: list[Event] | None = None) -> State | None:
        for b in data:
            nxt = self.step(st, b, events)
            if nxt is None:
                return None
            st = nxt
        return st

    def can_end(self, st: State) -> bool:
        return st.pos == self.n and st.label < 0 and not st.tag

    def allowed(self, st: State, trie: VocabTrie) -> list[tuple[int, State]]:
        """All vocabulary tokens valid from ``st``, with the state each leads to (trie walk)."""
        out: list[Any] = []
        self._walk(st, trie, out, states=True)
        return out

    def allowed_ids(self, st: State, trie: VocabTrie) -> list[int]:
        """The ids of ``allowed``, sorted, without building a state per tag token (the decoders'
        hot path). Memoised per state: the fast path re-verifies draft positions."""
        return memo_allowed_ids(self._allowed, st, trie, self._walk)

    def _walk(self, st: State, trie: VocabTrie, out: list[Any], states: bool) -> None:
        copies: list[tuple[int, State]] = []  # tokens that only copy: the ones to restrict
        self._walk_from(0, st, trie, out, copies, states)
        if self.canonical is not None and not st.tag:
            copies = self._canonical_only(st, copies)
        out.extend(copies if states else (t for t, _ in copies))

    def _walk_from(
        self,
        node: int,
        st: State,
        trie: VocabTrie,
        out: list[Any],
        copies: list[tuple[int, State]],
        states: bool,
    ) -> None:
        """Tokens along the one copy path from ``node``, branching into tags wherever one may go.

        The copy path is a single line through the trie; the branches into tags are the costly
        part (every label's bytes) and do not depend on the document, so they come from
        ``_tag_walk``'s cache. ``out`` gets (id, state) pairs, or ids only if not ``states``."""
        children, tokens = trie.children, trie.tokens
        while True:
            table = self._tag_table(st)
            if table is not None:
                self._tag_branch(node, st, table, trie, out, states)
            if st.tag or not (st.pos < self.n and (st.label < 0 or st.pos < self.last_end)):
                return
            child = children[node].get(self.c.target[st.pos])
            if child is None:
                return
            st = State(st.pos + 1, st.label, b"", st.start)
            for tid in tokens.get(child, ()):
                copies.append((tid, st))
            node = child

    def _tag_branch(
        self, node: int, st: State, table: _TagTable, trie: VocabTrie, out: list[Any], states: bool
    ) -> None:
        """Tokens from ``node`` that write (the rest of) a tag, then whatever follows a whole tag."""
        walk = _tag_walk(trie, node, st.tag, table)
        if states:
            out.extend((tid, State(st.pos, st.label, buf, st.start)) for tid, buf in walk.ends)
            whole = walk.whole
        else:
            out.extend(tid for tid, _ in walk.ends)
            out.extend(walk.leaf_ids)  # nothing goes on past these tags: no walk after them
            whole = walk.inner
        for child, tids, label in whole:
            after = self._after_tag(st, label)
            out.extend(((tid, after) for tid in tids) if states else tids)
            more: list[tuple[int, State]] = []  # copies after a tag are not restricted
            self._walk_from(child, after, trie, out, more, states)
            out.extend(more if states else (t for t, _ in more))

    @staticmethod
    def _after_tag(st: State, label: int) -> State:
        if st.label < 0:
            return State(st.pos, label, b"", st.pos)
        return State(st.pos, -1, b"", st.start)

    def _canonical_only(self, st: State, copies: list[tuple[int, State]]) -> list[tuple[int, State]]:
        """Of the tokens that only copy, keep the canonical one and the shorter ones that end
        where a tag may go inside it. All of them where there is no canonical token, or it is
        not allowed here."""
        assert self.canonical is not None
        if len(copies) < 2:
            return copies  # one copy is kept whatever the canonical token (no tokenizing)
        cid = self.canonical.at(st.pos)
        end = next((s.pos for t, s in copies if t == cid), None) if cid is not None else None
        if end is None:
            return copies
        marks = self.c.starts if st.label < 0 else self.c.ends
        return [(t, s) for t, s in copies if t == cid or (s.pos < end and s.pos in marks)]

    def forced_tail(self, st: State) -> bytes:
        """Bytes that finish the output validly without the model (dead-end fallback)."""
        out = b""
        if st.tag:
            cands = self.tag_candidates(st)
            tag = next(t for t, _, _ in cands if t.startswith(st.tag))
            out += tag[len(st.tag) :]
            st = self.advance(st, tag[len(st.tag) :]) or st
        if st.label >= 0:
            # Copy to the next token end, then close.
            ends = sorted(e for e in self.c.ends if e > st.start and e >= st.pos)
            stop = ends[0] if ends else self.n
            out += self.c.target[st.pos : stop] + self.closes[st.label]
            st = State(stop, -1, b"", st.start)
        return out + self.c.target[st.pos :]

    def spans(self, events: Sequence[Event]) -> list[tuple[int, int, str]]:
        """Char-offset entities from the tag events of a finished output."""
        out: list[tuple[int, int, str]] = []
        opened: Event | None = None
        for ev in events:
            if ev.opened:
                opened = ev
            elif opened is not None:
                out.append(
                    (self.c.char_at[opened.pos], self.c.char_at[ev.pos], self.c.labels[ev.label])
                )
                opened = None
        return out
