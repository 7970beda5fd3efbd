"""The released model: one-line loading, its config, the remote-API guard, and (when the real
release is installed) its quality on a fixed held-out sample, offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import spacy

from spacy_llmner.errors import LLMNERError
from spacy_llmner.released import catalog

from conftest import random_lora


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
    monkeypatch.setattr(catalog, "base_cache", lambda release: base)
    from spacy_llmner.released import model as released_model

    monkeypatch.setattr(released_model, "base_cache", lambda release: base)
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
