"""The copy constraint of the JSON answer (template ``json1``): a byte automaton. Pure Python.

The language is the one ``jsonner.render.render_answer`` writes, ``{"name": ["叶老桂"],
"company": ["浙商银行", "招商银行"]}`` (``json.dumps`` with ``ensure_ascii=False`` and separators
``", "`` / ``": "``), or ``{}``; so a model trained on rendered targets is never forced off them:

- exactly the renderer's bytes between values: ``{``, ``"``, ``": [``, ``", "``, ``"]``, ``}``,
  no other whitespace; the tokenizer's ``lead`` (SentencePiece's dummy-prefix space) before ``{``;
- keys are the labels as JSON strings, **each at most once, in any order** (the renderer uses
  label order; any order keeps the constraint right when the label order at inference differs
  from training's, and JSON with a repeated key would lose the first list);
- every list has at least one string (the renderer leaves out labels without entities);
- a string is the JSON escape of a non-empty substring of the source that begins at a token start
  and ends at a token end (``token_spans``; without them every character is a token). Inside a
  string the state is the set of end positions, in the escaped source, of the occurrences still
  matching; a byte is allowed if it continues one of them, ``"`` closes the string if one of
  them is at a token end. Gold entities are token-aligned, so their strings are in the language,
  and every string decoded has at least one occurrence that ``jsonner.align`` can place;
- at most as many strings in all as the source has tokens (non-overlapping gold spans never
  need more), which bounds the output, so decoding always ends; repeats are not refused
  (``align`` lists each string once anyway, and refusing them could dead-end a string);
- EOS only after the closing ``}``.

Every state the automaton allows can be completed (no dead ends), so a decoder never gets stuck
for the constraint's sake; ``forced_tail`` completes any state without the model for vocabularies
without byte coverage. Escapes need no special case: JSON-escaping is per character and prefix-
free, so copying escaped bytes from a character boundary keeps all matching occurrences in step,
and ``"`` can only close a string where no occurrence is inside an escape (``\\"``).

Same interface as ``automaton.Automaton`` for a step-by-step decoder: ``initial``, ``step``,
``advance``, ``can_end``, ``allowed_ids(state, trie)``, ``forced_tail``.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..decoding.automaton import memo_allowed_ids
from ..decoding.vocab import VocabTrie

# Phases of the answer. Pieces of fixed bytes are written byte by byte (``lit``: written so far).
OPEN = 0  # writing lead + "{"
OBJECT = 1  # after "{": a key's quote, or "}"
KEY = 2  # after a key's opening quote: a label, then '": ["'
STRING0 = 3  # a string opened, nothing in it yet
STRING = 4  # inside a non-empty string
STRING_DONE = 5  # after a string's closing quote: ", " (another string) or "]"
SEP_STRING = 6  # writing ', "' between two strings
LIST_DONE = 7  # after "]": ", " (another key) or "}"
SEP_KEY = 8  # writing ', "' between two keys
DONE = 9  # after "}": only EOS

_QUOTE, _COMMA, _RBRACKET, _RBRACE = b'"'[0], b","[0], b"]"[0], b"}"[0]
_SEP = b', "'
_KEY_END = b': ["'  # after a key's own opening quote: key, closing quote, this


class JState(NamedTuple):
    """``phase`` (module constants); ``lit``: bytes of the current fixed piece or key written;
    ``used``: bit mask of labels written as keys; ``count``: strings written in all; ``pos``:
    inside a string, the end positions (in ``target``) of the occurrences still matching."""

    phase: int
    lit: bytes = b""
    used: int = 0
    count: int = 0  # type: ignore[assignment]  # a field named like tuple.count, by design
    pos: tuple[int, ...] = ()


def json_escape(text: str) -> str:
    """The body of ``json.dumps(text, ensure_ascii=False)``: what the renderer writes."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


@dataclass(frozen=True)
class JSONConstraint:
    """Per document: the escaped source as bytes, where strings may begin and end, the keys."""

    target: bytes
    starts: frozenset[int]
    ends: frozenset[int]
    labels: tuple[str, ...]
    lead: bytes = b""

    @classmethod
    def build(
        cls,
        source: str,
        labels: Sequence[str],
        token_spans: Iterable[tuple[int, int]] | None = None,
        lead: bytes = b"",
    ) -> JSONConstraint:
        """``token_spans``: (start_char, end_char) of the tokens strings may begin and end on
        (the task's non-space spaCy tokens); ``None``: every character."""
        byte_at = [0] * (len(source) + 1)
        pieces = []
        for i, ch in enumerate(source):
            piece = json_escape(ch).encode("utf-8", "surrogatepass")
            pieces.append(piece)
            byte_at[i + 1] = byte_at[i] + len(piece)
        if token_spans is None:
            token_spans = [(i, i + 1) for i in range(len(source))]
        starts, ends = set(), set()
        for s, e in token_spans:
            if 0 <= s < e <= len(source):
                starts.add(byte_at[s])
                ends.add(byte_at[e])
        return cls(b"".join(pieces), frozenset(starts), frozenset(ends), tuple(labels), lead)


class JSONAutomaton:
    """Stepping logic for one ``JSONConstraint`` (see module docstring)."""

    def __init__(self, constraint: JSONConstraint) -> None:
        c = self.c = constraint
        self.n = len(c.target)
        self.opening = c.lead + b"{"
        self.all_keys = (1 << len(c.labels)) - 1
        self.max_strings = len(c.starts)
        self._ends = sorted(c.ends)
        # A string may copy up to the last token end (nothing after it could end a string).
        self.last_end = self._ends[-1] if self._ends else 0
        self._starts = tuple(sorted(c.starts))
        # Every prefix of a key piece (label as JSON string without its opening quote, then
        # ': ["') -> labels having it, as a bit mask; whole pieces -> label index.
        self._key_masks: dict[bytes, int] = {}
        self._key_next: dict[bytes, set[int]] = {}
        self._key_done: dict[bytes, int] = {}
        for i, label in enumerate(c.labels):
            piece = json.dumps(label, ensure_ascii=False)[1:].encode("utf-8", "surrogatepass") + _KEY_END
            for k in range(len(piece) + 1):
                self._key_masks[piece[:k]] = self._key_masks.get(piece[:k], 0) | (1 << i)
                if k < len(piece):
                    self._key_next.setdefault(piece[:k], set()).add(piece[k])
            self._key_done[piece] = i
        self._allowed: dict[tuple[JState, int], list[int]] = {}

    initial = JState(OPEN)

    def _more_keys(self, st: JState) -> bool:
        """Whether another key may start: a label is left and a string for it is allowed."""
        return st.used != self.all_keys and st.count < self.max_strings

    def moves(self, st: JState) -> list[tuple[int, JState]]:
        """Every allowed next byte with the state it leads to."""
        ph = st.phase
        if ph == OPEN:
            k = len(st.lit)
            nxt = st.lit + self.opening[k : k + 1]
            return [(self.opening[k], JState(OBJECT) if nxt == self.opening else JState(OPEN, nxt))]
        if ph in (SEP_STRING, SEP_KEY):
            nxt = st.lit + _SEP[len(st.lit) : len(st.lit) + 1]
            if nxt != _SEP:
                return [(nxt[-1], st._replace(lit=nxt))]
            return [(_QUOTE, st._replace(phase=STRING0 if ph == SEP_STRING else KEY, lit=b""))]
        if ph in (OBJECT, LIST_DONE):
            out = [(_RBRACE, JState(DONE, b"", st.used, st.count))]
            if self._more_keys(st):
                if ph == OBJECT:
                    out.append((_QUOTE, st._replace(phase=KEY, lit=b"")))
                else:
                    out.append((_COMMA, st._replace(phase=SEP_KEY, lit=b",")))
            return out
        if ph == KEY:
            return self._key_moves(st)
        if ph == STRING0:
            return self._copy_moves(st, self._starts, closable=False)
        if ph == STRING:
            closable = any(p in self.c.ends for p in st.pos)
            return self._copy_moves(st, st.pos, closable)
        if ph == STRING_DONE:
            out = [(_RBRACKET, st._replace(phase=LIST_DONE))]
            if st.count < self.max_strings:
                out.append((_COMMA, st._replace(phase=SEP_STRING, lit=b",")))
            return out
        return []  # DONE

    def _key_moves(self, st: JState) -> list[tuple[int, JState]]:
        free = self.all_keys & ~st.used
        out = []
        for b in sorted(self._key_next.get(st.lit, ())):
            buf = st.lit + bytes((b,))
            if not self._key_masks.get(buf, 0) & free:
                continue
            label = self._key_done.get(buf)
            if label is not None:
                out.append((b, JState(STRING0, b"", st.used | (1 << label), st.count)))
            else:
                out.append((b, st._replace(lit=buf)))
        return out

    def _copy_moves(self, st: JState, pos: Sequence[int], closable: bool) -> list[tuple[int, JState]]:
        groups: dict[int, list[int]] = {}
        target, last = self.c.target, self.last_end
        for p in pos:
            if p < last:
                groups.setdefault(target[p], []).append(p + 1)
        # A '"' in the escaped source is always the second byte of '\"': inside an escape, never
        # at a token end, and all occurrences are inside it or none (prefix-free escapes), so a
        # closable string never also continues with '"'.
        out = [(b, JState(STRING, b"", st.used, st.count, tuple(ps))) for b, ps in groups.items()]
        if closable:
            out = [(b, s) for b, s in out if b != _QUOTE]
            out.append((_QUOTE, JState(STRING_DONE, b"", st.used, st.count + 1)))
        return out

    def step(self, st: JState, b: int) -> JState | None:
        """Advance by one byte; None if the byte is not allowed."""
        if st.phase == STRING:  # the hot case: one filter, not every group
            if b == _QUOTE and any(p in self.c.ends for p in st.pos):
                return JState(STRING_DONE, b"", st.used, st.count + 1)
            target, last = self.c.target, self.last_end
            pos = tuple(p + 1 for p in st.pos if p < last and target[p] == b)
            return JState(STRING, b"", st.used, st.count, pos) if pos else None
        for byte, nxt in self.moves(st):
            if byte == b:
                return nxt
        return None

    def advance(self, st: JState, data: bytes) -> JState | None:
        for b in data:
            nxt = self.step(st, b)
            if nxt is None:
                return None
            st = nxt
        return st

    def can_end(self, st: JState) -> bool:
        return st.phase == DONE

    def max_output_bytes(self) -> int:
        """An upper bound on the length of any answer (each decoding step writes a byte or more)."""
        # Per key: the key as a JSON string, ': [', ']' and ', '.
        keys = sum(len(json.dumps(lab, ensure_ascii=False).encode("utf-8", "surrogatepass")) + 6
                   for lab in self.c.labels)
        return len(self.opening) + 1 + keys + self.max_strings * (self.n + 4)

    def allowed(self, st: JState, trie: VocabTrie) -> list[tuple[int, JState]]:
        """All vocabulary tokens valid from ``st``, with the state each leads to (trie walk)."""
        out: list[tuple[int, JState]] = []
        self._walk(st, trie, out, states=True)
        return out

    def allowed_ids(self, st: JState, trie: VocabTrie) -> list[int]:
        """The ids of ``allowed``, sorted; memoised per state."""
        return memo_allowed_ids(self._allowed, st, trie, self._walk)

    def _walk(self, st: JState, trie: VocabTrie, out: list[Any], states: bool) -> None:
        """Depth-first through the trie along allowed bytes only."""
        children, tokens = trie.children, trie.tokens
        stack = [(0, st)]
        while stack:
            node, s = stack.pop()
            kids = children[node]
            if not kids:
                continue
            for b, nxt in self.moves(s):
                child = kids.get(b)
                if child is None:
                    continue
                for tid in tokens.get(child, ()):
                    out.append((tid, nxt) if states else tid)
                stack.append((child, nxt))

    def forced_tail(self, st: JState) -> bytes:
        """Bytes that finish the answer validly from ``st`` without the model (dead-end fallback):
        the shortest way to a token end inside a string, then closing brackets."""
        out = bytearray()
        while st.phase != DONE:
            if st.phase in (STRING0, STRING):
                b = self._nearest_end_byte(st)
            else:
                moves = self.moves(st)
                prefer = (_RBRACE, _RBRACKET)
                b = next((m for m, _ in moves if m in prefer), moves[0][0])
            nxt = self.step(st, b)
            assert nxt is not None, "forced tail left the constraint"
            out.append(b)
            st = nxt
        return bytes(out)

    def _nearest_end_byte(self, st: JState) -> int:
        """Inside a string: ``"`` if it may close, else the next byte of the occurrence closest
        to a token end (one exists for every occurrence: they stop at the last token end)."""
        if st.phase == STRING and any(p in self.c.ends for p in st.pos):
            return _QUOTE
        pos = self._starts if st.phase == STRING0 else st.pos
        lo = 1 if st.phase == STRING0 else 0  # a string is not empty: the end lies past a start

        def gap(p: int) -> int:
            i = bisect.bisect_left(self._ends, p + lo)
            return self._ends[i] - p if i < len(self._ends) else self.n + 1

        best = min((p for p in pos if p < self.last_end), key=gap)
        return self.c.target[best]


__all__ = ["JSONAutomaton", "JSONConstraint", "JState", "json_escape"]
