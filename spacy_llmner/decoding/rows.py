"""Rows and their KV cache: one decoder pass over batched rows, and the cache behind them.

The prompt prefix is prefilled once and its KV shared by every row (one copy under cascade
attention, else repeated per row); upcoming documents' prompts are prefilled together and
spliced into rows that finished; masked slots (rejected drafts, finished rows) are compacted
away; on out-of-memory the batch is halved and decoding goes on (``back_off``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import Errors, LLMNERError
from .automaton import Automaton
from .cache import SlabLayer, slab_cache
from .cascade import PREFIX_KWARG, STORE_KWARG, PackedKV, cascade_mode, cascade_supported, suffix_mask
from .result import DecodeStats, Tracker

KV = list[tuple[torch.Tensor, torch.Tensor]]  # per layer: (keys, values)


@dataclass
class Row:
    """One output row: the document it decodes, its constraint walk and where its cache stands."""

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
    # A tree draft's accepted nodes (indices into the draft), None for a linear draft; and
    # whether the pass ended past the end of the draft (the branch ran out, not a disagreement).
    path: list[int] | None = None
    ran_out: bool = False


def tree_layout(head: int, parents: list[int]) -> tuple[list[int], list[list[int]]]:
    """For a chunk of ``head`` linear tokens then tree draft nodes with ``parents`` (-1: the last
    head token): each chunk slot's depth (position offset) and the chunk slots it sees."""
    depth = list(range(head))
    sees = [list(range(j + 1)) for j in range(head)]
    for i, p in enumerate(parents):
        up = head - 1 if p < 0 else head + p
        depth.append(depth[up] + 1 if up >= 0 else 0)
        sees.append((sees[up] if up >= 0 else []) + [head + i])
    return depth, sees


def resolve_shared_prefix(shared_prefix: str, model: Any, device: torch.device) -> bool:
    """True for cascade attention over one prefix copy, False for the prefix copied per row.

    ``auto`` picks cascade where it is exact for the architecture and measured faster: on CPU
    (see benchmarks/decode.py). On GPUs the copied prefix stays the default until measured.
    ``FastOptions`` checked the value; what is checked here is whether this model can have it."""
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


class KVRows:
    """The model's decoder run over batched rows, and the KV caches it appends to."""

    def __init__(self, model: Any, shared_prefix: str, stats: DecodeStats) -> None:
        self.model = model
        self.decoder = model.get_decoder()
        weight = model.get_output_embeddings().weight
        self.device, self.dtype = weight.device, weight.dtype
        self.cascade = resolve_shared_prefix(shared_prefix, model, self.device)
        self.stats = stats
        self._prefix: dict[tuple[int, ...], KV] = {}

    def held(self, p_len: int) -> int:
        """Prefix slots the cache holds per row: none under cascade attention, else all."""
        return 0 if self.cascade else p_len

    @torch.inference_mode()
    def prefix_kv(self, prefix_ids: list[int]) -> KV:
        key = tuple(prefix_ids)
        if key not in self._prefix:
            self._prefix.clear()  # one prefix per task; don't hoard memory
            out = self.decoder(
                input_ids=torch.tensor([prefix_ids], device=self.device), use_cache=True
            )
            self.stats.forward_passes += 1
            self.stats.prefill_tokens += len(prefix_ids)
            self._prefix[key] = [(lay.keys, lay.values) for lay in out.past_key_values.layers]
        return self._prefix[key]

    def new_cache(self, prefix: KV, batch: int) -> Any:
        """KV for ``batch`` rows that appends in place: under cascade attention each row's own
        suffix only (``PackedKV``; the prefix is attended from its one copy), else a transformers
        cache with the prefix repeated over the rows."""
        cache = slab_cache()
        for i, (k, v) in enumerate(prefix):
            if self.cascade:
                k, v = k[:, :, :0], v[:, :, :0]
            cache.update(k.expand(batch, -1, -1, -1), v.expand(batch, -1, -1, -1), i)
        return PackedKV(cache.layers) if self.cascade else cache

    def forward(
        self,
        chunks: list[list[int]],
        starts: list[int],
        mask: torch.Tensor,
        cache: Any,
        prefix: KV,
        trees: list[list[int] | None] | None = None,
    ) -> tuple[torch.Tensor, list[int], torch.Tensor]:
        """One decoder pass: row b feeds ``chunks[b]`` at positions ``starts[b]`` on; where
        ``trees[b]`` is given (cascade attention only), the chunk's tail is a tree draft with
        those parents (``tree_layout``): each node at its depth, seeing its ancestors only.

        Returns the hidden states as (tokens, hidden), where row b's token j is at
        ``offsets[b] + j``, and ``mask`` grown by this pass's block of slots (the rows' chunks
        padded to the longest). Cascade mode runs the tokens packed (no padding computed);
        the copied-prefix mode runs transformers' usual padded batch."""
        self.stats.forward_passes += 1
        n_rows, width = len(chunks), max(len(c) for c in chunks)
        lens = torch.tensor([len(c) for c in chunks], device=self.device)
        new_mask = (torch.arange(width, device=self.device)[None, :] < lens[:, None]).to(mask.dtype)
        mask = torch.cat([mask, new_mask], dim=1)
        if trees is not None and not any(t is not None for t in trees):
            trees = None
        if not self.cascade:
            if trees is not None:
                raise ValueError("tree drafts need cascade attention (shared_prefix='cascade')")
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
        within = None
        if trees is None:
            pos_list = [starts[b] + j for b, j in zip(rows, cols)]
        else:
            pos_list = []
            sees_all = torch.ones(n_rows, width, width, dtype=torch.bool).tril()
            for b, c in enumerate(chunks):
                tree = trees[b]
                if tree is None:
                    pos_list.extend(starts[b] + j for j in range(len(c)))
                    continue
                depth, sees = tree_layout(len(c) - len(tree), tree)
                pos_list.extend(starts[b] + d for d in depth)
                block = sees_all[b]  # padding slots past the chunk keep causal order
                for j, seen in enumerate(sees):
                    block[j] = False
                    block[j, seen] = True
                sees_all[b] = block
            within = sees_all.to(self.device)
        offsets, n = [], 0
        for c in chunks:
            offsets.append(n)
            n += len(c)
        cache.begin(torch.tensor(rows, device=self.device), torch.tensor(cols, device=self.device), width)
        with cascade_mode(self.model):
            hidden = self.decoder(
                input_ids=torch.tensor([flat], device=self.device),
                attention_mask=suffix_mask(mask, width, self.dtype, within),
                position_ids=torch.tensor([pos_list], device=self.device),
                use_cache=False, **{PREFIX_KWARG: prefix, STORE_KWARG: cache},
            ).last_hidden_state
        return hidden[0], offsets, mask

    @staticmethod
    def compact(cache: Any, mask: torch.Tensor) -> torch.Tensor:
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
    def prefill(
        self, docs: list[int], doc_ids: list[list[int]], prefix: KV
    ) -> dict[int, KV]:
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
        held = self.held(p_len)
        n = len(docs)
        sub_cache = self.new_cache(prefix, n)
        held_mask = torch.ones(n, held, dtype=torch.long, device=self.device)
        self.forward(chunks, [p_len] * n, held_mask, sub_cache, prefix)
        self.stats.prefill_tokens += sum(len(c) for c in chunks)
        return {
            d: [(lay.keys[i : i + 1, :, held : held + len(c)], lay.values[i : i + 1, :, held : held + len(c)])
                for lay in sub_cache.layers]
            for i, (d, c) in enumerate(zip(docs, chunks))
        }

    def splice(
        self,
        rows: list[Row | None],
        new: list[int],
        pool: dict[int, KV],
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


def back_off(run: Callable[[int], None], batch_size: int) -> None:
    """``run(batch_size)``; on out-of-memory, again with half the rows (``run`` picks up what is
    left undone) down to one row, instead of failing."""
    while True:
        try:
            run(batch_size)
            return
        except torch.OutOfMemoryError:
            if batch_size == 1:
                raise
            batch_size = max(1, batch_size // 2)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
