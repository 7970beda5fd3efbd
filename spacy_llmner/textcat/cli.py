"""Text-classification commands: ``convert-thucnews`` and ``generate-textcat`` (corpora as
``.spacy``), ``train-textcat`` (head + LoRA) and ``train-textcat-sft`` (generative, TextCat.v1).

The corpus commands write train/dev/test DocBins with one-hot ``doc.cats``, ``labels.json`` (the label list)
and ``summary.json`` (counts per split and label), and print the summary: counts only, never
document text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from ..cli._app import app
from ..cli._options import OVERRIDES, overrides, report


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
    from .thucnews import convert

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
    from .synth import corpus, summary, task_labels, to_textcat_docbin

    labels = task_labels(task)
    splits = corpus(task, n_train, n_dev, n_test, seed)
    bins = {split: to_textcat_docbin(task, docs) for split, docs in splits.items()}
    _write(out_dir, bins, labels, summary(task, splits, seed))


@app.command("train-textcat", context_settings=OVERRIDES)
def train_textcat_cli(
    ctx: typer.Context,
    base: str = typer.Argument(..., help="Base model: local directory or hub id"),
    train_path: Path = typer.Argument(..., help="Training corpus (.spacy) whose docs carry doc.cats", exists=True),
    dev_path: Path = typer.Argument(..., help="Dev corpus (.spacy): metrics and the temperature fit", exists=True),
    config_path: Path = typer.Argument(..., help="Config (.cfg) with the sections head, lora and training", exists=True),
    output: Path = typer.Argument(..., help="Directory for the head + adapter (the component's `adapter`)"),
    loss_log: Path = typer.Option(Path("training/textcat_loss.jsonl"), help="JSON-lines loss log"),
    metrics: Optional[Path] = typer.Option(None, help="Write the summary JSON here too"),
    pipeline: Optional[Path] = typer.Option(None, help="Also save an llm_textcat_head pipeline with the head here"),
    lang: str = typer.Option("en", help="Language of that pipeline (zh for Chinese)"),
) -> None:
    """Classification head + LoRA on the base's last hidden state; temperature fitted on dev."""
    import logging

    from ..training.config import HeadConfigFile
    from .train_head import train_textcat_head

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # step and loss lines, no text
    config = HeadConfigFile.load(config_path, overrides(ctx))
    summary = train_textcat_head(base, train_path, dev_path, config, output, loss_log)
    if pipeline is not None:
        import spacy

        nlp = spacy.blank(lang)
        nlp.add_pipe("llm_textcat_head", config={"base": base, "adapter": str(output)})
        nlp.to_disk(pipeline)
        summary["pipeline"] = str(pipeline)
    report(summary, metrics)


@app.command("train-textcat-sft", context_settings=OVERRIDES)
def train_textcat_sft_cli(
    ctx: typer.Context,
    base: str = typer.Argument(..., help="Base model: local directory or hub id"),
    train_path: Path = typer.Argument(..., help="Training corpus (.spacy) whose docs carry doc.cats", exists=True),
    dev_path: Path = typer.Argument(..., help="Dev corpus (.spacy), for the eval loss each epoch", exists=True),
    config_path: Path = typer.Argument(..., help="LoRA config (.cfg) with the sections lora, training, task", exists=True),
    output: Path = typer.Argument(..., help="Directory for the adapter"),
    loss_log: Path = typer.Option(Path("training/textcat_sft_loss.jsonl"), help="JSON-lines loss log"),
    metrics: Optional[Path] = typer.Option(None, help="Write the summary JSON here too"),
    pipeline: Optional[Path] = typer.Option(None, help="Also save an llm_textcat pipeline with the adapter here"),
    lang: str = typer.Option("en", help="Language of that pipeline (zh for Chinese)"),
) -> None:
    """Generative classification: LoRA SFT to answer with the label on TextCat.v1's prompt (loss on label + end)."""
    from .sft import ClassifyConfigFile, assemble_textcat, train_classifier

    config = ClassifyConfigFile.load(config_path, overrides(ctx))
    summary = train_classifier(base, train_path, dev_path, config, output, loss_log)
    if pipeline is not None:
        summary["pipeline"] = str(assemble_textcat(base, output, pipeline, lang=lang))
    report(summary, metrics)
