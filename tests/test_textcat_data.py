"""Classification data (THUCNews conversion, synthetic kind / PHI corpora) and the textcat harness."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from spacy.tokens import DocBin

from spacy_llmner.data.blank import blank
from spacy_llmner.data.heldout import HELDOUT_IDS, HELDOUT_KINDS
from spacy_llmner.errors import LLMNERError
from spacy_llmner.textcat.scoring import cats_metrics, score_pipeline
from spacy_llmner.textcat.synth import NO_PHI, PHI, corpus, task_labels, to_textcat_docbin
from spacy_llmner.textcat.thucnews import convert, quotas, split_indices

ROOT = Path(__file__).resolve().parents[1]
LABELS = [lab for lab in "abcd" for _ in range(60)]  # 4 balanced labels of 60


# --- THUCNews conversion ---------------------------------------------------------------------


def test_splits_are_disjoint_and_stratified() -> None:
    out = split_indices(LABELS, n_train=100, n_dev=20, n_test=40, seed=3)
    sets = {s: set(idx) for s, idx in out.items()}
    assert sets["train"].isdisjoint(sets["dev"]) and sets["train"].isdisjoint(sets["test"])
    assert sets["dev"].isdisjoint(sets["test"])
    assert [len(out[s]) for s in ("train", "dev", "test")] == [100, 20, 40]
    for split, per_label in (("train", 25), ("dev", 5), ("test", 10)):
        assert Counter(LABELS[i] for i in out[split]) == {lab: per_label for lab in "abcd"}


def test_quotas_follow_label_shares() -> None:
    assert quotas({"a": 50, "b": 30, "c": 20}, 10) == {"a": 5, "b": 3, "c": 2}
    assert sum(quotas({"a": 1, "b": 1, "c": 1}, 10).values()) == 10


def test_test_split_does_not_depend_on_train_size_or_rare_classes() -> None:
    small = split_indices(LABELS, 40, 20, 40, seed=1)
    large = split_indices(LABELS, 160, 20, 40, seed=1)
    rare = split_indices(LABELS, 160, 20, 40, seed=1, rare=["b"], rare_frac=0.1)
    assert small["test"] == large["test"] == rare["test"]
    assert small["dev"] == large["dev"] == rare["dev"]
    assert set(small["train"]) < set(large["train"])  # nested: a learning curve adds documents
    assert set(rare["train"]) < set(large["train"])
    assert split_indices(LABELS, 40, 20, 40, seed=2)["test"] != small["test"]  # the seed matters


def test_rare_classes_are_subsampled_in_train_only() -> None:
    out = split_indices(LABELS, 160, 20, 40, seed=0, rare=["b", "c"], rare_frac=0.05)
    assert Counter(LABELS[i] for i in out["train"]) == {"a": 40, "b": 2, "c": 2, "d": 40}
    assert Counter(LABELS[i] for i in out["test"]) == {lab: 10 for lab in "abcd"}
    tiny = split_indices(LABELS, 40, 0, 0, seed=0, rare=["b"], rare_frac=0.001)
    assert Counter(LABELS[i] for i in tiny["train"])["b"] == 1  # never rounded away to nothing
    with pytest.raises(LLMNERError, match="E662"):
        split_indices(LABELS, 40, 0, 0, rare=["z"], rare_frac=0.1)
    with pytest.raises(LLMNERError, match="E661"):
        split_indices(LABELS, 40, 0, 0, rare=["b"], rare_frac=1.5)


def test_too_many_documents_requested_is_a_coded_error() -> None:
    with pytest.raises(LLMNERError, match="E663"):
        split_indices(LABELS, 200, 20, 40)
    assert len(split_indices(LABELS, 0, 20, 40)["train"]) == 240 - 60  # 0: everything left


def test_convert_writes_one_hot_cats_on_character_tokens(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    rows = [{"text": f"标题{lab}{i}号", "label": lab} for lab in ("体育", "财经", "游戏") for i in range(12)]
    rows.append({"text": "标题体育0号", "label": "财经"})  # a duplicate text: dropped
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf8")
    bins, labels, summary = convert(path, n_train=12, n_dev=3, n_test=6, seed=0)
    assert labels == sorted(["体育", "财经", "游戏"])
    assert summary["duplicate_texts_dropped"] == 1 and summary["docs"] == {"train": 12, "dev": 3, "test": 6}
    gold = {r["text"]: r["label"] for r in rows[:-1]}
    vocab = blank("zh").vocab
    texts: dict[str, set[str]] = {}
    for split, db in bins.items():
        docs = list(DocBin().from_bytes(db.to_bytes()).get_docs(vocab))
        texts[split] = {d.text for d in docs}
        for doc in docs:
            assert list(doc.cats) == labels and sorted(doc.cats.values()) == [0.0, 0.0, 1.0]
            assert max(doc.cats, key=doc.cats.__getitem__) == gold[doc.text]
            assert len(doc) == len(doc.text)  # one token per character
    assert not texts["train"] & texts["test"] and not texts["dev"] & texts["test"]


def test_convert_reports_malformed_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": "x"}\n{"text": "b"}\n', encoding="utf8")
    with pytest.raises(LLMNERError, match=r"E660.*Line 2"):
        convert(path, 1, 0, 0)


# --- synthetic classification corpora ----------------------------------------------------------


def test_phi_corpus_has_both_classes_labelled_from_spans_and_held_out_kinds_only_in_test() -> None:
    splits = corpus("phi", n_train=30, n_dev=6, n_test=80, seed=0)
    for split, docs in splits.items():
        labels = Counter(PHI if d.spans else NO_PHI for d in docs)
        assert labels[PHI] == labels[NO_PHI] == len(docs) // 2, split
    assert not any(d.kind in HELDOUT_KINDS for s in ("train", "dev") for d in splits[s])
    assert any(d.kind in HELDOUT_KINDS for d in splits["test"])
    assert not any(set(d.template_ids) & HELDOUT_IDS for s in ("train", "dev") for d in splits[s])
    assert all(set(d.template_ids) & HELDOUT_IDS for d in splits["test"])
    docs = list(to_textcat_docbin("phi", splits["dev"]).get_docs(blank("en").vocab))
    cats = [PHI if doc.cats[PHI] == 1.0 else NO_PHI for doc in docs]
    assert cats == [PHI if gen.spans else NO_PHI for gen in splits["dev"]] and len(set(cats)) == 2
    texts = [{d.text for d in docs} for docs in splits.values()]
    assert not (texts[0] & texts[2]) and not (texts[1] & texts[2]) and not (texts[0] & texts[1])


def test_kind_corpus_labels_are_train_side_kinds_and_test_uses_held_out_templates() -> None:
    labels = task_labels("kind")
    assert not set(labels) & HELDOUT_KINDS and len(labels) >= 10
    splits = corpus("kind", n_train=40, n_dev=0, n_test=30, seed=1)
    assert all(d.kind in labels for docs in splits.values() for d in docs)
    assert all(set(d.template_ids) & HELDOUT_IDS for d in splits["test"])
    assert not any(set(d.template_ids) & HELDOUT_IDS for d in splits["train"])
    docs = list(to_textcat_docbin("kind", splits["test"]).get_docs(blank("en").vocab))
    for doc, gen in zip(docs, splits["test"], strict=True):
        assert doc.cats[gen.kind] == 1.0 and sum(doc.cats.values()) == 1.0 and list(doc.cats) == labels
        assert len(doc.ents) == len(gen.spans)  # the NER annotation travels with the cats
    with pytest.raises(LLMNERError, match="E665"):
        task_labels("topic")


# --- the harness -------------------------------------------------------------------------------


def test_metrics_on_a_hand_made_case() -> None:
    gold = ["a", "a", "b", "b", "c"]
    pred = ["a", "b", "b", "b", "a"]
    m = cats_metrics(gold, pred, ["a", "b", "c", "d"], rare=["c", "a"])
    assert m["accuracy"] == 0.6
    assert m["per_label"]["a"] == {"p": 0.5, "r": 0.5, "f": 0.5, "support": 2}
    assert m["per_label"]["b"]["f"] == 0.8 and m["per_label"]["c"]["f"] == 0.0
    assert m["macro_f1"] == round((0.5 + 0.8 + 0.0) / 3, 4)  # d: no gold, no prediction: no F1
    assert m["rare_f1"] == 0.25
    assert cats_metrics(gold, pred, ["a", "b", "c"])["rare_f1"] is None
    outside = cats_metrics(["a", "b"], ["a", "zzz"], ["a", "b"])
    assert outside["per_label"]["b"]["r"] == 0.0 and outside["predicted_outside_labels"] == 1


def test_score_runs_any_pipeline_that_sets_cats(tmp_path: Path) -> None:
    import spacy

    labels = ["PHI", "NO_PHI"]
    pipe = spacy.blank("en")
    pipe.add_pipe("textcat", config={"model": {"@architectures": "spacy.TextCatBOW.v3",
                                               "exclusive_classes": True, "ngram_size": 1,
                                               "no_output_layer": False}})
    for lab in labels:
        pipe.get_pipe("textcat").add_label(lab)
    pipe.initialize()
    pipe.to_disk(tmp_path / "pipe")
    splits = corpus("phi", 0, 0, 6, seed=0)
    to_textcat_docbin("phi", splits["test"]).to_disk(tmp_path / "test.spacy")
    row = score_pipeline(tmp_path / "pipe", tmp_path / "test.spacy", "t", rare=["PHI"])
    assert row["docs"] == 6 and set(row["per_label"]) == set(labels) and row["docs_per_s"] > 0
    assert row["rare_f1"] == row["per_label"]["PHI"]["f"]
    dumped = json.dumps(row, ensure_ascii=False)
    assert not any(d.text in dumped for d in splits["test"])  # counts and timings only, never text


def test_project_has_the_textcat_workflow() -> None:
    import yaml

    project = yaml.safe_load((ROOT / "project.yml").read_text(encoding="utf8"))
    assert set(project["workflows"]["textcat"]) <= {c["name"] for c in project["commands"]}


@pytest.mark.parametrize("component", ["llm_textcat", "llm_textcat_head"])
def test_score_runs_llm_pipelines(component: str, tiny_models: dict, tmp_path: Path) -> None:
    """The harness on spacy-llm's llm_textcat (TextCat.v1) and on llm_textcat_head (an
    untrained head), both on a tiny random base."""
    import spacy
    from spacy_llm.registry import registry as llm_registry

    from spacy_llmner.textcat.task import make_textcat_task
    from spacy_llmner.tinybase.tiny import save

    if "spacy_llmner.TextCat.v1" not in llm_registry.llm_tasks:  # entry points arrive with an install
        llm_registry.llm_tasks.register("spacy_llmner.TextCat.v1", func=make_textcat_task)
    tok, model, _ = tiny_models["qwen2"]
    base = save(model, tok, tmp_path / "base")
    nlp = spacy.blank("en")
    if component == "llm_textcat":
        nlp.add_pipe("llm_textcat", config={
            "task": {"@llm_tasks": "spacy_llmner.TextCat.v1", "labels": [PHI, NO_PHI]},
            "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(base)}, "save_io": False})
    else:
        import spacy_llmner.textcat.component  # noqa: F401 (registers the factory)

        nlp.add_pipe("llm_textcat_head", config={"base": str(base), "labels": [PHI, NO_PHI]})
    nlp.to_disk(tmp_path / "pipe")
    to_textcat_docbin("phi", corpus("phi", 0, 0, 4, seed=0)["test"]).to_disk(tmp_path / "test.spacy")
    row = score_pipeline(tmp_path / "pipe", tmp_path / "test.spacy", "llm")
    assert row["components"] == [component] and row["docs"] == 4
    assert sum(v["support"] for v in row["per_label"].values()) == 4


def test_phi_summary_reports_the_length_only_bar() -> None:
    from spacy_llmner.textcat.synth import summary

    splits = corpus("phi", 40, 0, 20, seed=0)
    bar = summary("phi", splits, 0)["length_only_baseline"]
    assert 0.5 <= bar["train_accuracy"] <= 1.0 and 0.0 <= bar["test_accuracy"] <= 1.0
    assert "length_only_baseline" not in summary("kind", corpus("kind", 10, 0, 5, seed=0), 0)


def test_retrieval_metrics_on_a_hand_made_case() -> None:
    """benchmarks/retrieval.py's measures: precision@k over all and rare titles, rare recall."""
    from spacy_llmner.textcat.scoring import retrieval_metrics

    pool = ["a", "a", "r", "b"]
    m = retrieval_metrics([[0, 3], [2, 1], [3, 3]], ["a", "r", "b"], pool, rare=["r", "z"])
    assert m["precision_at_k"] == round(4 / 6, 4) and m["rare_precision_at_k"] == 0.5
    assert m["rare_recall"] == 1.0 and m["rare_recall_per_label"] == {"r": 1.0, "z": None}
    assert m["rare_test_docs"] == 1
