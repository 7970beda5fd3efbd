"""The device and precision a model runs in: its dtype (``"auto"``: bf16 where the hardware
computes it) and the opt-in int8 path for CPUs that have no fast bf16.

One home for the rule, because training (``training.bf16 = "auto"``, ``use_bf16``) and inference
(``dtype = "auto"``, ``pick_device_dtype``) must resolve it alike (``native_bf16``); int8 is one
more transformation of the loaded model that the decoder must know about (the output head stays
in full precision: the verifier reads its weight rows directly, ``decoding/verify.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import Errors, LLMNERError, Warnings

logger = logging.getLogger("spacy_llmner")

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


def pick_device_dtype(device: str | None, dtype: str | None) -> tuple[Any, Any]:
    """CUDA + bf16 when present, else CPU + fp32; both overridable. ``dtype="auto"``: bf16
    wherever the hardware computes it, a CPU with AVX512-BF16 or AMX included."""
    import torch

    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if dtype == "auto":
        dt = auto_dtype(dev)
    elif dtype:
        dt = getattr(torch, dtype, None)
        if not isinstance(dt, torch.dtype):
            raise LLMNERError(
                Errors.E011.format(name="dtype", value=dtype, hint="Use e.g. 'float32', 'bfloat16' or 'auto'.")
            )
    elif dev.type == "cuda":
        dt = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dt = torch.float32
    return dev, dt


def native_bf16(device: Any) -> bool:
    """Whether ``device`` computes bf16 in hardware: a CUDA GPU that supports it, or a CPU with
    AVX512-BF16 or AMX. Elsewhere torch emulates bf16 (about 100x slower than fp32 on an AVX2 CPU)."""
    import torch

    kind = torch.device(device).type
    if kind == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if kind != "cpu":
        return False
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    if any(probe is not None for probe in probes):
        return any(bool(probe()) for probe in probes if probe is not None)
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def use_bf16(setting: bool | str, device: Any) -> bool:
    """Resolve ``training.bf16``: ``"auto"`` is bf16 where the hardware has it (``native_bf16``);
    an explicit ``true`` is kept, with W003 where it will be emulated."""
    if setting == "auto":
        return native_bf16(device)
    if setting and not native_bf16(device):
        logger.warning(Warnings.W003)
    return bool(setting)


def auto_dtype(device: Any) -> Any:
    """bf16 where ``device`` computes it natively (a bf16 GPU, a CPU with AVX512-BF16 or AMX),
    fp16 on other GPUs, fp32 on other CPUs (bf16 is emulated there, ~100x slower)."""
    import torch

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
