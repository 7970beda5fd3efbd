"""Drafting: what a row's output is expected to continue with, proposed for the model to verify.

The rest of the source, tokenized as the tokenizer would, is a near-perfect draft; inside a tag
whose label is still open the draft guesses one. Where the model preferred a whole-tag token in
its last pass (``Row.hints``, read by verification), the draft puts that tag in. A draft only
saves passes: verification decides every token, so the output does not depend on it. Pure
Python: no torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .automaton import State
from .options import DRAFT_CAP
from .vocab import Vocab

if TYPE_CHECKING:
    from .rows import Row

# Per row and pass: (index of the token before the draft in the row's chunk, draft ids, the
# constraint states after each draft token).
Draft = tuple[int, list[int], list[State]]
# Text → token ids as the tokenizer splits it (``canonical.fast_encoder``).
Encode = Callable[[str], list[int]]


def draft(
    row: Row, st: State, vocab: Vocab, encode: Encode | None, k: int, min_bytes: int = 0
) -> tuple[list[int], list[State]]:
    """Up to ``k`` tokens the output is expected to continue with (more where they cover fewer
    than ``min_bytes``: see ``draft_copy``), and the states they lead to: the source as the
    tokenizer splits it, with the first tag the model hinted at in its last pass
    (``Row.hints``) put in where the draft reaches its position."""
    ids, states = draft_copy(row, st, vocab, encode, k, min_bytes)
    row.hint_at = -1
    if not row.hints:
        return ids, states
    for i in range(len(ids)):
        before = st if i == 0 else states[i - 1]
        tid = row.hints.get(before.pos)
        if tid is None or before.tag or ids[i] == tid:
            continue
        after = row.auto.advance(before, vocab.pieces[tid] or b"")
        if after is None or after.tag:
            continue  # not a whole tag the constraint allows here
        rest, rest_states = draft_copy(row, after, vocab, encode, k - i - 1, min_bytes)
        row.hint_at = i
        return ids[:i] + [tid] + rest, states[:i] + [after] + rest_states
    return ids, states


def _full(n: int, covered: int, k: int, min_bytes: int) -> bool:
    """Whether a draft of ``n`` tokens covering ``covered`` source bytes is long enough: ``k``
    tokens once they cover ``min_bytes``, else on up to ``DRAFT_CAP * k`` tokens.

    Why: a pass verifies a fixed number of tokens, but a document's length is in characters.
    Escaped markup (``<`` is ``&lt;``, three tokens), control bytes, CJK and emoji take 1-3 bytes a
    token against ~5 for prose, so a draft of ``k`` tokens alone costs such text 3-8x the passes
    of prose of the same length (measured: ``benchmarks/hostile.py``)."""
    return n >= DRAFT_CAP * k or (n >= k and covered >= min_bytes)


def draft_copy(
    row: Row, st: State, vocab: Vocab, encode: Encode | None, k: int, min_bytes: int = 0, tag: bytes | None = None
) -> tuple[list[int], list[State]]:
    """Up to ``k`` tokens the output is expected to continue with, and the states they lead to;
    past ``k`` while they cover fewer than ``min_bytes`` source bytes (``_full``).

    What is forced (the rest of a tag whose label is known, then the source) is tokenized the way
    the tokenizer would (which is how the model was trained to copy); whatever the tokenizer's
    split cannot follow falls back to the longest vocabulary match along the forced bytes.
    ``tag``: the tag being written, when the caller picks it (``draft_tree``).
    """
    auto = row.auto
    forced = b""
    if st.tag and tag is not None:
        forced = tag[len(st.tag) :]
    elif st.tag:
        cands = [(t, label) for t, _, label in auto.tag_candidates(st) if t.startswith(st.tag)]
        if not cands:
            return [], []
        # Several labels still possible: guess one. A wrong guess costs nothing (the first draft
        # position is verified by the model anyway); a right one saves a forward pass.
        opened = [ev.label for ev in row.tracker.events if ev.opened]
        guess = next((t for t, label in cands if opened and label == opened[-1]), cands[0][0])
        forced = guess[len(st.tag) :]
    window = max(8 * k, 2 * min_bytes)
    tail = auto.c.target[st.pos : st.pos + window]
    at_end = st.pos + window >= auto.n
    forced += tail
    ids: list[int] = []
    states: list[State] = []
    if encode is not None and not vocab.lead:
        try:
            text = forced.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text:
            enc = encode(text)
            s = st
            limit = len(enc) if at_end else max(len(enc) - 1, 0)  # last token may be cut short
            for tid in enc[:limit]:
                if _full(len(ids), (states[-1].pos if states else st.pos) - st.pos, k, min_bytes):
                    break
                data = vocab.pieces[tid] if tid < len(vocab.pieces) else None
                s2 = auto.advance(s, data) if data else None
                if s2 is None:
                    break
                ids.append(tid)
                states.append(s2)
                s = s2
    if not ids:  # longest match along the forced bytes
        s, i = st, 0
        while not _full(len(ids), (states[-1].pos if states else st.pos) - st.pos, k, min_bytes) and i < len(forced):
            node, best, j, best_state = 0, None, i, None
            walk = s
            while j < len(forced):
                node = vocab.trie.children[node].get(forced[j], -1)
                if node < 0:
                    break
                stepped = auto.step(walk, forced[j])
                if stepped is None:
                    break
                walk = stepped
                j += 1
                if node in vocab.trie.tokens:
                    best, best_state, best_j = vocab.trie.tokens[node][0], walk, j
            if best is None or best_state is None:
                break
            if not at_end and best_j >= len(forced):
                break  # may be the prefix of a longer token beyond the window
            ids.append(best)
            states.append(best_state)
            s, i = best_state, best_j
    if states and auto.can_end(states[-1]) and len(ids) < DRAFT_CAP * k and vocab.eos_ids:
        ids.append(vocab.eos_ids[0])
        states.append(states[-1])
    elif not ids and auto.can_end(st) and vocab.eos_ids:
        ids.append(vocab.eos_ids[0])
        states.append(st)
    return ids, states


def draft_tree(
    row: Row,
    st: State,
    vocab: Vocab,
    encode: Encode | None,
    k: int,
    min_bytes: int,
    ranked: list[int],
    full: int,
    tail: int = 3,
) -> tuple[list[int], list[State], list[int]] | None:
    """Inside a tag that several labels may finish: every label's continuation as a tree, so the
    model's label choice is verified in this pass instead of costing a pass per piece the linear
    draft guessed wrong (SmolLM2 writes ``<PERSON>`` in five tokens; 7 of 17.7 passes a document
    ended on a label piece). None where at most one label remains (the linear draft is exact).

    Returns (ids, states, parents): ``parents[i]`` is the index of token i's parent in ``ids``
    (-1: the row's pending token). Labels are ranked by ``ranked`` (label indices, likeliest
    first: those the decoder saw opened most); the first ``full`` get their whole tag plus
    ``tail`` copy tokens after it (the first of them: the linear draft's length), the others
    their first token only, so that a choice among them is verified and the pass ends one piece
    later. Identical tokens under one parent are one node (their states are equal: a state
    depends on the bytes written only)."""
    auto = row.auto
    cands = {label: t for t, _, label in auto.tag_candidates(st) if t.startswith(st.tag)}
    if len(cands) < 2:
        return None
    order = [lab for lab in ranked if lab in cands] + sorted(lab for lab in cands if lab not in ranked)
    ids: list[int] = []
    states: list[State] = []
    parents: list[int] = []
    nodes: dict[tuple[int, int], int] = {}
    for rank, label in enumerate(order):
        if rank == 0:
            b_ids, b_states = draft_copy(row, st, vocab, encode, k, min_bytes, tag=cands[label])
        else:
            b_ids, b_states = draft_copy(row, st, vocab, encode, k, 0, tag=cands[label])
            if rank >= full:
                b_ids, b_states = b_ids[:1], b_states[:1]
            else:
                # The tag, then ``tail`` copy tokens: the close is often that near.
                out = next((i for i, s in enumerate(b_states) if not s.tag), len(b_ids))
                b_ids, b_states = b_ids[: out + 1 + tail], b_states[: out + 1 + tail]
        parent = -1
        for tid, s in zip(b_ids, b_states):
            node = nodes.get((parent, tid))
            if node is None:
                node = nodes[(parent, tid)] = len(ids)
                ids.append(tid)
                states.append(s)
                parents.append(parent)
            parent = node
    return ids, states, parents
