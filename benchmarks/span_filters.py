"""What the span filters do to quality: one decode, scored raw, after sanity, and under a policy.

    python benchmarks/span_filters.py PIPELINE GOLD [GOLD ...] --json benchmarks/results/span_filters.json

The pipeline's task runs with ``drop_nonsense = false`` and no policy, so each corpus is decoded
once; the rows then apply ``policy.clean_spans`` (punctuation-only spans dropped, spans cut at a
blank line) and ``policy.apply_policy(..., "safe_harbor")`` to the same predictions. The policy
row scores against gold under the same policy (ages of 89 and under, times of day removed from
gold too). JSONL gold with ``--label-map``/``--labels`` as ``evaluate`` takes them.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Optional

import spacy
import typer

from spacy_llmner.data import parse_label_map
from spacy_llmner.evaluation.ner import (
    apply_label_map,
    error_kinds,
    keep_labels,
    predict,
    read_examples,
    score_chars,
    score_spans,
)
from spacy_llmner.policy import apply_policy, clean_spans
from spacy_llmner.training.machine import machine


def _score(texts: list[str], gold: list[Any], pred: list[Any]) -> dict[str, Any]:
    spans = score_spans(gold, pred)
    return {"typed": spans["overall"], "chars": score_chars(texts, gold, pred),
            "per_label_f1": {k: round(v["f"], 4) for k, v in spans["per_label"].items()},
            "errors": {k: v for k, v in error_kinds(gold, pred).items() if k != "confusions"}}


def main(
    pipeline: Path = typer.Argument(..., help="Pipeline directory"),
    gold: list[Path] = typer.Argument(..., help="Gold corpora (.spacy or JSONL)"),
    label_map: Optional[str] = typer.Option(None, help="Gold label renames for JSONL corpora ('old=new,other=')"),
    labels: Optional[str] = typer.Option(None, help="Score only these labels (comma-separated)"),
    corpus_labels: list[str] = typer.Option(
        [], help="FILE_NAME=L1,L2: score only these labels on that corpus (e.g. dev.jsonl=PERSON,LOCATION)"),
    limit: int = typer.Option(0, help="First N documents of each corpus (0: all)"),
    batch_size: int = typer.Option(16),
    policy: str = typer.Option("safe_harbor", help="The policy of the last row"),
    json_path: Optional[Path] = typer.Option(None, "--json"),
) -> None:
    nlp = spacy.load(pipeline)
    task = nlp.get_pipe("llm_ner")._task
    task._drop_nonsense, task._policy = False, None  # decode once, filter below
    default = [x.strip() for x in labels.split(",")] if labels else None
    per_corpus = {k: [x.strip() for x in v.split(",")] for k, _, v in (c.partition("=") for c in corpus_labels)}
    report: dict[str, Any] = {"pipeline": str(pipeline), "machine": machine(), "corpora": {}}
    typer.echo(f"{'corpus':<28}{'row':<14}{'typed P/R/F1':<22}{'chars P/R/F1':<22}dropped")
    for path in gold:
        examples = read_examples(path)
        if label_map and path.suffix != ".spacy":
            examples = apply_label_map(examples, parse_label_map(label_map))
        examples = examples[:limit] if limit else examples
        wanted = per_corpus.get(path.name, default)
        texts = [t for t, _ in examples]
        start = time.perf_counter()
        raw, _ = predict(nlp, texts, batch_size)
        seconds = time.perf_counter() - start
        raw = [keep_labels(s, wanted) for s in raw]
        sane = [keep_labels(clean_spans(t, s), wanted) for t, s in zip(texts, raw)]
        ruled = [apply_policy(t, s, policy) for t, s in zip(texts, sane)]
        gold_spans = [keep_labels(s, wanted) for _, s in examples]
        gold_ruled = [keep_labels(apply_policy(t, s, policy), wanted) for t, s in examples]
        rows = {
            "raw": _score(texts, gold_spans, raw),
            "sanity": _score(texts, gold_spans, sane),
            policy: _score(texts, gold_ruled, ruled),
        }
        rows["sanity"]["dropped_or_cut"] = sum(len(set(a) - set(b)) for a, b in zip(raw, sane))
        report["corpora"][path.name] = {"docs": len(texts), "seconds": round(seconds, 1),
                                        "docs_per_s": round(len(texts) / seconds, 3), "rows": rows}
        for name, row in rows.items():
            t, c = row["typed"], row["chars"]
            typer.echo(f"{path.name[:27]:<28}{name:<14}{t['p']:.2f}/{t['r']:.2f}/{t['f']:.2f}{'':<8}"
                       f"{c['p']:.2f}/{c['r']:.2f}/{c['f']:.2f}{'':<8}{row.get('dropped_or_cut', '')}")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf8")


if __name__ == "__main__":
    typer.run(main)
