"""A stamp of the base model, so ``spacy project`` retrains when the base changes.

``train`` cannot list the base as a dependency: ``vars.base_model`` may be a hub id, which is not
a path spaCy can check. Instead an always-run step writes this stamp, and ``train`` depends on the
stamp. For a local directory it records each weight/config/tokenizer file's name, size and
modification time (cheap even for a 14 GB model, and a rebuilt base changes it); for a hub id, the
id itself. The file is rewritten only when its content changes, so its checksum is stable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_SUFFIXES = (".json", ".safetensors", ".model", ".txt", ".jinja", ".bin")


def base_stamp(base: str) -> dict[str, Any]:
    """What identifies ``base`` (a local directory or a hub id)."""
    path = Path(base)
    if not path.is_dir():
        return {"base": base, "kind": "hub id"}
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)
    return {
        "base": base,
        "kind": "local directory",
        "files": [
            [str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns] for p in files
        ],
    }


def write_stamp(base: str, output: str | Path) -> bool:
    """Write the stamp; returns whether the file changed."""
    output = Path(output)
    text = json.dumps(base_stamp(base), indent=1) + "\n"
    if output.exists() and output.read_text(encoding="utf8") == text:
        return False
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf8")
    return True
