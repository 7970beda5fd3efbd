"""The simple constrained decoder: one forward pass per output token, full logits.

Slow on purpose: it is the correctness reference the fast path must match token for token.
"""

from __future__ import annotations

from typing import Any

import torch

from .automaton import Automaton, Constraint
from .canonical import CanonicalCopy
from .options import check_copy_tokens
from .result import DecodeResult, Tracker
from .vocab import Vocab


def choose(
    logits: torch.Tensor, auto: Automaton, tracker: Tracker, vocab: Vocab
) -> tuple[int, float, bool] | None:
    """Greedy choice among allowed ids (ascending id order breaks ties): (id, logp, is_eos)."""
    allowed = set(auto.allowed_ids(tracker.state, vocab.trie))
    if auto.can_end(tracker.state):
        allowed.update(vocab.eos_ids)
    if not allowed:
        return None
    ids = sorted(allowed)
    sub = logits[torch.tensor(ids, device=logits.device)].float()
    logp = torch.log_softmax(sub, dim=-1)
    j = int(torch.argmax(sub))
    tid = ids[j]
    return tid, float(logp[j]), tid in vocab.eos_ids and auto.can_end(tracker.state)


@torch.inference_mode()
def decode_reference(
    model: Any,
    prompt_ids: list[int],
    constraint: Constraint,
    vocab: Vocab,
    *,
    tokenizer: Any = None,
    copy_tokens: str = "any",
) -> DecodeResult:
    """Decode one document step by step with the model's KV cache.

    ``copy_tokens="canonical"`` (needs ``tokenizer``): see ``canonical.py``."""
    check_copy_tokens(copy_tokens, tokenizer)
    canonical = None
    if copy_tokens == "canonical":
        canonical = CanonicalCopy(constraint.target, tokenizer, vocab)
    auto = Automaton(constraint, canonical)
    tracker = Tracker(auto)
    device = next(model.parameters()).device
    out = model(input_ids=torch.tensor([prompt_ids], device=device), use_cache=True)
    past, logits, n_forward = out.past_key_values, out.logits[0, -1], 1
    # Every step writes at least one byte or ends, and the output is at most the target plus one
    # open and one close tag per entity (at most one entity per token boundary), so this bound is
    # never the reason to stop. (A bound of 4 steps per target byte was: on Chinese text every
    # 3-byte character is a token, and random models tag each one, in tags of several tokens.)
    n_entities = min(len(constraint.starts), len(constraint.ends))
    tag_bytes = max(map(len, constraint.open_tags), default=0) + max(map(len, constraint.close_tags), default=0)
    for _ in range(len(constraint.target) + n_entities * tag_bytes + 64):
        pick = choose(logits, auto, tracker, vocab)
        if pick is None:
            tracker.force_finish()
            break
        tid, logp, is_eos = pick
        if is_eos:
            break
        tracker.feed(tid, vocab.pieces[tid] or b"", logp)
        out = model(
            input_ids=torch.tensor([[tid]], device=device), past_key_values=past, use_cache=True
        )
        past, logits, n_forward = out.past_key_values, out.logits[0, -1], n_forward + 1
    return tracker.result(vocab.lead, n_forward)
