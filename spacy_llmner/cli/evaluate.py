"""``evaluate``: typed exact-span P/R/F1 of a pipeline on a .spacy or JSONL corpus, plus plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ._app import app
from ._options import ACTORS, ADDRESS, ENGINE, GPUS_PER_ACTOR, Engine, shard_size_option


@app.command("evaluate")
def evaluate_cli(
    pipeline: str = typer.Argument(..., help="Pipeline directory, installed package or released model name (phi-smollm2)"),
    data: Path = typer.Argument(..., help="Gold data: .spacy DocBin or JSONL with {text, spans}", exists=True),
    output: Path = typer.Option(Path("metrics/scores.json"), "--output", "-o", help="Scores JSON"),
    label_map: Optional[str] = typer.Option(
        None, help="Gold label renames: a JSON file or 'old=new,other=' (empty target drops the label)"
    ),
    f1_plot: Optional[Path] = typer.Option(None, help="PNG bar chart of per-label F1"),
    loss_log: list[str] = typer.Option([], "--loss-log", help="NAME=PATH of a JSON-lines loss log to plot (repeatable)"),
    loss_plot: Optional[Path] = typer.Option(None, help="PNG loss curve(s) from --loss-log"),
    batch_size: int = typer.Option(16, help="Docs per nlp.pipe batch"),
    limit: int = typer.Option(0, help="Score only the first N documents (0: all)"),
    labels: Optional[str] = typer.Option(None, help="Score only these labels (comma-separated), gold and predicted alike"),
    engine: Engine = ENGINE,
    address: Optional[str] = ADDRESS,
    actors: int = ACTORS,
    gpus_per_actor: float = GPUS_PER_ACTOR,
    shard_size: int = shard_size_option(200, "ray: documents"),
    code: Optional[Path] = typer.Option(None, help="Python file to import first (custom components)"),
    allow_remote: bool = typer.Option(False, help="Accept a pipeline whose LLM is a remote API (refused by default, E033)"),
) -> None:
    """Score entities exactly (start, end and label must match); report docs/s."""
    from ..data import parse_label_map
    from ..evaluation.ner import apply_label_map, evaluate, plot_f1, plot_loss, read_examples
    from ..pipelines import load_pipeline

    if code is not None:
        from ..distributed.worker import import_code

        import_code(str(code))
    wanted = [lab.strip() for lab in labels.split(",") if lab.strip()] if labels else None
    if engine is Engine.ray:
        from ..distributed import evaluate_dataset

        report = evaluate_dataset(
            str(pipeline), data, label_map=parse_label_map(label_map) if label_map else None,
            labels=wanted, batch_size=batch_size, limit=limit, shard_size=shard_size,
            address=address, actors=actors, gpus_per_actor=gpus_per_actor, code=code,
        )
    else:
        examples = read_examples(data)
        if label_map is not None:
            examples = apply_label_map(examples, parse_label_map(label_map))
        if limit > 0:
            examples = examples[:limit]
        nlp = load_pipeline(pipeline, allow_remote=allow_remote)
        report = evaluate(nlp, examples, batch_size=batch_size, labels=wanted)
    report["data"] = str(data)
    report["pipeline"] = str(pipeline)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2), encoding="utf8")
    if f1_plot is not None:
        plot_f1(report, f1_plot)
    if loss_plot is not None and loss_log:
        logs: dict[str, str] = {}
        for item in loss_log:
            name, _, path = item.partition("=") if "=" in item else (Path(item).stem, "", item)
            logs[name] = path
        plot_loss(logs, loss_plot)
    overall = report["overall"]
    typer.echo(
        f"P {overall['p']:.4f}  R {overall['r']:.4f}  F1 {overall['f']:.4f}  "
        f"({report['docs']} docs, {report['docs_per_s']} docs/s) -> {output}"
    )
    chars = report["chars"]
    typer.echo(f"PII characters (labels ignored): P {chars['p']:.4f}  R {chars['r']:.4f}  F1 {chars['f']:.4f}")
    errors = report["errors"]
    typer.echo("Errors: " + ", ".join(f"{kind} {errors[kind]}" for kind in errors if kind != "confusions"))
    for label, scores in report["per_label"].items():
        typer.echo(f"  {label:<24} P {scores['p']:.3f}  R {scores['r']:.3f}  F1 {scores['f']:.3f}  n={scores['support']}")
