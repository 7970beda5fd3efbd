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
from typing import Any

from ..models.loading import ADAPTER_META, AdapterMeta, check_adapter_dir
from ..models.tag_tokens import add_tag_tokens
from ..prompting import TEMPLATE_VERSION, resolve_labels
from .config import LoraConfigFile, LoraSettings, PeftSettings, TrainSettings
from .sft import build_dataset, read_docbin
from .trainer import run

logger = logging.getLogger("spacy_llmner")

META_FILE = ADAPTER_META  # one name, owned by models/loading.py (which reads it at inference)


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
        bias=settings.bias,
        layers_to_transform=layers,
        task_type=TaskType.CAUSAL_LM,
        trainable_token_indices=list(token_ids) if token_ids else None,
    )


def with_precision(settings: TrainSettings) -> TrainSettings:
    """``settings`` with ``bf16`` resolved to true or false for the device training runs on."""
    from ..models.loading import pick_device_dtype, use_bf16

    device, _ = pick_device_dtype(None, None)
    return dataclasses.replace(settings, bf16=use_bf16(settings.bf16, device))


def load_base(name: str | Path, bf16: bool = False) -> tuple[Any, Any]:
    """Tokenizer and model of a hub id or local directory, loaded as inference loads them."""
    import torch

    from ..models.loading import load_model, load_tokenizer, pick_device_dtype

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
) -> dict[str, Any]:
    """Fine-tune ``base`` on ``train_path`` and save the adapter to ``output_dir``."""
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
    summary = run(model, train, dev, settings, tokenizer.pad_token_id, output_dir / "_work", loss_log)
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
    (output_dir / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf8")
    return output_dir


def read_meta(adapter_dir: str | Path) -> AdapterMeta:
    """What ``train`` recorded next to an adapter (labels, template version, base).

    The adapter files are checked as inference checks them (E008/E007); an adapter without our
    metadata was not written by ``train`` (E307).
    """
    from ..errors import Errors, LLMNERError

    path = Path(adapter_dir)
    meta = check_adapter_dir(path)
    if not (path / META_FILE).exists():
        raise LLMNERError(Errors.E307.format(path=path, missing=[META_FILE]))
    return meta
