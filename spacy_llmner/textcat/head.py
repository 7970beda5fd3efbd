"""The classification head's files: a linear layer over the pooled hidden state, saved as
``head.safetensors`` with ``head.json`` (labels, pooling, temperature, base) beside it.

A head directory is what ``train-textcat`` writes and the ``llm_textcat_head`` component reads:
the two head files plus, when LoRA was trained, peft's adapter files (checked as for NER). One
directory holds everything the head was trained with, so the labels' order (the head's rows)
and the fitted temperature travel with the weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError
from ..models.loading import check_adapter_dir
from ..models.meta import HEAD_KIND, HEAD_META, HEAD_WEIGHTS, HeadMeta, has_lora, read_head_meta, write_meta


def check_head_dir(path: str | Path) -> HeadMeta:
    """Head files present (E623), peft files complete when there are any (E008/E007)."""
    path = Path(path)
    if not path.is_dir():
        raise LLMNERError(Errors.E623.format(path=path, missing="the directory itself"))
    missing = [f for f in (HEAD_WEIGHTS, HEAD_META) if not (path / f).exists()]
    if missing:
        raise LLMNERError(Errors.E623.format(path=path, missing=", ".join(missing)))
    if has_lora(path):
        check_adapter_dir(path)
    return read_head_meta(path)


def new_head(hidden_size: int, n_labels: int, seed: int = 0, std: float = 0.02) -> Any:
    """An untrained head (float32): small normal weights, zero bias, the same for one seed."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    head = torch.nn.Linear(hidden_size, n_labels)
    with torch.no_grad():
        head.weight.copy_(torch.randn(head.weight.shape, generator=gen) * std)
        head.bias.zero_()
    return head


def save_head(head: Any, path: str | Path, meta: HeadMeta) -> Path:
    """``head.safetensors`` (safetensors only) and ``head.json`` into ``path``."""
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in head.state_dict().items()}
    save_file(tensors, str(path / HEAD_WEIGHTS))
    write_meta(path / HEAD_META, meta)
    return path


def load_head(path: str | Path, labels: list[str], hidden_size: int) -> Any:
    """The saved head, checked against the labels and the backbone's width (E624)."""
    import torch
    from safetensors.torch import load_file

    path = Path(path)
    tensors = load_file(str(path / HEAD_WEIGHTS))
    weight = tensors.get("weight")
    if weight is None or weight.ndim != 2 or weight.shape[0] != len(labels) or weight.shape[1] != hidden_size:
        rows = None if weight is None else tuple(weight.shape)
        raise LLMNERError(Errors.E624.format(path=path, rows=rows, n_labels=len(labels), labels=labels))
    head = torch.nn.Linear(hidden_size, len(labels))
    head.load_state_dict({"weight": weight.float(), "bias": tensors.get("bias", torch.zeros(len(labels))).float()})
    return head


__all__ = [
    "HEAD_KIND", "HEAD_META", "HEAD_WEIGHTS", "HeadMeta", "check_head_dir", "has_lora", "load_head",
    "new_head", "save_head",
]
