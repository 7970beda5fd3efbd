"""What the benchmark scripts share: reading a folder of score rows with their training records.

Scripts here run as ``python benchmarks/<name>.py``, so this module is imported by its file name.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any


def read_rows(metrics: Path) -> dict[str, dict[str, Any]]:
    """``NAME.json`` score rows of ``metrics`` (not its ``train_*`` files), each with its
    ``train_NAME.json`` under ``"training"`` when there is one."""
    rows: dict[str, dict[str, Any]] = {}
    for path in sorted(metrics.glob("*.json")):
        if path.name.startswith("train_"):
            continue
        row = json.loads(path.read_text(encoding="utf8"))
        train = metrics / f"train_{path.stem}.json"
        if train.exists():
            row["training"] = json.loads(train.read_text(encoding="utf8"))
        rows[path.stem] = row
    return rows


def machine() -> dict[str, Any]:
    """The conditions a figure was taken under (every benchmark's JSON carries them)."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor() or None}
