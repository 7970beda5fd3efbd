"""The loss of one batch, with the shared prompt prefix run once per batch.

Every training conversation starts with the same prompt prefix (instruction, label list, worked
example: hundreds of tokens, usually several times the document). The plain path runs it once
per row. The shared-prefix path runs it once per batch (batch size 1), repeats its KV cache over
the rows, and runs the rows after it with ``past_key_values``, positions offset by the prefix
length and an attention mask covering prefix + row. Gradients flow through the shared prefix
(its activations feed every row), so the loss and the gradients are the same as the plain path's
up to float rounding — only the prefix compute is divided by the batch size.

Logits are computed only for the labelled tokens: the decoder's hidden states at the positions
that predict one are gathered row by row and only they go through the output head. A 49k-token
vocabulary then costs (labelled tokens × vocab), not (rows × longest answer window × vocab);
on SmolLM2 a step took 8% less time this way (docs/benchmarks.md). Models whose head does more than a linear map (logit soft-capping, logit scaling) take
the plain path, with ``logits_to_keep`` on the union of the rows' positions.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ..errors import Errors, LLMNERError
from .sft import IGNORE


def _keep_positions(labels: torch.Tensor) -> torch.Tensor:
    """Positions t whose logits predict a labelled token t+1 (union over the rows)."""
    return torch.nonzero((labels[:, 1:] != IGNORE).any(dim=0), as_tuple=False).flatten()


def batch_loss(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Summed token cross-entropy over the labelled tokens, and their count.

    The sum (not the mean) lets the caller normalise over a whole gradient-accumulation window.
    """
    input_ids, mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    keep = _keep_positions(labels)
    n_items = int((labels[:, 1:] != IGNORE).sum())
    if keep.numel() == 0:
        zero = next(p for p in model.parameters() if p.requires_grad).sum() * 0.0
        return zero, 0
    prefix = batch.get("prefix_ids")
    shared = prefix is not None and prefix.shape[-1] > 0
    prefix = prefix if prefix is not None else input_ids[:, :0]  # typed; unused when not shared
    head = _plain_head(model)
    if head is not None:
        decoder = model.get_decoder()
        if shared:
            hidden = _shared_prefix_forward(decoder, prefix, input_ids, mask).last_hidden_state
        else:
            hidden = decoder(input_ids=input_ids, attention_mask=mask, use_cache=False).last_hidden_state
        labelled = labels[:, 1:] != IGNORE  # (B, W-1): position t predicts token t+1
        logits = head(hidden[:, :-1][labelled])  # (labelled tokens, V)
        targets = labels[:, 1:][labelled]
    else:
        if shared:
            out = _shared_prefix_forward(model, prefix, input_ids, mask, keep)
        else:
            out = model(input_ids=input_ids, attention_mask=mask, logits_to_keep=keep, use_cache=False)
        logits = out.logits.reshape(-1, out.logits.shape[-1])  # (B * len(keep), V)
        targets = labels[:, keep + 1].reshape(-1)
    loss = F.cross_entropy(logits.float(), targets, ignore_index=IGNORE, reduction="sum")
    return loss, n_items


def _plain_head(model: Any) -> Any:
    """The output head when logits are exactly ``head(hidden)``, else None (use the model's own)."""
    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "get_decoder"):
        return None
    peft_config = getattr(model, "active_peft_config", None)
    if peft_config is not None and peft_config.is_prompt_learning:
        return None  # prefix tuning: only the PeftModel's own forward prepends the virtual tokens
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    if getattr(text, "final_logit_softcapping", None) or getattr(text, "logit_scale", None):
        return None
    head = model.get_output_embeddings()
    # peft's wrapper of a tied head with trainable tag rows is still one linear map
    base = getattr(head, "original_module", head)
    return head if isinstance(base, torch.nn.Linear) else None


def _shared_prefix_forward(
    model: Any,
    prefix: torch.Tensor,
    input_ids: torch.Tensor,
    mask: torch.Tensor,
    keep: torch.Tensor | None = None,
) -> Any:
    """Prefix once (batch 1, with grad), its cache repeated over the rows, then the rows.

    ``model`` is a causal LM (``keep``: the positions to compute logits at) or its decoder
    (``keep`` None: hidden states only).
    """
    batch, width = input_ids.shape
    n_prefix = prefix.shape[-1]
    head_args = {} if keep is None else {"logits_to_keep": keep}
    pre = model(input_ids=prefix, use_cache=True, **({} if keep is None else {"logits_to_keep": 1}))
    cache = pre.past_key_values
    if cache is None or cache.get_seq_length() != n_prefix:
        # Gradient checkpointing (or a model without a cache) drops it; the rows would then
        # silently not see the prompt.
        raise LLMNERError(
            Errors.E011.format(
                name="training.shared_prefix",
                value=True,
                hint="The model returned no KV cache for the prefix (gradient checkpointing drops "
                "it); set training.shared_prefix = false.",
            )
        )
    cache.batch_repeat_interleave(batch)
    full_mask = torch.cat([mask.new_ones((batch, n_prefix)), mask], dim=1)
    positions = torch.arange(n_prefix, n_prefix + width, device=input_ids.device).expand(batch, -1)
    return model(
        input_ids=input_ids,
        attention_mask=full_mask,
        position_ids=positions,
        past_key_values=cache,
        use_cache=True,
        **head_args,
    )


def count_tokens(batch: dict[str, torch.Tensor]) -> tuple[int, int]:
    """(conversation tokens as the plain path sees them, tokens actually run) for throughput."""
    rows = int(batch["attention_mask"].sum())
    prefix = batch.get("prefix_ids")
    n_prefix = int(prefix.shape[-1]) if prefix is not None else 0
    n_rows = int(batch["input_ids"].shape[0])
    return rows + n_prefix * n_rows, rows + n_prefix
