"""The run's manifest: which shards and files are finished, so a rerun resumes instead of redoing.

An append-only JSONL file in the output's work folder. The first line fingerprints the job
(settings and input files, secrets only as digests); each later line records a finished shard or
an assembled file, with counts. A line is appended (and fsynced) only after the part it records
was renamed into place, so a crash at any point loses at most work, never output; a torn last line
is ignored. No text or entity values are written here.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError

MANIFEST = "manifest.jsonl"


def digest(secret: str | bytes | None) -> str | None:
    """Tells a resumed run whether a key or salt changed, without storing it."""
    if not secret:
        return None
    raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass
class Manifest:
    """Finished shards and files of the run in ``work`` (loaded from disk when present)."""

    work: Path
    shards: dict[str, dict[str, int]] = field(default_factory=dict)
    files: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.work / MANIFEST

    @classmethod
    def open(cls, work: Path, job: dict[str, Any], output: Path) -> Manifest:
        """Resume the run in ``work`` if it is the same job, or start one; a different job is E506."""
        work.mkdir(parents=True, exist_ok=True)
        manifest = cls(work)
        lines = manifest.path.read_text(encoding="utf-8").splitlines() if manifest.path.exists() else []
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except ValueError:  # a line torn by a crash: that work is redone
                continue
        if not entries or "job" not in entries[0]:
            manifest.path.write_text(json.dumps({"job": job}) + "\n", encoding="utf-8")
            return manifest
        previous = entries[0]["job"]
        if previous != job:
            keys = sorted(k for k in set(job) | set(previous) if job.get(k) != previous.get(k))
            raise LLMNERError(Errors.E506.format(path=output, what=", ".join(keys)))
        for entry in entries[1:]:
            if "shard" in entry:
                manifest.shards[entry["shard"]] = entry["counts"]
            elif "file" in entry:
                manifest.files[entry["file"]] = entry["counts"]
        return manifest

    def _append(self, entry: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def finish_shard(self, shard_id: str, counts: dict[str, int]) -> None:
        """Record a shard whose parts are in place."""
        if shard_id not in self.shards:
            self.shards[shard_id] = counts
            self._append({"shard": shard_id, "counts": counts})

    def finish_file(self, rel: str, counts: dict[str, int]) -> None:
        """Record an input whose output file is in place."""
        if rel not in self.files:
            self.files[rel] = counts
            self._append({"file": rel, "counts": counts})
