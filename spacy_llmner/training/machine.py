"""The machine a figure was taken on: CPU model, core count, the flags that decide bf16, torch.

Training records it with every run segment, so a released model says where its hours went.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

# The instruction sets that decide which precision a CPU computes fast (see models/precision.py).
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_vnni")


def cpu_info() -> dict[str, Any]:
    """Model name and the relevant flags from /proc/cpuinfo (Linux); empty elsewhere."""
    path = Path("/proc/cpuinfo")
    if not path.exists():
        return {"model": platform.processor() or None, "flags": []}
    model: str | None = None
    flags: set[str] = set()
    for line in path.read_text(encoding="utf8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and model is None:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    return {"model": model, "flags": [f for f in CPU_FLAGS if f in flags]}


def machine() -> dict[str, Any]:
    """Cores, CPU, platform, torch version and the GPU if one is used."""
    record: dict[str, Any] = {"cpus": os.cpu_count(), "cpu": cpu_info(), "platform": platform.platform()}
    try:
        import torch

        record["torch"] = torch.__version__
        record["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            record["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return record
