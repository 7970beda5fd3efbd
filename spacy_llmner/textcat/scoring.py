"""The text classification workflow's scorers, in the package so tests and scripts share them.

``benchmarks/textcat.py score`` and ``benchmarks/textcat_minilm.py`` report the same metrics
(``cats_metrics``) for any classifier: a spaCy pipeline that sets ``doc.cats`` (spaCy
``textcat``, spacy-llm ``llm_textcat`` with ``spacy_llmner.TextCat.v1``, ``llm_textcat_head``)
or a model outside spaCy. The predicted label is the argmax of ``doc.cats``, the gold label the
argmax of the gold cats (one-hot, exclusive classes). ``benchmarks/phi_gate.py`` measures the
PHI gate with ``threshold_rows`` and ``entity_recall``, ``benchmarks/retrieval.py`` the
demonstrations a similarity retrieves with ``retrieval_metrics``. The scripts keep only their
command line, printing and the results JSON. Counts and timings only, never text.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError
from ..evaluation.ner import prf
from ..tagging import CharSpan
from ..training.sft import doc_spans


def cats_metrics(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str], rare: Sequence[str] = ()
) -> dict[str, Any]:
    """Accuracy, macro-F1 over ``labels``, per-label P/R/F1/support, rare-class F1.

    A label's F1 is 0 when it has no true positive. Macro-F1 averages every label in ``labels``
    that has gold documents or predictions (a label with neither has no defined F1). A predicted
    label outside ``labels`` counts as a wrong answer (a false negative of the gold label).
    Rare-class F1 is the mean F1 of the ``rare`` labels (None when none are given).
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, predicted):
        if g == p:
            tp[g] += 1
        else:
            fn[g] += 1
            fp[p] += 1
    per_label: dict[str, dict[str, Any]] = {}
    for lab in labels:  # support (gold documents) = tp + fn: every gold document is one or the other
        scores = prf(tp[lab], fp[lab], fn[lab], digits=4)
        per_label[lab] = {k: scores[k] for k in ("p", "r", "f", "support")}
    defined = [lab for lab in labels if per_label[lab]["support"] or fp[lab]]
    macro = sum(per_label[lab]["f"] for lab in defined) / len(defined) if defined else 0.0
    unknown = [lab for lab in rare if lab not in per_label]
    if unknown:
        raise ValueError(f"rare labels {unknown} are not among the labels {list(labels)}")
    rare_f1 = sum(per_label[lab]["f"] for lab in rare) / len(rare) if rare else None
    return {
        "accuracy": round(sum(tp.values()) / len(gold), 4) if gold else 0.0,
        "macro_f1": round(macro, 4),
        "rare_labels": list(rare),
        "rare_f1": round(rare_f1, 4) if rare_f1 is not None else None,
        "per_label": per_label,
        "predicted_outside_labels": sum(n for lab, n in fp.items() if lab not in per_label),
    }


def argmax_label(cats: Mapping[str, float]) -> str:
    """The label with the highest score (first in order on ties)."""
    return max(cats, key=lambda lab: cats[lab])


def read_gold(path: Path) -> tuple[list[str], list[str], list[str]]:
    """Texts, gold labels (argmax of the one-hot cats) and the label list of a textcat DocBin."""
    import spacy
    from spacy.tokens import DocBin

    if not path.is_file():
        raise LLMNERError(Errors.E108.format(path=path))
    vocab = spacy.blank("xx").vocab
    texts: list[str] = []
    gold: list[str] = []
    labels: dict[str, None] = {}
    for i, doc in enumerate(DocBin().from_disk(path).get_docs(vocab)):
        if not doc.cats:
            raise LLMNERError(Errors.E666.format(path=path, index=i))
        texts.append(doc.text)
        gold.append(argmax_label(doc.cats))
        labels.update(dict.fromkeys(doc.cats))
    return texts, gold, list(labels)


def parse_rare(rare: str) -> list[str]:
    """The ``--rare`` option's comma-separated labels (both scripts take it)."""
    return [lab.strip() for lab in rare.split(",") if lab.strip()]


def score_pipeline(
    pipeline: Path, data: Path, name: str, rare: Sequence[str] = (), batch_size: int = 64, limit: int = 0
) -> dict[str, Any]:
    """Run a pipeline once over the gold texts: accuracy, macro/per-label/rare F1, docs/s.

    One warm-up document runs before the timed pass, so lazily loaded weights are counted apart
    as ``load_seconds``. The row ``benchmarks/results/textcat.json`` collects, less the machine
    (the script adds it)."""
    import spacy

    texts, gold, labels = read_gold(data)
    if limit > 0:
        texts, gold = texts[:limit], gold[:limit]
    start = time.perf_counter()
    nlp = spacy.load(pipeline)
    if texts:
        list(nlp.pipe(texts[:1]))  # warm-up: lazily loaded weights are counted in load_seconds
    load_seconds = time.perf_counter() - start
    start = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=batch_size))
    seconds = time.perf_counter() - start
    predicted = []
    for i, doc in enumerate(docs):
        if not doc.cats:
            raise LLMNERError(Errors.E667.format(pipeline=pipeline, index=i))
        predicted.append(argmax_label(doc.cats))
    report: dict[str, Any] = {"name": name, "pipeline": str(pipeline), "data": str(data),
                              "components": nlp.pipe_names, "docs": len(texts)}
    report.update(cats_metrics(gold, predicted, labels, rare))
    report.update(seconds=round(seconds, 3), docs_per_s=round(len(texts) / seconds, 2) if seconds else None,
                  load_seconds=round(load_seconds, 2), batch_size=batch_size)
    return report


def ent_spans(doc: Any) -> set[CharSpan]:
    """A doc's entities as a set of exact typed character spans, to compare two runs' entities."""
    return set(doc_spans(doc))


def threshold_rows(p_phi: list[float], gold: list[Any], label: str, thresholds: list[float]) -> list[dict[str, Any]]:
    """What the PHI gate would skip at each threshold, from the classifier's P(``label``) per doc.

    Per threshold: the share of PHI documents passed, the gold entities (and their share) in
    skipped documents (never anonymised), the share of NO_PHI documents skipped (the saving) and
    of all documents skipped. A gold doc is PHI when its ``label`` cat is at least 0.5."""
    is_phi = [doc.cats.get(label, 0.0) >= 0.5 for doc in gold]
    n_phi = sum(is_phi)
    n_ents = sum(len(doc.ents) for doc in gold)
    rows = []
    for t in thresholds:
        passed = [p >= t for p in p_phi]
        phi_passed = sum(1 for ok, y in zip(passed, is_phi) if ok and y)
        lost = sum(len(doc.ents) for doc, ok in zip(gold, passed) if not ok)
        none_skipped = sum(1 for ok, y in zip(passed, is_phi) if not ok and not y)
        rows.append({
            "threshold": t,
            "phi_doc_recall": round(phi_passed / n_phi, 4) if n_phi else None,
            "entities_in_skipped_docs": lost,
            "entity_share_skipped": round(lost / n_ents, 4) if n_ents else None,
            "no_phi_docs_skipped": round(none_skipped / (len(gold) - n_phi), 4) if len(gold) > n_phi else None,
            "docs_skipped": round(1 - sum(passed) / len(passed), 4) if passed else None,
        })
    return rows


def entity_recall(predicted: list[Any], gold: list[Any]) -> float | None:
    """Share of the gold docs' entities found exactly (span and label); None without gold entities."""
    total = sum(len(doc.ents) for doc in gold)
    hit = sum(len(ent_spans(p) & ent_spans(g)) for p, g in zip(predicted, gold))
    return round(hit / total, 4) if total else None


def retrieval_metrics(
    neighbours: Sequence[Sequence[int]], test_gold: Sequence[str], pool_gold: Sequence[str], rare: Sequence[str]
) -> dict[str, Any]:
    """How well a similarity picks same-label demonstrations: precision@k over all test titles and
    over the rare-class ones; rare recall (any hit among the k), overall and per rare label.

    ``neighbours[i]``: the pool indices retrieved for test title ``i``."""
    def precision(rows: list[int]) -> float | None:
        retrieved = sum(len(neighbours[i]) for i in rows)
        hits = sum(pool_gold[j] == test_gold[i] for i in rows for j in neighbours[i])
        return round(hits / retrieved, 4) if retrieved else None

    def recall(rows: list[int]) -> float | None:
        return round(sum(any(pool_gold[j] == test_gold[i] for j in neighbours[i]) for i in rows) / len(rows), 4) \
            if rows else None

    rare_rows = [i for i, g in enumerate(test_gold) if g in rare]
    return {
        "precision_at_k": precision(list(range(len(test_gold)))),
        "rare_precision_at_k": precision(rare_rows),
        "rare_recall": recall(rare_rows),
        "rare_recall_per_label": {lab: recall([i for i in rare_rows if test_gold[i] == lab]) for lab in rare},
        "rare_test_docs": len(rare_rows),
    }
