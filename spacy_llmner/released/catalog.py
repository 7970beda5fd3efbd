"""The released models found in this package directory, and what each was trained with."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError

DEFAULT_RELEASE = "phi-gemma3"
RELEASE_FILE = "RELEASE.json"
_HERE = Path(__file__).resolve().parent
# Files a release directory must hold: the record, the adapter (peft) and our adapter metadata.
REQUIRED = (RELEASE_FILE, "adapter_config.json", "adapter_model.safetensors", "spacy_llmner.json")


@dataclass(frozen=True)
class Release:
    """One released model: where its adapter is, which base it needs, how it prompts."""

    name: str
    path: Path
    version: str
    base_hub_id: str
    labels: str | list[str]
    template_version: str
    lang: str = "en"
    copy_tokens: str = "canonical"
    context_length: int = 4096
    record: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def adapter(self) -> Path:
        return self.path


def release_root() -> Path:
    """Where releases are looked up: the package's own directory."""
    return _HERE


def available() -> list[str]:
    """Names of the released models installed with this package."""
    return sorted(p.name for p in release_root().iterdir() if (p / RELEASE_FILE).is_file())


def get_release(name: str) -> Release:
    """Release ``name``, its files checked (E031 unknown, E032 incomplete)."""
    path = release_root() / name
    if not (path / RELEASE_FILE).is_file():
        raise LLMNERError(Errors.E031.format(name=name, found=available() or "none"))
    missing = [f for f in REQUIRED if not (path / f).is_file()]
    if missing:
        raise LLMNERError(Errors.E032.format(name=name, missing=missing, path=path))
    record = json.loads((path / RELEASE_FILE).read_text(encoding="utf8"))
    pipe = record["pipeline"]
    return Release(
        name=name,
        path=path,
        version=str(record["version"]),
        base_hub_id=str(record["base"]["hub_id"]),
        labels=pipe["labels"],
        template_version=str(pipe["template_version"]),
        lang=str(pipe.get("lang", "en")),
        copy_tokens=str(pipe.get("copy_tokens", "canonical")),
        context_length=int(pipe.get("context_length", 4096)),
        record=record,
    )


def base_cache(release: Release) -> Path:
    """Where the release's base is materialized: ``$SPACY_LLMNER_HOME/bases/<hub id>`` (default
    ``~/.cache/spacy_llmner``), shared by every release on that base."""
    home = Path(os.environ.get("SPACY_LLMNER_HOME") or Path.home() / ".cache" / "spacy_llmner")
    return home / "bases" / release.base_hub_id.replace("/", "--")
