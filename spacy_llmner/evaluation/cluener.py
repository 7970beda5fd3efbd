"""Scoring a pipeline on CLUENER2020 the two ways its results are compared (the CLUENER experiment we reproduce).

(1) typed exact-span P/R/F1 per label, the package's measure (``ner.py``), and (2) the seed's
measure as we read its ``ner_eval.py`` ("hard" results): per document, the set of (label, entity
string) pairs, micro-averaged, so a string found once counts once however often it occurs. For a
JSON pipeline the report adds how many answered strings were not in the source (the
hallucination the copy constraint rules out for XML). Counts and timings only, never text.
``benchmarks/cluener.py score`` writes the report; the learning curve and the results table
stay with that script.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..tagging import CharSpan
from .ner import error_kinds, predict, read_examples, score_chars, score_labelled_sets, score_spans


def string_scores(
    texts: Sequence[str], gold: Sequence[Iterable[CharSpan]], predicted: Sequence[Iterable[CharSpan]]
) -> dict[str, Any]:
    """Micro P/R/F1 over per-document sets of (label, entity string): the seed's measure."""

    def strings(text: str, spans: Iterable[CharSpan]) -> set[tuple[str, str]]:
        return {(text[s:e], lab) for s, e, lab in spans}

    return score_labelled_sets([strings(t, g) for t, g in zip(texts, gold, strict=True)],
                               [strings(t, p) for t, p in zip(texts, predicted, strict=True)])


def score_pipeline(pipeline: Path, data: Path, name: str, batch_size: int = 16, limit: int = 0) -> dict[str, Any]:
    """Predict once over the gold texts; span-level and string-level scores, time, JSON align counts.

    The row ``benchmarks/results/cluener.json`` collects (its keys are what ``report.py`` reads)."""
    import spacy

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
    report["errors"] = error_kinds(gold, predicted)
    report.update(seconds=round(seconds, 2), docs_per_s=round(len(texts) / seconds, 3) if seconds else None)
    if "llm_ner" in nlp.pipe_names:
        component: Any = nlp.get_pipe("llm_ner")  # spacy-llm's LLMWrapper: its task keeps the align counts
        task = component.task
        stats = getattr(task, "align_stats", None)
        if stats is not None:
            report["json_strings"] = {"answered": stats.strings, "not_in_source": stats.not_in_source,
                                      "occurrences_dropped_as_overlaps": stats.overlaps_dropped}
        model_cfg = nlp.config["components"]["llm_ner"]["model"]
        report["decoding"] = model_cfg.get("decoding", "constrained")
    return report
