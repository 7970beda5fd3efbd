"""Training settings: PEFT-style dataclasses, validated on creation, read from spaCy-style ``.cfg``.

A config file has one section per dataclass (``[lora]``, ``[training]``; the from-scratch base's
``[model]``, ``[tokenizer]``, ``[data]`` are in ``tinybase/config.py``). Settings can be overridden from the command line as in
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
    # 0: every decoder layer. N: only the top N layers get adapters, so the layers below run
    # without gradients (backward stops at the lowest adapted layer: less time and memory).
    top_layers: int = 0
    # Each label's tags become tokens of their own, their embedding rows trained with the
    # adapter (models/tag_tokens.py). With top_layers, their rows learn through the output head
    # only: a gradient into the input embeddings would run backward through every layer.
    tag_tokens: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.tag_tokens, bool):
            raise _bad("lora.tag_tokens", self.tag_tokens, "Use true or false.")
        if not isinstance(self.top_layers, int) or isinstance(self.top_layers, bool) or self.top_layers < 0:
            raise _bad("lora.top_layers", self.top_layers, "Use 0 (every layer) or the number of top layers to adapt.")
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


PEFT_METHODS = ("lora", "prefix")


@dataclass
class PeftSettings:
    """Which PEFT method trains: LoRA (default) or prefix tuning (P-tuning v2, the seed's method:
    learned key/value vectors prepended at every layer, ``num_virtual_tokens`` long)."""

    method: str = "lora"
    num_virtual_tokens: int = 64

    def __post_init__(self) -> None:
        if self.method not in PEFT_METHODS:
            raise _bad("peft.method", self.method, f"Use one of {list(PEFT_METHODS)}.")
        if not isinstance(self.num_virtual_tokens, int) or isinstance(self.num_virtual_tokens, bool) or self.num_virtual_tokens < 1:
            raise _bad("peft.num_virtual_tokens", self.num_virtual_tokens, "Use an integer >= 1 (the seed: 64 or 128).")


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
    # bf16 weights and autocast. "auto": on where the hardware computes bf16 natively (a CUDA GPU
    # with bf16, a CPU with AVX512-BF16 or AMX), float32 elsewhere: a CPU without those
    # instructions emulates bf16 about 100x slower than float32 (models/precision.py: use_bf16).
    bf16: Union[bool, str] = False
    # Length-grouped batches waste less compute on padding; 0 turns grouping off.
    group_by_length: bool = True
    # Cap on rows x longest row (tokens after the shared prefix) per batch; 0 = none. Batches of
    # long documents then hold fewer rows, which bounds a step's peak memory.
    max_batch_tokens: int = 0
    max_steps: int = -1
    # Save a resumable checkpoint (adapter, optimizer, scheduler, RNG, step) every N steps; 0 =
    # none. A rerun of `train` with the same --checkpoints directory continues from the last one.
    save_steps: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.save_steps, int) or isinstance(self.save_steps, bool) or self.save_steps < 0:
            raise _bad("training.save_steps", self.save_steps, "Use 0 (no checkpoints) or a number of steps >= 1.")
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
        if not isinstance(self.max_batch_tokens, int) or isinstance(self.max_batch_tokens, bool) or self.max_batch_tokens < 0:
            raise _bad("training.max_batch_tokens", self.max_batch_tokens, "Use 0 (no cap) or a token count.")
        if not isinstance(self.max_steps, int) or self.max_steps == 0 or self.max_steps < -1:
            raise _bad("training.max_steps", self.max_steps, "Use -1 (run all epochs) or >= 1.")
        if not isinstance(self.bf16, bool) and self.bf16 != "auto":
            raise _bad("training.bf16", self.bf16, 'Use true, false or "auto" (bf16 where the hardware has it).')


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
    # The prompt template ("v1" seed recipe, "v2" compact, "json1" JSON answer); recorded with the adapter.
    template_version: str = "v1"
    # [peft] (optional): LoRA unless it says otherwise; [lora] is read either way.
    peft: PeftSettings = field(default_factory=PeftSettings)

    def __post_init__(self) -> None:
        from ..prompting import TEMPLATE_VERSIONS

        if self.template_version not in TEMPLATE_VERSIONS:
            raise _bad("task.template_version", self.template_version, f"Use one of {list(TEMPLATE_VERSIONS)}.")
        if self.peft.method == "prefix":
            if self.training.shared_prefix:
                raise _bad(
                    "training.shared_prefix", True,
                    "Prefix tuning passes its own past_key_values into every forward, so the prompt "
                    "cannot also be shared as a KV cache; set training.shared_prefix = false.",
                )
            if self.lora.tag_tokens:
                raise _bad("lora.tag_tokens", True, "Tag tokens train with LoRA only; set it false for prefix tuning.")

    @classmethod
    def load(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> LoraConfigFile:
        cfg = load_config(path, overrides, required=("lora", "training"))
        task = cfg.get("task", {})
        unknown = sorted(set(task) - {"labels", "template_version"})
        if unknown:
            raise LLMNERError(Errors.E302.format(names=unknown, section="task", known=["labels", "template_version"]))
        return cls(
            lora=from_section(LoraSettings, cfg["lora"], "lora"),
            training=from_section(TrainSettings, cfg["training"], "training"),
            peft=from_section(PeftSettings, cfg.get("peft"), "peft"),
            labels=task.get("labels", "hipaa"),
            template_version=task.get("template_version", "v1"),
        )


@dataclass
class HeadSettings:
    """``[head]`` of ``train-textcat``: the classification head and what it classifies."""

    # Empty: every label in the training data's ``doc.cats``, sorted. Else exactly these, in
    # this order (the head's rows); a label in the data that is not here fails (E621).
    labels: Union[str, list[str]] = field(default_factory=list)
    # true: one label per document (softmax, cross-entropy); false: multi-label (sigmoids, BCE).
    exclusive_classes: bool = True
    pooling: str = "last"
    # Longest text in tokens; a longer one fails (E625) rather than being truncated.
    max_length: int = 512
    # NEFTune: uniform noise of magnitude alpha / sqrt(seq_len * hidden) on the input
    # embeddings, in training only (arXiv 2310.05914; the text-classification study found it a stable gain). 0: off.
    neftune_alpha: float = 5.0
    # Multi-label: a label is predicted when its probability reaches this (dev metrics).
    threshold: float = 0.5

    def __post_init__(self) -> None:
        from ..textcat.pooling import POOLINGS

        if isinstance(self.labels, str):
            self.labels = [lab.strip() for lab in self.labels.split(",") if lab.strip()]
        if not all(isinstance(lab, str) and lab for lab in self.labels):
            raise _bad("head.labels", self.labels, "Use a list of non-empty strings, or [] to read them from the data.")
        if len(set(self.labels)) != len(self.labels):
            raise _bad("head.labels", self.labels, "Each label must appear once.")
        if not isinstance(self.exclusive_classes, bool):
            raise _bad("head.exclusive_classes", self.exclusive_classes, "Use true or false.")
        if self.pooling not in POOLINGS:
            raise _bad("head.pooling", self.pooling, f"Use one of {list(POOLINGS)}.")
        if not isinstance(self.max_length, int) or isinstance(self.max_length, bool) or self.max_length < 1:
            raise _bad("head.max_length", self.max_length, "It must be an integer >= 1.")
        if not isinstance(self.neftune_alpha, (int, float)) or self.neftune_alpha < 0:
            raise _bad("head.neftune_alpha", self.neftune_alpha, "Use 0 (off) or a positive number (5 is usual).")
        if not 0.0 < float(self.threshold) < 1.0:
            raise _bad("head.threshold", self.threshold, "It must be a probability in (0, 1).")


# [training] keys of the SFT loop that mean nothing for a head over whole documents (E629).
_HEAD_UNUSED_TRAINING = ("max_length", "shared_prefix", "group_by_length", "max_batch_tokens", "gradient_checkpointing")


@dataclass
class HeadConfigFile:
    """Everything ``train-textcat`` reads: ``[lora]``, ``[training]`` and ``[head]``."""

    lora: LoraSettings
    training: TrainSettings
    head: HeadSettings = field(default_factory=HeadSettings)

    @classmethod
    def load(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> HeadConfigFile:
        cfg = load_config(path, overrides, required=("lora", "training"))
        training = dict(cfg["training"])
        unused = sorted(set(training) & set(_HEAD_UNUSED_TRAINING))
        if unused:
            raise LLMNERError(Errors.E629.format(names=unused))
        unknown = sorted(set(cfg) - {"lora", "training", "head"})
        if unknown:
            raise LLMNERError(Errors.E302.format(names=unknown, section="(top level)", known=["lora", "training", "head"]))
        training["shared_prefix"] = False  # no prompt to share
        return cls(
            lora=from_section(LoraSettings, cfg["lora"], "lora"),
            training=from_section(TrainSettings, training, "training"),
            head=from_section(HeadSettings, cfg.get("head"), "head"),
        )
