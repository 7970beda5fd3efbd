"""A decoder LLM as a sequence classifier: last real token's hidden state → linear head.

``SequenceClassifier`` runs the backbone's decoder (not its LM head: no vocabulary-sized
logits), pools with ``pooling.pool_last`` and applies the head in float32. LoRA layers sit
inside the decoder's modules (peft injects them), so the same forward serves training (peft
model, adapters trainable) and inference (adapter merged, or unmerged and activated on a shared
base; both loaded by ``models/weights.py``). ``encode`` and ``pad_batch`` are the one tokenization both use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .pooling import pool_last, position_ids


def decoder_of(backbone: Any) -> Any:
    """The transformer stack under a causal LM (through a peft wrapper when there is one)."""
    model = backbone.get_base_model() if hasattr(backbone, "get_base_model") else backbone
    return model.get_decoder()


def hidden_size_of(backbone: Any) -> int:
    config = backbone.config
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    return int(config.hidden_size)


class SequenceClassifier(torch.nn.Module):
    """``logits = head(hidden_state[last real token])``."""

    def __init__(self, backbone: Any, head: torch.nn.Linear) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = decoder_of(self.backbone)(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids(attention_mask),
            use_cache=False,
        )
        pooled = pool_last(out.last_hidden_state, attention_mask)
        return self.head(pooled.to(self.head.weight.dtype))


def encode(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text as the tokenizer adds special tokens; an empty text becomes one
    EOS (or pad) token, so every row has a last real token to pool."""
    fallback = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.pad_token_id
    out = []
    for text in texts:
        ids = list(tokenizer(text, add_special_tokens=True)["input_ids"])
        out.append(ids or [int(fallback)])
    return out


def pad_batch(rows: Sequence[Sequence[int]], pad_id: int, side: str = "right") -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask), padded on ``side`` ("left" or "right")."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), int(pad_id), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        span = slice(width - len(row), width) if side == "left" else slice(0, len(row))
        ids[i, span] = torch.tensor(list(row), dtype=torch.long)
        mask[i, span] = 1
    return ids, mask


def batched_logits(
    model: SequenceClassifier, rows: Sequence[Sequence[int]], pad_id: int, batch_size: int, side: str = "right"
) -> torch.Tensor:
    """Logits (float32, on the CPU) of every row, in order; batches of similar lengths."""
    device = model.head.weight.device
    out = torch.zeros((len(rows), model.head.out_features), dtype=torch.float32)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        ids, mask = pad_batch([rows[i] for i in idx], pad_id, side)
        with torch.inference_mode():
            out[idx] = model(ids.to(device), mask.to(device)).float().cpu()
    return out


def probabilities(logits: torch.Tensor, exclusive: bool, temperature: float = 1.0) -> torch.Tensor:
    """Softmax (exclusive classes: rows sum to 1) or independent sigmoids of ``logits / T``."""
    scaled = logits.float() / float(temperature)
    return torch.softmax(scaled, dim=-1) if exclusive else torch.sigmoid(scaled)


__all__ = [
    "SequenceClassifier", "batched_logits", "decoder_of", "encode", "hidden_size_of", "pad_batch", "probabilities",
]
