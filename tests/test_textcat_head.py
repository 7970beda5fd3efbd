"""The ``llm_textcat_head`` component and ``train-textcat``: last-real-token pooling under either
padding side, a short training run that really learns, temperature scaling and its metrics,
the spaCy round trip and scorer, and the coded errors (E620-E630)."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
import spacy
import tomllib
import torch
from spacy.language import Language
from spacy.tokens import DocBin
from spacy.training import Example

import spacy_llmner
from spacy_llmner.errors import LLMNERError
from spacy_llmner.models.meta import HEAD_META, HEAD_WEIGHTS
from spacy_llmner.textcat.calibration import expected_calibration_error, fit_temperature, nll
from spacy_llmner.textcat.classifier import SequenceClassifier, batched_logits, encode, pad_batch
from spacy_llmner.textcat.component import TextCatHead  # registers llm_textcat_head
from spacy_llmner.textcat.head import new_head
from spacy_llmner.textcat.pooling import last_token_positions, pool_last, position_ids
from spacy_llmner.textcat.train_head import read_cats, resolve_head_labels, targets_of
from spacy_llmner.training.config import HeadConfigFile
from spacy_llmner.training.neftune import neftune

CONFIG = Path(__file__).parent.parent / "configs" / "textcat_head.cfg"
LABELS = ["clinical", "contact"]
_POOLS = {
    "clinical": "patient clinic hospital discharged admitted referred dr. mg daily".split(),
    "contact": "email call 555-123-4567 jdoe@example.com Main Street Springfield lives".split(),
}
TEXTS = ["patient clinic daily", "email call", "lives Main Street Springfield 555-123-4567 call", "dr.", ""]


def docbin(path: Path, n: int, seed: int, multi: bool = False) -> Path:
    """Texts drawn from one word pool per label: separable, but only by reading the words."""
    rng = random.Random(seed)
    nlp, db = spacy.blank("en"), DocBin()
    for _ in range(n):
        label = rng.choice(LABELS)
        words = [rng.choice(_POOLS[label]) for _ in range(rng.randint(2, 8))]
        doc = nlp.make_doc(" ".join(words))
        doc.cats = {lab: float(lab == label) for lab in LABELS}
        if multi:
            doc.cats["long"] = float(len(words) > 5)
        db.add(doc)
    db.to_disk(path)
    return path


@pytest.fixture(scope="module")
def base(tiny_models: dict[str, Any]) -> Path:
    return tiny_models["qwen2"][2]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("tch_data")
    return {"train": docbin(tmp / "train.spacy", 64, 0), "dev": docbin(tmp / "dev.spacy", 32, 1)}


def run_cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from spacy_llmner.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def trained(base: Path, corpus: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One short run through the CLI (top layer only, as on a 2-core CPU)."""
    tmp = tmp_path_factory.mktemp("tch_run")
    result = run_cli(
        "train-textcat", str(base), str(corpus["train"]), str(corpus["dev"]), str(CONFIG), str(tmp / "head"),
        "--loss-log", str(tmp / "loss.jsonl"), "--metrics", str(tmp / "metrics.json"),
        "--training.max_steps", "40", "--training.lr", "0.003", "--training.logging_steps", "5",
        "--lora.r", "8", "--lora.alpha", "16", "--lora.top_layers", "1",
        "--pipeline", str(tmp / "pipeline"), "--lang", "zh",
    )
    assert result.exit_code == 0, result.output
    return {
        "adapter": tmp / "head",
        "pipeline": tmp / "pipeline",
        "metrics": json.loads((tmp / "metrics.json").read_text()),
        "log": [json.loads(line) for line in (tmp / "loss.jsonl").read_text().splitlines()],
    }


def make_nlp(base: Path, **config: Any) -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("llm_textcat_head", config={"base": str(base), **config})
    return nlp


def test_train_textcat_also_saves_a_pipeline(base: Path, trained: dict[str, Any]) -> None:
    loaded = spacy.load(trained["pipeline"])
    assert loaded.lang == "zh" and loaded.pipe_names == ["llm_textcat_head"]
    built = make_nlp(base, adapter=str(trained["adapter"]))
    text = "a short note"
    assert loaded(text).cats == pytest.approx(built(text).cats)
    assert trained["metrics"]["pipeline"] == str(trained["pipeline"])


# --- pooling ------------------------------------------------------------------------------
def test_pooling_picks_the_last_real_token_on_either_side() -> None:
    right = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]])
    left = right.flip(-1)
    assert last_token_positions(right).tolist() == [2, 0, 3]
    assert last_token_positions(left).tolist() == [3, 3, 3]
    assert position_ids(left)[0].tolist() == [0, 0, 1, 2] and position_ids(right)[1].tolist() == [0, 0, 0, 0]
    hidden = torch.arange(3 * 4, dtype=torch.float).reshape(3, 4, 1)
    assert pool_last(hidden, right)[:, 0].tolist() == [2.0, 4.0, 11.0]


@pytest.mark.parametrize("side", ["right", "left"])
def test_batched_logits_equal_one_by_one(tiny_models: dict[str, Any], side: str) -> None:
    """Padding must not change a text's logits: the pooled token and the positions are its own."""
    tok, model, _ = tiny_models["qwen2"]
    classifier = SequenceClassifier(model, new_head(model.config.hidden_size, 3, std=1.0)).eval()
    rows = encode(tok, TEXTS)
    assert len({len(r) for r in rows}) > 2  # real padding in the batch
    batched = batched_logits(classifier, rows, tok.pad_token_id, batch_size=len(rows), side=side)
    alone = torch.cat([batched_logits(classifier, [r], tok.pad_token_id, 1) for r in rows])
    assert torch.allclose(batched, alone, atol=1e-4), (batched - alone).abs().max()
    ids, mask = pad_batch(rows, tok.pad_token_id, side)
    assert (ids[mask.bool()] == torch.tensor([t for r in rows for t in r])).all()


# --- training ------------------------------------------------------------------------------
def test_training_learns_and_calibrates(trained: dict[str, Any]) -> None:
    m = trained["metrics"]
    assert m["labels"] == LABELS and m["steps"] == 40
    # Learned from the words: dev loss down and accuracy up from the untrained head's.
    assert m["dev"]["nll_before"] < m["dev_initial"]["loss"] - 0.1
    assert m["dev"]["accuracy"] >= 0.85 and m["dev"]["accuracy"] > m["dev_initial"]["accuracy"]
    assert m["train_loss_last_epoch"] < m["first_loss"]
    # Temperature: a fitted scalar that lowers dev NLL; metrics before and after are reported.
    dev = m["dev"]
    assert dev["temperature"] > 0 and dev["temperature"] != 1.0
    assert dev["nll_after"] <= dev["nll_before"] + 1e-9
    assert {"ece_before", "ece_after", "macro_f1", "accuracy_scaled"} <= set(dev)
    assert dev["accuracy_scaled"] == dev["accuracy"]  # scaling never changes the argmax
    # The log has steps and losses only (no text).
    allowed = {"step", "epoch", "loss", "lr", "elapsed_s", "eval_loss", "eval_accuracy"}
    assert trained["log"][0]["step"] == 1 and all(set(r) <= allowed for r in trained["log"])
    files = {p.name for p in trained["adapter"].iterdir()}
    assert {HEAD_WEIGHTS, HEAD_META, "adapter_model.safetensors", "adapter_config.json"} <= files
    assert not any(f.endswith((".bin", ".pt", ".pkl")) for f in files)
    meta = json.loads((trained["adapter"] / HEAD_META).read_text())
    assert meta["labels"] == LABELS and meta["temperature"] == dev["temperature"] and meta["pooling"] == "last"


def test_multilabel_training_and_sigmoids(base: Path, tmp_path: Path) -> None:
    train, dev = docbin(tmp_path / "t.spacy", 16, 2, multi=True), docbin(tmp_path / "d.spacy", 8, 3, multi=True)
    result = run_cli(
        "train-textcat", str(base), str(train), str(dev), str(CONFIG), str(tmp_path / "head"),
        "--loss-log", str(tmp_path / "loss.jsonl"), "--head.exclusive_classes", "false",
        "--training.max_steps", "2", "--lora.r", "4", "--lora.top_layers", "1",
    )
    assert result.exit_code == 0, result.output
    nlp = make_nlp(base, adapter=str(tmp_path / "head"), exclusive_classes=False)
    cats = nlp("patient clinic daily").cats
    assert set(cats) == {"clinical", "contact", "long"} and all(0 < p < 1 for p in cats.values())
    assert abs(sum(cats.values()) - 1) > 1e-3  # independent sigmoids, not a softmax


# --- the component ----------------------------------------------------------------------
def test_component_sets_probabilities_that_sum_to_one(base: Path, trained: dict[str, Any]) -> None:
    nlp = make_nlp(base, adapter=str(trained["adapter"]), batch_size=2)
    pipe = nlp.get_pipe("llm_textcat_head")
    assert not pipe.loaded  # lazy: nothing loaded at add_pipe
    docs = list(nlp.pipe(TEXTS))
    for doc in docs:
        assert list(doc.cats) == LABELS and abs(sum(doc.cats.values()) - 1) < 1e-5
    assert docs[0].cats["clinical"] > 0.5 and docs[2].cats["contact"] > 0.5
    # Batched (sorted, padded) == one by one, through the component and left padding too.
    left = make_nlp(base, adapter=str(trained["adapter"]), padding_side="left", batch_size=8)
    for doc in docs:
        assert nlp(doc.text).cats == pytest.approx(doc.cats, abs=1e-5)
        assert left(doc.text).cats == pytest.approx(doc.cats, abs=1e-5)


def test_temperature_from_training_and_overridable(base: Path, trained: dict[str, Any]) -> None:
    fitted = trained["metrics"]["temperature"]
    default = make_nlp(base, adapter=str(trained["adapter"]))
    hot = make_nlp(base, adapter=str(trained["adapter"]), temperature=2.0)
    assert default.get_pipe("llm_textcat_head").temperature == fitted
    import math

    a, b = default(TEXTS[2]).cats, hot(TEXTS[2]).cats
    # log-odds = logit difference / T, so log-odds x T is the same under both temperatures.
    assert math.log(a["contact"] / a["clinical"]) * fitted == pytest.approx(
        math.log(b["contact"] / b["clinical"]) * 2.0, rel=1e-3
    )


def test_round_trip_and_scorer(base: Path, trained: dict[str, Any], corpus: dict[str, Path], tmp_path: Path) -> None:
    nlp = make_nlp(base, adapter=str(trained["adapter"]))
    expected = [nlp(t).cats for t in TEXTS]
    nlp.to_disk(tmp_path / "pipeline")
    saved = tmp_path / "pipeline" / "llm_textcat_head"
    assert (saved / "base" / "model.safetensors").exists() and (saved / "adapter" / HEAD_WEIGHTS).exists()
    loaded = spacy.load(tmp_path / "pipeline")
    assert [loaded(t).cats for t in TEXTS] == expected
    pipe = loaded.get_pipe("llm_textcat_head")
    assert (pipe.base, pipe.adapter) == (str(saved / "base"), str(saved / "adapter"))  # the copies inside
    gold = [Example(loaded.make_doc(d.text), d) for d in DocBin().from_disk(corpus["dev"]).get_docs(loaded.vocab)]
    scores = loaded.evaluate(gold)  # what `spacy evaluate` runs
    assert scores["cats_score"] >= 0.8 and {"cats_macro_f", "cats_macro_auc", "cats_f_per_type"} <= set(scores)
    assert set(scores["cats_f_per_type"]) == set(LABELS)


def test_untrained_head_round_trips(base: Path, tmp_path: Path) -> None:
    nlp = make_nlp(base, labels=LABELS)
    expected = nlp(TEXTS[0]).cats
    nlp.to_disk(tmp_path / "p")
    assert spacy.load(tmp_path / "p")(TEXTS[0]).cats == expected
    assert spacy.load(tmp_path / "p").get_pipe("llm_textcat_head").labels == tuple(LABELS)
    copy = make_nlp(base, labels=LABELS).from_bytes(nlp.to_bytes())
    assert copy(TEXTS[0]).cats == expected


def test_initialize_takes_labels_from_examples(base: Path) -> None:
    nlp = make_nlp(base)
    doc = nlp.make_doc("x")
    doc.cats = {"b": 0.0, "a": 1.0}
    nlp.initialize(lambda: [Example(nlp.make_doc("x"), doc)])
    assert nlp.get_pipe("llm_textcat_head").labels == ("a", "b")
    assert set(nlp("patient").cats) == {"a", "b"}


def test_registered_lazily_and_by_entry_point() -> None:
    assert spacy_llmner.TextCatHead is TextCatHead
    assert "llm_textcat_head" in Language.factories
    eps = tomllib.loads((CONFIG.parent.parent / "pyproject.toml").read_text())["project"]["entry-points"]
    module, attr = eps["spacy_factories"]["llm_textcat_head"].split(":")
    import importlib

    assert callable(getattr(importlib.import_module(module), attr))


# --- calibration and NEFTune ---------------------------------------------------------------
def test_fit_temperature_recovers_overconfidence() -> None:
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4000, 3, generator=gen) * 2
    gold = torch.multinomial(torch.softmax(logits, -1), 1, generator=gen).squeeze(-1)
    targets = torch.nn.functional.one_hot(gold, 3).float()
    sharp = logits * 2.5  # overconfident by a factor 2.5
    t = fit_temperature(sharp, targets, exclusive=True)
    assert t == pytest.approx(2.5, rel=0.1)
    assert nll(sharp, targets, True, t) < nll(sharp, targets, True)
    assert expected_calibration_error(sharp, targets, True, t) < expected_calibration_error(sharp, targets, True) / 2
    assert expected_calibration_error(logits, targets, True) < 0.03


def test_neftune_noise_in_training_only() -> None:
    emb = torch.nn.Embedding(10, 8)
    ids = torch.tensor([[1, 2, 3]])
    clean = emb(ids)
    with neftune(emb, 5.0):
        emb.train()
        noisy = emb(ids)
        assert not torch.allclose(noisy, clean) and (noisy - clean).abs().max() <= 5.0 / (3 * 8) ** 0.5
        emb.eval()
        assert torch.equal(emb(ids), clean)
    emb.train()
    assert torch.equal(emb(ids), clean)  # the hook is gone


# --- coded errors ---------------------------------------------------------------------------
def test_data_errors(tmp_path: Path) -> None:
    nlp, db = spacy.blank("en"), DocBin()
    db.add(nlp.make_doc("no cats here"))
    db.to_disk(tmp_path / "nocats.spacy")
    with pytest.raises(LLMNERError, match="E620"):
        read_cats(tmp_path / "nocats.spacy")
    DocBin().to_disk(tmp_path / "empty.spacy")
    with pytest.raises(LLMNERError, match="E630"):
        read_cats(tmp_path / "empty.spacy")
    with pytest.raises(LLMNERError, match="E621"):
        resolve_head_labels(LABELS, [{"clinical": 1.0, "other": 0.0}], True)
    with pytest.raises(LLMNERError, match="E622"):
        targets_of([{"clinical": 1.0, "contact": 1.0}], LABELS, True, "x.spacy")
    with pytest.raises(LLMNERError, match="E628"):
        resolve_head_labels([], [{"clinical": 1.0}], True)
    assert resolve_head_labels([], [{"b": 1.0}, {"a": 1.0}], True) == ["a", "b"]


def test_config_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "c.cfg"
    cfg.write_text(CONFIG.read_text() + "max_length = 128\n")
    with pytest.raises(LLMNERError, match="E629"):
        HeadConfigFile.load(cfg)
    with pytest.raises(LLMNERError, match="E301"):
        HeadConfigFile.load(CONFIG, {"head.pooling": "mean"})
    loaded = HeadConfigFile.load(CONFIG)
    assert (loaded.lora.r, loaded.lora.alpha, loaded.head.neftune_alpha) == (32, 64, 5.0)


def test_component_errors(base: Path, trained: dict[str, Any], tmp_path: Path) -> None:
    adapter = trained["adapter"]
    with pytest.raises(LLMNERError, match="E626"):
        make_nlp(base, adapter=str(adapter), labels=list(reversed(LABELS)))
    with pytest.raises(LLMNERError, match="E627"):
        make_nlp(base, adapter=str(adapter), exclusive_classes=False)
    with pytest.raises(LLMNERError, match="E625"):
        make_nlp(base, adapter=str(adapter), max_length=3)("patient clinic hospital discharged admitted")
    with pytest.raises(LLMNERError, match="E628"):
        make_nlp(base)("text")
    broken = tmp_path / "no_head"
    shutil.copytree(adapter, broken)
    (broken / HEAD_WEIGHTS).unlink()
    with pytest.raises(LLMNERError, match="E623"):
        make_nlp(base, adapter=str(broken))
    grown = tmp_path / "grown"
    shutil.copytree(adapter, grown)
    meta = json.loads((grown / HEAD_META).read_text())
    meta["labels"] = LABELS + ["third"]
    (grown / HEAD_META).write_text(json.dumps(meta))
    with pytest.raises(LLMNERError, match="E624"):
        make_nlp(base, adapter=str(grown))("text")
    with pytest.raises(LLMNERError, match="E011"):
        make_nlp(base, adapter=str(adapter), temperature=0.0)
