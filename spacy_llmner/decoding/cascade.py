"""Shared-prefix ("cascade") attention: every row attends the prompt prefix's one KV copy.

Without it the fast decoder keeps the 883-token prompt prefix repeated in every row of the KV
cache: attention reads B copies of it on every pass, and compaction (dropping rejected draft
slots) copies them all. Here the cache holds only each row's own suffix (document prompt and
output so far). Attention is split in two and merged exactly through the log-sum-exp of each
part: all rows' queries against the one prefix (a single large matmul, no mask) and each row's
queries against its own suffix (masked). Same maths as attending the concatenation; the floating
point summation order differs (about 1e-7). The rows' new tokens go through the model packed into
one sequence, so padding (rows with shorter drafts, shorter prompts) costs no compute in the
linear layers or against the prefix; only the small suffix part runs in the rows' padded layout.

It plugs into transformers' attention interface under :data:`ATTENTION_NAME`; the decoder switches
the model to it only for its own forward calls (:func:`cascade_mode`) and passes the prefix and
the rows' KV (:class:`PackedKV`, in place of transformers' cache) as keyword arguments, so the
model is left as it was for training, ``generate`` and the step decoder.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

ATTENTION_NAME = "spacy_llmner_cascade"
PREFIX_KWARG = "llmner_prefix"
STORE_KWARG = "llmner_store"

# Decoder-only architectures whose attention goes through ``ALL_ATTENTION_FUNCTIONS`` with plain
# causal softmax attention (no ALiBi, soft-capping or attention sinks) when no sliding window is
# configured. Others use the copied prefix, which works for any model.
_ARCHITECTURES = frozenset({"qwen2", "qwen3", "llama", "mistral"})

_FLASH_CPU = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)


def cascade_supported(model: Any) -> bool:
    """Whether ``model``'s attention is plain causal attention this module can split exactly."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "model_type", None) not in _ARCHITECTURES:
        return False
    layer_types = getattr(config, "layer_types", None) or []
    if any(t != "full_attention" for t in layer_types):
        return False
    if getattr(config, "use_sliding_window", True) and getattr(config, "sliding_window", None):
        return False  # a window would hide part of the prefix from late positions
    return True


def _attend(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None, scale: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax attention and its log-sum-exp per query: (B, H, q, d), (B, H, q)."""
    if _FLASH_CPU is not None and query.device.type == "cpu" and query.dtype == torch.float32:
        out, lse = _FLASH_CPU(query, key, value, 0.0, False, attn_mask=mask, scale=scale)
        return out, lse
    scores = torch.matmul(query, key.transpose(-1, -2)).float() * scale
    if mask is not None:
        scores = scores + mask
    lse = torch.logsumexp(scores, dim=-1)
    probs = torch.exp(scores - lse.masked_fill(torch.isinf(lse), 0.0)[..., None])
    return torch.matmul(probs.to(value.dtype), value), lse


class PackedKV:
    """Each row's own KV (its suffix: document prompt and output so far), filled from packed
    passes: a pass feeds the rows' new tokens as one sequence with no padding, and each layer's
    new keys and values are scattered here into a block of ``width`` slots appended to every row
    (slots a row did not use stay masked). ``layers`` are ``SlabLayer``s, so splicing and
    compaction work as on the copied-prefix cache."""

    def __init__(self, layers: list[Any]) -> None:
        self.layers = layers
        self._pack: tuple[torch.Tensor, torch.Tensor, int] | None = None

    def begin(self, rows: torch.Tensor, cols: torch.Tensor, width: int) -> None:
        """The next pass's packing: token i is row ``rows[i]``'s slot ``cols[i]`` of the block."""
        self._pack = (rows, cols, width)

    @property
    def packing(self) -> tuple[torch.Tensor, torch.Tensor, int]:
        """(rows, cols, width) of the current pass (see ``begin``)."""
        if self._pack is None:
            raise RuntimeError("PackedKV.begin() must run before a pass")
        return self._pack

    def append(self, layer: int, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scatter packed (1, H_kv, N, d) keys/values into a new block; every row's KV so far."""
        rows, cols, width = self.packing
        lay = self.layers[layer]
        for block, new in zip(lay.extend(width), (key, value)):
            block[rows, :, cols] = new[0].transpose(0, 1)  # in place: the block is a view
        return lay.keys, lay.values


def cascade_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """Attention of packed tokens over [shared prefix; their row's suffix].

    ``query``/``key``/``value``: (1, H, N, d) for the N tokens of this pass, packed over rows
    (``PackedKV`` knows which is which). ``attention_mask``: the additive (B, 1, width, S) mask
    over each row's suffix keys (the prefix is visible to every query). Returns (1, N, H, d) like
    transformers' own attention functions.
    """
    prefix, store = kwargs.get(PREFIX_KWARG), kwargs.get(STORE_KWARG)
    if prefix is None or store is None:
        raise RuntimeError(
            f"{ATTENTION_NAME} attention was called without the shared prefix; it is only meant "
            "to run inside FastDecoder (use 'sdpa' or 'eager' elsewhere)."
        )
    kp, vp = prefix[module.layer_idx]  # (1, H_kv, P, d)
    _, h, n, d = query.shape
    h_kv = kp.shape[1]
    groups = h // h_kv
    scale = scaling if scaling is not None else d**-0.5
    keys, values = store.append(module.layer_idx, key, value)  # (B, H_kv, S, d)
    rows, cols, width = store.packing
    # Prefix: all tokens as one sequence per KV head (the query heads of a group included),
    # against the single prefix copy. No padding: only real tokens are computed.
    out_p, lse_p = _attend(query.reshape(1, h_kv, groups * n, d), kp, vp, None, scale)
    out_p, lse_p = out_p.reshape(1, h, n, -1), lse_p.reshape(1, h, n)
    # Suffix: each row's queries against its own keys, in the rows' padded layout.
    b = keys.shape[0]
    if groups > 1:
        keys = keys[:, :, None].expand(b, h_kv, groups, *keys.shape[2:]).reshape(b, h, *keys.shape[2:])
        values = values[:, :, None].expand(b, h_kv, groups, *values.shape[2:]).reshape(b, h, *values.shape[2:])
    padded = query.new_zeros(b, h, width, d)
    padded[rows, :, cols] = query[0].transpose(0, 1)
    mask = None if attention_mask is None else attention_mask.to(query.dtype)
    out_s, lse_s = _attend(padded, keys, values, mask, scale)
    # Back to packed order. A real token always sees its own slot, so no suffix part is empty.
    out_s = out_s[rows, :, cols].transpose(0, 1)[None]  # (1, H, N, d)
    lse_s = lse_s[rows, :, cols].transpose(0, 1)[None]  # (1, H, N)
    top = torch.maximum(lse_p, lse_s)
    w_p = torch.exp(lse_p - top)[..., None]
    w_s = torch.exp(lse_s - top)[..., None]
    out = (out_p * w_p + out_s * w_s) / (w_p + w_s)
    return out.to(query.dtype).transpose(1, 2).contiguous(), None


def suffix_mask(
    mask: torch.Tensor, width: int, dtype: torch.dtype, within: torch.Tensor | None = None
) -> torch.Tensor:
    """The additive (B, 1, width, S) mask for ``width`` new slots at the end of the 2-D ``mask``
    (1 = a live slot): each new slot sees the live slots before it and itself. ``within``:
    (B, width, width) bool, which new slots each new slot sees, for rows whose draft is a tree
    (a slot sees its ancestors and itself); default causal order."""
    b, s = mask.shape
    live = mask.bool()[:, None, None, :].expand(b, 1, width, s).clone()
    if within is not None:
        live[..., s - width :] &= within[:, None]
    elif width > 1:
        # Among the new slots, causal order.
        causal = torch.ones(width, width, dtype=torch.bool, device=mask.device).tril()
        live[..., s - width :] &= causal
    out = torch.zeros(b, 1, width, s, dtype=dtype, device=mask.device)
    return out.masked_fill_(~live, float("-inf"))


def _register() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(ATTENTION_NAME, cascade_attention)


@contextmanager
def cascade_mode(model: Any) -> Iterator[None]:
    """Route ``model``'s attention through :func:`cascade_attention` inside the block only."""
    _register()
    config = model.config
    before = config._attn_implementation
    config._attn_implementation = ATTENTION_NAME
    try:
        yield
    finally:
        config._attn_implementation = before
