"""Which local bases travel inside a saved pipeline, and how a model directory is copied there.

One home for the rule, shared by ``spacy_llmner.HF.v1`` and the ``llm_textcat_head`` component;
standard library only, so the component's module stays cheap to import.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# Local bases up to this size are copied into the pipeline dir, so it works on another machine.
EMBED_BASE_MAX_MB = 512


def base_is_embeddable(name: str, max_mb: int = EMBED_BASE_MAX_MB) -> bool:
    """A local base directory small enough to copy into a pipeline (hub ids are not)."""
    path = Path(name)
    if not path.is_dir():
        return False
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return size <= max_mb * 1024 * 1024


def copy_dir(src: Path, dst: Path) -> None:
    """Replace ``dst`` with a copy of ``src``, leaving training checkpoints and pickles behind."""
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("checkpoint-*", "*.bin", "*.pt"))


__all__ = ["EMBED_BASE_MAX_MB", "base_is_embeddable", "copy_dir"]
