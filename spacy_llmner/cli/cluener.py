"""``convert-cluener``: CLUENER2020 span JSONL -> ``.spacy`` on Chinese character tokens.

Prints counts only (documents, spans kept, spans that did not align), never document text.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ._app import app


@app.command("convert-cluener")
def convert_cluener_command(
    input_path: Path = typer.Argument(
        ..., help='Official CLUENER (train.json, dev.json: {"text", "label": {...}}) or span JSONL.'
    ),
    output_path: Path = typer.Argument(..., help="Output .spacy file."),
    limit: int = typer.Option(0, "--limit", min=0, help="Keep a seeded sample of N documents (0: all)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the sample (same seed, same documents)."),
) -> None:
    """Convert CLUENER to a DocBin on spacy.blank("zh") character tokens; report misaligned spans."""
    from ..data.cluener import cluener_to_docbin, summary

    db, stats = cluener_to_docbin(input_path, limit=limit, seed=seed)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(output_path)
    typer.echo(f"Wrote {stats.docs} documents to {output_path} (seed {seed}).")
    typer.echo(json.dumps(summary(stats), indent=2))
