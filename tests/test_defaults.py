"""Defaults are what was measured: the README's hand-built `add_pipe` example decodes exactly as
the pipeline `assemble` builds from the same base and adapter (tiny in-process models)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import spacy
from conftest import random_lora, randomize

from spacy_llmner.assemble import assemble
from spacy_llmner.prompting import resolve_labels

ROOT = Path(__file__).parent.parent
TEXTS = [
    "My name is John Doe, and I can be contacted at 555-123-4567.",
    "Pt Jane ROE, 54 y/o, seen 03/14/2021 at 12 Main St, Springfield.",
    "mail jane.roe@example.com or call (617) 555-0101 ext. 12",
]


def readme_add_pipe_config() -> dict[str, Any]:
    """The config dict of the README's `nlp.add_pipe("llm_ner", config={...})` example, as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r'nlp\.add_pipe\("llm_ner", config=(\{.*?\n\})\)', text, re.S)
    assert match, "the README lost its add_pipe example"
    return ast.literal_eval(match.group(1))


@pytest.fixture(scope="module")
def base_and_adapter(tiny_models: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    import copy

    from spacy_llmner.tinybase.tiny import save

    tok, model, _ = tiny_models["qwen2"]
    tmp = tmp_path_factory.mktemp("defaults")
    base = save(randomize(copy.deepcopy(model), 3, std=0.2), tok, tmp / "base")
    labels = resolve_labels("hipaa")
    meta = {"labels": labels, "template_version": "v2"}  # what the workflow's lora.cfg trains
    return base, random_lora(base, tmp / "adapter", seed=1, meta=meta)


def _decoded(nlp: spacy.Language) -> list[tuple[str, list[tuple[int, int, str]]]]:
    return [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in nlp.pipe(TEXTS)]


def test_readme_add_pipe_decodes_as_the_assembled_pipeline(base_and_adapter, tmp_path) -> None:
    base, adapter = base_and_adapter
    config = readme_add_pipe_config()
    config["model"].update(name=str(base), adapter=str(adapter))
    config["save_io"] = False
    by_hand = spacy.blank("en")
    by_hand.add_pipe("llm_ner", config=config)
    assembled = spacy.load(assemble(str(base), adapter, tmp_path / "pipeline"))
    ours, theirs = by_hand.get_pipe("llm_ner"), assembled.get_pipe("llm_ner")
    assert ours._task.template_version == theirs._task.template_version == "v2"
    assert ours._model.copy_tokens == theirs._model.copy_tokens == "canonical"
    got, want = _decoded(by_hand), _decoded(assembled)
    assert got == want
    assert any(ents for _, ents in want), "the random adapter must tag something for this to test"
