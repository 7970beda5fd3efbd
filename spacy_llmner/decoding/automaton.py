"""The copy constraint: the output may only be the (escaped) source plus well-placed tags.

A deterministic automaton over output bytes. From a state the allowed bytes are: the next source
byte (inside an entity only up to the last token end, so every entity can be closed); ``<`` when a tag may start (an opening tag at a token start with no entity open, or the
closing tag of the open entity at a token end); the continuation of a tag being written. The
escaped source never contains ``<``, so copying and tagging never compete for the same byte.
EOS is allowed only once the whole source is copied and no entity is open.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .vocab import VocabTrie

_LT = ord("<")
_ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


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
            n += len(_ESC.get(ch, ch).encode("utf-8", "surrogatepass"))
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
        target = lead + "".join(_ESC.get(ch, ch) for ch in source).encode("utf-8", "surrogatepass")
        return cls(target, frozenset(starts), frozenset(ends), tuple(labels), char_at)

    @property
    def open_tags(self) -> tuple[bytes, ...]:
        return tuple(f"<{lab}>".encode() for lab in self.labels)

    @property
    def close_tags(self) -> tuple[bytes, ...]:
        return tuple(f"</{lab}>".encode() for lab in self.labels)


class Automaton:
    """Stepping logic for one Constraint (kept separate so tag tables are built once)."""

    def __init__(self, constraint: Constraint) -> None:
        self.c = constraint
        self.n = len(constraint.target)
        self.opens = constraint.open_tags
        self.closes = constraint.close_tags
        # An open entity may not copy past the last token end: nothing after it (trailing
        # whitespace) could close it, and the output would dead-end with an unclosable tag.
        self.last_end = max(constraint.ends, default=0)

    initial = State(0, -1, b"", 0)

    def tag_candidates(self, st: State) -> Sequence[tuple[bytes, bool, int]]:
        """Tags that may be written at this state: (bytes, is_open, label index)."""
        if st.label < 0:
            if st.pos in self.c.starts and st.pos < self.n:
                return [(t, True, i) for i, t in enumerate(self.opens)]
            return ()
        if st.pos in self.c.ends and st.pos > st.start:
            return [(self.closes[st.label], False, st.label)]
        return ()

    def next_bytes(self, st: State) -> list[int]:
        """Bytes allowed next (small: usually one, at boundaries a few)."""
        if st.tag:
            k = len(st.tag)
            return list({t[k] for t, _, _ in self.tag_candidates(st) if t[:k] == st.tag})
        copy = st.pos < self.n and (st.label < 0 or st.pos < self.last_end)
        out = [self.c.target[st.pos]] if copy else []
        if self.tag_candidates(st):
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
        buf = st.tag + bytes((b,))
        k = len(buf)
        for tag, is_open, label in self.tag_candidates(st):
            if tag[:k] == buf:
                if k < len(tag):
                    return State(st.pos, st.label, buf, st.start)
                if events is not None:
                    events.append(Event(is_open, label, st.pos))
                if is_open:
                    return State(st.pos, label, b"", st.pos)
                return State(st.pos, -1, b"", st.start)
        return None

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
        out: list[tuple[int, State]] = []
        stack = [(0, st)]
        children, tokens = trie.children, trie.tokens
        while stack:
            node, s = stack.pop()
            kids = children[node]
            for b in self.next_bytes(s):
                child = kids.get(b)
                if child is None:
                    continue
                s2 = self.step(s, b)
                if s2 is None:
                    continue
                for tid in tokens.get(child, ()):
                    out.append((tid, s2))
                stack.append((child, s2))
        return out

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
