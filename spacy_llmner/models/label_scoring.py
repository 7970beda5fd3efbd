"""Exact label scoring: the log-probability of each label's complete answer under the model.

For one prompt: one forward over the prompt (its KV cache kept), then the labels in chunks of
``batch_size``: the prompt cache is copied and repeated once per label in the chunk, and one
forward over the padded label tokens gives every remaining next-token distribution. Labels are
right-padded, so padding only follows real tokens and (causal attention) never changes them.
log P(label) = Σ log p(token | prompt, earlier label tokens), end token included: exact, not
sampled, and the prompt is encoded once however many labels there are.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any


def score_sequences(
    model: Any, prompt_ids: Sequence[int], sequences: Sequence[Sequence[int]], batch_size: int = 16, pad_id: int = 0
) -> list[float]:
    """Σ log-probs of each token sequence as the continuation of ``prompt_ids`` (one per sequence)."""
    import torch

    device = model.device
    with torch.no_grad():
        out = model(input_ids=torch.tensor([list(prompt_ids)], device=device), use_cache=True)
        first = torch.log_softmax(out.logits[0, -1].float(), dim=-1)
        prompt_cache = out.past_key_values
        totals = [float(first[seq[0]]) for seq in sequences]
        for start in range(0, len(sequences), max(1, batch_size)):
            chunk = [list(s) for s in sequences[start : start + max(1, batch_size)]]
            width = max(len(s) for s in chunk) - 1  # the last token of each is only predicted
            if width == 0:
                continue
            cache = copy.deepcopy(prompt_cache)
            cache.batch_repeat_interleave(len(chunk))
            rows = [s[:-1] + [pad_id] * (width - len(s) + 1) for s in chunk]
            logits = model(
                input_ids=torch.tensor(rows, device=device),
                past_key_values=cache,
                attention_mask=torch.ones(len(chunk), len(prompt_ids) + width, dtype=torch.long, device=device),
                use_cache=True,
            ).logits
            logp = torch.log_softmax(logits.float(), dim=-1)
            for j, seq in enumerate(chunk):
                targets = torch.tensor(seq[1:], device=device)
                picked = logp[j, : len(seq) - 1].gather(-1, targets[:, None])
                totals[start + j] += float(picked.sum())
    return totals


__all__ = ["score_sequences"]
