"""The fast constrained decoder: speculative copy over batched rows with a shared-prefix cache.

The rest of the source is a near-perfect draft. Each forward pass feeds, per row, the pending
token plus up to ``max_draft`` draft tokens; the model's greedy choice (over the tokens the
constraint allows) is checked position by position, the draft accepted up to the first
disagreement, and the disagreeing choice becomes the next pending token. Rejected draft slots are
masked, never cropped, so rows advance independently in one shared cache. The fixed prompt
prefix is prefilled once and shared by every row; finished rows take the next document; logits
are computed only for allowed ids. Output is identical to ``decode_reference``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import Errors, LLMNERError
from .automaton import Automaton, Constraint, State
from .cache import SlabLayer, slab_cache
from .cascade import PREFIX_KWARG, STORE_KWARG, PackedKV, cascade_mode, cascade_supported, suffix_mask
from .canonical import CanonicalCopy, check_copy_tokens, fast_encoder
from .result import DecodeResult, Tracker
from .vocab import Vocab

_NEG = float("-inf")
# How rows see the prompt prefix: "cascade" (one shared copy, split attention), "copy" (repeated
# in every row's cache; any architecture), "auto" (cascade where exact and measured faster).
SHARED_PREFIX = ("auto", "cascade", "copy")
# Draft positions verified per round (see ``FastDecoder._verify``).
_ROUND = 6


@dataclass
class _Row:
    doc: int
    auto: Automaton
    tracker: Tracker
    doc_ids: list[int]
    pending: int | None = None
    n_pos: int = 0  # logical sequence length held in the cache for this row
    n_forward: int = 0
    # Target byte position → a whole-tag token the model preferred there in the last pass, at
    # draft positions past its decision (computed anyway): the next draft proposes it.
    hints: dict[int, int] = field(default_factory=dict)
    hint_at: int = -1  # where the current draft put a hinted tag (-1: none)


# Per row and pass: (index of the token before the draft in the row's chunk, draft ids, the
# constraint states after each draft token).
_Draft = tuple[int, list[int], list[State]]
# Text → token ids as the tokenizer splits it (``canonical.fast_encoder``).
_Encode = Callable[[str], list[int]]


@dataclass
class DecodeStats:
    """Counters for benchmarks: forward passes, tokens, rows per pass."""

    forward_passes: int = 0
    output_tokens: int = 0
    row_slots: int = 0
    per_doc_passes: list[int] = field(default_factory=list)
    # Why each row's pass ended (see ``FastDecoder._pass_end``): where the passes go.
    pass_ends: Counter[str] = field(default_factory=Counter)
    # Tags put into drafts from the model's hints, and how many it then wrote there.
    hints_proposed: int = 0
    hints_accepted: int = 0


def _draft(
    row: _Row, st: State, vocab: Vocab, encode: _Encode | None, k: int
) -> tuple[list[int], list[State]]:
    """Up to ``k`` tokens the output is expected to continue with, and the states they lead to:
    the source as the tokenizer splits it (``_draft_copy``), with the first tag the model hinted
    at in its last pass (``_Row.hints``) put in where the draft reaches its position."""
    ids, states = _draft_copy(row, st, vocab, encode, k)
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
        rest, rest_states = _draft_copy(row, after, vocab, encode, k - i - 1)
        row.hint_at = i
        return ids[:i] + [tid] + rest, states[:i] + [after] + rest_states
    return ids, states


def _draft_copy(
    row: _Row, st: State, vocab: Vocab, encode: _Encode | None, k: int
) -> tuple[list[int], list[State]]:
    """Up to ``k`` tokens the output is expected to continue with, and the states they lead to.

    What is forced (the rest of a tag whose label is known, then the source) is tokenized the way
    the tokenizer would (which is how the model was trained to copy); whatever the tokenizer's
    split cannot follow falls back to the longest vocabulary match along the forced bytes.
    """
    auto = row.auto
    forced = b""
    if st.tag:
        cands = [(t, label) for t, _, label in auto.tag_candidates(st) if t.startswith(st.tag)]
        if not cands:
            return [], []
        # Several labels still possible: guess one. A wrong guess costs nothing (the first draft
        # position is verified by the model anyway); a right one saves a forward pass.
        opened = [ev.label for ev in row.tracker.events if ev.opened]
        guess = next((t for t, label in cands if opened and label == opened[-1]), cands[0][0])
        forced = guess[len(st.tag) :]
    window = 8 * k
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
            for tid in enc[: min(limit, k)]:
                data = vocab.pieces[tid] if tid < len(vocab.pieces) else None
                s2 = auto.advance(s, data) if data else None
                if s2 is None:
                    break
                ids.append(tid)
                states.append(s2)
                s = s2
    if not ids:  # longest match along the forced bytes
        s, i = st, 0
        while len(ids) < k and i < len(forced):
            node, best, j, s_walk, best_state = 0, None, i, s, None
            while j < len(forced):
                node = vocab.trie.children[node].get(forced[j], -1)
                if node < 0:
                    break
                s_walk = auto.step(s_walk, forced[j])
                if s_walk is None:
                    break
                j += 1
                if node in vocab.trie.tokens:
                    best, best_state, best_j = vocab.trie.tokens[node][0], s_walk, j
            if best is None or best_state is None:
                break
            if not at_end and best_j >= len(forced):
                break  # may be the prefix of a longer token beyond the window
            ids.append(best)
            states.append(best_state)
            s, i = best_state, best_j
    if states and auto.can_end(states[-1]) and len(ids) < k and vocab.eos_ids:
        ids.append(vocab.eos_ids[0])
        states.append(states[-1])
    elif not ids and auto.can_end(st) and vocab.eos_ids:
        ids.append(vocab.eos_ids[0])
        states.append(st)
    return ids, states


class FastDecoder:
    """Holds the model's decoder, output rows and the prefix caches (one per distinct prefix)."""

    def __init__(
        self,
        model: Any,
        vocab: Vocab,
        tokenizer: Any = None,
        copy_tokens: str = "any",
        shared_prefix: str = "auto",
    ) -> None:
        check_copy_tokens(copy_tokens, tokenizer)
        self.copy_tokens = copy_tokens
        self.model = model
        self.decoder = model.get_decoder()
        head = model.get_output_embeddings()
        self.weight = head.weight
        self.bias = getattr(head, "bias", None)
        self.vocab = vocab
        self.tokenizer = tokenizer
        self._encode = fast_encoder(tokenizer) if tokenizer is not None else None
        self.device = self.weight.device
        self.cascade = _resolve_shared_prefix(shared_prefix, model, self.device)
        self._prefix: dict[tuple[int, ...], Any] = {}
        self.stats = DecodeStats()

    def _automaton(self, constraint: Constraint) -> Automaton:
        canonical = None
        if self.copy_tokens == "canonical":
            canonical = CanonicalCopy(constraint.target, self.tokenizer, self.vocab)
        return Automaton(constraint, canonical)

    # --- cache helpers -------------------------------------------------------------------
    @torch.inference_mode()
    def _prefix_kv(self, prefix_ids: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        key = tuple(prefix_ids)
        if key not in self._prefix:
            self._prefix.clear()  # one prefix per task; don't hoard memory
            out = self.decoder(
                input_ids=torch.tensor([prefix_ids], device=self.device), use_cache=True
            )
            self.stats.forward_passes += 1
            self._prefix[key] = [(lay.keys, lay.values) for lay in out.past_key_values.layers]
        return self._prefix[key]

    def _new_cache(self, prefix: list[tuple[torch.Tensor, torch.Tensor]], batch: int) -> Any:
        """KV for ``batch`` rows that appends in place: under cascade attention each row's own
        suffix only (``PackedKV``; the prefix is attended from its one copy), else a transformers
        cache with the prefix repeated over the rows."""
        cache = slab_cache()
        for i, (k, v) in enumerate(prefix):
            if self.cascade:
                k, v = k[:, :, :0], v[:, :, :0]
            cache.update(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1), i)
        return PackedKV(cache.layers) if self.cascade else cache

    def _forward(
        self,
        chunks: list[list[int]],
        starts: list[int],
        mask: torch.Tensor,
        cache: Any,
        prefix: list[tuple[torch.Tensor, torch.Tensor]],
    ) -> tuple[torch.Tensor, list[int], torch.Tensor]:
        """One decoder pass: row b feeds ``chunks[b]`` at positions ``starts[b]`` on.

        Returns the hidden states as (tokens, hidden), where row b's token j is at
        ``offsets[b] + j``, and ``mask`` grown by this pass's block of slots (the rows' chunks
        padded to the longest). Cascade mode runs the tokens packed (no padding computed);
        the copied-prefix mode runs transformers' usual padded batch."""
        self.stats.forward_passes += 1
        n_rows, width = len(chunks), max(len(c) for c in chunks)
        lens = torch.tensor([len(c) for c in chunks], device=self.device)
        new_mask = (torch.arange(width, device=self.device)[None, :] < lens[:, None]).to(mask.dtype)
        mask = torch.cat([mask, new_mask], dim=1)
        if not self.cascade:
            inp = torch.zeros(n_rows, width, dtype=torch.long, device=self.device)
            pos = torch.zeros(n_rows, width, dtype=torch.long, device=self.device)
            for b, c in enumerate(chunks):
                if c:
                    inp[b, : len(c)] = torch.tensor(c, device=self.device)
                pos[b] = torch.arange(starts[b], starts[b] + width, device=self.device)
            hidden = self.decoder(
                input_ids=inp, attention_mask=mask, position_ids=pos,
                past_key_values=cache, use_cache=True,
            ).last_hidden_state
            return hidden.reshape(n_rows * width, -1), [b * width for b in range(n_rows)], mask
        flat = [t for c in chunks for t in c]
        rows = [b for b, c in enumerate(chunks) for _ in c]
        cols = [j for c in chunks for j in range(len(c))]
        pos_list = [starts[b] + j for b, j in zip(rows, cols)]
        offsets, n = [], 0
        for c in chunks:
            offsets.append(n)
            n += len(c)
        cache.begin(torch.tensor(rows, device=self.device), torch.tensor(cols, device=self.device), width)
        with cascade_mode(self.model):
            hidden = self.decoder(
                input_ids=torch.tensor([flat], device=self.device),
                attention_mask=suffix_mask(mask, width, self.weight.dtype),
                position_ids=torch.tensor([pos_list], device=self.device),
                use_cache=False, **{PREFIX_KWARG: prefix, STORE_KWARG: cache},
            ).last_hidden_state
        return hidden[0], offsets, mask

    @staticmethod
    def _compact(cache: Any, mask: torch.Tensor) -> torch.Tensor:
        """Drop masked slots (rejected drafts, finished rows); rows keep their order."""
        keep = mask.bool()
        counts = keep.sum(1)
        new_len = int(counts.max())
        # Stable order of kept slots first, then the masked ones (which stay masked).
        order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)[:, :new_len]
        for lay in cache.layers:
            idx = order[:, None, :, None].expand(-1, lay.keys.shape[1], -1, lay.keys.shape[3])
            if isinstance(lay, SlabLayer):
                lay.gather(idx)
            else:
                lay.keys = torch.gather(lay.keys, 2, idx)
                lay.values = torch.gather(lay.values, 2, idx)
        return torch.gather(mask, 1, order)

    @torch.inference_mode()
    def _prefill(
        self, docs: list[int], doc_ids: list[list[int]], prefix: list[tuple[torch.Tensor, torch.Tensor]]
    ) -> dict[int, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Run these documents' prompts (all but the last token) in one pass of their own; their
        KV per layer, (1, heads, prompt length, head dim) each, waiting to be spliced into a row.

        One pass for a batch of upcoming documents, not one per recycled row: rows finish at
        different passes, and a pass has a fixed cost. Prefilling inside the decode pass would
        pad every row to the prompt's width; this keeps decode passes at width 1 + draft."""
        chunks = [doc_ids[d][:-1] for d in docs]
        width = max(len(c) for c in chunks)
        if width == 0:
            return {d: [] for d in docs}
        p_len = prefix[0][0].shape[2]
        held = 0 if self.cascade else p_len  # prefix slots the cache holds per row
        n = len(docs)
        sub_cache = self._new_cache(prefix, n)
        held_mask = torch.ones(n, held, dtype=torch.long, device=self.device)
        self._forward(chunks, [p_len] * n, held_mask, sub_cache, prefix)
        return {
            d: [(lay.keys[i : i + 1, :, held : held + len(c)], lay.values[i : i + 1, :, held : held + len(c)])
                for lay in sub_cache.layers]
            for i, (d, c) in enumerate(zip(docs, chunks))
        }

    def _splice(
        self,
        rows: list[_Row | None],
        new: list[int],
        pool: dict[int, list[tuple[torch.Tensor, torch.Tensor]]],
        cache: Any,
        mask: torch.Tensor,
        held: int,
    ) -> torch.Tensor:
        """Write new rows' prefilled prompt KV into their rows of the shared cache; returns the
        mask with those slots live.

        A new row's slots past the ``held`` prefix are all dead (the finished row's, or none
        yet), so its prompt goes over them from column ``held`` on; the cache grows only by what
        does not fit. Attention reads a row's live slots in any column order, so where they sit
        does not matter; appending them as new columns instead would copy the whole cache and
        leave dead columns in every other row for attention to run over until compaction."""
        kvs = [pool.pop(rows[b].doc) for b in new]  # type: ignore[union-attr]
        lens = [kv[0][0].shape[2] if kv else 0 for kv in kvs]
        for b in new:
            row = rows[b]
            assert row is not None
            row.pending = row.doc_ids[-1]  # a prompt token: fed as input, never as output
            row.n_forward += 1  # its prefill pass
        short = held + max(lens) - mask.shape[1]
        if short > 0:
            for lay in cache.layers:
                k, v = lay.keys, lay.values
                lay.update(k.new_zeros(*k.shape[:2], short, k.shape[3]), v.new_zeros(*v.shape[:2], short, v.shape[3]))
            mask = torch.cat([mask, mask.new_zeros(mask.shape[0], short)], dim=1)
        for li, lay in enumerate(cache.layers):
            keys, values = lay.keys, lay.values  # views of the cache's storage: written in place
            for b, kv, n in zip(new, kvs, lens):
                if n:
                    keys[b, :, held : held + n] = kv[li][0][0]
                    values[b, :, held : held + n] = kv[li][1][0]
        for b, n in zip(new, lens):
            mask[b, held : held + n] = 1
            rows[b].n_pos += n  # type: ignore[union-attr]
        return mask

    def _pass_end(self, row: _Row, finished: bool, accepted: int, ids: list[int]) -> str:
        """Why a row's pass stopped: ``end``, ``draft`` (all accepted; the draft ran out),
        ``tag`` (the model began or finished a tag the draft did not have), ``label`` (inside a
        tag: another label than guessed) or ``split`` (the same bytes tokenized differently)."""
        if finished:
            return "end"
        if row.pending is None:
            return "draft"
        st = row.tracker.state
        data = self.vocab.pieces[row.pending] or b""
        if st.tag and not data.startswith(b"<"):
            return "label"
        if st.tag or st.pos == 0 or b"<" in data:
            return "tag"
        # A copy byte: the draft had these bytes too, cut another way (or had a tag there).
        return "split" if accepted < len(ids) else "draft"

    def _verify(
        self,
        rows: list[_Row | None],
        drafts: list[_Draft],
        hidden: torch.Tensor,
        offsets: list[int],
    ) -> list[tuple[int, bool]]:
        """Check each row's draft against the model's constrained greedy choice; feed what it
        chose. Returns (draft tokens accepted, finished) per row; sets ``row.pending``.

        Positions are checked in rounds of ``_ROUND`` per row, each round one matmul over the
        union of the allowed ids: the allowed set (a walk of the constraint) is computed only
        where a row's draft still stands, not at every draft position (about half are past the
        first disagreement)."""
        verdicts: list[tuple[int, bool]] = [(0, False)] * len(rows)
        decided: dict[int, int] = {}  # row → draft position where the model chose otherwise
        active: dict[int, int] = {}  # row → next position in its draft to check
        for b, r in enumerate(rows):
            if r is not None:
                r.pending = None
                active[b] = 0
        eos = self.vocab.eos_ids
        while active:
            asks: list[tuple[int, int, list[int]]] = []  # (row, draft position, allowed ids)
            for b, j0 in active.items():
                r = rows[b]
                assert r is not None
                start, ids, states = drafts[b]
                for j in range(j0, min(j0 + _ROUND, len(ids) + 1)):
                    s = r.tracker.state if j == 0 else states[j - 1]
                    allowed = r.auto.allowed_ids(s, self.vocab.trie)
                    if r.auto.can_end(s):
                        allowed = sorted(set(allowed) | set(eos))
                    asks.append((b, j, allowed))
                    if j < len(ids) and ids[j] in eos:
                        break
            union = sorted({t for _, _, a in asks for t in a})
            best: list[int] = []
            if union:
                col = {t: i for i, t in enumerate(union)}
                union_t = torch.tensor(union, device=self.device)
                h = hidden[[offsets[b] + drafts[b][0] + j for b, j, _ in asks]]
                logits = (h @ self.weight[union_t].T).float()
                if self.bias is not None:
                    logits = logits + self.bias[union_t].float()
                keep_r = [n for n, (_, _, a) in enumerate(asks) for _ in a]
                keep_c = [col[t] for _, _, a in asks for t in a]
                allowed_mask = torch.full_like(logits, _NEG)
                allowed_mask[keep_r, keep_c] = 0.0
                masked = logits + allowed_mask
                best = masked.argmax(dim=1).tolist()
                logp = torch.log_softmax(masked, dim=1)
            following: dict[int, int] = {}
            n = 0
            while n < len(asks):
                b = asks[n][0]
                r = rows[b]
                assert r is not None
                ids = drafts[b][1]
                accepted, finished, going = verdicts[b][0], False, True
                while n < len(asks) and asks[n][0] == b:
                    _, j, allowed = asks[n]
                    n += 1
                    if not going:
                        continue  # past this row's decision
                    if not allowed:
                        r.tracker.force_finish()
                        finished, going = True, False
                        continue
                    choice = union[best[n - 1]]
                    lp = float(logp[n - 1, best[n - 1]])
                    if choice in eos and r.auto.can_end(r.tracker.state):
                        finished, going = True, False
                        accepted += int(j < len(ids) and ids[j] == choice)
                        continue
                    r.tracker.feed(choice, self.vocab.pieces[choice] or b"", lp)
                    if j < len(ids) and ids[j] == choice:
                        accepted += 1
                        continue
                    r.pending = choice  # the model's own next token: fed in the next pass
                    going = False
                verdicts[b] = (accepted, finished)
                last = asks[n - 1][1]
                if going and last < len(ids):
                    following[b] = last + 1  # every checked position agreed: check on
                elif not finished and r.pending is not None:
                    decided[b] = accepted  # draft position of the model's own choice
            active = following
        self._hint(rows, drafts, hidden, offsets, decided)
        return verdicts

    def _hint(
        self,
        rows: list[_Row | None],
        drafts: list[_Draft],
        hidden: torch.Tensor,
        offsets: list[int],
        decided: dict[int, int],
    ) -> None:
        """Where the draft went on past a row's decision, the model's hidden states there are
        computed anyway: if it prefers a whole-tag token to the draft's copy token at one of
        those positions, note it for the next draft (the next tag is usually where it says,
        though it saw the text without the tag it just chose). A hint only shapes the draft;
        verification decides, so output is unchanged whatever the hints say."""
        tags = self.vocab.whole_tags
        picks: list[tuple[int, int]] = []  # (row, draft position)
        for b, j in decided.items():
            rows[b].hints = {}  # type: ignore[union-attr]
            ids = drafts[b][1]
            picks.extend((b, jj) for jj in range(j + 1, len(ids)) if ids[jj] not in self.vocab.eos_ids)
        if not picks or not tags:
            return
        h = hidden[[offsets[b] + drafts[b][0] + jj for b, jj in picks]]
        tag_t = torch.tensor(tags, device=self.device)
        tag_logits = h @ self.weight[tag_t].T
        copy_ids = torch.tensor([drafts[b][1][jj] for b, jj in picks], device=self.device)
        copy_logits = (h * self.weight[copy_ids]).sum(-1)
        if self.bias is not None:
            tag_logits = tag_logits + self.bias[tag_t]
            copy_logits = copy_logits + self.bias[copy_ids]
        top, which = tag_logits.max(dim=1)
        for (b, jj), wins, t in zip(picks, (top > copy_logits).tolist(), which.tolist()):
            row = rows[b]
            assert row is not None
            if wins:
                before = drafts[b][2][jj - 1].pos  # the state before draft token jj
                row.hints.setdefault(before, tags[t])

    # --- decoding ------------------------------------------------------------------------
    def decode(
        self,
        prefix_ids: list[int],
        doc_ids: list[list[int]],
        constraints: list[Constraint],
        batch_size: int = 16,
        max_draft: int = 16,
    ) -> list[DecodeResult]:
        results: list[DecodeResult | None] = [None] * len(doc_ids)
        todo = list(range(len(doc_ids)))
        # Similar lengths together keep padding small; results go back in input order.
        todo.sort(key=lambda i: len(doc_ids[i]) + len(constraints[i].target), reverse=True)
        while todo:
            try:
                self._run(prefix_ids, doc_ids, constraints, todo, results, batch_size, max_draft)
                todo = []
            except torch.OutOfMemoryError:
                if batch_size == 1:
                    raise
                batch_size = max(1, batch_size // 2)  # back off instead of failing
                todo = [i for i in todo if results[i] is None]
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
        return [r for r in results if r is not None]

    @torch.inference_mode()
    def _run(
        self,
        prefix_ids: list[int],
        doc_ids: list[list[int]],
        constraints: list[Constraint],
        todo: list[int],
        results: list[DecodeResult | None],
        batch_size: int,
        max_draft: int,
    ) -> None:
        prefix = self._prefix_kv(prefix_ids)
        p_len = len(prefix_ids)
        queue = [i for i in todo if results[i] is None]
        n_rows = min(batch_size, len(queue))
        rows: list[_Row | None] = []
        for _ in range(n_rows):
            d = queue.pop(0)
            auto = self._automaton(constraints[d])
            rows.append(_Row(d, auto, Tracker(auto), doc_ids[d], n_pos=p_len))
        cache = self._new_cache(prefix, n_rows)
        held = 0 if self.cascade else p_len  # prefix slots the cache holds per row
        mask = torch.ones(n_rows, held, dtype=torch.long, device=self.device)
        fresh = list(range(n_rows))
        pool: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {}
        while any(r is not None for r in rows):
            if fresh:
                need = [rows[b].doc for b in fresh if rows[b].doc not in pool]  # type: ignore[union-attr]
                if need:
                    # Prefill these and the documents queued next, up to a batch, in one pass.
                    ahead = [d for d in queue if d not in pool][: max(0, batch_size - len(need))]
                    pool.update(self._prefill(need + ahead, doc_ids, prefix))
                mask = self._splice(rows, fresh, pool, cache, mask, held)
                fresh = []
            chunks: list[list[int]] = []
            drafts: list[_Draft] = []
            for r in rows:
                if r is None:
                    chunks.append([])
                    drafts.append((0, [], []))
                    continue
                st = r.tracker.state
                head = [r.pending] if r.pending is not None else []
                ids, states = _draft(r, st, self.vocab, self._encode, max_draft)
                chunks.append(head + ids)
                drafts.append((len(head) - 1, ids, states))
            width = max(len(c) for c in chunks)
            starts = [r.n_pos if r is not None else 0 for r in rows]
            hidden, offsets, mask = self._forward(chunks, starts, mask, cache, prefix)
            base = mask.shape[1] - width
            self.stats.row_slots += sum(1 for r in rows if r is not None)
            verdicts = self._verify(rows, drafts, hidden, offsets)
            for b, r in enumerate(rows):
                if r is None:
                    continue
                start, ids, states = drafts[b]
                r.n_forward += 1
                accepted, finished = verdicts[b]
                if r.hint_at >= 0:
                    self.stats.hints_proposed += 1
                    self.stats.hints_accepted += accepted > r.hint_at
                self.stats.pass_ends[self._pass_end(r, finished, accepted, ids)] += 1
                # Slots of rejected draft tokens stay in the cache but are masked out for good.
                head_len = len(chunks[b]) - len(ids)
                valid = head_len + accepted
                mask[b, base + valid : base + len(chunks[b])] = 0
                r.n_pos += valid
                if finished:
                    results[r.doc] = r.tracker.result(self.vocab.lead, r.n_forward)
                    self.stats.output_tokens += len(r.tracker.token_ids)
                    self.stats.per_doc_passes.append(r.n_forward)
                    mask[b, held:] = 0  # free the row's slots; keep the shared prefix
                    if queue:
                        d = queue.pop(0)
                        auto = self._automaton(constraints[d])
                        rows[b] = _Row(d, auto, Tracker(auto), doc_ids[d], n_pos=p_len)
                        fresh.append(b)
                    else:
                        rows[b] = None
            # Squeeze out masked slots once they are a fifth of the cache: every row's attention
            # runs over every column, so dead columns cost each pass more than a gather costs
            # once (CPU, offline model: 12.5 docs/s at the old 2x threshold, 18 at 1.25x).
            if mask.shape[1] > 1.25 * int(mask.sum(1).max()) + 16:
                mask = self._compact(cache, mask)


def _resolve_shared_prefix(shared_prefix: str, model: Any, device: torch.device) -> bool:
    """True for cascade attention over one prefix copy, False for the prefix copied per row.

    ``auto`` picks cascade where it is exact for the architecture and measured faster: on CPU
    (see benchmarks/decode.py). On GPUs the copied prefix stays the default until measured."""
    if shared_prefix not in SHARED_PREFIX:
        raise LLMNERError(Errors.E011.format(
            name="shared_prefix", value=shared_prefix, hint=f"Use one of {list(SHARED_PREFIX)}."))
    if shared_prefix == "copy":
        return False
    supported = cascade_supported(model)
    if shared_prefix == "cascade" and not supported:
        kind = getattr(getattr(model, "config", None), "model_type", type(model).__name__)
        raise LLMNERError(Errors.E011.format(
            name="shared_prefix", value=shared_prefix,
            hint=f"Cascade attention needs plain causal attention without a sliding window "
            f"(qwen2, qwen3, llama, mistral), and this model is {kind!r}. Use 'auto' or 'copy'."))
    return supported and (shared_prefix == "cascade" or device.type == "cpu")


def decode_batch(
    model: Any,
    prefix_ids: list[int],
    doc_ids: list[list[int]],
    constraints: list[Constraint],
    vocab: Vocab,
    *,
    tokenizer: Any = None,
    batch_size: int = 16,
    max_draft: int = 16,
    decoder: FastDecoder | None = None,
    copy_tokens: str = "any",
    shared_prefix: str = "auto",
) -> list[DecodeResult]:
    """Functional entry point; pass a ``FastDecoder`` to reuse its prefix cache across calls."""
    dec = decoder or FastDecoder(model, vocab, tokenizer, copy_tokens, shared_prefix)
    return dec.decode(prefix_ids, doc_ids, constraints, batch_size, max_draft)
