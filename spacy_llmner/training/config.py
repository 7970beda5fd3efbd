"""Training settings: PEFT-style dataclasses, validated on creation, read from spaCy-style ``.cfg``.

A config file has one section per dataclass (``[lora]``, ``[training]``, and for the offline base
``[model]``, ``[tokenizer]``, ``[data]``). Settings can be overridden from the command line as in
``spacy train`` (``--training.epochs 3``), so ``project.yml`` can expose them as ``vars``.
Validation happens here so a bad value fails before any model is loaded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, Union

from ..errors import Errors, LLMNERError

T = TypeVar("T")

_SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup")


def _bad(name: str, value: Any, hint: str) -> LLMNERError:
    return LLMNERError(Errors.E301.format(name=name, value=value, hint=hint))


def _positive(section: str, **values: float) -> None:
    for key, value in values.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise _bad(f"{section}.{key}", value, "It must be a positive number.")


@dataclass
class LoraSettings:
    """LoRA hyper-parameters (peft ``LoraConfig``); all linear projections by default."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: Union[str, list[str]] = "all-linear"
    bias: str = "none"

    def __post_init__(self) -> None:
        if not isinstance(self.r, int) or isinstance(self.r, bool) or self.r < 1:
            raise _bad("lora.r", self.r, "The LoRA rank must be an integer >= 1 (8-64 is usual).")
        _positive("lora", alpha=self.alpha)
        if not 0.0 <= float(self.dropout) < 1.0:
            raise _bad("lora.dropout", self.dropout, "Dropout must be in [0, 1).")
        if isinstance(self.target_modules, str):
            if not self.target_modules:
                raise _bad("lora.target_modules", self.target_modules, "Use 'all-linear' or a list.")
        elif not self.target_modules or not all(isinstance(m, str) for m in self.target_modules):
            raise _bad(
                "lora.target_modules",
                self.target_modules,
                "Use 'all-linear' or a non-empty list of module names, e.g. [\"q_proj\", \"v_proj\"].",
            )
        else:
            self.target_modules = list(self.target_modules)
        if self.bias not in ("none", "all", "lora_only"):
            raise _bad("lora.bias", self.bias, "Use 'none', 'all' or 'lora_only'.")


@dataclass
class TrainSettings:
    """The loop: epochs, optimiser, batching. ``max_length`` counts prompt + document + answer."""

    epochs: float = 2.0
    lr: float = 2e-4
    batch_size: int = 8
    grad_accum: int = 1
    max_length: int = 2048
    seed: int = 0
    eval_each_epoch: bool = True
    eval_batch_size: int = 16
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    lr_scheduler: str = "linear"
    max_grad_norm: float = 1.0
    logging_steps: int = 10
    # Run the shared prompt prefix once per batch and reuse its KV cache (same loss, less compute).
    shared_prefix: bool = True
    # Off by default: it trades compute for memory, and small models have memory to spare.
    gradient_checkpointing: bool = False
    bf16: bool = False
    # Length-grouped batches waste less compute on padding; 0 turns grouping off.
    group_by_length: bool = True
    max_steps: int = -1

    def __post_init__(self) -> None:
        _positive("training", epochs=self.epochs, lr=self.lr, max_grad_norm=self.max_grad_norm)
        for key in ("batch_size", "grad_accum", "max_length", "eval_batch_size", "logging_steps"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise _bad(f"training.{key}", value, "It must be an integer >= 1.")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise _bad("training.warmup_ratio", self.warmup_ratio, "It must be in [0, 1).")
        if self.weight_decay < 0:
            raise _bad("training.weight_decay", self.weight_decay, "It must be >= 0.")
        if self.lr_scheduler not in _SCHEDULERS:
            raise _bad("training.lr_scheduler", self.lr_scheduler, f"Use one of {_SCHEDULERS}.")
        if self.shared_prefix and self.gradient_checkpointing:
            raise _bad(
                "training.shared_prefix",
                self.shared_prefix,
                "The shared prefix is passed on as a KV cache, which gradient checkpointing drops "
                "in transformers; set training.shared_prefix = false when checkpointing.",
            )
        if not isinstance(self.max_steps, int) or self.max_steps == 0 or self.max_steps < -1:
            raise _bad("training.max_steps", self.max_steps, "Use -1 (run all epochs) or >= 1.")


@dataclass
class TokenizerSettings:
    """The offline base's byte-level BPE tokenizer."""

    vocab_size: int = 2048
    # One added token per tag (``tiny.tag_tokens``): a tag is one decision, not 3-4 pieces.
    tag_tokens: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.vocab_size, int) or self.vocab_size < 300:
            raise _bad(
                "tokenizer.vocab_size",
                self.vocab_size,
                "A byte-level BPE needs at least 256 byte tokens plus merges: use >= 300.",
            )


@dataclass
class PretrainData:
    """What the offline base is pre-trained on (generated, disjoint from train/dev/test)."""

    n_docs: int = 4000
    seed: int = 1000
    # Fraction of the documents also seen as plain text (language modelling on every token).
    plain_fraction: float = 0.1
    # Faker locales; empty: the generator's defaults (as `generate` uses for the corpus).
    locales: list[str] = field(default_factory=list)
    n_dev: int = 100

    def __post_init__(self) -> None:
        for key in ("n_docs", "n_dev"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise _bad(f"data.{key}", value, "It must be an integer >= 1.")
        if not 0.0 <= self.plain_fraction <= 1.0:
            raise _bad("data.plain_fraction", self.plain_fraction, "It must be in [0, 1].")
        if isinstance(self.locales, str) or not all(isinstance(x, str) for x in self.locales):
            raise _bad("data.locales", self.locales, "Give a list of Faker locales, e.g. [\"en_US\"].")
        self.locales = list(self.locales)


def from_section(cls: type[T], values: Mapping[str, Any] | None, section: str) -> T:
    """Build a settings dataclass from a config section, rejecting unknown keys by name."""
    values = dict(values or {})
    known = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise LLMNERError(Errors.E302.format(names=unknown, section=section, known=known))
    return cls(**values)


def load_config(
    path: str | Path, overrides: Mapping[str, Any] | None = None, required: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Read a ``.cfg`` file (confection, as spaCy) with ``section.key`` overrides applied."""
    from confection import Config

    path = Path(path)
    if not path.exists():
        raise LLMNERError(
            Errors.E011.format(name="config", value=str(path), hint="The config file does not exist.")
        )
    config = Config().from_disk(path, overrides=dict(overrides or {}), interpolate=True)
    for section in required:
        if section not in config:
            raise LLMNERError(Errors.E303.format(path=path, section=section))
    return {key: dict(value) for key, value in config.items()}


@dataclass
class LoraConfigFile:
    """Everything ``train`` reads: ``[lora]``, ``[training]`` and (optional) ``[labels]``."""

    lora: LoraSettings
    training: TrainSettings
    labels: str = "hipaa"

    @classmethod
    def load(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> LoraConfigFile:
        cfg = load_config(path, overrides, required=("lora", "training"))
        labels = cfg.get("task", {}).get("labels", "hipaa")
        return cls(
            lora=from_section(LoraSettings, cfg["lora"], "lora"),
            training=from_section(TrainSettings, cfg["training"], "training"),
            labels=labels,
        )


@dataclass
class BaseConfigFile:
    """Everything ``pretrain-base`` reads: ``[model]``, ``[tokenizer]``, ``[data]``, ``[training]``."""

    model: Any  # tiny.TinyConfig
    tokenizer: TokenizerSettings
    data: PretrainData
    training: TrainSettings
    labels: str = "hipaa"

    @classmethod
    def load(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> BaseConfigFile:
        from .tiny import TinyConfig

        cfg = load_config(path, overrides, required=("model", "training"))
        return cls(
            model=from_section(TinyConfig, cfg["model"], "model"),
            tokenizer=from_section(TokenizerSettings, cfg.get("tokenizer"), "tokenizer"),
            data=from_section(PretrainData, cfg.get("data"), "data"),
            training=from_section(TrainSettings, cfg["training"], "training"),
            labels=cfg.get("task", {}).get("labels", "hipaa"),
        )
