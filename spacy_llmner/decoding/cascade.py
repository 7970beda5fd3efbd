"""Shared-prefix ("cascade") attention: every row attends the prompt prefix's one KV copy.

Without it the fast decoder keeps the 883-token prompt prefix repeated in every row of the KV
cache: attention reads B copies of it on every pass, and compaction (dropping rejected draft
slots) copies them all. Here the cache holds only each row's own suffix (document prompt and
output so far). Attention is split in two and merged exactly through the log-sum-exp of each
part: all rows' queries against the one prefix (a single large matmul, no mask) and each row's
queries against its own suffix (masked). Same maths as attending the concatenation; the floating
point summation order differs (about 1e-7).

It plugs into transformers' attention interface under :data:`ATTENTION_NAME`; the decoder switches
the model to it only for its own forward calls (:func:`cascade_mode`) and passes the prefix as a
keyword argument, so the model is left as it was for training, ``generate`` and the step decoder.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

ATTENTION_NAME = "spacy_llmner_cascade"
PREFIX_KWARG = "llmner_prefix"
DEAD_KWARG = "llmner_dead"

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
    """Attention over [prefix; suffix] where the prefix KV is shared by every row.

    ``attention_mask`` is the additive 4-D mask over the suffix keys only (the prefix is visible
    to every query). Returns (B, q, H, d) like transformers' own attention functions.
    """
    prefix = kwargs.get(PREFIX_KWARG)
    if prefix is None:
        raise RuntimeError(
            f"{ATTENTION_NAME} attention was called without the shared prefix; it is only meant "
            "to run inside FastDecoder (use 'sdpa' or 'eager' elsewhere)."
        )
    kp, vp = prefix[module.layer_idx]  # (1, H_kv, P, d)
    b, h, q, d = query.shape
    h_kv = kp.shape[1]
    groups = h // h_kv
    scale = scaling if scaling is not None else d**-0.5
    # Prefix: every row's queries as one long sequence per KV head (query heads of a group
    # included), against the single prefix copy.
    qp = query.reshape(b, h_kv, groups, q, d).permute(1, 2, 0, 3, 4).reshape(1, h_kv, groups * b * q, d)
    out_p, lse_p = _attend(qp, kp, vp, None, scale)
    out_p = out_p.reshape(h_kv, groups, b, q, -1).permute(2, 0, 1, 3, 4).reshape(b, h, q, -1)
    lse_p = lse_p.reshape(h_kv, groups, b, q).permute(2, 0, 1, 3).reshape(b, h, q)
    # Suffix: each row its own keys.
    if groups > 1:
        key = key[:, :, None].expand(b, h_kv, groups, *key.shape[2:]).reshape(b, h, *key.shape[2:])
        value = value[:, :, None].expand(b, h_kv, groups, *value.shape[2:]).reshape(b, h, *value.shape[2:])
    if key.shape[2] == 0:
        return out_p.transpose(1, 2).contiguous(), None
    mask = None if attention_mask is None else attention_mask.to(query.dtype)
    out_s, lse_s = _attend(query, key, value, mask, scale)
    if mask is not None:
        # A query that sees none of its row's suffix (a padding slot of a finished row) has no
        # suffix part; the CPU kernel reports lse 0 for it, so mark it. Computed once per pass
        # by suffix_mask's caller where it can be (DEAD_KWARG), not per layer.
        dead = kwargs.get(DEAD_KWARG)
        if dead is None:
            dead = torch.isinf(mask).all(-1)  # (B, 1, q)
        lse_s = lse_s.masked_fill(dead, float("-inf"))
    top = torch.maximum(lse_p, lse_s)
    w_p = torch.exp(lse_p - top)[..., None]
    w_s = torch.exp(lse_s - top)[..., None]
    out = (out_p * w_p + out_s * w_s) / (w_p + w_s)
    return out.to(query.dtype).transpose(1, 2).contiguous(), None


def dead_queries(mask: torch.Tensor, width: int) -> torch.Tensor:
    """(B, 1, width): the new slots that see no live slot of their row (see suffix_mask)."""
    return (mask.cumsum(1)[:, None, -width:] == 0)


def suffix_mask(mask: torch.Tensor, width: int, dtype: torch.dtype) -> torch.Tensor:
    """The additive (B, 1, width, S) mask for ``width`` new slots at the end of the 2-D ``mask``
    (1 = a live slot): each new slot sees the live slots before it and itself."""
    b, s = mask.shape
    live = mask.bool()[:, None, None, :].expand(b, 1, width, s).clone()
    if width > 1:
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
