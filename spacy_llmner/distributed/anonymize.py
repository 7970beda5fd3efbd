"""``anonymize_dataset``: de-identify txt, JSONL, CSV and Parquet inputs on a Ray cluster, resumably.

Plan shards on the driver → skip the ones the manifest lists → Ray Data ``map_batches`` over the
rest with an actor pool of :class:`~.worker.AnonymizeWorker` → as each file's last shard lands,
join its parts into ``output/<file>`` (atomically) → ``output/_errors.jsonl`` and a summary.
Every input record ends up exactly once in the output or in the error file, in input order.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..corpus.assemble import assemble, write_error_file
from ..corpus.inputs import InputFile, Shard, check_csv_column, check_parquet_column, default_delimiter, discover, plan
from ..corpus.manifest import Manifest, digest
from ..corpus.records import part_paths
from ..corpus.shards import AnonymizeSettings
from ..errors import Errors, LLMNERError
from ._ray import require_ray
from .execute import Cluster, run_shards
from .worker import STATS, AnonymizeWorker, check_settings

#: The run's bookkeeping (manifest, parts, per-file errors), inside the output folder.
WORK_DIR = "_spacy_llmner"


@dataclass(frozen=True)
class RunStats:
    """What a run did: totals over the whole job (resumed shards included) and this run's rate."""

    files: int
    shards: int
    shards_resumed: int
    records: int
    written: int
    errors: int
    records_this_run: int
    seconds: float
    records_per_s: float
    error_file: str

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"{self.records} records in {self.files} files: {self.written} written, "
            f"{self.errors} errors ({self.error_file}); {self.records_this_run} this run in "
            f"{self.seconds:.1f} s ({self.records_per_s:.1f} records/s), "
            f"{self.shards_resumed} of {self.shards} shards resumed"
        )


def _job(
    settings: AnonymizeSettings, files: Sequence[InputFile], pipeline: str, shard_size: int, key: str | None,
    salt: str | None,
) -> dict[str, Any]:
    return {
        "settings": settings.fingerprint(),
        "pipeline": str(pipeline),
        "shard_size": shard_size,
        "key": digest(key),
        "salt": digest(salt),
        "files": [asdict(f) for f in files],
    }


def _check(files: Sequence[InputFile], settings: AnonymizeSettings, shard_size: int) -> None:
    """What can be refused before any work: missing columns, option/format mismatches."""
    if settings.surrogate_scope == "file" and shard_size != 0:
        raise LLMNERError(Errors.E504)
    for file in files:
        if settings.items_field is not None and file.fmt != "jsonl":
            raise LLMNERError(Errors.E216.format(fmt=file.fmt))
        if file.fmt == "csv":
            check_csv_column(file, settings.column, settings.delimiter or default_delimiter(file.path))
        elif file.fmt == "parquet":
            check_parquet_column(file, settings.column)


def _left(rel: str, shards: Sequence[Shard], manifest: Manifest, out_dir: Path, work: Path) -> set[str]:
    """Shards of a file still to run: none when its output is in place, else the unfinished ones."""
    if rel in manifest.files and (out_dir / rel).exists():
        return set()
    manifest.files.pop(rel, None)  # recorded, but the output was removed since: redo it
    return {s.id for s in shards if s.id not in manifest.shards or not part_paths(work, s)[0].exists()}


def _output_folder(output: Path) -> Path:
    if output.exists() and not output.is_dir():
        raise LLMNERError(Errors.E511.format(path=output, problem="a file"))
    output.mkdir(parents=True, exist_ok=True)
    return output.resolve()


def anonymize_dataset(
    pipeline: str | Path,
    inputs: str | Path,
    output: str | Path,
    *,
    mode: str = "replace",
    key: str | None = None,
    salt: str | None = None,
    field: str = "text",
    column: str = "text",
    delimiter: str | None = None,
    items_field: str | None = None,
    id_field: str | None = None,
    whole_file: bool = False,
    surrogate_scope: str = "record",
    with_patterns: bool = True,
    threshold: float = 0.0,
    language: str = "en",
    max_chars: int = 1_000_000,
    batch_size: int = 8,
    shard_size: int = 1000,
    address: str | None = None,
    actors: int = 1,
    gpus_per_actor: float = 0.0,
    cpus_per_actor: float = 1.0,
    max_restarts: int = 3,
    code: str | Path | None = None,
    progress: bool = True,
) -> RunStats:
    """Anonymize a file, a folder or a glob of txt/JSONL/CSV/Parquet into ``output/`` with Ray.

    The options are the local engine's (``python -m spacy_llmner anonymize``); ``output`` is a
    folder that gets one file per input (same relative name and format), ``_errors.jsonl``
    (file, record number, id, reason: never text) and the run's manifest. Rerunning the same
    call resumes: finished shards are skipped.

    :param shard_size: records per shard (0: one shard per file), the unit of retry and resume.
    :param id_field: a field/column whose value identifies a record in the error file.
    :param max_chars: longer records go to the error file instead of the pipeline.
    :param address: Ray address (``auto``, ``ray://host:10001``); ``None`` starts a local Ray
        unless one is running in this process.
    :param actors: actors in the pool; each loads the pipeline once (one GPU each with
        ``gpus_per_actor=1``).
    :param code: a Python file every actor imports first (custom components).
    """
    from tqdm import tqdm

    require_ray()  # before any work: without the extra this is E501, naming it
    started = time.perf_counter()
    settings = AnonymizeSettings(
        field=field,
        column=column,
        delimiter=delimiter,
        items_field=items_field,
        id_field=id_field,
        whole_file=whole_file,
        mode=mode,
        surrogate_scope=surrogate_scope,
        with_patterns=with_patterns,
        threshold=threshold,
        language=language,
        max_chars=max_chars,
        batch_size=batch_size,
    )
    check_settings(settings, salt)
    out_dir = _output_folder(Path(output))
    files = discover(inputs, exclude=out_dir)
    _check(files, settings, shard_size)
    work = out_dir / WORK_DIR
    manifest = Manifest.open(work, _job(settings, files, str(pipeline), shard_size, key, salt), out_dir)
    plans = {f.rel: plan(f, shard_size, settings.delimiter, whole_file=whole_file) for f in files}
    by_rel = {f.rel: f for f in files}
    left = {rel: _left(rel, plans[rel], manifest, out_dir, work) for rel in plans}

    def finish(rel: str) -> None:
        if rel not in manifest.files:
            assemble(by_rel[rel], plans[rel], out_dir / rel, work, manifest)

    for rel, ids in left.items():  # files whose shards all finished before (crash while joining)
        if not ids:
            finish(rel)
    pending = [s for shards in plans.values() for s in shards if s.id in left[s.rel]]
    n_shards = sum(len(shards) for shards in plans.values())
    bar = tqdm(total=sum(s.count for s in pending), unit="rec", desc="anonymize (ray)", file=sys.stderr, disable=not progress)

    def on_result(row: dict[str, Any]) -> None:
        shard_id = str(row["shard"])
        rel = shard_id.rsplit("#", 1)[0]
        manifest.finish_shard(shard_id, {k: int(row[k]) for k in ("records", "written", "errors")})
        if shard_id in left[rel]:
            left[rel].discard(shard_id)
            bar.update(int(row["records"]))
            if not left[rel]:
                finish(rel)

    worker_kwargs = {
        "pipeline": str(pipeline),
        "settings": asdict(settings),
        "work": str(work),
        "code": str(code) if code else None,
        "key": key,
        "salt": salt,
    }
    cluster = Cluster(address, actors, gpus_per_actor, cpus_per_actor, max_restarts)
    with bar:
        run_shards(pending, AnonymizeWorker, worker_kwargs, cluster, STATS, on_result, n_shards - len(pending))
    error_file = write_error_file(files, out_dir, work)
    seconds = time.perf_counter() - started
    this_run = sum(s.count for s in pending)
    totals = {k: sum(c[k] for c in manifest.files.values()) for k in ("records", "written", "errors")}
    return RunStats(
        files=len(files),
        shards=n_shards,
        shards_resumed=n_shards - len(pending),
        records=totals["records"],
        written=totals["written"],
        errors=totals["errors"],
        records_this_run=this_run,
        seconds=round(seconds, 3),
        records_per_s=round(this_run / seconds, 3) if seconds > 0 else 0.0,
        error_file=str(error_file),
    )


