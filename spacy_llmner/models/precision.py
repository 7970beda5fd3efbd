"""The precision a model decodes in: its dtype (``"auto"``: bf16 where the hardware computes it)
and the opt-in int8 path for CPUs that have no fast bf16.

Why a separate home: training (``training.bf16 = "auto"``) and inference resolve ``"auto"`` by
the same rule (``loading.native_bf16``), and int8 is one more transformation of the loaded model
that the decoder must know about (the output head stays in full precision: the verifier reads
its weight rows directly, ``decoding/verify.py``).
"""

from __future__ import annotations

from typing import Any

from ..errors import Errors, LLMNERError

QUANTIZE = (None, "int8")


def check_quantize(value: str | None, share_base: bool, merge_adapter: bool = True) -> None:
    """``quantize`` is null or "int8", and "int8" only on a private copy of the base with the
    adapter merged into it (E034): int8 layers cannot hold an unmerged LoRA adapter."""
    if value not in QUANTIZE:
        raise LLMNERError(Errors.E011.format(name="quantize", value=value, hint="Use null or \"int8\"."))
    if value and share_base:
        raise LLMNERError(Errors.E034.format(
            value=value, reason="a shared base keeps its LoRA adapters unmerged, which int8 layers cannot hold"))
    if value and not merge_adapter:
        raise LLMNERError(Errors.E034.format(value=value, reason="merge_adapter = false keeps the adapter unmerged"))


def auto_dtype(device: Any) -> Any:
    """bf16 where ``device`` computes it natively (a bf16 GPU, a CPU with AVX512-BF16 or AMX),
    fp16 on other GPUs, fp32 on other CPUs (bf16 is emulated there, ~100x slower)."""
    import torch

    from .loading import native_bf16

    dev = torch.device(device)
    if native_bf16(dev):
        return torch.bfloat16
    return torch.float16 if dev.type == "cuda" else torch.float32


def quantize_int8(model: Any) -> Any:
    """Dynamic int8 quantization of the decoder's linear layers (weights int8, activations
    quantized per call), in place of their fp32 weights. CPU only. The output head and the
    embeddings stay as they are: the verifier scores only the allowed rows of the head."""
    import torch

    if next(model.parameters()).device.type != "cpu":
        raise LLMNERError(Errors.E034.format(value="int8", reason="dynamic int8 quantization runs on a CPU only"))
    from torch.ao.quantization import quantize_dynamic

    inner = model.get_decoder() if hasattr(model, "get_decoder") else None
    if inner is None:
        raise LLMNERError(Errors.E034.format(value="int8", reason=f"{type(model).__name__} has no decoder to quantize"))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation notice for quantized tensors
        quantize_dynamic(inner, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
    return model
