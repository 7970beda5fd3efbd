"""``anonymize PIPELINE INPUT OUTPUT`` (HIPAA-style file anonymization) and ``deanonymize``.

Presidio and the pipeline are imported inside the command, so other commands start fast and
work without Presidio installed.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from ..errors import Errors, LLMNERError
from ._app import app
from ._options import ACTORS, ADDRESS, ENGINE, GPUS_PER_ACTOR, Engine, shard_size_option


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


class OnErrorChoice(Enum):
    skip = "skip"
    stop = "stop"


def _split_paths(paths: list[str]) -> tuple[str, Path, Path]:
    """``[PIPELINE] INPUT OUTPUT``: without a pipeline, the default released model."""
    if len(paths) == 2:
        from ..released import DEFAULT_RELEASE

        return DEFAULT_RELEASE, Path(paths[0]), Path(paths[1])
    if len(paths) == 3:
        return paths[0], Path(paths[1]), Path(paths[2])
    raise typer.BadParameter(f"expected [PIPELINE] INPUT OUTPUT, got {len(paths)} paths", param_hint="PATHS")


@app.command("anonymize")
def anonymize_command(
    paths: list[str] = typer.Argument(
        ...,
        metavar="[PIPELINE] INPUT OUTPUT",
        help="PIPELINE: a spaCy pipeline directory, package or released model name (default: the "
        "released model, spacy_llmner.load()); INPUT: .txt, .jsonl/.ndjson, .csv or .tsv (ray: also "
        ".parquet, a folder or a glob); OUTPUT: written atomically (ray: a folder).",
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
    surrogate_store: Path | None = typer.Option(
        None,
        "--surrogate-store",
        help="replace: one <LABEL_n> per real value across records, files and runs, kept in this "
        "file encrypted with SPACY_LLMNER_KEY (it holds personal data; docs/presidio.md).",
    ),
    on_error: OnErrorChoice = typer.Option(
        OnErrorChoice.skip,
        "--on-error",
        help="skip: bad records go to OUTPUT's .errors.jsonl (ids and reasons, no text); "
        "stop: the first bad record stops the run and nothing is written.",
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
    engine: Engine = ENGINE,
    address: str | None = ADDRESS,
    actors: int = ACTORS,
    gpus_per_actor: float = GPUS_PER_ACTOR,
    shard_size: int = shard_size_option(1000, "Records"),
    id_field: str | None = typer.Option(
        None, "--id-field", help="Field/column that identifies a record in the error file."
    ),
    max_chars: int = typer.Option(
        1_000_000, "--max-chars", min=1, help="Longer records go to the error file."
    ),
) -> None:
    """Anonymize a file with a spacy_llmner pipeline (+ Presidio's validated patterns)."""
    pipeline, input_path, output_path = _split_paths(paths)
    if surrogate_store is not None and mode is not Mode.replace:
        raise LLMNERError(Errors.E221.format(mode=mode.value))
    if engine is Engine.ray:
        if surrogate_store is not None:
            raise LLMNERError(Errors.E222)
        if on_error is OnErrorChoice.stop:
            raise LLMNERError(Errors.E225.format(value="stop (the Ray engine always skips)"))
        from ..distributed import anonymize_dataset

        stats = anonymize_dataset(
            pipeline, input_path, output_path, mode=mode.value, key=key, salt=salt, field=field,
            column=column, delimiter=delimiter, items_field=items_field, id_field=id_field,
            whole_file=whole_file, surrogate_scope=surrogate_scope.value,
            with_patterns=not no_patterns, threshold=threshold, language=language,
            max_chars=max_chars, batch_size=batch_size, shard_size=shard_size, address=address,
            actors=actors, gpus_per_actor=gpus_per_actor, code=code, progress=not quiet,
        )
        typer.echo(stats.summary(), err=True)
        return
    if code is not None:
        from spacy.cli._util import import_code

        import_code(code)
    from ..corpus.local import check_output
    from ..corpus.manifest import digest
    from ..presidio import build_analyzer, hipaa_operators
    from ..presidio.files import anonymize_file
    from ..presidio.store import SurrogateStore

    check_output(output_path)  # before the pipeline loads
    operators = hipaa_operators(mode.value, key=key, salt=salt)
    store = SurrogateStore(surrogate_store, key) if surrogate_store is not None else None
    analyzer = build_analyzer(
        pipeline, with_patterns=not no_patterns, score_threshold=threshold, language=language
    )
    file_stats = anonymize_file(
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
        id_field=id_field,
        surrogate_scope=surrogate_scope.value,
        surrogate_store=store,
        on_error=on_error.value,
        shard_size=shard_size,
        max_chars=max_chars,
        batch_size=batch_size,
        language=language,
        job={"pipeline": str(pipeline), "patterns": not no_patterns, "threshold": threshold,
             "store_key": digest(key) if store is not None else None},
        progress=not quiet,
    )
    typer.echo(file_stats.summary(output_path), err=True)


@app.command("deanonymize")
def deanonymize_command(
    input_path: Path = typer.Argument(..., help="Output of `anonymize` (.txt, .jsonl, .csv)."),
    output_path: Path = typer.Argument(..., help="Where the restored file goes (written atomically)."),
    surrogate_store: Path | None = typer.Option(
        None, "--surrogate-store", help="The store `anonymize --surrogate-store` wrote (replace mode)."
    ),
    key: str | None = typer.Option(
        None, "--key", envvar="SPACY_LLMNER_KEY", help="The AES key of the store / of --mode encrypt."
    ),
    items_field: str | None = typer.Option(
        None, "--items-field", help="JSONL: the replaced spans (reverses --mode encrypt output)."
    ),
    fmt: FileFormat = typer.Option(FileFormat.auto, "--format", help="Input format (auto: by suffix)."),
    field: str = typer.Option("text", "--field", help="JSONL: the text field."),
    column: str = typer.Option("text", "--column", help="CSV: the text column."),
    delimiter: str | None = typer.Option(None, "--delimiter", help="CSV delimiter."),
    whole_file: bool = typer.Option(False, "--whole-file", help="txt: one document per file."),
    on_error: OnErrorChoice = typer.Option(OnErrorChoice.skip, "--on-error", help="skip or stop."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Put the real values back: store-backed `replace` surrogates, or `encrypt` spans with the key."""
    from ..presidio.reverse import deanonymize_file

    if surrogate_store is None and items_field is None:
        raise LLMNERError(Errors.E223)
    stats = deanonymize_file(
        input_path, output_path, key=key, store_path=surrogate_store, items_field=items_field,
        fmt=fmt.value, field=field, column=column, delimiter=delimiter, whole_file=whole_file,
        on_error=on_error.value, progress=not quiet,
    )
    typer.echo(stats.summary(output_path), err=True)
