"""Anonymize one .txt, .jsonl or .csv file with an analyzer: the local engine's Presidio side.

The file handling (formats, shards, error file, resume) lives in :mod:`spacy_llmner.corpus`,
shared with the Ray engine; this module binds it to an analyzer and an operator set.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from presidio_anonymizer.entities import OperatorConfig

from ..corpus.formats import Format, Record, atomic_output, detect_format
from ..corpus.local import FileStats, error_path, run_file
from ..corpus.manifest import digest
from ..corpus.shards import AnonymizeSettings, OnError, Replacement, replace_batch
from ..errors import Errors, LLMNERError
from .analyzer import LLMNERAnalyzerEngine
from .operators import SURROGATE, SurrogateTable
from .store import SurrogateStore

__all__ = [
    "FileStats",
    "Format",
    "Record",
    "Replacement",
    "anonymize_file",
    "atomic_output",
    "detect_format",
    "error_path",
    "replace_batch",
]


def operators_fingerprint(operators: Mapping[str, OperatorConfig]) -> str:
    """The operator set's identity for resuming (keys and salts only as a digest)."""
    parts = sorted(
        (name, c.operator_name, repr(sorted((k, v) for k, v in c.params.items() if k != "table")))
        for name, c in operators.items()
    )
    return digest(repr(parts)) or ""


def anonymize_file(
    analyzer: LLMNERAnalyzerEngine,
    input_path: Path,
    output_path: Path,
    operators: Mapping[str, OperatorConfig],
    *,
    fmt: str = "auto",
    field: str = "text",
    column: str = "text",
    delimiter: str | None = None,
    whole_file: bool = False,
    items_field: str | None = None,
    id_field: str | None = None,
    surrogate_scope: Literal["record", "file"] = "record",
    surrogate_store: SurrogateStore | None = None,
    on_error: OnError = "skip",
    shard_size: int = 1000,
    max_chars: int = 1_000_000,
    batch_size: int = 8,
    language: str = "en",
    job: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> FileStats:
    """Anonymize ``input_path`` into ``output_path`` (bad records: ``<stem>.errors.jsonl``).

    :param surrogate_store: one table for every record, file and run (replace mode only).
    :param on_error: ``skip`` (default; the Ray engine's contract) or ``stop`` (all or nothing).
    :param job: extra identity of the run for resuming (the CLI passes pipeline and key digests).
    """
    if surrogate_store is not None and not any(c.operator_name == SURROGATE for c in operators.values()):
        modes = sorted({c.operator_name for c in operators.values()})
        raise LLMNERError(Errors.E221.format(mode=", ".join(modes)))
    settings = AnonymizeSettings(
        field=field, column=column, delimiter=delimiter, items_field=items_field,
        id_field=id_field, whole_file=whole_file, surrogate_scope=surrogate_scope,
        language=language, max_chars=max_chars, batch_size=batch_size,
    )

    def transform(records: list[Record], table: Any) -> list[Replacement]:
        return replace_batch(analyzer, records, operators, table, batch_size, language)

    identity = {"operators": operators_fingerprint(operators), **dict(job or {})}
    if surrogate_store is not None:
        identity["store"] = str(Path(surrogate_store.path).resolve())
    return run_file(
        transform, input_path, output_path, settings, fmt=fmt,
        new_table=SurrogateTable if surrogate_scope == "file" else None,
        store=surrogate_store, on_error=on_error, shard_size=shard_size, job=identity,
        progress=progress,
    )
