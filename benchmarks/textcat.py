"""The text-classification study: score text classifiers on a DocBin, time their training, collect a table.

    python benchmarks/textcat.py score PIPELINE corpus/textcat/thucnews/test.spacy --name bow \
        --output metrics/textcat/bow.json --rare science,game
    python benchmarks/textcat.py timed --output metrics/textcat/train_bow.json \
        --train-data corpus/textcat/thucnews/train.spacy -- python -m spacy train ...
    python benchmarks/textcat.py collect metrics/textcat --output benchmarks/results/textcat.json

``score`` works for any spaCy pipeline that sets ``doc.cats`` (spaCy ``textcat``, spacy-llm
``llm_textcat`` with ``spacy_llmner.TextCat.v1``, a classification-head component); the scoring
itself is ``spacy_llmner.textcat.scoring``. Reported: accuracy, macro-F1 over the gold label set,
per-label P/R/F1 and support, rare-class F1 (mean F1 over the ``--rare`` labels), documents per
second (after one warm-up document, so lazy weight loading is counted apart as
``load_seconds``). Counts and timings only, never text.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling _results.py, however this file is loaded
from _results import machine, read_rows  # noqa: E402

from spacy_llmner.textcat.scoring import parse_rare, score_pipeline  # noqa: E402

cli = typer.Typer(add_completion=False)

# The text-classification study (a blog post on LLMs for Chinese text classification, 2024): its result tables are
# images, so no figure of it is quotable as a number; these are its stated findings (our
# translation), with the setting each was measured in.
SEED_FINDINGS: list[dict[str, str]] = [
    {"setting": "CCKS 2022 task 8 (financial news events, 174 labels, multi-label, long tail; 5,000+ test docs)",
     "method": "prompt engineering only (qwen-7b-chat, Yi-34b-chat-int4, qwen-72b-chat API), 10 retrieved demonstrations",
     "finding": "clearly below fine-tuned BERT (macbert-base/large), even at 72B; many errors are instruction-"
                "following failures (wrong format, added explanations)"},
    {"setting": "CCKS 2022 task 8", "method": "demonstration order: most similar demonstration last (nearest the text)",
     "finding": "a small but nearly free improvement"},
    {"setting": "CCKS 2022 task 8", "method": "prompt + LoRA SFT (qwen-7b-chat, qwen-14b-chat), "
               "full data vs 4,000+ MMR-selected docs",
     "finding": "larger model better; with little labelled data SFT beats BERT, also on few-shot classes; with "
                "ample data still below BERT; full data beats the subset overall but not always on few-shot classes"},
    {"setting": "CCKS 2022 task 8", "method": "qwen1.5-1.8B + classification head (Qwen2ForSequenceClassification) "
               "+ LoRA r32 (embeddings and head trained)",
     "finding": "best overall F1 and best few-shot-class F1 of all methods tried"},
    {"setting": "THUCNews and Iflytek", "method": "qwen1.5-1.8B + head + LoRA vs bert-large (same general hyperparameters)",
     "finding": "the LLM with a head is better than bert-large on both ('a decent improvement'); numbers only in an "
                "image, and below public leaderboards by the author's own account (hyperparameters not tuned)"},
    {"setting": "CCKS, THUCNews, Iflytek", "method": "head + LoRA on qwen1.5-4B/7B, chatglm3-6B, minicpm",
     "finding": "no clear gain over 1.8B; base models fine-tune better than chat models; NEFTune helps consistently; "
                "LoRA about equal to full fine-tuning"},
]


@cli.command("score")
def score(
    pipeline: Path = typer.Argument(..., help="Pipeline directory (anything spacy.load takes)"),
    data: Path = typer.Argument(..., help="Gold .spacy DocBin with one-hot doc.cats"),
    name: str = typer.Option(..., help="Row name: bow, cnn, minilm, llm_zero_shot, ..."),
    output: Path = typer.Option(..., help="Scores JSON"),
    rare: str = typer.Option("", help="Comma-separated rare labels (rare-class F1 = their mean F1)"),
    batch_size: int = typer.Option(64, help="Docs per nlp.pipe batch"),
    limit: int = typer.Option(0, help="Score only the first N documents (0: all)"),
) -> None:
    """Run a pipeline once over the gold texts; accuracy, macro/per-label/rare F1, docs/s."""
    report = score_pipeline(pipeline, data, name, parse_rare(rare), batch_size, limit)
    report["machine"] = machine()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    rare_txt = f" | rare F1 {report['rare_f1']:.4f}" if report["rare_f1"] is not None else ""
    typer.echo(f"{name}: accuracy {report['accuracy']:.4f} | macro-F1 {report['macro_f1']:.4f}{rare_txt} | "
               f"{report['docs']} docs, {report['docs_per_s']} docs/s")


@cli.command("timed", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def timed(
    ctx: typer.Context,
    output: Path = typer.Option(..., help="Training summary JSON (seconds, command, machine)"),
    train_data: Path | None = typer.Option(None, help="The training DocBin, to record its size"),
) -> None:
    """Run the command after ``--`` and record its wall-clock time (e.g. ``spacy train``)."""
    command = list(ctx.args)
    if not command:
        raise typer.BadParameter("give the command to time after --")
    if command[0] in ("python", "python3"):  # as `spacy project run` does: this interpreter
        command[0] = sys.executable
    start = time.perf_counter()
    rc = subprocess.call(command)
    seconds = time.perf_counter() - start
    if rc != 0:
        raise typer.Exit(code=rc)
    row: dict[str, Any] = {"seconds": round(seconds, 1), "command": " ".join(command), "machine": machine()}
    if train_data is not None:
        from spacy.tokens import DocBin

        row["train_docs"] = len(DocBin().from_disk(train_data))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(row, indent=2) + "\n", encoding="utf8")
    typer.echo(f"trained in {seconds:.1f} s -> {output}")


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _natural(name: str) -> list[Any]:
    """Sort key that puts bow_n250 before bow_n1000."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name)]


def markdown_table(rows: Mapping[str, Mapping[str, Any]]) -> str:
    """Our rows as a markdown table (one line per row, sorted by name)."""
    lines = ["| row | test data | test docs | train docs | accuracy | macro-F1 | rare-F1 | docs/s | train s |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, row in sorted(rows.items(), key=lambda item: _natural(item[0])):
        training = row.get("training") or {}
        lines.append(
            f"| {name} | {Path(row.get('data', '')).parent.name} | {row.get('docs')} | "
            f"{_fmt(training.get('train_docs'))} | {_fmt(row.get('accuracy'))} | {_fmt(row.get('macro_f1'))} | "
            f"{_fmt(row.get('rare_f1'))} | {_fmt(row.get('docs_per_s'), 1)} | {_fmt(training.get('seconds'), 1)} |")
    return "\n".join(lines)


def seed_table() -> str:
    lines = ["| study setting | method | finding (no numbers in the text: its tables are images) |",
             "| --- | --- | --- |"]
    lines += [f"| {f['setting']} | {f['method']} | {f['finding']} |" for f in SEED_FINDINGS]
    return "\n".join(lines)


@cli.command("collect")
def collect(
    metrics: Path = typer.Argument(Path("metrics/textcat"), help="Directory of score / train_*.json files"),
    output: Path = typer.Option(Path("benchmarks/results/textcat.json")),
    note: str = typer.Option("", help="Conditions of the run (e.g. other jobs sharing the CPU)"),
) -> None:
    """Merge score rows (with their train_<name>.json) into one JSON; print a markdown table."""
    rows: dict[str, Any] = read_rows(metrics)
    result = {"machine": machine(), "collected": time.strftime("%Y-%m-%d %H:%M:%S"), "note": note,
              "ours": rows, "seed_003_findings": SEED_FINDINGS, "table": markdown_table(rows)}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    typer.echo(markdown_table(rows))
    typer.echo("")
    typer.echo(seed_table())
    typer.echo(f"\n{len(rows)} rows -> {output}")


if __name__ == "__main__":
    cli()
