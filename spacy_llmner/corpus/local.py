"""The local engine: one file in this process, with the Ray engine's contract.

Every input record ends up exactly once in ``output`` or in ``<output stem>.errors.jsonl``
beside it (file, record number, id, coded reason: never text); both are written atomically.
The cheap checks (decoding, JSON, fields, CSV shape) run over the whole file before any model
work. The file is cut into shards as on Ray; finished shards are recorded in a manifest in a
hidden work folder beside the output, so a rerun after a crash skips them (a rerun with other
settings starts over). The work folder is removed once the output is in place.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError
from .assemble import assemble, file_errors
from .formats import atomic_output, detect_format
from .inputs import check_csv_column, default_delimiter, input_file, plan
from .manifest import Manifest
from .records import part_paths
from .shards import AnonymizeSettings, OnError, ShardRunner, Transform, prescan

ON_ERROR: tuple[str, ...] = ("skip", "stop")


@dataclass(frozen=True)
class FileStats:
    """What a local run did (totals over the job, resumed shards included)."""

    records: int
    written: int
    errors: int
    shards: int
    shards_resumed: int
    error_file: str | None

    def summary(self, output: Path) -> str:
        """One line for the terminal."""
        where = f" ({self.error_file})" if self.error_file else ""
        resumed = f"; {self.shards_resumed} of {self.shards} shards resumed" if self.shards_resumed else ""
        return f"{self.records} records: {self.written} written to {output}, {self.errors} errors{where}{resumed}"


def error_path(output: Path) -> Path:
    """``out.jsonl`` → ``out.errors.jsonl``: the error file beside the output."""
    return output.with_name(f"{output.stem}.errors.jsonl")


def work_path(output: Path) -> Path:
    """The hidden work folder (parts, manifest) of a local run, beside the output."""
    return output.with_name(f".{output.name}.spacy_llmner")


def check_output(output: Path) -> None:
    """Refuse before any work an output in a missing or unwritable folder, or that is a folder."""
    import os

    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise LLMNERError(Errors.E215.format(path=directory))
    if output.is_dir():
        raise LLMNERError(Errors.E112.format(path=output, reason="it is a folder"))
    if not os.access(directory, os.W_OK | os.X_OK):
        raise LLMNERError(Errors.E112.format(path=output, reason="the folder is not writable"))


def run_file(
    transform: Transform,
    input_path: Path,
    output_path: Path,
    settings: AnonymizeSettings,
    *,
    fmt: str = "auto",
    new_table: Any = None,
    store: Any = None,
    on_error: OnError = "skip",
    shard_size: int = 1000,
    job: Mapping[str, Any] | None = None,
    progress: bool = True,
    desc: str = "anonymize",
) -> FileStats:
    """Run ``transform`` over ``input_path`` into ``output_path`` (see the module docstring).

    :param new_table: a fresh surrogate table per shard; file scope passes one and the file is
        then one shard (one table numbers the whole file).
    :param store: a surrogate store shared by every shard (and saved with each).
    :param job: what else identifies the run for resuming (pipeline, key digests).
    """
    from tqdm import tqdm

    if on_error not in ON_ERROR:
        raise LLMNERError(Errors.E225.format(value=on_error))
    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise LLMNERError(Errors.E108.format(path=input_path))
    kind = detect_format(input_path, fmt)
    if settings.items_field is not None and kind != "jsonl":
        raise LLMNERError(Errors.E216.format(fmt=kind))
    check_output(output_path)
    file = input_file(input_path, kind)
    if kind == "csv":
        settings = _with_delimiter(settings, settings.delimiter or default_delimiter(input_path))
        check_csv_column(file, settings.column, settings.delimiter or ",")
    one_shard = settings.whole_file or (new_table is not None and store is None)
    shards = plan(file, 0 if one_shard else shard_size, settings.delimiter, whole_file=settings.whole_file)
    bad = prescan(shards, settings, on_error)  # before the model sees a record
    work = work_path(output_path)
    fingerprint = {
        "settings": settings.fingerprint(),
        "file": {k: v for k, v in asdict(file).items() if k != "path"},
        "shard_size": 0 if one_shard else shard_size,
        "on_error": on_error,
        **dict(job or {}),
    }
    manifest = _open_manifest(work, fingerprint, output_path)
    runner = ShardRunner(transform, settings, work, new_table=new_table, store=store, on_error=on_error)
    pending = [s for s in shards if s.id not in manifest.shards or not part_paths(work, s)[0].exists()]
    total = sum(s.count for s in pending)
    with tqdm(total=total, unit="rec", desc=desc, file=sys.stderr, disable=not progress) as bar:
        if bad and progress:
            bar.write(f"{bad} records fail the format checks and go to {error_path(output_path).name}")
        for shard in pending:
            counts = runner(shard)
            manifest.finish_shard(shard.id, {k: int(counts[k]) for k in ("records", "written", "errors")})
            bar.update(shard.count)
    assemble(file, shards, output_path, work, manifest)
    counts = manifest.files[file.rel]
    errors = error_path(output_path)
    if counts["errors"]:
        with atomic_output(errors, binary=True) as out:
            out.write(file_errors(work, file.rel).read_bytes())
    elif errors.exists():
        errors.unlink()  # a stale error file from an earlier run would misreport this one
    shutil.rmtree(work, ignore_errors=True)
    return FileStats(
        records=counts["records"],
        written=counts["written"],
        errors=counts["errors"],
        shards=len(shards),
        shards_resumed=len(shards) - len(pending),
        error_file=str(errors) if counts["errors"] else None,
    )


def _with_delimiter(settings: AnonymizeSettings, delimiter: str) -> AnonymizeSettings:
    from dataclasses import replace

    return replace(settings, delimiter=delimiter)


def _open_manifest(work: Path, job: dict[str, Any], output: Path) -> Manifest:
    """Resume the same job; a different one (other settings, a changed input) starts over."""
    try:
        return Manifest.open(work, job, output)
    except LLMNERError as err:
        if "[E506]" not in str(err):
            raise
    shutil.rmtree(work, ignore_errors=True)
    return Manifest.open(work, job, output)
