"""Join a file's shard parts into its output file, atomically, once every shard is in.

JSONL and CSV parts are byte ranges of the final file (shard 0 carries the CSV header), so they
are concatenated; Parquet parts are tables written into one file. Error parts go into the file's
error list, then into the run's ``_errors.jsonl``. Parts are deleted only after the output is in
place and recorded, so a crash during assembly is redone by the next run.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from .formats import atomic_output
from .inputs import InputFile, Shard
from .manifest import Manifest
from .records import part_paths

ERRORS_FILE = "_errors.jsonl"


def file_errors(work: Path, rel: str) -> Path:
    """Where an assembled file's error entries are kept (under the work folder)."""
    return work / "errors" / f"{rel}.jsonl"


def assemble(file: InputFile, shards: Sequence[Shard], target: Path, work: Path, manifest: Manifest) -> None:
    """Write ``target`` from the parts of ``shards`` (all of the file's, in order)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    parts = [part_paths(work, shard) for shard in shards]
    with atomic_output(target, binary=True) as out:
        if file.fmt == "parquet":
            _join_parquet([part for part, _ in parts], out)
        else:
            for part, _ in parts:
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
    errors = file_errors(work, file.rel)
    errors.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(errors, binary=True) as out:
        for _, error_part in parts:
            out.write(error_part.read_bytes())
    counts = {key: sum(manifest.shards[s.id][key] for s in shards) for key in ("records", "written", "errors")}
    manifest.finish_file(file.rel, counts)
    shutil.rmtree(work / "parts" / file.rel, ignore_errors=True)


def _join_parquet(parts: Sequence[Path], out: object) -> None:
    import pyarrow.parquet as pq

    writer = None
    for part in parts:
        table = pq.read_table(part)
        if writer is None:
            writer = pq.ParquetWriter(out, table.schema)
        writer.write_table(table)
    if writer is not None:
        writer.close()


def write_error_file(files: Sequence[InputFile], output: Path, work: Path) -> Path:
    """``output/_errors.jsonl``: every error entry of the run, by file and record."""
    target = output / ERRORS_FILE
    with atomic_output(target, binary=True) as out:
        for file in files:
            errors = file_errors(work, file.rel)
            if errors.exists():
                out.write(errors.read_bytes())
    return target
