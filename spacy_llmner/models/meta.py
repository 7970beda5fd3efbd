"""The metadata files that travel with weights, in one place: what ``train`` writes beside an
adapter (``spacy_llmner.json``), what ``train-textcat`` writes beside a head (``head.json``) and
peft's own ``adapter_config.json``.

Their names, their shapes (``TypedDict``) and their readers live here, so the trainer that
writes a file and the component that reads it cannot disagree. Standard library only: the
component modules import it at registration time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypedDict, cast

# peft's files in an adapter directory (``save_pretrained`` writes both).
PEFT_CONFIG = "adapter_config.json"
PEFT_WEIGHTS = "adapter_model.safetensors"
ADAPTER_FILES = (PEFT_CONFIG, PEFT_WEIGHTS)

ADAPTER_META = "spacy_llmner.json"  # labels + template version the adapter was trained with
HEAD_META = "head.json"  # the classification head's labels, pooling, temperature, base
HEAD_WEIGHTS = "head.safetensors"
HEAD_KIND = "textcat_head"


class AdapterMeta(TypedDict, total=False):
    """What ``train`` writes to ``ADAPTER_META`` beside an adapter; inference checks prompts
    against ``labels`` and ``template_version``. Every key may be missing (older adapters)."""

    base_model: str
    labels: dict[str, str]
    template_version: str
    peft_method: str  # "lora" (absent in older adapters) or "prefix"
    tag_tokens: dict[str, int]  # tag -> token id, when the tags were added as tokens (tag_tokens.py)
    training: dict[str, Any]


class HeadMeta(TypedDict, total=False):
    """What ``train-textcat`` writes to ``HEAD_META``."""

    kind: str  # HEAD_KIND
    base_model: str
    labels: list[str]  # the head's rows, in order
    exclusive_classes: bool
    pooling: str
    temperature: float
    hidden_size: int
    max_length: int
    training: dict[str, Any]


def _read(path: Path) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(path.read_text(encoding="utf8")))


def write_meta(path: str | Path, meta: AdapterMeta | HeadMeta) -> None:
    """Write one metadata file (indented JSON, as every reader expects)."""
    Path(path).write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf8")


def read_adapter_meta(adapter_dir: str | Path) -> AdapterMeta:
    """The adapter's ``ADAPTER_META``; empty when it has none (an adapter we did not train)."""
    path = Path(adapter_dir) / ADAPTER_META
    return cast(AdapterMeta, _read(path)) if path.exists() else AdapterMeta()


def read_head_meta(head_dir: str | Path) -> HeadMeta:
    """A head directory's ``HEAD_META`` (the caller checks that it is there)."""
    return cast(HeadMeta, _read(Path(head_dir) / HEAD_META))


def read_peft_config(adapter_dir: str | Path) -> dict[str, Any]:
    """peft's ``adapter_config.json`` as written (``peft_type``, ``base_model_name_or_path`` …)."""
    return _read(Path(adapter_dir) / PEFT_CONFIG)


def has_lora(path: str | Path) -> bool:
    """Did training leave peft adapter files here (LoRA), or only a head?"""
    return (Path(path) / PEFT_CONFIG).exists()


__all__ = [
    "ADAPTER_FILES", "ADAPTER_META", "HEAD_KIND", "HEAD_META", "HEAD_WEIGHTS", "PEFT_CONFIG", "PEFT_WEIGHTS",
    "AdapterMeta", "HeadMeta", "has_lora", "read_adapter_meta", "read_head_meta", "read_peft_config", "write_meta",
]
