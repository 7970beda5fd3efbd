"""Unconstrained decoding (plain HF ``generate``), kept for comparison with the constrained path.

Its output may rephrase, drop or invent text; the task parses it with the tolerant parser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


@torch.inference_mode()
def generate_free(
    model: Any,
    tokenizer: Any,
    prefix_ids: list[int],
    doc_ids: list[list[int]],
    eos: list[int],
    batch_size: int = 8,
    max_new_factor: float = 2.5,
    lengths: Sequence[int] | None = None,
) -> list[str]:
    """Greedy ``generate`` over left-padded batches; returns the decoded answers.

    ``lengths`` (for like-for-like timing): make row ``i`` emit exactly ``lengths[i]`` tokens
    (a batch runs to its longest, as a batch of real answers does), EOS ignored — the cost a
    model pays to write out an answer of that size, whatever this model would have stopped at.
    """
    if lengths is not None and len(lengths) != len(doc_ids):
        raise ValueError(f"lengths has {len(lengths)} entries for {len(doc_ids)} documents")
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos[0]
    out: list[str] = []
    for i in range(0, len(doc_ids), batch_size):
        batch = [prefix_ids + d for d in doc_ids[i : i + batch_size]]
        width = max(len(b) for b in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long, device=device)
        att = torch.zeros_like(ids)
        for b, seq in enumerate(batch):
            ids[b, width - len(seq) :] = torch.tensor(seq, device=device)
            att[b, width - len(seq) :] = 1
        if lengths is None:
            longest = max(len(d) for d in doc_ids[i : i + batch_size])
            limits = dict(max_new_tokens=int(longest * max_new_factor) + 16)
        else:
            n_new = max(lengths[i : i + batch_size])
            limits = dict(max_new_tokens=n_new, min_new_tokens=n_new)
        gen = model.generate(
            input_ids=ids,
            attention_mask=att,
            **limits,
            do_sample=False,
            eos_token_id=eos,
            pad_token_id=pad,
        )
        for row in gen[:, width:]:
            out.append(tokenizer.decode(row.tolist(), skip_special_tokens=True))
    return out
