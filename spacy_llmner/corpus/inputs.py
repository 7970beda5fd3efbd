"""Find the input files of a run and cut them into shards: the unit of work, retry and resume.

A shard is a fixed-size run of records of one file (``shard_size`` records; 0: the whole file):
a byte range of whole lines (txt, JSONL) or whole rows (CSV, where a quoted field may span lines), or
a run of row groups (Parquet). Plans are deterministic, so a rerun over the same files finds the
same shards and can skip the finished ones. Nothing here reads text into memory for long, and
nothing is logged.
"""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError
from .formats import SUFFIXES, Format

#: Formats neither engine anonymizes (a clear error, not a silent skip).
_REFUSED = {".spacy": "a DocBin"}


@dataclass(frozen=True)
class InputFile:
    """One input: its path, its name under the output folder, and what identifies its content."""

    path: str
    rel: str
    fmt: Format
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Shard:
    """Records ``first`` .. ``first + count - 1`` of one file (1-based record numbers).

    ``start``/``stop``: byte offsets (JSONL, CSV data rows) or row-group indices (Parquet).
    """

    path: str
    rel: str
    fmt: Format
    index: int
    start: int
    stop: int
    first: int
    count: int

    @property
    def id(self) -> str:
        """Stable name of the shard in the manifest."""
        return f"{self.rel}#{self.index}"

    def as_row(self) -> dict[str, Any]:
        """A Ray Data row."""
        return asdict(self)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Shard:
        """Back from a Ray Data row (numpy scalars become Python values)."""
        return cls(
            path=str(row["path"]),
            rel=str(row["rel"]),
            fmt=str(row["fmt"]),  # type: ignore[arg-type]
            index=int(row["index"]),
            start=int(row["start"]),
            stop=int(row["stop"]),
            first=int(row["first"]),
            count=int(row["count"]),
        )


def _format_of(path: Path) -> Format | None:
    suffix = path.suffix.lower()
    if suffix in _REFUSED:
        raise LLMNERError(Errors.E503.format(path=path, fmt=_REFUSED[suffix]))
    return SUFFIXES.get(suffix)


def _hidden(rel: Path) -> bool:
    """``_name`` and ``.name`` files and folders are bookkeeping (ours, Spark's, Hadoop's)."""
    return any(part.startswith(("_", ".")) for part in rel.parts)


def discover(spec: str | Path, exclude: Path | None = None) -> list[InputFile]:
    """The input files named by a file, a folder (recursively) or a glob, sorted by name.

    Files under ``exclude`` (the output folder) are left out.
    """
    spec = str(spec)
    root = Path(spec)
    if root.is_file():
        found, base = [root], root.parent
    else:
        if root.is_dir():
            found = [p for p in sorted(root.rglob("*")) if not _hidden(p.relative_to(root))]
            base = root
        else:
            found = [Path(p) for p in sorted(glob.glob(spec, recursive=True))]
            base = Path(os.path.commonpath([str(p.parent.resolve()) for p in found])) if found else root
        found = [p for p in found if p.is_file()]
    skip = exclude.resolve() if exclude is not None else None
    files: list[InputFile] = []
    for path in found:
        absolute = path.resolve()
        if skip is not None and absolute.is_relative_to(skip):
            continue
        fmt = _format_of(path)
        if fmt is None:
            continue
        stat = absolute.stat()
        rel = absolute.relative_to(base.resolve()).as_posix()
        files.append(InputFile(str(absolute), rel, fmt, stat.st_size, stat.st_mtime_ns))
    if not files:
        raise LLMNERError(Errors.E502.format(path=spec))
    return sorted(files, key=lambda f: f.rel)


def default_delimiter(path: str | Path) -> str:
    """Tab for ``.tsv``, else comma (as the local engine)."""
    return "\t" if str(path).lower().endswith(".tsv") else ","


def _line_offsets(path: str, limit: int | None = None) -> Iterator[int]:
    """Byte offset after each line; with ``limit``, stop after that many non-blank lines."""
    offset, seen = 0, 0
    with open(path, "rb") as handle:
        for raw in handle:
            if limit is not None and seen >= limit:
                return
            offset += len(raw)
            seen += bool(raw.strip())
            yield offset


class CsvRows:
    """CSV rows from a byte offset, and the byte offset after each row.

    Lines are decoded with ``surrogateescape``, so invalid UTF-8 is found per row (``bad``)
    instead of stopping the whole file.
    """

    def __init__(self, path: str, delimiter: str, start: int = 0) -> None:
        self.path, self.delimiter, self.start = path, delimiter, start
        self.offset = start

    def _lines(self) -> Iterator[str]:
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            for raw in handle:
                self.offset += len(raw)
                yield raw.decode("utf-8", "surrogateescape")

    def __iter__(self) -> Iterator[list[str]]:
        return iter(csv.reader(self._lines(), delimiter=self.delimiter))

    @staticmethod
    def bad(row: list[str]) -> bool:
        """True when the row held bytes that are not UTF-8."""
        return any("\udc80" <= ch <= "\udcff" for cell in row for ch in cell)


def csv_header(path: str, delimiter: str) -> tuple[list[str], int, str]:
    """The header row, the byte offset of the first data row, and the line terminator."""
    rows = CsvRows(path, delimiter)
    it = iter(rows)
    header = next(it, None) or []
    with open(path, "rb") as handle:
        first = handle.readline()
    return header, rows.offset, "\r\n" if first.endswith(b"\r\n") else "\n"


def check_csv_column(file: InputFile, column: str, delimiter: str) -> None:
    """Fail before any work when the text column is missing (the local engine's E211)."""
    header, _, _ = csv_header(file.path, delimiter)
    if column not in header:
        columns = ", ".join(header) or "none"
        raise LLMNERError(Errors.E211.format(path=file.rel, column=column, columns=columns))


def check_parquet_column(file: InputFile, column: str) -> None:
    """Fail before any work when the Parquet file has no such column."""
    import pyarrow.parquet as pq

    names = pq.ParquetFile(file.path).schema_arrow.names
    if column not in names:
        raise LLMNERError(
            Errors.E211.format(path=file.rel, column=column, columns=", ".join(names) or "none")
        )


def _ranges(ends: Iterator[int], start: int, shard_size: int) -> Iterator[tuple[int, int, int]]:
    """(start, stop, count) runs of ``shard_size`` records from record end offsets."""
    count, lo, hi = 0, start, start
    for hi in ends:
        count += 1
        if shard_size and count == shard_size:
            yield lo, hi, count
            count, lo = 0, hi
    if count or lo == start:
        yield lo, hi if count else lo, count


def input_file(path: Path, fmt: Format, rel: str | None = None) -> InputFile:
    """One named input (the local engine's, whose format may come from ``--format``)."""
    stat = path.stat()
    return InputFile(str(path.resolve()), rel or path.name, fmt, stat.st_size, stat.st_mtime_ns)


def plan(
    file: InputFile,
    shard_size: int,
    delimiter: str | None = None,
    limit: int | None = None,
    whole_file: bool = False,
) -> list[Shard]:
    """The shards of one file, in order; an empty file still gets one (empty) shard.

    ``limit`` (JSONL only): plan just the lines up to the ``limit``-th non-blank one.
    ``whole_file`` (txt only): the file is one record, in one shard.
    """
    if file.fmt == "parquet":
        return _plan_parquet(file, shard_size)
    if file.fmt == "txt" and whole_file:
        return [Shard(file.path, file.rel, file.fmt, 0, 0, file.size, 1, 1)]
    if file.fmt == "csv":
        _, data_start, _ = csv_header(file.path, delimiter or default_delimiter(file.path))
        rows = CsvRows(file.path, delimiter or default_delimiter(file.path), data_start)
        ends: Iterator[int] = (rows.offset for _ in rows)
    else:
        data_start, ends = 0, _line_offsets(file.path, limit)
    shards, first = [], 1
    for index, (lo, hi, count) in enumerate(_ranges(ends, data_start, shard_size)):
        shards.append(Shard(file.path, file.rel, file.fmt, index, lo, hi, first, count))
        first += count
    return shards


def _plan_parquet(file: InputFile, shard_size: int) -> list[Shard]:
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(file.path).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    shards: list[Shard] = []
    lo, rows, first = 0, 0, 1
    for i, n in enumerate(sizes):
        rows += n
        if shard_size and rows >= shard_size:
            shards.append(Shard(file.path, file.rel, "parquet", len(shards), lo, i + 1, first, rows))
            lo, first, rows = i + 1, first + rows, 0
    if rows or not shards:
        shards.append(Shard(file.path, file.rel, "parquet", len(shards), lo, len(sizes), first, rows))
    return shards
