"""``train-textcat``: LoRA on the base + a linear head on the last real token's hidden state,
trained on DocBins whose docs carry ``doc.cats``; then a temperature fitted on the dev set.

The loss is cross-entropy (exclusive classes) or binary cross-entropy per label (multi-label).
NEFTune noise (``[head] neftune_alpha``) is added to the input embeddings in training only.
After training the dev logits give the temperature (minimum NLL) and the metrics written to the
summary: accuracy, macro-F1 and ECE (10 bins) before and after scaling. The output directory is
what the ``llm_textcat_head`` component reads (``textcat/head.py``): peft's adapter files
(safetensors), ``head.safetensors`` and ``head.json``. Logs carry steps and losses, never text.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..errors import Errors, LLMNERError
from ..training.config import HeadConfigFile
from ..training.lora import load_base, with_precision, wrap
from ..training.neftune import neftune
from ..training.sft import read_docbin
from .calibration import calibration_report, classification_metrics, nll
from .classifier import SequenceClassifier, batched_logits, encode, hidden_size_of, pad_batch
from .head import HEAD_KIND, HeadMeta, new_head, save_head

logger = logging.getLogger("spacy_llmner")


def read_cats(path: str | Path) -> tuple[list[str], list[dict[str, float]]]:
    """Texts and ``doc.cats`` of a DocBin; every doc must have cats (E620), the file docs (E630)."""
    docs = read_docbin(path)
    if not docs:
        raise LLMNERError(Errors.E630.format(path=path))
    for i, doc in enumerate(docs):
        if not doc.cats:
            raise LLMNERError(Errors.E620.format(index=i, path=path))
    return [doc.text for doc in docs], [dict(doc.cats) for doc in docs]


def resolve_head_labels(configured: Sequence[str], cats: Sequence[dict[str, float]], exclusive: bool) -> list[str]:
    """The configured labels, or the data's sorted; E621 for a data label not configured."""
    seen = sorted({label for row in cats for label in row})
    labels = list(configured) or seen
    unknown = [label for label in seen if label not in labels]
    if unknown:
        raise LLMNERError(Errors.E621.format(unknown=unknown, labels=labels))
    if len(labels) < (2 if exclusive else 1):
        raise LLMNERError(Errors.E628)
    return labels


def targets_of(cats: Sequence[dict[str, float]], labels: Sequence[str], exclusive: bool, path: str | Path) -> torch.Tensor:
    """(docs, labels) float targets; exclusive rows must be one-hot (E622), unknown labels E621."""
    index = {label: j for j, label in enumerate(labels)}
    out = torch.zeros((len(cats), len(labels)), dtype=torch.float32)
    for i, row in enumerate(cats):
        unknown = [label for label in row if label not in index]
        if unknown:
            raise LLMNERError(Errors.E621.format(unknown=unknown, labels=list(labels)))
        for label, value in row.items():
            out[i, index[label]] = float(value)
        if exclusive and not (sorted(out[i].tolist()) == [0.0] * (len(labels) - 1) + [1.0]):
            raise LLMNERError(Errors.E622.format(index=i, path=path, cats=row))
    return out


def _check_lengths(rows: Sequence[Sequence[int]], limit: int, context: int) -> None:
    longest = max(len(r) for r in rows)
    if longest > limit:
        raise LLMNERError(Errors.E625.format(n_tokens=longest, limit=limit, context=context))


def _loss(logits: torch.Tensor, targets: torch.Tensor, exclusive: bool) -> torch.Tensor:
    if exclusive:
        return torch.nn.functional.cross_entropy(logits.float(), targets.argmax(-1))
    return torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), targets)


def _log(path: Path, record: dict[str, Any]) -> None:
    logger.info(" ".join(f"{k}={v}" for k, v in record.items()))
    with path.open("a", encoding="utf8") as file:
        file.write(json.dumps(record) + "\n")


def train_textcat_head(
    base: str | Path,
    train_path: str | Path,
    dev_path: str | Path,
    config: HeadConfigFile,
    output_dir: str | Path,
    loss_log: str | Path,
) -> dict[str, Any]:
    """Train LoRA + head on ``train_path``, fit the temperature on ``dev_path``, save to ``output_dir``."""
    settings, head_cfg = with_precision(config.training), config.head
    exclusive = head_cfg.exclusive_classes
    train_texts, train_cats = read_cats(train_path)
    dev_texts, dev_cats = read_cats(dev_path)
    labels = resolve_head_labels(head_cfg.labels, train_cats, exclusive)
    y_train = targets_of(train_cats, labels, exclusive, train_path)
    y_dev = targets_of(dev_cats, labels, exclusive, dev_path)

    torch.manual_seed(settings.seed)
    tokenizer, model = load_base(base)  # float32 weights; bf16 runs under autocast
    context = int(getattr(model.config, "max_position_embeddings", 0) or head_cfg.max_length)
    train_rows, dev_rows = encode(tokenizer, train_texts), encode(tokenizer, dev_texts)
    _check_lengths(train_rows + dev_rows, head_cfg.max_length, context)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    init_std = float(getattr(model.config, "initializer_range", 0.02))
    peft_model = wrap(model, config.lora)
    head = new_head(hidden_size_of(model), len(labels), seed=settings.seed, std=init_std)
    device = next(model.parameters()).device
    classifier = SequenceClassifier(peft_model, head.to(device))
    trainable = [p for p in classifier.parameters() if p.requires_grad]
    n_trainable, n_total = sum(p.numel() for p in trainable), sum(p.numel() for p in classifier.parameters())

    classifier.eval()
    dev_before = batched_logits(classifier, dev_rows, pad_id, settings.eval_batch_size)
    initial = classification_metrics(dev_before, y_dev, exclusive, labels, head_cfg.threshold)
    initial["loss"] = nll(dev_before, y_dev, exclusive)

    from transformers import get_scheduler

    micro_per_epoch = math.ceil(len(train_rows) / settings.batch_size)
    steps_per_epoch = max(1, math.ceil(micro_per_epoch / settings.grad_accum))
    total = settings.max_steps if settings.max_steps > 0 else max(1, math.ceil(settings.epochs * steps_per_epoch))
    optimizer = torch.optim.AdamW(trainable, lr=settings.lr, weight_decay=settings.weight_decay)
    scheduler = get_scheduler(
        settings.lr_scheduler, optimizer, num_warmup_steps=int(settings.warmup_ratio * total), num_training_steps=total
    )
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bool(settings.bf16))
    log_path = Path(loss_log)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("", encoding="utf8")
    gen = torch.Generator().manual_seed(settings.seed)
    step, epoch, window, losses, first_loss = 0, 0, [], [], None
    start = time.perf_counter()
    with neftune(peft_model.get_input_embeddings(), head_cfg.neftune_alpha):
        while step < total:
            classifier.train()
            order = torch.randperm(len(train_rows), generator=gen).tolist()
            batches = [order[i : i + settings.batch_size] for i in range(0, len(order), settings.batch_size)]
            for k in range(0, len(batches), settings.grad_accum):
                group = batches[k : k + settings.grad_accum]
                optimizer.zero_grad(set_to_none=True)
                step_loss = 0.0
                for idx in group:
                    ids, mask = pad_batch([train_rows[i] for i in idx], pad_id)
                    with autocast:
                        logits = classifier(ids.to(device), mask.to(device))
                    loss = _loss(logits, y_train[idx].to(device), exclusive) * len(idx)
                    (loss / sum(len(b) for b in group)).backward()
                    step_loss += float(loss.detach())
                torch.nn.utils.clip_grad_norm_(trainable, settings.max_grad_norm)
                optimizer.step()
                scheduler.step()
                step += 1
                mean = step_loss / sum(len(b) for b in group)
                first_loss = mean if first_loss is None else first_loss
                window.append(mean)
                losses.append(mean)
                if step == 1 or step % settings.logging_steps == 0 or step == total:
                    _log(log_path, {
                        "step": step, "epoch": round(step / steps_per_epoch, 4), "loss": round(sum(window) / len(window), 6),
                        "lr": scheduler.get_last_lr()[0], "elapsed_s": round(time.perf_counter() - start, 2),
                    })
                    window = []
                if step >= total:
                    break
            epoch += 1
            if settings.eval_each_epoch:
                classifier.eval()
                dev_logits = batched_logits(classifier, dev_rows, pad_id, settings.eval_batch_size)
                metrics = classification_metrics(dev_logits, y_dev, exclusive, labels, head_cfg.threshold)
                _log(log_path, {
                    "step": step, "epoch": epoch, "eval_loss": round(nll(dev_logits, y_dev, exclusive), 6),
                    "eval_accuracy": round(metrics["accuracy"], 4),
                })
    seconds = time.perf_counter() - start
    classifier.eval()
    dev_logits = batched_logits(classifier, dev_rows, pad_id, settings.eval_batch_size)
    dev = calibration_report(dev_logits, y_dev, exclusive, labels, head_cfg.threshold)
    tail = losses[-max(1, min(len(losses), steps_per_epoch)) :]
    summary: dict[str, Any] = {
        "labels": labels,
        "exclusive_classes": exclusive,
        "n_train": len(train_rows),
        "n_dev": len(dev_rows),
        "steps": step,
        "seconds": round(seconds, 2),
        "bf16": settings.bf16,
        "first_loss": first_loss,
        "train_loss_last_epoch": sum(tail) / len(tail),
        "trainable_params": int(n_trainable),
        "total_params": int(n_total),
        "top_layers": config.lora.top_layers,
        "neftune_alpha": head_cfg.neftune_alpha,
        "dev_initial": initial,
        "dev": dev,
        "temperature": dev["temperature"],
    }
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    peft_model.save_pretrained(output_dir, safe_serialization=True)
    meta = HeadMeta(
        kind=HEAD_KIND, base_model=str(base), labels=labels, exclusive_classes=exclusive, pooling=head_cfg.pooling,
        temperature=dev["temperature"], hidden_size=hidden_size_of(model), max_length=head_cfg.max_length,
        training=summary,
    )
    save_head(head, output_dir, meta)
    return summary


__all__ = ["read_cats", "resolve_head_labels", "targets_of", "train_textcat_head"]
