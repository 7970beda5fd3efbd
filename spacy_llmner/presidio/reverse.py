"""``deanonymize`` a file: store-backed ``replace`` surrogates and ``encrypt`` spans put back.

Runs on the local engine (:mod:`spacy_llmner.corpus.local`), so a bad record costs one record
(``<stem>.errors.jsonl``) and a crash resumes. A record is restored completely or not at all:
a surrogate the store does not know is an error (E226), never left half restored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..corpus.formats import Record
from ..corpus.local import FileStats, run_file
from ..corpus.manifest import digest
from ..corpus.shards import AnonymizeSettings, OnError, Replacement
from ..errors import Errors, LLMNERError
from .anonymize import deanonymize
from .store import SurrogateStore


def _restore(record: Record, store: SurrogateStore | None, key: str | None, items_field: str | None) -> Replacement:
    text = record.text
    if text is None:
        return None, []
    if items_field is not None:
        items = (record.data or {}).pop(items_field, None)
        if not isinstance(items, list):
            raise LLMNERError(Errors.E223)
        text = deanonymize(text, items, key=key or "").text
    if store is not None:
        text, _, unknown = store.reverse(text)
        if unknown:
            raise LLMNERError(Errors.E226.format(n=unknown))
    return text, []


def deanonymize_file(
    input_path: Path,
    output_path: Path,
    *,
    key: str | None,
    store_path: Path | None = None,
    items_field: str | None = None,
    fmt: str = "auto",
    field: str = "text",
    column: str = "text",
    delimiter: str | None = None,
    whole_file: bool = False,
    on_error: OnError = "skip",
    progress: bool = True,
) -> FileStats:
    """Restore ``input_path`` into ``output_path`` (see the module docstring)."""
    if store_path is None and items_field is None:
        raise LLMNERError(Errors.E223)
    if store_path is not None and not Path(store_path).is_file():
        raise LLMNERError(Errors.E108.format(path=store_path))
    store = SurrogateStore(store_path, key) if store_path is not None else None
    settings = AnonymizeSettings(
        field=field, column=column, delimiter=delimiter, whole_file=whole_file, mode="deanonymize"
    )

    def transform(records: list[Record], table: Any) -> list[Replacement]:
        return [_restore(r, store, key, items_field) for r in records]

    job = {"key": digest(key), "store": str(Path(store_path).resolve()) if store_path else None,
           "items_field": items_field}
    return run_file(
        transform, Path(input_path), Path(output_path), settings, fmt=fmt, on_error=on_error,
        job=job, progress=progress, desc="deanonymize",
    )
