"""A KV cache that appends in place, for the fast decoder.

HF's ``DynamicLayer.update`` concatenates: every forward pass copies the whole cache to append a
few slots. In the fast path the cache holds the shared prompt prefix repeated over every row, so
that copy was the largest single cost on CPU (41% of decoding time in a profile, more than
attention). Here each layer keeps a buffer with spare capacity along the sequence axis, writes new
slots into it and hands attention a view; capacity doubles when it runs out, so appends are
amortised O(new slots). The views can be written in place (the decoder puts a recycled row's
prompt over its dead slots; ``extend`` hands out zeroed new slots to scatter into), ``gather``
compacts, and assigning ``keys``/``values`` works as with ``DynamicLayer``: the assigned tensor
becomes the new buffer.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


class SlabLayer(DynamicLayer):
    """``DynamicLayer`` with preallocated, growable storage (``keys``/``values`` are views)."""

    def __init__(self, **kwargs: Any) -> None:
        # Buffers and their filled lengths; keys and values are assigned one after the other,
        # so each keeps its own length until update() moves both together.
        self._k: torch.Tensor | None = None
        self._v: torch.Tensor | None = None
        self._nk = self._nv = 0
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def keys(self) -> torch.Tensor | None:
        return None if self._k is None else self._k[:, :, : self._nk]

    @keys.setter
    def keys(self, value: torch.Tensor | None) -> None:
        self._k, self._nk = value, 0 if value is None else value.shape[-2]

    @property  # type: ignore[override]
    def values(self) -> torch.Tensor | None:
        return None if self._v is None else self._v[:, :, : self._nv]

    @values.setter
    def values(self, value: torch.Tensor | None) -> None:
        self._v, self._nv = value, 0 if value is None else value.shape[-2]

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        self.dtype, self.device = key_states.dtype, key_states.device
        self.is_initialized = True

    @staticmethod
    def _reserve(buf: torch.Tensor | None, filled: int, like: torch.Tensor, need: int) -> torch.Tensor:
        """``buf`` if it has room for ``need`` slots, else a larger copy of its filled part."""
        if buf is not None and buf.shape[-2] >= need:
            return buf
        # The first fill (the prompt prefix) gets room for the passes that follow it too.
        capacity = max(need + need // 2, 2 * (buf.shape[-2] if buf is not None else 0), 64)
        grown = like.new_empty(like.shape[0], like.shape[1], capacity, like.shape[3])
        if buf is not None and filled:
            grown[:, :, :filled] = buf[:, :, :filled]
        return grown

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        n, add = self._nk, key_states.shape[-2]
        if self._nv != n:
            raise RuntimeError(f"KV cache out of step: {n} keys, {self._nv} values")
        self._k = self._reserve(self._k, n, key_states, n + add)
        self._v = self._reserve(self._v, n, value_states, n + add)
        self._k[:, :, n : n + add] = key_states
        self._v[:, :, n : n + add] = value_states
        self._nk = self._nv = n + add
        return self.keys, self.values  # type: ignore[return-value]

    def extend(self, width: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``width`` new zeroed slots at the end, to be written in place: (keys, values) views
        of just those slots (a pass scatters its packed tokens there without a staging copy)."""
        n = self._nk
        if self._nv != n or self._k is None or self._v is None:
            raise RuntimeError("SlabLayer.extend() needs a filled layer with keys and values in step")
        self._k = self._reserve(self._k, n, self._k, n + width)
        self._v = self._reserve(self._v, n, self._v, n + width)
        self._nk = self._nv = n + width
        return self._k[:, :, n : n + width].zero_(), self._v[:, :, n : n + width].zero_()

    def gather(self, index: torch.Tensor) -> None:
        """Keep the slots ``index`` (batch, heads, n, head_dim) picks, in a buffer with spare
        room: the passes after a compaction append without growing (a copy of everything)."""
        n = index.shape[2]
        for name in ("_k", "_v"):
            src = getattr(self, name)
            filled = self._nk if name == "_k" else self._nv
            buf = src.new_empty(src.shape[0], src.shape[1], max(n + n // 2, 64), src.shape[3])
            torch.gather(src[:, :, :filled], 2, index, out=buf[:, :, :n])
            setattr(self, name, buf)
        self._nk = self._nv = n

    def get_seq_length(self) -> int:
        return self._nk if self.is_initialized else 0


def slab_cache() -> DynamicCache:
    """An empty ``DynamicCache`` whose layers are ``SlabLayer``s (created on first update)."""
    cache = DynamicCache()
    cache.layer_class_to_replicate = SlabLayer
    return cache
