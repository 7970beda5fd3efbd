"""Step-by-step decoding of the JSON answer under ``json_answer.JSONAutomaton``: one forward pass
per token with the model's KV cache, greedy among the tokens the constraint allows.

The answer always parses as JSON, each key is a label, and every string is in the source (at
token boundaries), so ``jsonner.align`` places each one. No fast path (speculation, batching).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..decoding.vocab import Vocab
from .constraint import JSONAutomaton, JSONConstraint


@dataclass
class JSONDecodeResult:
    """``text``: the answer without the tokenizer's lead; ``forced``: finished without the model
    because no token fitted (a vocabulary without byte coverage)."""

    text: str
    token_ids: list[int]
    n_forward: int
    forced: bool = False


@torch.inference_mode()
def decode_json(model: Any, prompt_ids: list[int], constraint: JSONConstraint, vocab: Vocab) -> JSONDecodeResult:
    """Decode one document's JSON answer (greedy; ties go to the lower token id)."""
    auto = JSONAutomaton(constraint)
    st = auto.initial
    device = next(model.parameters()).device
    out = model(input_ids=torch.tensor([prompt_ids], device=device), use_cache=True)
    past, logits, n_forward = out.past_key_values, out.logits[0, -1], 1
    written, token_ids, forced = bytearray(), [], False
    # Every step writes at least one byte and no answer is longer than this: never the reason to
    # stop, only a guarantee that the loop does.
    for _ in range(auto.max_output_bytes() + 1):
        allowed = list(auto.allowed_ids(st, vocab.trie))
        if auto.can_end(st):
            allowed = sorted(set(allowed) | set(vocab.eos_ids))
        if not allowed:
            tail = auto.forced_tail(st)
            st = auto.advance(st, tail) or st
            written += tail
            forced = True
            break
        sub = logits[torch.tensor(allowed, device=logits.device)].float()
        tid = allowed[int(torch.argmax(sub))]
        if tid in vocab.eos_ids and auto.can_end(st):
            break
        data = vocab.pieces[tid] or b""
        nxt = auto.advance(st, data)
        if nxt is None:  # pragma: no cover - only allowed tokens are chosen
            raise AssertionError("token not allowed by the JSON constraint")
        st = nxt
        written += data
        token_ids.append(tid)
        out = model(input_ids=torch.tensor([[tid]], device=device), past_key_values=past, use_cache=True)
        past, logits, n_forward = out.past_key_values, out.logits[0, -1], n_forward + 1
    raw = bytes(written)
    if constraint.lead and raw.startswith(constraint.lead):
        raw = raw[len(constraint.lead) :]
    return JSONDecodeResult(raw.decode("utf-8", "surrogatepass"), token_ids, n_forward, forced)


__all__ = ["JSONDecodeResult", "decode_json"]
