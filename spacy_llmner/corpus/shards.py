"""Turn one shard into its output part and error part: the work both engines do per shard.

The local engine runs shards one after another in this process; the Ray engine runs them in
actors. Both call :class:`ShardRunner`, so the two write the same records. Each input record
becomes exactly one of: an output record (in input order) or an error entry (ids and coded
reasons, never text). The error part is written first and the output part's rename is the
commit, so a process killed mid-shard leaves nothing, and a retried shard writes the same part.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import Errors, LLMNERError
from .formats import Record, atomic_output
from .inputs import Shard
from .records import ErrorLog, Item, ReadSettings, parquet_items, parquet_table, part_paths, shard_items

if TYPE_CHECKING:
    from presidio_anonymizer.entities import OperatorConfig

    from ..presidio.analyzer import LLMNERAnalyzerEngine
    from ..presidio.operators import SurrogateTable

#: (new text or ``None`` to keep the record's own, replaced spans) per record.
Replacement = tuple[str | None, list[dict[str, Any]]]
#: Records (and the shared surrogate table, if any) → one replacement per record.
Transform = Callable[[list[Record], Any], list[Replacement]]
OnError = Literal["skip", "stop"]


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


def replace_batch(
    analyzer: LLMNERAnalyzerEngine,
    batch: list[Record],
    operators: Mapping[str, OperatorConfig],
    table: SurrogateTable | None = None,
    batch_size: int = 8,
    language: str = "en",
) -> list[Replacement]:
    """(anonymized text, replaced spans) per record; the texts go through ``nlp.pipe`` together.

    Nothing is rendered here, so a failure leaves no half-written batch. ``table``: one
    surrogate table for all records (file scope, or a surrogate store); ``None`` numbers each
    record on its own.
    """
    from ..presidio.anonymize import anonymize
    from ..presidio.operators import SurrogateTable

    texts = [r.text for r in batch if r.text is not None]
    analyzed = iter(list(analyzer.analyze_batch(texts, language, batch_size=batch_size)))
    out: list[Replacement] = []
    for record in batch:
        if record.text is None:
            out.append((None, []))
            continue
        surrogates = table if table is not None else SurrogateTable()
        result = anonymize(record.text, next(analyzed), operators, surrogates=surrogates)
        items = [
            {"start": i.start, "end": i.end, "entity_type": i.entity_type, "operator": i.operator}
            for i in sorted(result.items, key=lambda i: i.start)
        ]
        out.append((result.text, items))
    return out


def _batched(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class ShardRunner:
    """Runs ``transform`` over the good records of shards; the rest go to the error part.

    :param new_table: a fresh surrogate table per shard (file scope: a shard is the file), or
        ``None``; a surrogate store is passed as ``store`` and shared by every shard instead.
    :param on_error: ``skip`` (error entries) or ``stop`` (raise the first coded reason; a
        failure in ``transform`` propagates as it is).
    """

    def __init__(
        self,
        transform: Transform,
        settings: AnonymizeSettings,
        work: Path,
        *,
        new_table: Callable[[], Any] | None = None,
        store: Any = None,
        on_error: OnError = "skip",
    ) -> None:
        self.transform, self.settings, self.work = transform, settings, work
        self.new_table, self.store, self.on_error = new_table, store, on_error

    def _fail(self, item: Item, reason: str) -> None:
        item.reason, item.record = reason, None
        if self.on_error == "stop":
            raise LLMNERError(reason)

    def _replace(self, batch: list[Item], table: Any, where: str) -> dict[int, Replacement]:
        """Replacements of the batch's good records; a record that fails becomes an error."""
        s = self.settings
        good: list[Item] = []
        for item in batch:
            if item.reason is not None and self.on_error == "stop":
                raise LLMNERError(item.reason)
            text = item.record.text if item.record is not None else None
            if text is not None and len(text) > s.max_chars:
                self._fail(item, Errors.E508.format(record=item.number, path=where, n=len(text), limit=s.max_chars))
            if item.record is not None:
                good.append(item)

        def run(items: list[Item]) -> list[Replacement]:
            return self.transform([i.record for i in items], table)  # type: ignore[misc]

        if self.on_error == "stop":
            return {id(i): r for i, r in zip(good, run(good), strict=True)}
        try:
            return {id(i): r for i, r in zip(good, run(good), strict=True)}
        except LLMNERError as err:
            if self.store is not None and "[E220]" in str(err):
                raise  # the store itself is unusable: no record could succeed
            return self._one_by_one(good, run, where)
        except Exception:  # noqa: BLE001 - find the record(s) at fault, one at a time
            return self._one_by_one(good, run, where)

    def _one_by_one(
        self, good: list[Item], run: Callable[[list[Item]], list[Replacement]], where: str
    ) -> dict[int, Replacement]:
        out: dict[int, Replacement] = {}
        for item in good:
            try:
                out[id(item)] = run([item])[0]
            except LLMNERError as err:  # coded: keep the code, never the text
                code = str(err)[:6]
                reason = Errors.E509.format(record=item.number, path=where, error=code)
                self._fail(item, reason)
            except Exception as err:  # noqa: BLE001 - the type only: messages may quote text
                reason = Errors.E509.format(record=item.number, path=where, error=type(err).__name__)
                self._fail(item, reason)
        return out

    def _lines(self, items: Iterable[Item], log: ErrorLog, table: Any, where: str) -> Iterator[tuple[Item, Replacement]]:
        for batch in _batched(items, self.settings.batch_size):
            replaced = self._replace(batch, table, where)
            for item in batch:
                if item.record is None:
                    log.add(item)
                else:
                    yield item, replaced[id(item)]

    def _table(self) -> Any:
        if self.store is not None:
            return self.store
        return self.new_table() if self.new_table is not None else None

    def __call__(self, shard: Shard) -> dict[str, Any]:
        """Transform one shard into its parts; returns its counts."""
        start = time.perf_counter()
        part, errors_part = part_paths(self.work, shard)
        part.parent.mkdir(parents=True, exist_ok=True)
        log = ErrorLog(shard.rel)
        table = self._table()
        written = 0
        if shard.fmt == "parquet":
            written = self._parquet(shard, part, errors_part, log, table)
        else:
            with atomic_output(part) as out:
                for item, (new, spans) in self._lines(shard_items(shard, self.settings, out), log, table, shard.rel):
                    out.write(item.record.render(new, spans))  # type: ignore[union-attr]
                    written += 1
                log.write(errors_part)  # before the part: a committed part has its errors
                if self.store is not None:
                    self.store.save()  # before the part: its surrogates outlive a crash
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
            if self.store is not None:
                self.store.save()
        return data.num_rows


def prescan(shards: Iterable[Shard], settings: ReadSettings, on_error: OnError) -> int:
    """Run the cheap checks (decoding, JSON, fields, CSV shape) over every record, no model.

    Returns how many records fail them; with ``on_error="stop"`` the first one raises, so a
    file that will fail fails in seconds, not after the model has read what comes before.
    """
    import io

    bad = 0
    for shard in shards:
        if shard.fmt == "parquet":
            continue  # typed columns: checked per value by the runner, no parsing to fail
        for item in shard_items(shard, settings, io.StringIO()):
            if item.reason is not None:
                if on_error == "stop":
                    raise LLMNERError(item.reason)
                bad += 1
    return bad


def import_code(code: str | None) -> None:
    """Import a file that registers custom components (CLI ``--code``), in this process."""
    if code:
        from spacy.cli._util import import_code as spacy_import_code

        spacy_import_code(code)
