"""What a decoder returns, and the bookkeeping that turns decisions into entities + confidences.

An entity's confidence is the probability of the decisions that made it: every step that wrote
a byte of its opening or closing tag contributes its log-probability, normalised over the
tokens the constraint allowed at that step. Copy steps don't count: copying is forced.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from .automaton import Automaton, Event, State


@dataclass
class DecodeResult:
    """``tagged``: escaped source with tags (what the model wrote); spans in source chars."""

    tagged: str
    spans: list[tuple[int, int, str]]
    scores: list[float]
    token_ids: list[int]
    n_forward: int = 0
    forced_tail: bool = False


@dataclass
class Tracker:
    """Feeds chosen tokens through the automaton, recording tag events and decision log-probs."""

    auto: Automaton
    state: State = field(default_factory=lambda: Automaton.initial)
    events: list[Event] = field(default_factory=list)
    token_ids: list[int] = field(default_factory=list)
    out: bytearray = field(default_factory=bytearray)
    tag_logp: dict[int, float] = field(default_factory=dict)
    n_tags: int = 0
    forced: bool = False

    def feed(self, token_id: int, data: bytes, logp: float) -> None:
        st = self.state
        if not st.tag and b"<" not in data:
            # A plain copy (most tokens): no tag begins, so no events and no decision to score.
            nxt = self.auto.copy(st, data)
            if nxt is not None:
                self.state = nxt
                self.token_ids.append(token_id)
                self.out += data
                return
        touched: set[int] = set()
        for b in data:
            in_tag_before = bool(st.tag)
            n_events = len(self.events)
            nxt = self.auto.step(st, b, self.events)
            if nxt is None:  # pragma: no cover - callers only feed allowed tokens
                raise AssertionError("token not allowed by the constraint")
            if not in_tag_before and (nxt.tag or len(self.events) > n_events):
                self.n_tags += 1  # this byte started a tag
            if in_tag_before or nxt.tag or len(self.events) > n_events:
                touched.add(self.n_tags)
            st = nxt
        for t in touched:
            self.tag_logp[t] = self.tag_logp.get(t, 0.0) + logp
        self.state = st
        self.token_ids.append(token_id)
        self.out += data

    def force_finish(self) -> None:
        """Finish without the model when no token fits (vocabularies without byte coverage)."""
        tail = self.auto.forced_tail(self.state)
        st = self.auto.advance(self.state, tail, self.events)
        self.state = st if st is not None else self.state
        self.out += tail
        self.forced = True

    def result(self, lead: bytes, n_forward: int) -> DecodeResult:
        spans = self.auto.spans(self.events)
        scores = [
            math.exp(self.tag_logp.get(2 * i + 1, 0.0) + self.tag_logp.get(2 * i + 2, 0.0))
            for i in range(len(spans))
        ]
        raw = bytes(self.out)
        if lead and raw.startswith(lead):
            raw = raw[len(lead) :]
        return DecodeResult(
            raw.decode("utf-8", "surrogatepass"),
            spans,
            scores,
            list(self.token_ids),
            n_forward,
            self.forced,
        )


@dataclass
class DecodeStats:
    """Counters for benchmarks: forward passes, tokens, rows per pass."""

    forward_passes: int = 0
    output_tokens: int = 0
    row_slots: int = 0
    per_doc_passes: list[int] = field(default_factory=list)
    # Why each row's pass ended (see ``fast.pass_end``): where the passes go.
    pass_ends: Counter[str] = field(default_factory=Counter)
    # Tags put into drafts from the model's hints, and how many it then wrote there.
    hints_proposed: int = 0
    hints_accepted: int = 0
    # Passes where a row's draft was a tree of labels (``drafting.draft_tree``).
    tree_drafts: int = 0
    # Tokens through the model: fed to decode passes (pending + drafts, rejected ones included)
    # and to prefill (the shared prefix once, each document's prompt): what the FLOPs come from.
    decode_tokens: int = 0
    prefill_tokens: int = 0
