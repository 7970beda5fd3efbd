"""``evaluate_dataset``: score a pipeline on a large gold JSONL with Ray, as the local evaluate.

Each actor loads the pipeline once and scores whole shards with the local scorer
(:func:`~spacy_llmner.evaluation.ner.score_spans`, ``score_chars``); the driver adds up the
counts with :func:`~spacy_llmner.evaluation.ner.merge_scores`, so the report equals the local
one (P/R/F1 from summed counts, never averaged). Speed is documents over the job's wall time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..corpus.inputs import Shard, discover, plan
from ..corpus.shards import import_code
from ..errors import Errors, LLMNERError
from ._ray import require_ray
from .execute import Cluster, run_shards

RESULT = ("shard", "part", "error")


class EvaluateWorker:
    """Ray Data UDF: one pipeline per actor; a shard of gold lines in, its counts out."""

    def __init__(
        self,
        pipeline: str,
        code: str | None = None,
        label_map: Mapping[str, str | None] | None = None,
        labels: Sequence[str] | None = None,
        batch_size: int = 16,
    ) -> None:
        import_code(code)
        from ..pipelines import load_pipeline

        self.nlp = load_pipeline(pipeline)
        self.label_map, self.labels, self.batch_size = label_map, labels, batch_size

    def score(self, shard: Shard) -> dict[str, Any]:
        """The shard's counts: ``score_spans`` and ``score_chars`` on its documents."""
        from ..data.spans import parse_span_line
        from ..evaluation.ner import (
            apply_label_map,
            error_kinds,
            keep_labels,
            predict,
            score_chars,
            score_spans,
        )

        examples = []
        with open(shard.path, "rb") as handle:
            handle.seek(shard.start)
            for number in range(shard.first, shard.first + shard.count):
                raw = handle.readline()
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    reason = f"line {number}: {type(err).__name__}"
                    raise LLMNERError(Errors.E305.format(path=shard.rel, reason=reason)) from None
                if line.strip():
                    examples.append(parse_span_line(line, number, shard.rel))
        if self.label_map is not None:
            examples = apply_label_map(examples, self.label_map)
        texts = [text for text, _ in examples]
        predicted, _ = predict(self.nlp, texts, self.batch_size) if texts else ([], 0.0)
        predicted = [keep_labels(spans, self.labels) for spans in predicted]
        gold = [keep_labels(spans, self.labels) for _, spans in examples]
        part = score_spans(gold, predicted)
        part["chars"] = score_chars(texts, gold, predicted)
        part["errors"] = error_kinds(gold, predicted)
        part.update(docs=len(texts), n_chars=sum(map(len, texts)))
        return part

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        """One row per shard: its counts as JSON, or the coded error that stopped it."""
        out: dict[str, list[Any]] = {key: [] for key in RESULT}
        for i in range(len(batch["path"])):
            shard = Shard.from_row({k: batch[k][i] for k in batch})
            try:
                part, error = json.dumps(self.score(shard)), ""
            except LLMNERError as err:
                part, error = "", str(err)
            out["shard"].append(shard.id)
            out["part"].append(part)
            out["error"].append(error)
        return out


def evaluate_dataset(
    pipeline: str | Path,
    data: str | Path,
    *,
    label_map: Mapping[str, str | None] | None = None,
    labels: Sequence[str] | None = None,
    batch_size: int = 16,
    limit: int = 0,
    shard_size: int = 200,
    address: str | None = None,
    actors: int = 1,
    gpus_per_actor: float = 0.0,
    cpus_per_actor: float = 1.0,
    max_restarts: int = 3,
    code: str | Path | None = None,
) -> dict[str, Any]:
    """The local ``evaluate`` report (``overall``, ``per_label``, ``chars``, speed) from Ray actors.

    ``data``: gold JSONL (``{"text", "spans"}`` per line), a folder or a glob of them;
    ``limit``: score only the first N documents of each file (0: all). A malformed line stops
    the run with E305, as locally.
    """
    from ..evaluation.ner import merge_scores

    require_ray()
    started = time.perf_counter()
    files = discover(data)
    for file in files:
        if file.fmt != "jsonl":
            raise LLMNERError(Errors.E503.format(path=file.rel, fmt=file.fmt))
    shards = [s for f in files for s in plan(f, shard_size, limit=limit or None)]
    parts: dict[str, dict[str, Any]] = {}

    def on_result(row: dict[str, Any]) -> None:
        if row["error"]:
            raise LLMNERError(str(row["error"]))
        parts[str(row["shard"])] = json.loads(str(row["part"]))

    kwargs = {
        "pipeline": str(pipeline),
        "code": str(code) if code else None,
        "label_map": dict(label_map) if label_map is not None else None,
        "labels": list(labels) if labels is not None else None,
        "batch_size": batch_size,
    }
    cluster = Cluster(address, actors, gpus_per_actor, cpus_per_actor, max_restarts)
    run_shards(shards, EvaluateWorker, kwargs, cluster, RESULT, on_result)
    ordered = [parts[s.id] for s in shards]
    report = merge_scores(ordered)
    seconds = time.perf_counter() - started
    docs = sum(p["docs"] for p in ordered)
    report.update(
        docs=docs,
        seconds=round(seconds, 3),
        docs_per_s=round(docs / seconds, 3) if seconds > 0 else None,
        chars_per_s=round(sum(p["n_chars"] for p in ordered) / seconds, 1) if seconds > 0 else None,
        engine="ray",
        actors=actors,
    )
    return report
