"""The PHI gate (``llmner_phi_gate``): how many PHI documents it lets through, and the time it saves.

A PHI / NO_PHI classifier (an ``llm_textcat_head`` trained by ``train-textcat`` on
``generate-textcat --task phi``) runs first; the gate sends to ``llm_ner`` only the docs with
``doc.cats["PHI"] >= threshold``. Two measurements, both on the held-out-template test split
(``doc.cats`` one-hot, ``doc.ents`` the generated entities):

1. **Recall at each threshold**, from the classifier's probabilities on every test doc: the share
   of PHI documents the gate passes, the share of gold entities that sit in skipped documents
   (never anonymised), and the share of NO_PHI documents skipped (the saving).
2. **Time on a mixed corpus** (the first ``--limit`` test docs, about half without PHI), side by
   side in one process: the NER pipeline alone vs classifier + gate + NER at ``--threshold``.
   Also reported: exact-span entity recall of both against the gold, and whether the gated run
   gives exactly the NER pipeline's entities on every document it passed.

    python benchmarks/phi_gate.py training/pipeline training/textcat/phi_head \
        corpus/textcat/synth_phi/test.spacy --limit 100 --threshold 0.2 [--share-base]

``--share-base``: the classifier and ``llm_ner`` run on one loaded base (``share_base = true`` on
both; they must have been trained on the same base). The measures are
``spacy_llmner.textcat.scoring`` (``threshold_rows``, ``entity_recall``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling _results.py
from _results import machine  # noqa: E402

from spacy_llmner.textcat.scoring import ent_spans, entity_recall, threshold_rows  # noqa: E402
from spacy_llmner.training.sft import read_docbin  # noqa: E402

NER = "llm_ner"
HEAD = "phi_classifier"
GATE = "llmner_phi_gate"


def main(
    ner_pipeline: Path = typer.Argument(..., help="An llm_ner pipeline (e.g. training/pipeline)"),
    head: Path = typer.Argument(..., help="The PHI classifier: a train-textcat output directory (head + adapter)"),
    data: Path = typer.Argument(..., help="generate-textcat --task phi test split (.spacy)"),
    base: str = typer.Option("", help="The classifier's base (default: the one its head.json names)"),
    label: str = typer.Option("PHI", help="The classifier's label for 'contains personal data'"),
    threshold: float = typer.Option(0.2, help="The gate's threshold for the timed run"),
    thresholds: str = typer.Option("0.02,0.05,0.1,0.2,0.3,0.5", help="Thresholds for the recall table"),
    limit: int = typer.Option(100, help="Docs in the timed mixed corpus (the first N of the test split)"),
    batch_size: int = typer.Option(16, help="Docs per nlp.pipe batch"),
    share_base: bool = typer.Option(False, help="Classifier and llm_ner on one loaded base"),
    output: Path = typer.Option(Path("benchmarks/results/phi_gate.json"), help="Results JSON"),
) -> None:
    import spacy

    gold = read_docbin(data)
    texts = [doc.text for doc in gold]
    head_meta = json.loads((head / "head.json").read_text(encoding="utf8"))
    head_cfg: dict[str, Any] = {"base": base or head_meta["base_model"], "adapter": str(head)}
    if share_base:
        head_cfg["share_base"] = True
    overrides = {"components": {NER: {"model": {"share_base": True}}}} if share_base else {}

    # 1. The classifier alone on every test doc: P(PHI) per doc.
    cls = spacy.blank("en")
    cls.add_pipe("llm_textcat_head", name=HEAD, config=head_cfg)
    list(cls.pipe(texts[:1]))
    start = time.perf_counter()
    p_phi = [doc.cats[label] for doc in cls.pipe(texts, batch_size=batch_size)]
    classify_s = time.perf_counter() - start
    del cls
    table = threshold_rows(p_phi, gold, label, [float(t) for t in thresholds.split(",") if t.strip()])

    # 2. Timed, side by side on the same mixed docs: NER alone, then classifier + gate + NER.
    sample, sample_gold = texts[:limit], gold[:limit]
    nlp = spacy.load(ner_pipeline, config=overrides)
    list(nlp.pipe(sample[:1]))  # warm-up: weights load lazily
    start = time.perf_counter()
    alone = list(nlp.pipe(sample, batch_size=batch_size))
    alone_s = time.perf_counter() - start

    nlp.add_pipe("llm_textcat_head", name=HEAD, config=head_cfg, first=True)
    nlp.add_pipe(GATE, config={"component": NER, "label": label, "threshold": threshold, "batch_size": batch_size})
    nlp.disable_pipe(NER)
    list(nlp.pipe(sample[:1]))
    start = time.perf_counter()
    gated = list(nlp.pipe(sample, batch_size=batch_size))
    gated_s = time.perf_counter() - start

    ran = [bool(doc._.llmner_gated) for doc in gated]
    same = all(ent_spans(g) == ent_spans(a) for g, a, r in zip(gated, alone, ran) if r)
    n_phi = sum(1 for doc in sample_gold if doc.cats.get(label, 0.0) >= 0.5)
    report: dict[str, Any] = {
        "ner_pipeline": str(ner_pipeline), "head": str(head), "data": str(data), "share_base": share_base,
        "test_docs": len(texts), "classify_docs_per_s": round(len(texts) / classify_s, 2),
        "thresholds": table,
        "timed": {
            "docs": len(sample), "phi_docs": n_phi, "threshold": threshold, "docs_passed": sum(ran),
            "ner_alone_s": round(alone_s, 2), "gated_s": round(gated_s, 2),
            "time_saved": round(1 - gated_s / alone_s, 4) if alone_s else None,
            "entity_recall_ner_alone": entity_recall(alone, sample_gold),
            "entity_recall_gated": entity_recall(gated, sample_gold),
            "gated_equals_alone_on_passed_docs": same,
        },
        "machine": machine(),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf8")
    typer.echo(f"classifier: {report['classify_docs_per_s']} docs/s on {len(texts)} test docs")
    typer.echo("| threshold | PHI docs passed | entities in skipped docs | NO_PHI docs skipped |")
    typer.echo("|---|---|---|---|")
    for row in table:
        typer.echo(f"| {row['threshold']} | {row['phi_doc_recall']} | {row['entities_in_skipped_docs']} "
                   f"({row['entity_share_skipped']}) | {row['no_phi_docs_skipped']} |")
    t = report["timed"]
    typer.echo(f"\n{t['docs']} docs ({t['phi_docs']} with PHI), threshold {threshold}: NER alone {t['ner_alone_s']} s, "
               f"gated {t['gated_s']} s ({t['docs_passed']} passed), saved {t['time_saved']}; entity recall "
               f"{t['entity_recall_ner_alone']} -> {t['entity_recall_gated']}; same entities on passed docs: {same}")


if __name__ == "__main__":
    typer.run(main)
