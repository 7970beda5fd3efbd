"""The PHI gate: llm_ner runs only on docs whose classifier probability passes the threshold."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import spacy
from conftest import randomize
from spacy.language import Language

import spacy_llmner.textcat.gate  # noqa: F401 - registers the factory (the entry point comes with the install)
from spacy_llmner.errors import LLMNERError

TEXTS = [
    "My name is John Doe, and I can be contacted at 555-123-4567.",
    "email jdoe@example.com",
    "病人 北京",
    "patient Mary Smith seen on 03/14/2021",
    "the clinic",
]


@pytest.fixture(scope="module")
def base(tiny_models: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from spacy_llmner.tinybase.tiny import save

    tok, model, _ = tiny_models["qwen2"]
    return save(randomize(copy.deepcopy(model), 3, std=0.2), tok, tmp_path_factory.mktemp("gate") / "base")


def make_nlp(base: Path, gate: dict[str, Any] | None) -> Language:
    nlp = spacy.blank("en")
    model = {"@llm_models": "spacy_llmner.HF.v1", "name": str(base), "share_base": True}
    nlp.add_pipe("llm_textcat", config={
        "task": {"@llm_tasks": "spacy_llmner.TextCat.v1", "labels": ["PHI", "none"]}, "model": model, "save_io": False,
    })
    nlp.add_pipe("llm_ner", config={
        "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": ["PERSON", "PHONE_NUMBER"]}, "model": model, "save_io": False,
    })
    if gate is not None:
        nlp.add_pipe("llmner_phi_gate", config=gate)
        nlp.disable_pipe("llm_ner")
    return nlp


def ents(doc: Any) -> list[tuple[int, int, str]]:
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def test_gate_runs_ner_only_above_the_threshold(base: Path, tmp_path: Path) -> None:
    full = list(make_nlp(base, None).pipe(TEXTS))
    probs = sorted(d.cats["PHI"] for d in full)
    threshold = (probs[1] + probs[2]) / 2  # two docs below, three above
    assert probs[1] < threshold < probs[2]
    nlp = make_nlp(base, {"label": "PHI", "threshold": threshold, "batch_size": 2})
    gated = list(nlp.pipe(TEXTS))
    assert any(ents(d) for d, g in zip(full, gated) if not g._.llmner_gated)  # NER would have found some
    for ref, doc in zip(full, gated):
        assert doc.cats == pytest.approx(ref.cats)
        assert doc._.llmner_gated == (ref.cats["PHI"] >= threshold)
        assert ents(doc) == (ents(ref) if doc._.llmner_gated else [])
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert "llm_ner" in loaded.disabled
    assert [ents(d) for d in loaded.pipe(TEXTS)] == [ents(d) for d in gated]
    assert [ents(loaded(t)) for t in TEXTS] == [ents(d) for d in gated]  # one doc at a time too


def test_gate_coded_errors(base: Path) -> None:
    with pytest.raises(LLMNERError, match="E647"):
        make_nlp(base, {"threshold": 1.5})
    nlp = make_nlp(base, {"label": "PHI"})
    nlp.enable_pipe("llm_ner")
    with pytest.raises(LLMNERError, match="E648"):
        nlp("John Doe")
    with pytest.raises(LLMNERError, match="E649"):
        make_nlp(base, {"label": "phi"})("John Doe")


def test_benchmark_threshold_table_counts_what_the_gate_skips() -> None:
    """benchmarks/phi_gate.py's table: PHI docs passed, gold entities in skipped docs, NO_PHI docs skipped."""
    from spacy_llmner.textcat.scoring import threshold_rows

    nlp = spacy.blank("en")
    gold = []
    cases = (("Ann Lee called", True, 1), ("Bo Chen and Al Wu", True, 2), ("dose 5 mg", False, 0), ("room 4", False, 0))
    for text, phi, n_ents in cases:
        doc = nlp(text)
        doc.cats = {"PHI": float(phi), "NO_PHI": float(not phi)}
        doc.ents = [doc.char_span(0, len(text.split()[0]) + 1 + len(text.split()[1]), label="PERSON")] if n_ents == 1 else (
            [doc.char_span(0, 7, label="PERSON"), doc.char_span(12, 17, label="PERSON")] if n_ents == 2 else [])
        gold.append(doc)
    rows = threshold_rows([0.9, 0.15, 0.3, 0.01], gold, "PHI", [0.1, 0.2, 0.5])
    assert [r["phi_doc_recall"] for r in rows] == [1.0, 0.5, 0.5]
    assert [r["entities_in_skipped_docs"] for r in rows] == [0, 2, 2]
    assert [r["no_phi_docs_skipped"] for r in rows] == [0.5, 0.5, 1.0]
    assert rows[1]["entity_share_skipped"] == round(2 / 3, 4)
