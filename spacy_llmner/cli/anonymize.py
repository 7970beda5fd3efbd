"""``python -m spacy_llmner anonymize PIPELINE INPUT OUTPUT``: HIPAA-style file anonymization.

Presidio and the pipeline are imported inside the command, so other commands start fast and
work without Presidio installed.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ._app import app


class FileFormat(Enum):
    auto = "auto"
    txt = "txt"
    jsonl = "jsonl"
    csv = "csv"


class Mode(Enum):
    replace = "replace"
    mask = "mask"
    hash = "hash"
    encrypt = "encrypt"


class Scope(Enum):
    record = "record"
    file = "file"


class Engine(Enum):
    local = "local"
    ray = "ray"


@app.command("anonymize")
def anonymize_command(
    pipeline: str = typer.Argument(..., help="spaCy pipeline directory (or package name)."),
    input_path: Path = typer.Argument(
        ..., help="Input .txt, .jsonl/.ndjson, .csv or .tsv file (ray: also .parquet, a folder or a glob)."
    ),
    output_path: Path = typer.Argument(
        ..., help="Output file, written atomically (ray: a folder, one output per input)."
    ),
    fmt: FileFormat = typer.Option(
        FileFormat.auto, "--format", help="Input format (auto: by suffix)."
    ),
    field: str = typer.Option("text", "--field", help="JSONL: the text field."),
    column: str = typer.Option("text", "--column", help="CSV: the text column."),
    delimiter: str | None = typer.Option(
        None, "--delimiter", help="CSV delimiter (default , or tab for .tsv)."
    ),
    whole_file: bool = typer.Option(
        False, "--whole-file", help="txt: one document per file, not per line."
    ),
    mode: Mode = typer.Option(
        Mode.replace, "--mode", help="replace (<LABEL_n>), mask, hash (salted) or encrypt (AES)."
    ),
    key: str | None = typer.Option(
        None,
        "--key",
        envvar="SPACY_LLMNER_KEY",
        help="AES key (16/24/32 bytes) for --mode encrypt.",
    ),
    salt: str | None = typer.Option(
        None,
        "--salt",
        envvar="SPACY_LLMNER_SALT",
        help="Hash salt (>= 16 bytes); default: random per run.",
    ),
    surrogate_scope: Scope = typer.Option(
        Scope.record, "--surrogate-scope", help="Number <LABEL_n> per record or across the file."
    ),
    items_field: str | None = typer.Option(
        None,
        "--items-field",
        help="JSONL: store the replaced spans in this field (needed to decrypt).",
    ),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Texts per nlp.pipe batch."),
    no_patterns: bool = typer.Option(
        False, "--no-patterns", help="LLM only: no Presidio pattern recognizers."
    ),
    threshold: float = typer.Option(
        0.0, "--threshold", min=0.0, max=1.0, help="Minimum score of a detection."
    ),
    language: str = typer.Option("en", "--language"),
    code: Path | None = typer.Option(
        None, "--code", help="Python file to import first (custom components)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    engine: Engine = typer.Option(
        Engine.local, "--engine", help="local: this process; ray: Ray Data actors (docs/scale.md)."
    ),
    address: str | None = typer.Option(
        None, "--address", help="ray: cluster address (auto, ray://host:10001); default: local Ray."
    ),
    actors: int = typer.Option(1, "--actors", min=1, help="ray: actors, each with one pipeline."),
    gpus_per_actor: float = typer.Option(0.0, "--gpus-per-actor", min=0.0, help="ray: GPUs per actor."),
    shard_size: int = typer.Option(
        1000, "--shard-size", min=0, help="ray: records per shard, the unit of resume (0: per file)."
    ),
    id_field: str | None = typer.Option(
        None, "--id-field", help="ray: field/column that identifies a record in _errors.jsonl."
    ),
    max_chars: int = typer.Option(
        1_000_000, "--max-chars", min=1, help="ray: longer records go to _errors.jsonl."
    ),
) -> None:
    """Anonymize a file with a spacy_llmner pipeline (+ Presidio's validated patterns)."""
    if engine is Engine.ray:
        from ..distributed import anonymize_dataset

        stats = anonymize_dataset(
            pipeline, input_path, output_path, mode=mode.value, key=key, salt=salt, field=field,
            column=column, delimiter=delimiter, items_field=items_field, id_field=id_field,
            surrogate_scope=surrogate_scope.value, with_patterns=not no_patterns,
            threshold=threshold, language=language, max_chars=max_chars, batch_size=batch_size,
            shard_size=shard_size, address=address, actors=actors, gpus_per_actor=gpus_per_actor,
            code=code, progress=not quiet,
        )
        typer.echo(stats.summary(), err=True)
        return
    if code is not None:
        from spacy.cli._util import import_code

        import_code(code)
    from ..presidio import build_analyzer, hipaa_operators
    from ..presidio.files import anonymize_file

    operators = hipaa_operators(mode.value, key=key, salt=salt)
    analyzer = build_analyzer(
        pipeline, with_patterns=not no_patterns, score_threshold=threshold, language=language
    )
    n = anonymize_file(
        analyzer,
        input_path,
        output_path,
        operators,
        fmt=fmt.value,
        field=field,
        column=column,
        delimiter=delimiter,
        whole_file=whole_file,
        items_field=items_field,
        surrogate_scope=surrogate_scope.value,
        batch_size=batch_size,
        language=language,
        progress=not quiet,
    )
    typer.echo(f"Anonymized {n} records → {output_path}", err=True)
