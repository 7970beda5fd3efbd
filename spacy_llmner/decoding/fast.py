"""The fast constrained decoder: speculative copy over batched rows with a shared-prefix cache.

The rest of the source is a near-perfect draft. Each forward pass feeds, per row, the pending
token plus up to ``max_draft`` draft tokens; the model's greedy choice (over the tokens the
constraint allows) is checked position by position, the draft accepted up to the first
disagreement, and the disagreeing choice becomes the next pending token. Rejected draft slots are
masked, never cropped, so rows advance independently in one shared cache. The fixed prompt
prefix is prefilled once and shared by every row; finished rows take the next document; logits
are computed only for allowed ids. Output is identical to ``decode_reference``.

This module runs the loop; its parts live apart: ``drafting`` (what to propose), ``verify`` (what
the model chooses), ``rows`` (the batched rows' passes and KV cache), ``options`` (the settings).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch

from .automaton import Automaton, Constraint
from .canonical import CanonicalCopy, fast_encoder
from .drafting import Draft, draft, draft_tree
from .options import SHARED_PREFIX, FastOptions, check_copy_tokens
from .result import DecodeResult, DecodeStats, Tracker
from .rows import KV, KVRows, Row, back_off
from .verify import Verifier
from .vocab import Vocab

__all__ = ["SHARED_PREFIX", "DecodeStats", "FastDecoder", "FastOptions", "decode_batch"]


def pass_end(row: Row, vocab: Vocab, finished: bool, accepted: int, ids: list[int]) -> str:
    """Why a row's pass stopped: ``end``, ``draft`` (all accepted; the draft ran out),
    ``tag`` (the model began or finished a tag the draft did not have), ``label`` (inside a
    tag: another label than guessed) or ``split`` (the same bytes tokenized differently)."""
    if finished:
        return "end"
    if row.pending is None:
        return "draft"
    st = row.tracker.state
    data = vocab.pieces[row.pending] or b""
    if st.tag and not data.startswith(b"<"):
        return "label"
    if st.tag or st.pos == 0 or b"<" in data:
        return "tag"
    # A copy byte: the draft had these bytes too, cut another way (or had a tag there).
    if row.path is not None:  # a tree draft: a disagreement, or past the end of a branch
        return "draft" if row.ran_out else "split"
    return "split" if accepted < len(ids) else "draft"


class FastDecoder:
    """Holds the model's decoder, output rows and the prefix caches (one per distinct prefix).

    ``FastDecoder(model, vocab, tokenizer, copy_tokens, shared_prefix)``, or ``options=`` for all
    settings at once; a string given beside ``options`` overrides its field."""

    def __init__(
        self,
        model: Any,
        vocab: Vocab,
        tokenizer: Any = None,
        copy_tokens: str | None = None,
        shared_prefix: str | None = None,
        *,
        options: FastOptions | None = None,
    ) -> None:
        self.options = (options or FastOptions()).with_changes(copy_tokens=copy_tokens, shared_prefix=shared_prefix)
        check_copy_tokens(self.options.copy_tokens, tokenizer)
        self.model = model
        self.vocab = vocab
        self.tokenizer = tokenizer
        self._encode = fast_encoder(tokenizer) if tokenizer is not None else None
        self.stats = DecodeStats()
        self.kv = KVRows(model, self.options.shared_prefix, self.stats)
        self.verify = Verifier(model, vocab)
        # Labels opened so far (label index → count): the order of a tree draft's branches.
        self.label_counts: Counter[int] = Counter()

    def _ranked(self, row: Row) -> list[int]:
        return _ranked_labels(row, self.label_counts)

    @property
    def copy_tokens(self) -> str:
        return self.options.copy_tokens

    @property
    def cascade(self) -> bool:
        """Whether rows attend one shared copy of the prefix (see ``rows.resolve_shared_prefix``)."""
        return self.kv.cascade

    def _row(self, doc: int, doc_ids: list[int], constraint: Constraint, p_len: int) -> Row:
        canonical = None
        if self.copy_tokens == "canonical":
            canonical = CanonicalCopy(constraint.target, self.tokenizer, self.vocab)
        auto = Automaton(constraint, canonical)
        return Row(doc, auto, Tracker(auto), doc_ids, n_pos=p_len)

    # --- decoding ------------------------------------------------------------------------
    def decode(
        self,
        prefix_ids: list[int],
        doc_ids: list[list[int]],
        constraints: list[Constraint],
        batch_size: int | None = None,
        max_draft: int | None = None,
    ) -> list[DecodeResult]:
        """Decode each document after the shared prefix; results in input order.
        ``batch_size``/``max_draft`` default to the options' (checked the same way)."""
        opts = self.options.with_changes(batch_size=batch_size, max_draft=max_draft)
        results: list[DecodeResult | None] = [None] * len(doc_ids)
        todo = list(range(len(doc_ids)))
        if not todo:
            return []
        # Similar lengths together keep padding small; results go back in input order.
        todo.sort(key=lambda i: len(doc_ids[i]) + len(constraints[i].target), reverse=True)
        back_off(
            lambda rows: self._run(
                prefix_ids, doc_ids, constraints, todo, results, rows, opts.max_draft, opts.draft_bytes,
                opts.tree_labels,
            ),
            opts.batch_size,
        )
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
        draft_bytes: int = 0,
        tree_labels: int = 0,
    ) -> None:
        prefix = self.kv.prefix_kv(prefix_ids)
        p_len = len(prefix_ids)
        queue = [i for i in todo if results[i] is None]
        n_rows = min(batch_size, len(queue))
        rows: list[Row | None] = []
        for _ in range(n_rows):
            d = queue.pop(0)
            rows.append(self._row(d, doc_ids[d], constraints[d], p_len))
        cache = self.kv.new_cache(prefix, n_rows)
        held = self.kv.held(p_len)
        mask = torch.ones(n_rows, held, dtype=torch.long, device=self.kv.device)
        fresh = list(range(n_rows))
        pool: dict[int, KV] = {}
        while any(r is not None for r in rows):
            if fresh:
                need = [rows[b].doc for b in fresh if rows[b].doc not in pool]  # type: ignore[union-attr]
                if need:
                    # Prefill these and the documents queued next, up to a batch, in one pass.
                    ahead = [d for d in queue if d not in pool][: max(0, batch_size - len(need))]
                    pool.update(self.kv.prefill(need + ahead, doc_ids, prefix))
                mask = self.kv.splice(rows, fresh, pool, cache, mask, held)
                fresh = []
            chunks: list[list[int]] = []
            drafts: list[Draft] = []
            trees: list[list[int] | None] = []
            for r in rows:
                trees.append(None)
                if r is None:
                    chunks.append([])
                    drafts.append((0, [], []))
                    continue
                st = r.tracker.state
                head = [r.pending] if r.pending is not None else []
                tree = None
                if st.tag and head and tree_labels and self.kv.cascade:
                    tree = draft_tree(r, st, self.vocab, self._encode, max_draft, draft_bytes,
                                      self._ranked(r), tree_labels)
                if tree is not None:
                    ids, states, trees[-1] = tree
                    r.hint_at = -1
                else:
                    ids, states = draft(r, st, self.vocab, self._encode, max_draft, draft_bytes)
                chunks.append(head + ids)
                drafts.append((len(head) - 1, ids, states))
            width = max(len(c) for c in chunks)
            starts = [r.n_pos if r is not None else 0 for r in rows]
            hidden, offsets, mask = self.kv.forward(chunks, starts, mask, cache, prefix, trees)
            base = mask.shape[1] - width
            self.stats.row_slots += sum(1 for r in rows if r is not None)
            self.stats.tree_drafts += sum(t is not None for t in trees)
            self.stats.decode_tokens += sum(len(c) for c in chunks)
            verdicts = self.verify(rows, drafts, hidden, offsets, trees)
            for b, r in enumerate(rows):
                if r is None:
                    continue
                start, ids, states = drafts[b]
                r.n_forward += 1
                accepted, finished = verdicts[b]
                if r.hint_at >= 0:
                    self.stats.hints_proposed += 1
                    self.stats.hints_accepted += accepted > r.hint_at
                self.stats.pass_ends[pass_end(r, self.vocab, finished, accepted, ids)] += 1
                # Slots of rejected draft tokens stay in the cache but are masked out for good.
                head_len = len(chunks[b]) - len(ids)
                valid = head_len + accepted
                if r.path is None:
                    mask[b, base + valid : base + len(chunks[b])] = 0
                else:  # a tree: the accepted path's slots stay, every other branch goes
                    mask[b, base + head_len : base + len(chunks[b])] = 0
                    mask[b, [base + head_len + i for i in r.path]] = 1
                r.n_pos += valid
                if finished:
                    self.label_counts.update(ev.label for ev in r.tracker.events if ev.opened)
                    results[r.doc] = r.tracker.result(self.vocab.lead, r.n_forward)
                    self.stats.output_tokens += len(r.tracker.token_ids)
                    self.stats.per_doc_passes.append(r.n_forward)
                    mask[b, held:] = 0  # free the row's slots; keep the shared prefix
                    if queue:
                        d = queue.pop(0)
                        rows[b] = self._row(d, doc_ids[d], constraints[d], p_len)
                        fresh.append(b)
                    else:
                        rows[b] = None
            # Squeeze out masked slots once they are a fifth of the cache: every row's attention
            # runs over every column, so dead columns cost each pass more than a gather costs
            # once (CPU, offline model: 12.5 docs/s at the old 2x threshold, 18 at 1.25x).
            if mask.shape[1] > 1.25 * int(mask.sum(1).max()) + 16:
                mask = self.kv.compact(cache, mask)


def _ranked_labels(row: Row, counts: Counter[int]) -> list[int]:
    """Labels likeliest first for a tree draft: the row's last opened label, then those opened
    most so far in this row and by the decoder (ties: label order)."""
    opened = [ev.label for ev in row.tracker.events if ev.opened]
    mine = Counter(opened)
    out = [opened[-1]] if opened else []
    both = sorted(set(mine) | set(counts), key=lambda lab: (-(mine[lab] + counts[lab]), lab))
    return out + [lab for lab in both if lab not in out]


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
