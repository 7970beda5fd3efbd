"""Stream-anonymize .txt, .jsonl and .csv files; output is written atomically.

- **txt**: one record per line by default (streams, batches; a line never leaks into another);
  line endings (``\\n``, ``\\r\\n``, none at the end) are kept byte for byte. ``whole_file=True``
  treats the file as one document (entities spanning lines, numbering across the file).
- **jsonl**: one JSON object per line; the string in ``field`` is anonymized, every other field
  is kept (objects are re-serialized, key order kept); blank lines are copied.
- **csv**: the ``column`` is anonymized, every other column kept; the header and the line
  terminator of the input are kept (quoting follows Python's ``csv`` minimal quoting).

Output goes to a temporary file next to ``output`` that replaces it only when everything
succeeded, so a failure never leaves partial output. Errors name lines, never content.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from presidio_anonymizer.entities import OperatorConfig

from ..errors import Errors, LLMNERError
from .analyzer import LLMNERAnalyzerEngine
from .anonymize import anonymize
from .operators import SurrogateTable

Format = Literal["txt", "jsonl", "csv"]
_SUFFIXES: dict[str, Format] = {
    ".txt": "txt",
    ".text": "txt",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
}


Renderer = Callable[[str | None, list[dict[str, Any]]], str]


@dataclass
class Record:
    """One unit of input: ``text`` to anonymize (``None``: copy as is) and how to write it."""

    text: str | None
    render: Renderer


def detect_format(path: Path, fmt: str = "auto") -> Format:
    """The file format from ``fmt`` or, for ``auto``, from the suffix."""
    if fmt != "auto":
        if fmt not in ("txt", "jsonl", "csv"):
            raise LLMNERError(Errors.E212.format(path=path))
        return fmt  # type: ignore[return-value]
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise LLMNERError(Errors.E212.format(path=path))
    return found


@contextmanager
def atomic_output(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """A handle on a temp file in ``path``'s directory, renamed onto ``path`` on success.

    Text (UTF-8, newlines untouched) by default; ``binary=True`` for Parquet and byte copies.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise LLMNERError(Errors.E215.format(path=directory))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.chmod(tmp, _new_file_mode(path))
        opened = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        with opened as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _new_file_mode(path: Path) -> int:
    """The mode ``open(path, "w")`` would give (mkstemp's is 0600): keep an existing file's."""
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _split_ending(line: bytes) -> tuple[bytes, str]:
    if line.endswith(b"\r\n"):
        return line[:-2], "\r\n"
    if line.endswith(b"\n"):
        return line[:-1], "\n"
    return line, ""


def _decode(raw: bytes, path: Path, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LLMNERError(Errors.E213.format(path=path, where=f"line {line}")) from err


def count_records(path: Path, fmt: Format, whole_file: bool = False) -> int | None:
    """Lines in the file (for the progress bar); ``None`` where rows ≠ lines (csv)."""
    if fmt == "csv":
        return None
    if fmt == "txt" and whole_file:
        return 1
    n, last = 0, b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            n += chunk.count(b"\n")
            last = chunk
    return n + (1 if last and not last.endswith(b"\n") else 0)


def _plain(original: str, ending: str = "") -> Renderer:
    """Render a text record: its replacement (or the original) plus its line ending."""

    def render(new: str | None, items: list[dict[str, Any]]) -> str:
        return (original if new is None else new) + ending

    return render


def _txt_records(path: Path, whole_file: bool) -> Iterator[Record]:
    if whole_file:
        text = _decode(path.read_bytes(), path, 1)
        yield Record(text, _plain(text))
        return
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            content, ending = _split_ending(raw)
            text = _decode(content, path, number)
            yield Record(
                text if text.strip() else None,
                _plain(text, ending),
            )


def _jsonl_records(path: Path, field: str, items_field: str | None) -> Iterator[Record]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            content, ending = _split_ending(raw)
            yield jsonl_record(_decode(content, path, number), ending, number, path, field, items_field)


def jsonl_record(
    line: str, ending: str, number: int, path: Path, field: str, items_field: str | None
) -> Record:
    """One decoded JSONL line as a Record; a coded error (naming the line, not its content)."""
    if not line.strip():
        return Record(None, _plain(line, ending))
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        reason = f"{err.msg} at column {err.colno}"
        raise LLMNERError(Errors.E208.format(line=number, path=path, reason=reason)) from None
    if not isinstance(obj, dict):
        reason = f"a JSON {type(obj).__name__}"
        raise LLMNERError(Errors.E208.format(line=number, path=path, reason=reason))
    if field not in obj:
        raise LLMNERError(Errors.E209.format(line=number, path=path, field=field))
    value = obj[field]
    if value is not None and not isinstance(value, str):
        raise LLMNERError(
            Errors.E210.format(line=number, path=path, field=field, type=type(value).__name__)
        )

    def render(new: str | None, items: list[dict[str, Any]]) -> str:
        if new is not None:
            obj[field] = new
        if items_field is not None:
            obj[items_field] = items
        return json.dumps(obj, ensure_ascii=False) + ending

    return Record(value if value and value.strip() else None, render)


def _csv_records(path: Path, column: str, delimiter: str, out: IO[str]) -> Iterator[Record]:
    where = "the header"
    with path.open("r", encoding="utf-8", newline="") as handle:
        try:
            first = handle.readline()
            handle.seek(0)
            terminator = "\r\n" if first.endswith("\r\n") else "\n"
            reader = csv.reader(handle, delimiter=delimiter)
            header = next(reader, None)
            if header is None or column not in header:
                columns = ", ".join(header or []) or "none"
                raise LLMNERError(Errors.E211.format(path=path, column=column, columns=columns))
            index = header.index(column)
            writer = csv.writer(out, delimiter=delimiter, lineterminator=terminator)
            writer.writerow(header)
            for row in reader:
                where = f"row {reader.line_num + 1}"
                yield csv_record(row, index, writer)
        except UnicodeDecodeError as err:
            raise LLMNERError(Errors.E213.format(path=path, where=where)) from err


def csv_record(row: list[str], index: int, writer: Any) -> Record:
    """One CSV row as a Record whose render writes the row (text column ``index``) to ``writer``."""

    def render(new: str | None, items: list[dict[str, Any]]) -> str:
        if new is not None:
            row[index] = new
        writer.writerow(row)
        return ""

    value = row[index] if index < len(row) else None
    return Record(value if value and value.strip() else None, render)


def _batched(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


Replacement = tuple[str | None, list[dict[str, Any]]]


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
    surrogate table for all records (file scope); ``None`` numbers each record on its own.
    """
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
    surrogate_scope: Literal["record", "file"] = "record",
    batch_size: int = 8,
    language: str = "en",
    progress: bool = True,
) -> int:
    """Anonymize ``input_path`` into ``output_path``; returns the number of records."""
    from tqdm import tqdm

    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise LLMNERError(Errors.E108.format(path=input_path))
    kind = detect_format(input_path, fmt)
    if items_field is not None and kind != "jsonl":
        raise LLMNERError(Errors.E216.format(fmt=kind))
    if delimiter is None:
        delimiter = "\t" if input_path.suffix.lower() == ".tsv" else ","
    file_table = SurrogateTable()
    total = count_records(input_path, kind, whole_file)
    n = 0
    with (
        atomic_output(output_path) as out,
        tqdm(
            total=total, unit="rec", desc="anonymize", file=sys.stderr, disable=not progress
        ) as bar,
    ):
        if kind == "txt":
            records = _txt_records(input_path, whole_file)
        elif kind == "jsonl":
            records = _jsonl_records(input_path, field, items_field)
        else:
            records = _csv_records(input_path, column, delimiter, out)
        for batch in _batched(records, batch_size):
            table = file_table if surrogate_scope == "file" else None
            replaced = replace_batch(analyzer, batch, operators, table, batch_size, language)
            for record, (new, items) in zip(batch, replaced, strict=True):
                out.write(record.render(new, items))
                n += 1
            bar.update(len(batch))
    return n
