"""The CLUENER experiment: score a pipeline on the dev sample, and collect the results table.

    python benchmarks/cluener.py score PIPELINE corpus/cluener/dev.spacy --name xml --output metrics/cluener/xml.json
    python benchmarks/cluener.py collect metrics/cluener --output benchmarks/results/cluener.json
    python benchmarks/cluener.py curve xml --sizes 100,300,1000      # the learning curve
    python benchmarks/cluener.py chart benchmarks/results/cluener.json docs/cluener_f1_per_label.png

``score`` runs the pipeline once and reports (1) typed exact-span P/R/F1 per label, the
package's measure (``evaluation.ner``), and (2) the seed's measure as we read its
``ner_eval.py`` ("hard" results): per document, the set of (label, entity string) pairs,
micro-averaged. The scoring is ``spacy_llmner.evaluation.cluener``; this script writes and
prints it. Counts and timings only, never text.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import typer

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling _results.py, however this file is loaded
from _results import machine, read_rows  # noqa: E402

from spacy_llmner.evaluation.cluener import score_pipeline  # noqa: E402

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
    report = score_pipeline(pipeline, data, name, batch_size, limit)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2), encoding="utf8")
    s, w = report["spans"]["overall"], report["strings"]["overall"]
    typer.echo(f"{name}: spans P {s['p']:.4f} R {s['r']:.4f} F1 {s['f']:.4f} | strings F1 {w['f']:.4f} | "
               f"{report['docs']} docs in {report['seconds']:.1f} s")


def _run(args: list[str]) -> float:
    """One workflow step as a subprocess (the same commands project.yml runs); seconds taken."""
    start = time.perf_counter()
    subprocess.run(args, check=True)
    return time.perf_counter() - start


@cli.command("curve")
def curve(
    kind: str = typer.Argument(..., help="xml (LoRA on the LLM, XML answer) or spacy (CNN baseline)"),
    sizes: str = typer.Option("100,300,1000", help="Training-set sizes, comma-separated (0: all)"),
    train_path: Path = typer.Option(Path("../shared/data/cluener2020/train.jsonl")),
    dev: Path = typer.Option(Path("corpus/cluener/dev.spacy"), help="The dev sample (cluener-convert)"),
    base: Path = typer.Option(Path("assets/gemma3-270m"), help="LLM base (cluener-fetch-base)"),
    config: Path = typer.Option(Path("configs/lora_cluener.cfg")),
    spacy_config: Path = typer.Option(Path("configs/cluener_spacy.cfg")),
    seed: int = typer.Option(0),
    metrics: Path = typer.Option(Path("metrics/cluener/curve")),
    work: Path = typer.Option(Path("training/cluener/curve")),
) -> None:
    """Train and score one model per training-set size, on the same dev sample.

    Samples of one seed are nested (the 100 documents are among the 300, and those among the
    1,000) while the sample stays under about a third of the file, so the curve measures more
    data rather than other data. Writes ``{kind}_{size}.json`` (scores + training time)."""
    if kind not in ("xml", "spacy"):
        raise typer.BadParameter("kind must be xml or spacy")
    py = sys.executable
    for size in (int(x) for x in sizes.split(",")):
        tag = f"{kind}_{size or 'all'}"
        train = work / f"train_{size or 'all'}.spacy"
        work.mkdir(parents=True, exist_ok=True)
        metrics.mkdir(parents=True, exist_ok=True)
        if not train.exists():
            _run([py, "-m", "spacy_llmner", "convert-cluener", str(train_path), str(train),
                  "--limit", str(size), "--seed", str(seed)])
        if kind == "xml":
            adapter, pipeline = work / tag, work / f"pipeline_{tag}"
            seconds = _run([py, "-m", "spacy_llmner", "train", str(base), str(train), str(dev), str(config),
                            str(adapter), "--metrics", str(metrics / f"train_{tag}.json"),
                            "--training.seed", str(seed)])
            _run([py, "-m", "spacy_llmner", "assemble", str(base), str(adapter), "--output", str(pipeline),
                  "--lang", "zh", "--name", f"llmner_cluener_{tag}"])
        else:
            out = work / tag
            seconds = _run([py, "-m", "spacy", "train", str(spacy_config), "--output", str(out),
                            "--paths.train", str(train), "--paths.dev", str(dev), "--system.seed", str(seed)])
            pipeline = out / "model-last"
        scores = metrics / f"{tag}.json"
        _run([py, __file__, "score", str(pipeline), str(dev), "--name", tag, "--output", str(scores)])
        row = json.loads(scores.read_text(encoding="utf8"))
        row.update(kind=kind, train_docs=size or "all", train_wall_s=round(seconds, 1))
        scores.write_text(json.dumps(row, indent=2), encoding="utf8")


@cli.command("collect")
def collect(
    metrics: Path = typer.Argument(Path("metrics/cluener"), help="Directory of score/train JSONs"),
    output: Path = typer.Option(Path("benchmarks/results/cluener.json")),
    note: str = typer.Option("", help="Conditions of the run (e.g. other jobs sharing the CPU)"),
) -> None:
    """Our rows (scores + training summaries) beside the seed's, as one JSON file.

    Rows already in ``output`` and absent from ``metrics`` are kept, so a run of some steps
    (e.g. only the learning curve) updates the table instead of dropping the other rows."""
    previous = json.loads(output.read_text(encoding="utf8")) if output.exists() else {}
    rows = {**previous.get("ours", {}), **read_rows(metrics)}
    curve_rows = {p.stem: json.loads(p.read_text(encoding="utf8")) for p in sorted((metrics / "curve").glob("*.json"))
                  if not p.name.startswith("train_")}
    result = {
        "machine": machine(),
        "collected": time.strftime("%Y-%m-%d %H:%M:%S"),
        "note": note or previous.get("note", ""),
        "ours": rows,
        "curve": {**previous.get("curve", {}), **{
            tag: {k: row.get(k) for k in ("kind", "train_docs", "train_wall_s", "spans", "strings", "errors", "docs_per_s")}
            for tag, row in curve_rows.items()}},
        "seed": SEED_ROWS,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf8")
    typer.echo(f"{len(rows)} rows -> {output}")


@cli.command("chart")
def chart(
    results: Path = typer.Argument(Path("benchmarks/results/cluener.json")),
    output: Path = typer.Argument(Path("docs/cluener_f1_per_label.png")),
    rows: str = typer.Option(
        "xml_1000=Gemma 270M LoRA, XML (1,000 docs);xml=Gemma 270M LoRA, XML (300 docs);"
        "json=Gemma 270M LoRA, JSON (300 docs);spacy=spaCy CNN (300 docs);spacy_full=spaCy CNN (10,748 docs)",
        help="Rows of `ours` to draw, as name=legend pairs separated by ';'",
    ),
) -> None:
    """Per-label span F1 of each row (of ``ours`` or ``curve``) as grouped bars, dev support beside the label."""
    from spacy_llmner.evaluation.ner import _pyplot

    collected = json.loads(results.read_text(encoding="utf8"))
    data = {**collected.get("curve", {}), **collected["ours"]}
    legends = dict(item.split("=", 1) if "=" in item else (item, item) for item in rows.split(";"))
    names = [n for n in legends if n in data]
    first = data[names[0]]["spans"]["per_label"]
    labels = sorted(first, key=lambda lab: -first[lab]["support"])
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(labels) + 1.5))
    height = 0.8 / len(names)
    for i, name in enumerate(names):
        per_label = data[name]["spans"]["per_label"]
        f1 = [per_label.get(lab, {}).get("f", 0.0) for lab in labels]
        ax.barh([j + i * height for j in range(len(labels))], f1, height=height, label=legends[name])
    ax.set_yticks([j + 0.4 - height / 2 for j in range(len(labels))])
    ax.set_yticklabels([f"{lab} ({first[lab]['support']})" for lab in labels])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("span F1 on the dev sample")
    ax.set_title("CLUENER2020, per label (dev support in brackets)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8)
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=100)
    plt.close(fig)
    typer.echo(f"-> {output}")


if __name__ == "__main__":
    cli()
