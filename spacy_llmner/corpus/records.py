"""Read one shard's records: what both engines (local and Ray) do with a shard before the model.

Each input record becomes exactly one of: an output record (in input order) or an error entry
``{"file", "record", "id"?, "reason"}``. Reasons are coded messages that name lines and types,
never content, so the error file holds no personal data. A record that cannot be anonymized is
never written out as it was.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import Errors, LLMNERError
from .formats import Record, atomic_output, csv_record, jsonl_record, plain, split_ending
from .inputs import CsvRows, Shard, csv_header

#: Where a shard's output part and error part go, under the run's work folder.
PART_SUFFIX, ERRORS_SUFFIX = ".part", ".errors.jsonl"


@dataclass(frozen=True)
class ReadSettings:
    """How records are found in a file (the same options as the local engine)."""

    field: str = "text"
    column: str = "text"
    delimiter: str | None = None
    items_field: str | None = None
    id_field: str | None = None
    whole_file: bool = False


@dataclass
class Item:
    """One input record: ready to anonymize (``record``), or an error ``reason``."""

    number: int
    record: Record | None = None
    reason: str | None = None
    record_id: Any = None


@dataclass
class ErrorLog:
    """The error entries of one shard (ids and reasons only)."""

    rel: str
    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, item: Item) -> None:
        entry: dict[str, Any] = {"file": self.rel, "record": item.number}
        if item.record_id is not None:
            entry["id"] = item.record_id
        entry["reason"] = item.reason
        self.entries.append(entry)

    def write(self, path: Path) -> None:
        """Write the entries atomically (an empty file when there are none)."""
        with atomic_output(path) as out:
            for entry in self.entries:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")


def shard_items(shard: Shard, settings: ReadSettings, out: IO[str]) -> Iterator[Item]:
    """The items of a txt, JSONL or CSV shard (CSV rows render through a writer on ``out``)."""
    if shard.fmt == "csv":
        return csv_items(shard, settings, out)
    if shard.fmt == "txt":
        return txt_items(shard, settings)
    return jsonl_items(shard, settings)


def part_paths(work: Path, shard: Shard) -> tuple[Path, Path]:
    """(output part, error part) of a shard."""
    base = work / "parts" / shard.rel / f"{shard.index:06d}"
    return base.with_suffix(PART_SUFFIX), base.with_suffix(ERRORS_SUFFIX)


def _json_id(line: str, id_field: str | None) -> Any:
    """The id of a JSONL record that failed, where it can still be read (str/int only)."""
    if id_field is None:
        return None
    try:
        value = json.loads(line).get(id_field)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def jsonl_items(shard: Shard, settings: ReadSettings) -> Iterator[Item]:
    """The shard's lines: a bad line (encoding, JSON, field) is an error, the rest go on."""
    where = Path(shard.rel)
    with open(shard.path, "rb") as handle:
        handle.seek(shard.start)
        for number in range(shard.first, shard.first + shard.count):
            content, ending = split_ending(handle.readline())
            try:
                line = content.decode("utf-8")
            except UnicodeDecodeError:
                yield Item(number, reason=Errors.E510.format(record=number, path=where))
                continue
            try:
                record = jsonl_record(
                    line, ending, number, where, settings.field, settings.items_field
                )
            except LLMNERError as err:
                yield Item(number, reason=str(err), record_id=_json_id(line, settings.id_field))
                continue
            yield Item(number, record, record_id=_json_id(line, settings.id_field))


def txt_items(shard: Shard, settings: ReadSettings) -> Iterator[Item]:
    """The shard's lines (or, ``whole_file``, the file): a line that is not UTF-8 is an error."""
    with open(shard.path, "rb") as handle:
        handle.seek(shard.start)
        for number in range(shard.first, shard.first + shard.count):
            if settings.whole_file:
                content, ending = handle.read(), ""
            else:
                content, ending = split_ending(handle.readline())
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                yield Item(number, reason=Errors.E510.format(record=number, path=shard.rel))
                continue
            yield Item(number, Record(text if text.strip() else None, plain(text, ending)))


def csv_items(shard: Shard, settings: ReadSettings, out: IO[str]) -> Iterator[Item]:
    """The shard's rows, rendered by a writer on ``out``; shard 0 writes the header first."""
    delimiter = settings.delimiter or ("\t" if shard.path.lower().endswith(".tsv") else ",")
    header, _, terminator = csv_header(shard.path, delimiter)
    writer = csv.writer(out, delimiter=delimiter, lineterminator=terminator)
    if shard.index == 0:
        writer.writerow(header)
    index = header.index(settings.column)
    id_index = header.index(settings.id_field) if settings.id_field in header else None
    rows = iter(CsvRows(shard.path, delimiter, shard.start))
    for number in range(shard.first, shard.first + shard.count):
        row = next(rows)
        if CsvRows.bad(row):
            yield Item(number, reason=Errors.E510.format(record=number, path=shard.rel))
            continue
        if row and len(row) != len(header):  # a stray delimiter shifts text into other columns
            reason = Errors.E219.format(
                record=number, path=shard.rel, n=len(row), expected=len(header)
            )
            yield Item(number, reason=reason)
            continue
        item = Item(number, csv_record(row, index, writer))
        if id_index is not None and id_index < len(row):
            item.record_id = row[id_index]
        yield item


def parquet_table(shard: Shard) -> Any:
    """The shard's rows as a pyarrow Table."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(shard.path).read_row_groups(list(range(shard.start, shard.stop)))


def parquet_items(shard: Shard, settings: ReadSettings, values: list[Any]) -> Iterator[Item]:
    """Rows of the text column: a value that is not a string (or null) is an error."""
    for offset, value in enumerate(values):
        number = shard.first + offset
        if value is not None and not isinstance(value, str):
            reason = Errors.E210.format(
                line=number, path=shard.rel, field=settings.column, type=type(value).__name__
            )
            yield Item(number, reason=reason)
            continue
        yield Item(number, Record(value if value and value.strip() else None, _keep))


def _keep(new: str | None, items: list[dict[str, Any]]) -> str:
    """Parquet rows are written as a table, not rendered as lines."""
    return ""
