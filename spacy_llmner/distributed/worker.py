"""The Ray Data actor that anonymizes shards: one loaded pipeline (one GPU), many shards.

``map_batches`` hands each actor one shard at a time. The actor reads the shard's records,
anonymizes them through ``nlp.pipe`` in batches of ``batch_size`` (the local engine's code,
:func:`~spacy_llmner.presidio.files.replace_batch`), and writes the shard's error part, then its
output part, each atomically. The rename of the output part is the commit: a worker that dies
before it leaves nothing behind, and the retried task writes the same part again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError
from ..presidio.files import Replacement, atomic_output, replace_batch
from .inputs import Shard
from .records import (
    ErrorLog,
    Item,
    ReadSettings,
    csv_items,
    jsonl_items,
    parquet_items,
    parquet_table,
    part_paths,
)

#: Columns of the rows an actor returns per shard.
STATS = ("shard", "records", "written", "errors", "seconds")


@dataclass(frozen=True)
class AnonymizeSettings(ReadSettings):
    """Everything that decides the output (so a resumed run must keep it), plus batch size."""

    mode: str = "replace"
    surrogate_scope: str = "record"
    with_patterns: bool = True
    threshold: float = 0.0
    language: str = "en"
    max_chars: int = 1_000_000
    batch_size: int = 8

    def fingerprint(self) -> dict[str, Any]:
        """The settings a resumed run must share (batch size does not change the output)."""
        out = asdict(self)
        out.pop("batch_size")
        return out


def import_code(code: str | None) -> None:
    """Import a file that registers custom components (CLI ``--code``), in this process."""
    if code:
        from spacy.cli._util import import_code as spacy_import_code

        spacy_import_code(code)


def _batched(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class ShardAnonymizer:
    """Anonymizes shards with one analyzer and one operator set (the work inside an actor)."""

    def __init__(self, analyzer: Any, operators: dict[str, Any], settings: AnonymizeSettings, work: Path) -> None:
        from ..presidio.operators import SurrogateTable

        self.analyzer, self.operators, self.settings, self.work = analyzer, operators, settings, work
        self._table = SurrogateTable if settings.surrogate_scope == "file" else None

    def _replace(self, batch: list[Item], table: Any, where: str) -> dict[int, Replacement]:
        """Replacements of the batch's good records; a record that fails becomes an error."""
        s = self.settings
        good: list[Item] = []
        for item in batch:
            text = item.record.text if item.record is not None else None
            if text is not None and len(text) > s.max_chars:
                item.reason = Errors.E508.format(
                    record=item.number, path=where, n=len(text), limit=s.max_chars
                )
                item.record = None
            if item.record is not None:
                good.append(item)

        def run(items: list[Item]) -> list[Replacement]:
            records = [i.record for i in items]
            return replace_batch(self.analyzer, records, self.operators, table, s.batch_size, s.language)  # type: ignore[arg-type]

        try:
            return {id(i): r for i, r in zip(good, run(good), strict=True)}
        except Exception:  # noqa: BLE001 - find the record(s) at fault, one at a time
            out: dict[int, Replacement] = {}
            for item in good:
                try:
                    out[id(item)] = run([item])[0]
                except Exception as err:  # noqa: BLE001 - the type only: messages may quote text
                    item.reason = Errors.E509.format(
                        record=item.number, path=where, error=type(err).__name__
                    )
                    item.record = None
            return out

    def _lines(self, items: Iterable[Item], log: ErrorLog, table: Any, where: str) -> Iterator[tuple[Item, Replacement]]:
        for batch in _batched(items, self.settings.batch_size):
            replaced = self._replace(batch, table, where)
            for item in batch:
                if item.record is None:
                    log.add(item)
                else:
                    yield item, replaced[id(item)]

    def __call__(self, shard: Shard) -> dict[str, Any]:
        """Anonymize one shard into its parts; returns its counts."""
        start = time.perf_counter()
        part, errors_part = part_paths(self.work, shard)
        part.parent.mkdir(parents=True, exist_ok=True)
        log = ErrorLog(shard.rel)
        table = self._table() if self._table is not None else None
        written = 0
        if shard.fmt == "parquet":
            written = self._parquet(shard, part, errors_part, log, table)
        else:
            with atomic_output(part) as out:
                if shard.fmt == "csv":
                    items = csv_items(shard, self.settings, out)
                else:
                    items = jsonl_items(shard, self.settings)
                for item, (new, spans) in self._lines(items, log, table, shard.rel):
                    out.write(item.record.render(new, spans))  # type: ignore[union-attr]
                    written += 1
                log.write(errors_part)  # before the part: a committed part has its errors
        return {
            "shard": shard.id,
            "records": shard.count,
            "written": written,
            "errors": len(log.entries),
            "seconds": time.perf_counter() - start,
        }

    def _parquet(self, shard: Shard, part: Path, errors_part: Path, log: ErrorLog, table: Any) -> int:
        import pyarrow as pa
        import pyarrow.parquet as pq

        data = parquet_table(shard)
        column = self.settings.column
        values = data.column(column).to_pylist()
        kept: dict[int, str | None] = {}
        for item, (new, _) in self._lines(parquet_items(shard, self.settings, values), log, table, shard.rel):
            kept[item.number - shard.first] = values[item.number - shard.first] if new is None else new
        mask = pa.array([i in kept for i in range(len(values))], type=pa.bool_())
        data = data.filter(mask)
        position = data.schema.get_field_index(column)
        new_column = pa.array([kept[i] for i in sorted(kept)], type=data.schema.field(column).type)
        data = data.set_column(position, data.schema.field(column), new_column)
        with atomic_output(part, binary=True) as out:
            pq.write_table(data, out)
            log.write(errors_part)
        return data.num_rows


class AnonymizeWorker:
    """Ray Data UDF (class-based, so an actor pool): the pipeline and Presidio load once."""

    def __init__(
        self,
        pipeline: str,
        settings: dict[str, Any],
        work: str,
        code: str | None = None,
        key: str | None = None,
        salt: str | None = None,
    ) -> None:
        import_code(code)
        from ..presidio import build_analyzer, hipaa_operators

        s = AnonymizeSettings(**settings)
        analyzer = build_analyzer(
            pipeline, with_patterns=s.with_patterns, score_threshold=s.threshold, language=s.language
        )
        operators = hipaa_operators(s.mode, key=key, salt=salt)
        self.run = ShardAnonymizer(analyzer, operators, s, Path(work))

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        """One row per shard in, one row of counts per shard out."""
        n = len(batch["path"])
        shards = [Shard.from_row({k: batch[k][i] for k in batch}) for i in range(n)]
        stats = [self.run(shard) for shard in shards]
        return {key: [s[key] for s in stats] for key in STATS}


def check_settings(settings: AnonymizeSettings, salt: str | None) -> None:
    """Reject settings that shards cannot honour (before any work starts)."""
    if settings.mode == "hash" and not salt:
        raise LLMNERError(Errors.E505)
