"""LoRA (or prefix-tuning) fine-tuning of a causal LM on a DocBin corpus; the adapter is saved
as safetensors.

The base model stays frozen; peft wraps all linear projections (by default) with low-rank
updates, or, with ``[peft] method = "prefix"``, learns keys and values prepended at every layer
(the method is recorded next to the adapter: inference must know it, see E020). The prompt is built from the task's label set and template version, which are written
next to the adapter (``spacy_llmner.json``) so the pipeline can check that it runs the adapter
with the prompt it was trained on.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any, cast

from ..models.loading import check_adapter_dir
from ..models.meta import ADAPTER_META, AdapterMeta, write_meta
from ..models.tag_tokens import add_tag_tokens
from ..prompting import TEMPLATE_VERSION, resolve_labels
from .config import LoraConfigFile, LoraSettings, PeftSettings, TrainSettings
from .sft import build_dataset, read_docbin
from .trainer import run

logger = logging.getLogger("spacy_llmner")



def _linear_names(model: Any) -> list[str]:
    """Leaf names of the decoder's linear layers (what peft's "all-linear" means), head excluded."""
    import torch

    head = model.get_output_embeddings()
    return sorted({
        name.rsplit(".", 1)[-1]
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and module is not head
    })


def peft_config(settings: LoraSettings, model: Any = None, token_ids: list[int] | None = None) -> Any:
    """``LoraConfig`` for causal-LM fine-tuning (``model``: the base, for ``top_layers``;
    ``token_ids``: embedding rows trained too, the tag tokens)."""
    from peft import LoraConfig, TaskType

    layers = None
    targets = settings.target_modules
    if settings.top_layers and model is not None:
        config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
        n_layers = int(config.num_hidden_layers)
        layers = list(range(max(0, n_layers - settings.top_layers), n_layers))
        # peft takes layers_to_transform only with a list of module names.
        targets = _linear_names(model) if targets == "all-linear" else targets
    return LoraConfig(
        r=settings.r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.dropout,
        target_modules=targets,
        bias=cast(Any, settings.bias),  # one of peft's literals, checked in LoraSettings
        layers_to_transform=layers,
        task_type=TaskType.CAUSAL_LM,
        trainable_token_indices=list(token_ids) if token_ids else None,
    )


def with_precision(settings: TrainSettings) -> TrainSettings:
    """``settings`` with ``bf16`` resolved to true or false for the device training runs on."""
    from ..models.precision import pick_device_dtype, use_bf16

    device, _ = pick_device_dtype(None, None)
    return dataclasses.replace(settings, bf16=use_bf16(settings.bf16, device))


def load_base(name: str | Path, bf16: bool = False) -> tuple[Any, Any]:
    """Tokenizer and model of a hub id or local directory, loaded as inference loads them."""
    import torch

    from ..models.loading import load_model, load_tokenizer
    from ..models.precision import pick_device_dtype

    device, _ = pick_device_dtype(None, None)
    tokenizer = load_tokenizer(str(name), trust_remote_code=False)
    dtype = torch.bfloat16 if bf16 else torch.float32
    model = load_model(str(name), None, device, dtype, trust_remote_code=False, merge=False)
    return tokenizer, model


def prefix_config(settings: PeftSettings) -> Any:
    """``PrefixTuningConfig``: ``num_virtual_tokens`` learned key/value vectors at every layer
    (P-tuning v2, the seed's method, without the reparameterising MLP)."""
    from peft import PrefixTuningConfig, TaskType

    return PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=settings.num_virtual_tokens)


def wrap(model: Any, settings: LoraSettings, token_ids: list[int] | None = None, peft: PeftSettings | None = None) -> Any:
    """The base frozen, LoRA matrices (and the ``token_ids`` embedding rows) trainable; or, with
    ``peft.method == "prefix"``, only the virtual tokens' keys and values."""
    from peft import get_peft_model

    if peft is not None and peft.method == "prefix":
        return get_peft_model(model, prefix_config(peft))

    peft_model = get_peft_model(model, peft_config(settings, model, token_ids))
    if token_ids and settings.top_layers:
        # The rows still feed the input (forward unchanged); only their gradient from there is
        # dropped, so backward stops at the lowest adapted layer. The head side trains them.
        peft_model.get_input_embeddings().register_forward_hook(lambda _m, _i, out: out.detach())
    return peft_model


def train_adapter(
    base: str | Path,
    train_path: str | Path,
    dev_path: str | Path | None,
    config: LoraConfigFile,
    output_dir: str | Path,
    loss_log: str | Path,
    checkpoints: str | Path | None = None,
    stop_after_s: float | None = None,
) -> dict[str, Any]:
    """Fine-tune ``base`` on ``train_path`` and save the adapter to ``output_dir``.

    ``checkpoints``: where ``training.save_steps`` checkpoints go (default ``output_dir/_work``,
    removed at the end); a run that finds one there resumes from it. ``stop_after_s`` ends the
    run early with a checkpoint and saves the adapter as it is (summary ``complete: false``).
    """
    settings = with_precision(config.training)
    labels = resolve_labels(config.labels)
    tokenizer, model = load_base(base, bf16=bool(settings.bf16))
    tag_ids = add_tag_tokens(tokenizer, model, labels) if config.lora.tag_tokens else {}
    version = config.template_version
    train = build_dataset(
        read_docbin(train_path), tokenizer, labels, settings.max_length, "train", template_version=version
    )
    dev = (
        build_dataset(read_docbin(dev_path), tokenizer, labels, settings.max_length, "dev", template_version=version)
        if dev_path
        else None
    )
    model = wrap(model, config.lora, sorted(tag_ids.values()), config.peft)
    if settings.gradient_checkpointing:
        model.enable_input_require_grads()
    trainable, total = model.get_nb_trainable_parameters()
    output_dir = Path(output_dir)
    work = Path(checkpoints) if checkpoints is not None else output_dir / "_work"
    summary = run(model, train, dev, settings, tokenizer.pad_token_id, work, loss_log, stop_after_s=stop_after_s)
    summary["segments"] = record_segment(work, summary) if settings.save_steps else [segment(summary)]
    summary.update(
        trainable_params=int(trainable),
        total_params=int(total),
        top_layers=config.lora.top_layers if config.peft.method == "lora" else None,
        peft_method=config.peft.method,
        template_version=version,
        train_stats=train.stats,
        dev_stats=dev.stats if dev is not None else None,
    )
    save_adapter(
        model, output_dir, base=str(base), labels=labels, summary=summary, template_version=version, tag_tokens=tag_ids,
        peft_method=config.peft.method,
    )
    return summary


def segment(summary: dict[str, Any]) -> dict[str, Any]:
    """One run of ``train`` (a resumed run has several): steps, wall time and the machine."""
    import time

    from .machine import machine

    return {
        "ended": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "from_step": summary.get("resumed_from_step", 0),
        "to_step": summary["steps"],
        "seconds": summary["seconds"],
        "machine": machine(),
    }


def record_segment(checkpoints: Path, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Append this run to ``segments.jsonl`` beside the checkpoints; return every run so far."""
    path = Path(checkpoints) / "segments.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf8") as file:
        file.write(json.dumps(segment(summary)) + "\n")
    runs = [json.loads(line) for line in path.read_text(encoding="utf8").splitlines() if line.strip()]
    # A run that started over from step 0 makes the earlier ones history, not part of this model.
    starts = [i for i, r in enumerate(runs) if r["from_step"] == 0]
    return runs[starts[-1]:] if starts else runs


def save_adapter(
    model: Any,
    output_dir: str | Path,
    base: str,
    labels: dict[str, str],
    summary: dict[str, Any],
    template_version: str = TEMPLATE_VERSION,
    tag_tokens: dict[str, int] | None = None,
    peft_method: str = "lora",
) -> Path:
    """Adapter weights (safetensors) + config via peft, and the prompt it was trained with
    (and the tag tokens' ids, which loading must reproduce)."""
    import shutil

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    # The tag rows are in the adapter already (trainable tokens); peft would otherwise also save
    # the whole resized embedding matrix (V x d: 113 MB for SmolLM2).
    model.save_pretrained(output_dir, safe_serialization=True, save_embedding_layers=False)
    shutil.rmtree(output_dir / "_work", ignore_errors=True)
    meta = AdapterMeta(
        base_model=base,
        labels=labels,
        template_version=template_version,
        peft_method=peft_method,
        tag_tokens=dict(tag_tokens or {}),
        training=summary,
    )
    write_meta(output_dir / ADAPTER_META, meta)
    return output_dir


def read_meta(adapter_dir: str | Path) -> AdapterMeta:
    """What ``train`` recorded next to an adapter (labels, template version, base).

    The adapter files are checked as inference checks them (E008/E007); an adapter without our
    metadata was not written by ``train`` (E307).
    """
    from ..errors import Errors, LLMNERError

    path = Path(adapter_dir)
    meta = check_adapter_dir(path)
    if not (path / ADAPTER_META).exists():
        raise LLMNERError(Errors.E307.format(path=path, missing=[ADAPTER_META]))
    return meta
