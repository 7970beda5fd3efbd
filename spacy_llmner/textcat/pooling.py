"""Pooling a decoder's hidden states into one vector per sequence: the last real token.

A causal decoder's last position is the only one that has seen the whole text, so it is what
Hugging Face's ``*ForSequenceClassification`` models classify. They find it from the first pad
token id, which breaks when the pad token is the EOS token (our tokenizers' fallback) or under
left padding; here it comes from the attention mask, so either padding side gives each row's
last real token. Positions come from the mask too, so a left-padded row sees the same positions
as the same text alone (RoPE models would give the same scores with shifted positions, being
shift-invariant; models with absolute position embeddings would not).
"""

from __future__ import annotations

from typing import Any

POOLINGS = ("last",)


def last_token_positions(attention_mask: Any) -> Any:
    """Index of each row's last position whose mask is 1 (left or right padding)."""
    import torch

    mask = attention_mask.to(torch.long)
    steps = torch.arange(mask.shape[-1], device=mask.device).expand_as(mask)
    return (steps * mask).argmax(dim=-1)


def position_ids(attention_mask: Any) -> Any:
    """0, 1, 2 … over each row's real tokens (pads get 0), whatever the padding side."""
    mask = attention_mask.long()
    return (mask.cumsum(dim=-1) - 1).clamp_min(0) * mask


def pool_last(hidden: Any, attention_mask: Any) -> Any:
    """``hidden[b, last_real_token(b)]``: (batch, seq, dim) → (batch, dim)."""
    import torch

    rows = torch.arange(hidden.shape[0], device=hidden.device)
    return hidden[rows, last_token_positions(attention_mask).to(hidden.device)]


__all__ = ["POOLINGS", "last_token_positions", "pool_last", "position_ids"]
