"""Settings of the small from-scratch base: ``[model]``, ``[tokenizer]``, ``[data]``, ``[training]``.

Read from ``configs/base.cfg`` with the same loader and validation as the LoRA config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..training.config import TrainSettings, _bad, from_section, load_config


@dataclass
class TokenizerSettings:
    """The from-scratch base's byte-level BPE tokenizer."""

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
    """What the from-scratch base is pre-trained on (generated, disjoint from train/dev/test)."""

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
