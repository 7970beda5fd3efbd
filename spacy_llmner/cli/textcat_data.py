"""``convert-thucnews`` and ``generate-textcat``: text-classification corpora as ``.spacy``.

Both write train/dev/test DocBins with one-hot ``doc.cats``, ``labels.json`` (the label list)
and ``summary.json`` (counts per split and label), and print the summary: counts only, never
document text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ._app import app


def _write(out_dir: Path, bins: dict[str, Any], labels: list[str], summary: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for split, db in bins.items():
        db.to_disk(out_dir / f"{split}.spacy")
    (out_dir / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=2) + "\n", encoding="utf8")
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf8")
    typer.echo(f"Wrote {', '.join(f'{s}.spacy' for s in bins)}, labels.json and summary.json to {out_dir}.")
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))


@app.command("convert-thucnews")
def convert_thucnews_command(
    input_path: Path = typer.Argument(..., help='THUCNews JSONL: {"text": ..., "label": ...} per line.'),
    out_dir: Path = typer.Argument(..., help="Directory for train.spacy, dev.spacy, test.spacy, labels.json."),
    n_train: int = typer.Option(2000, "--n-train", min=0, help="Training documents (0: all left after test and dev)."),
    n_dev: int = typer.Option(500, "--n-dev", min=0, help="Development documents."),
    n_test: int = typer.Option(1000, "--n-test", min=0, help="Test documents (sampled first: independent of --n-train)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the stratified split."),
    rare: str = typer.Option("", "--rare", help="Comma-separated labels to make rare in train only."),
    rare_frac: float = typer.Option(0.05, "--rare-frac", help="Share of a rare label's normal training quota kept."),
) -> None:
    """Stratified, seeded, disjoint THUCNews splits on spacy.blank("zh") characters, one-hot cats."""
    from ..data.thucnews import convert

    rare_labels = [lab.strip() for lab in rare.split(",") if lab.strip()]
    bins, labels, summary = convert(input_path, n_train, n_dev, n_test, seed, rare_labels, rare_frac)
    _write(out_dir, bins, labels, summary)


@app.command("generate-textcat")
def generate_textcat_command(
    out_dir: Path = typer.Argument(..., help="Directory for train.spacy, dev.spacy, test.spacy, labels.json."),
    task: str = typer.Option(..., "--task", help="kind (document kind) or phi (PHI present / absent)."),
    n_train: int = typer.Option(2000, "--n-train", min=0, help="Training documents."),
    n_dev: int = typer.Option(300, "--n-dev", min=0, help="Development documents."),
    n_test: int = typer.Option(600, "--n-test", min=0, help="Test documents (held-out templates and kinds)."),
    seed: int = typer.Option(0, "--seed", help="Seed; each split derives its own from it."),
) -> None:
    """Synthetic in-domain classification data: document kind, or PHI present / absent."""
    from ..data.textcat_synth import corpus, summary, task_labels, to_textcat_docbin

    labels = task_labels(task)
    splits = corpus(task, n_train, n_dev, n_test, seed)
    bins = {split: to_textcat_docbin(task, docs) for split, docs in splits.items()}
    _write(out_dir, bins, labels, summary(task, splits, seed))
