"""The record formats both engines read (txt, jsonl, csv) and the atomic output file.

- **txt**: one record per line by default; line endings (``\\n``, ``\\r\\n``, none at the end)
  are kept byte for byte. ``whole_file=True`` treats the file as one record.
- **jsonl**: one JSON object per line; the string in ``field`` is anonymized, every other field
  is kept (objects are re-serialized, key order kept); blank lines are copied.
- **csv**: the ``column`` is anonymized, every other column kept; the header and the line
  terminator of the input are kept (quoting follows Python's ``csv`` minimal quoting).

Output goes to a temporary file next to the target that replaces it only on success, so a
failure never leaves partial output. Errors name lines, never content.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from ..errors import Errors, LLMNERError

# Every input format a run reads, by suffix (Parquet only through the Ray engine's reader).
Format = Literal["txt", "jsonl", "csv", "parquet"]
SUFFIXES: dict[str, Format] = {
    ".txt": "txt",
    ".text": "txt",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
}
STREAMED: tuple[Format, ...] = ("txt", "jsonl", "csv")  # what a file is streamed record by record as


Renderer = Callable[[str | None, list[dict[str, Any]]], str]


@dataclass
class Record:
    """One unit of input: ``text`` to anonymize (``None``: copy as is) and how to write it."""

    text: str | None
    render: Renderer
    #: The parsed JSON object of a JSONL record (deanonymize reads its items field).
    data: dict[str, Any] | None = None


def detect_format(path: Path, fmt: str = "auto") -> Format:
    """The file format from ``fmt`` or, for ``auto``, from the suffix."""
    if fmt != "auto":
        if fmt not in STREAMED:
            raise LLMNERError(Errors.E212.format(path=path))
        return fmt  # type: ignore[return-value]
    found = SUFFIXES.get(path.suffix.lower())
    if found not in STREAMED:
        raise LLMNERError(Errors.E212.format(path=path))
    return found


@contextmanager
def atomic_output(path: Path, binary: bool = False, mode: int | None = None) -> Iterator[IO[Any]]:
    """A handle on a temp file in ``path``'s directory, renamed onto ``path`` on success.

    Text (UTF-8, newlines untouched) by default; ``binary=True`` for Parquet and byte copies.
    ``mode``: the file's permissions (default: what ``open(path, "w")`` would give).
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise LLMNERError(Errors.E215.format(path=directory))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as err:  # read-only folder, no permission, disk full
        raise LLMNERError(Errors.E112.format(path=path, reason=err.strerror or type(err).__name__)) from None
    try:
        os.chmod(tmp, _new_file_mode(path) if mode is None else mode)
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


def split_ending(line: bytes) -> tuple[bytes, str]:
    if line.endswith(b"\r\n"):
        return line[:-2], "\r\n"
    if line.endswith(b"\n"):
        return line[:-1], "\n"
    return line, ""


def plain(original: str, ending: str = "") -> Renderer:
    """Render a text record: its replacement (or the original) plus its line ending."""

    def render(new: str | None, items: list[dict[str, Any]]) -> str:
        return (original if new is None else new) + ending

    return render


def jsonl_record(
    line: str, ending: str, number: int, path: Path, field: str, items_field: str | None
) -> Record:
    """One decoded JSONL line as a Record; a coded error (naming the line, not its content)."""
    if not line.strip():
        return Record(None, plain(line, ending))
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

    return Record(value if value and value.strip() else None, render, obj)


def csv_record(row: list[str], index: int, writer: Any) -> Record:
    """One CSV row as a Record whose render writes the row (text column ``index``) to ``writer``."""

    def render(new: str | None, items: list[dict[str, Any]]) -> str:
        if new is not None:
            row[index] = new
        writer.writerow(row)
        return ""

    value = row[index] if index < len(row) else None
    return Record(value if value and value.strip() else None, render)
