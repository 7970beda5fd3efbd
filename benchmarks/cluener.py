"""Seed 002 on CLUENER2020: score a pipeline on the dev sample, and collect the results table.

    python benchmarks/cluener.py score PIPELINE corpus/cluener/dev.spacy --name xml --output metrics/cluener/xml.json
    python benchmarks/cluener.py collect metrics/cluener --output benchmarks/results/cluener.json

``score`` runs the pipeline once and reports (1) typed exact-span P/R/F1 per label, the
package's measure (``training.evaluate``), and (2) the seed's measure as we read its
``ner_eval.py`` ("hard" results): per document, the set of (label, entity string) pairs,
micro-averaged, so a string found once counts once however often it occurs. For a JSON
pipeline it adds how many answered strings were not in the source (the hallucination the
copy constraint rules out for XML). Counts and timings only, never text.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import typer

from spacy_llmner.tagging import CharSpan

cli = typer.Typer(add_completion=False)

# The seed's own rows (its README: chatglm2-6b + P-tuning v2 on one GPU, dev set, F1/P/R in %).
SEED_ROWS: list[dict[str, Any]] = [
    {"model": "chatglm2-6b", "method": "P-tuning v2 (PRE_SEQ_LEN 128)", "answer": "JSON (instruction 1)",
     "train_docs": 10748, "steps": 3000, "batch": 8, "hardware": "1 GPU", "p": 0.8043, "r": 0.7703, "f": 0.7869},
    {"model": "chatglm2-6b", "method": "P-tuning v2 (PRE_SEQ_LEN 64)", "answer": "JSON (instruction 1)",
     "train_docs": 10748, "steps": 3000, "batch": 8, "hardware": "1 GPU", "p": 0.7777, "r": 0.7545, "f": 0.766},
    {"model": "chatglm2-6b", "method": "P-tuning v2 (PRE_SEQ_LEN 64)", "answer": "JSON (instruction 2, definitions)",
     "train_docs": 10748, "steps": 3000, "batch": 8, "hardware": "1 GPU", "p": 0.7787, "r": 0.7411, "f": 0.7595},
    {"model": "RoBERTa-wwm-large-ext", "method": "fine-tuning (token classification)", "answer": "tags",
     "train_docs": 10748, "hardware": "not stated", "f": 0.8042},
    {"model": "BiLSTM-CRF", "method": "training", "answer": "tags", "train_docs": 10748,
     "hardware": "not stated", "f": 0.70},
]


def string_scores(
    texts: Sequence[str], gold: Sequence[Iterable[CharSpan]], predicted: Sequence[Iterable[CharSpan]]
) -> dict[str, Any]:
    """Micro P/R/F1 over per-document sets of (label, entity string): the seed's measure."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for text, g_spans, p_spans in zip(texts, gold, predicted, strict=True):
        g = {(lab, text[s:e]) for s, e, lab in g_spans}
        p = {(lab, text[s:e]) for s, e, lab in p_spans}
        for lab, _ in g & p:
            tp[lab] += 1
        for lab, _ in p - g:
            fp[lab] += 1
        for lab, _ in g - p:
            fn[lab] += 1
    from spacy_llmner.training.evaluate import _prf

    labels = sorted(set(tp) | set(fp) | set(fn))
    return {
        "overall": _prf(sum(tp.values()), sum(fp.values()), sum(fn.values())),
        "per_label": {lab: _prf(tp[lab], fp[lab], fn[lab]) for lab in labels},
    }


@cli.command("score")
def score(
    pipeline: Path = typer.Argument(..., help="Pipeline directory"),
    data: Path = typer.Argument(..., help="Gold .spacy DocBin (the dev sample)"),
    name: str = typer.Option(..., help="Row name: xml, json, spacy, ..."),
    output: Path = typer.Option(..., help="Scores JSON"),
    batch_size: int = typer.Option(16, help="Docs per nlp.pipe batch"),
    limit: int = typer.Option(0, help="Score only the first N documents (0: all)"),
) -> None:
    """Predict once; span-level and string-level scores, time, and JSON align counts."""
    import spacy

    from spacy_llmner.training.evaluate import predict, read_examples, score_chars, score_spans

    examples = read_examples(data)
    examples = examples[:limit] if limit > 0 else examples
    texts = [t for t, _ in examples]
    gold = [s for _, s in examples]
    nlp = spacy.load(pipeline)
    predicted, seconds = predict(nlp, texts, batch_size)
    report: dict[str, Any] = {"name": name, "pipeline": str(pipeline), "data": str(data), "docs": len(texts)}
    report["spans"] = score_spans(gold, predicted)
    report["strings"] = string_scores(texts, gold, predicted)
    report["chars"] = score_chars(texts, gold, predicted)
    report.update(seconds=round(seconds, 2), docs_per_s=round(len(texts) / seconds, 3) if seconds else None)
    if "llm_ner" in nlp.pipe_names:
        task = nlp.get_pipe("llm_ner").task
        stats = getattr(task, "align_stats", None)
        if stats is not None:
            report["json_strings"] = {"answered": stats.strings, "not_in_source": stats.not_in_source,
                                      "occurrences_dropped_as_overlaps": stats.overlaps_dropped}
        model_cfg = nlp.config["components"]["llm_ner"]["model"]
        report["decoding"] = model_cfg.get("decoding", "constrained")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2), encoding="utf8")
    s, w = report["spans"]["overall"], report["strings"]["overall"]
    typer.echo(f"{name}: spans P {s['p']:.4f} R {s['r']:.4f} F1 {s['f']:.4f} | strings F1 {w['f']:.4f} | "
               f"{len(texts)} docs in {seconds:.1f} s")


@cli.command("collect")
def collect(
    metrics: Path = typer.Argument(Path("metrics/cluener"), help="Directory of score/train JSONs"),
    output: Path = typer.Option(Path("benchmarks/results/cluener.json")),
    note: str = typer.Option("", help="Conditions of the run (e.g. other jobs sharing the CPU)"),
) -> None:
    """Our rows (scores + training summaries) beside the seed's, as one JSON file."""
    rows = {}
    for path in sorted(metrics.glob("*.json")):
        if path.name.startswith("train_"):
            continue
        row = json.loads(path.read_text(encoding="utf8"))
        train = metrics / f"train_{path.stem}.json"
        if train.exists():
            row["training"] = json.loads(train.read_text(encoding="utf8"))
        rows[path.stem] = row
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor()},
        "collected": time.strftime("%Y-%m-%d %H:%M:%S"),
        "note": note,
        "ours": rows,
        "seed": SEED_ROWS,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf8")
    typer.echo(f"{len(rows)} rows -> {output}")


if __name__ == "__main__":
    cli()
