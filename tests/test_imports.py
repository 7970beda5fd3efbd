"""The pure layers import light: no torch, spaCy or spacy-llm behind them (checked in a fresh
process, since this one has them all loaded already)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

PURE = (
    "spacy_llmner",
    "spacy_llmner.errors",
    "spacy_llmner.ty",
    "spacy_llmner.tagging",
    "spacy_llmner.prompting",
    "spacy_llmner.decoding",
    "spacy_llmner.decoding.automaton",
    "spacy_llmner.decoding.canonical",
    "spacy_llmner.decoding.drafting",
    "spacy_llmner.decoding.options",
    "spacy_llmner.decoding.result",
    "spacy_llmner.decoding.vocab",
    "spacy_llmner.decoding.label_trie",
    "spacy_llmner.jsonner",
    "spacy_llmner.jsonner.constraint",
    "spacy_llmner.jsonner.template",
    "spacy_llmner.textcat",
    "spacy_llmner.textcat.prompts",
    "spacy_llmner.textcat.retrieval",
    "spacy_llmner.policy",
    "spacy_llmner.released.catalog",
)
HEAVY = ("torch", "spacy", "thinc", "spacy_llm", "transformers")


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_do_not_import_torch_or_spacy(module: str) -> None:
    code = textwrap.dedent(
        f"""
        import importlib, json, sys
        importlib.import_module({module!r})
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_root_still_offers_the_score_helpers() -> None:
    """They are imported on first use (they need spaCy), not at package import."""
    import spacy_llmner
    from spacy_llmner.scores import get_entity_score, set_entity_scores

    assert spacy_llmner.get_entity_score is get_entity_score
    assert spacy_llmner.set_entity_scores is set_entity_scores
    with pytest.raises(AttributeError):
        spacy_llmner.no_such_name  # noqa: B018


def test_registry_module_registers_every_entry_point_name() -> None:
    """``import spacy_llmner.registry`` (a source checkout's way to register) works and covers
    every name pyproject.toml declares as an entry point, in a fresh process."""
    from pathlib import Path

    import tomllib

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf8"))
    groups = pyproject["project"]["entry-points"]
    names = {"tasks": sorted(groups["thinc_llm_tasks"]), "models": sorted(groups["thinc_llm_models"]),
             "misc": sorted(groups["spacy_misc"]), "factories": sorted(groups["spacy_factories"])}
    code = textwrap.dedent(
        f"""
        import json
        import spacy_llmner.registry
        from spacy.language import Language
        from spacy.util import registry
        from spacy_llm.registry import registry as llm
        names = {names!r}
        missing = [n for n in names["tasks"] if n not in llm.llm_tasks]
        missing += [n for n in names["models"] if n not in llm.llm_models]
        missing += [n for n in names["misc"] if n not in registry.misc]
        missing += [n for n in names["factories"] if not Language.has_factory(n)]
        print(json.dumps(missing))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
