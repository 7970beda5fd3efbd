"""``llm_textcat_head`` with ``share_base = true``: the head's LLM comes from the shared-base
registry (``models/shared.py``), so ``llm_ner`` and the head hold one base, each with its own LoRA
adapter switched on per call, and the answers are those of private copies with merged adapters."""

from __future__ import annotations

import copy
import gc
import shutil
from pathlib import Path
from typing import Any

import pytest
import spacy
from conftest import random_lora, randomize
from spacy.language import Language

import spacy_llmner.textcat.component  # noqa: F401 - registers llm_textcat_head
from spacy_llmner.errors import LLMNERError
from spacy_llmner.models import shared

NER_LABELS = ["PERSON", "PHONE_NUMBER", "LOCATION"]
CATS = ["clinical", "contact", "other"]
TEXTS = ["My name is John Doe, call 555-123-4567.", "email jdoe@example.com", ""]


def head_dir(base: Path, out: Path, seed: int, lora: bool) -> Path:
    """A head directory as ``train-textcat`` writes it (random weights, no training): the head
    files and, with ``lora``, a peft LoRA adapter with non-zero B matrices."""
    from transformers import AutoConfig

    from spacy_llmner.textcat.head import HeadMeta, new_head, save_head

    if lora:
        random_lora(base, out, seed)
    hidden = int(AutoConfig.from_pretrained(base).hidden_size)
    meta = HeadMeta(
        kind="textcat_head", base_model=str(base), labels=CATS, exclusive_classes=True, pooling="last", temperature=1.0,
    )
    return save_head(new_head(hidden, len(CATS), seed=seed, std=0.3), out, meta)


@pytest.fixture(scope="module")
def paths(tiny_models: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from spacy_llmner.tinybase.tiny import save

    tmp = tmp_path_factory.mktemp("head_shared")
    tok, model, _ = tiny_models["qwen2"]
    # Weights of its own (seed 5), so no other test module's live pipeline holds this base.
    base = save(randomize(copy.deepcopy(model), 5, std=0.2), tok, tmp / "base")
    return {
        "base": base,
        "ner": random_lora(base, tmp / "ner", 0, {"labels": NER_LABELS, "template_version": "v1"}),
        "head": head_dir(base, tmp / "head", 1, lora=True),
        "head_only": head_dir(base, tmp / "head_only", 2, lora=False),
    }


def make_nlp(
    paths: dict[str, Path], share: bool, ner: bool = True, head: str | None = "head", base: Path | None = None
) -> Language:
    nlp = spacy.blank("en")
    base = base or paths["base"]
    if ner:
        nlp.add_pipe("llm_ner", config={
            "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": NER_LABELS},
            "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(base), "adapter": str(paths["ner"]), "share_base": share},
            "save_io": False,
        })
    if head:
        nlp.add_pipe("llm_textcat_head", config={"base": str(base), "adapter": str(paths[head]), "share_base": share})
    return nlp


def ents(doc: Any) -> list[tuple[int, int, str]]:
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def embeddings(model: Any) -> Any:
    return model.get_input_embeddings().weight


def private_answers(paths: dict[str, Path], head: str = "head") -> list[tuple[list[Any], dict[str, float]]]:
    """Two separate pipelines, each with a private copy of the base and its adapter merged."""
    ner_only, head_only = make_nlp(paths, share=False, head=None), make_nlp(paths, share=False, ner=False, head=head)
    return [(ents(ner_only(t)), head_only(t).cats) for t in TEXTS]


def assert_answers(nlp: Language, expected: list[tuple[list[Any], dict[str, float]]], check_ents: bool = True) -> None:
    for doc, (exp_ents, exp_cats) in zip(nlp.pipe(TEXTS), expected):
        if check_ents:
            assert ents(doc) == exp_ents
        assert doc.cats == pytest.approx(exp_cats, abs=1e-5)


def test_ner_and_head_share_one_base_with_the_answers_of_private_copies(paths: dict[str, Path]) -> None:
    expected = private_answers(paths)
    assert any(e for e, _ in expected)  # the NER adapter tags something
    gc.collect()  # no earlier pipeline of this module may still hold the base
    before = shared.load_count
    nlp = make_nlp(paths, share=True)
    assert nlp.config["components"]["llm_textcat_head"]["share_base"] is True
    for _ in range(2):  # back and forth: ner, head, ner, head, ...
        assert_answers(nlp, expected)
    assert shared.load_count - before == 1
    ner, head = nlp.get_pipe("llm_ner")._model, nlp.get_pipe("llm_textcat_head")
    assert head.shared_base is ner.shared_base
    assert embeddings(head._model.backbone).data_ptr() == embeddings(ner.hf_model).data_ptr()
    assert set(ner.shared_base.adapters) == {ner._adapter_name, head._adapter_name}
    # The head alone, after the NER adapter was last on: its own adapter must be switched on.
    assert ents(nlp.get_pipe("llm_ner")(nlp.make_doc(TEXTS[0]))) == expected[0][0]
    assert head(nlp.make_doc(TEXTS[1])).cats == pytest.approx(expected[1][1], abs=1e-5)


def test_lora_head_under_sharing_equals_the_merged_private_head(paths: dict[str, Path]) -> None:
    expected = private_answers(paths)
    nlp = make_nlp(paths, share=True, ner=False)
    assert_answers(nlp, expected, check_ents=False)
    pipe = nlp.get_pipe("llm_textcat_head")
    assert pipe._adapter_name in pipe.shared_base.adapters
    # The check can fail: with its LoRA switched off, the same head on the shared base answers otherwise.
    pipe._adapter_name, name = None, pipe._adapter_name
    try:
        without = [nlp(t).cats for t in TEXTS]
    finally:
        pipe._adapter_name = name
    assert max(abs(w[c] - e[1][c]) for w, e in zip(without, expected) for c in CATS) > 1e-3


def test_head_without_lora_runs_on_the_base_alone(paths: dict[str, Path]) -> None:
    """A head trained without LoRA activates no adapter (None), even right after the NER call."""
    expected = private_answers(paths, head="head_only")
    nlp = make_nlp(paths, share=True, head="head_only")
    assert nlp.get_pipe("llm_textcat_head").shared_base is nlp.get_pipe("llm_ner")._model.shared_base
    assert nlp.get_pipe("llm_textcat_head")._adapter_name is None
    assert_answers(nlp, expected)


def test_round_trip_keeps_sharing_and_cats(paths: dict[str, Path], tmp_path: Path) -> None:
    nlp = make_nlp(paths, share=True)
    expected = [(ents(d), d.cats) for d in nlp.pipe(TEXTS)]
    nlp.to_disk(tmp_path / "pipeline")
    saved = tmp_path / "pipeline" / "llm_textcat_head"
    assert (saved / "base" / "model.safetensors").exists() and (saved / "adapter" / "adapter_model.safetensors").exists()
    loaded = spacy.load(tmp_path / "pipeline")
    head, ner = loaded.get_pipe("llm_textcat_head"), loaded.get_pipe("llm_ner")._model
    assert head.share_base and head.base == str(saved / "base") and head.base != ner.name
    assert_answers(loaded, expected)
    assert head.shared_base is ner.shared_base  # two base copies on disk, one in memory


def test_a_different_tokenizer_is_refused(paths: dict[str, Path], tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    other = tmp_path / "same_weights_other_tokenizer"
    shutil.copytree(paths["base"], other)
    tok = AutoTokenizer.from_pretrained(other)
    tok.add_tokens(["<EXTRA>"])
    tok.save_pretrained(other)
    keep = make_nlp(paths, share=True, head=None)
    keep.get_pipe("llm_ner")._model.load()  # holds the shared base, loaded from paths["base"]
    nlp = make_nlp(paths, share=True, ner=False, base=other)
    with pytest.raises(LLMNERError, match="E642"):
        nlp("email me")
    # Unshared, the same head on that base loads (a private copy).
    assert set(make_nlp(paths, share=False, ner=False, base=other)("email me").cats) == set(CATS)


def test_a_non_lora_head_adapter_is_refused(paths: dict[str, Path], tmp_path: Path) -> None:
    from peft import PrefixTuningConfig, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM

    prefix = tmp_path / "prefix_head"
    shutil.copytree(paths["head_only"], prefix)
    get_peft_model(
        AutoModelForCausalLM.from_pretrained(paths["base"]),
        PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=2),
    ).save_pretrained(prefix)
    nlp = spacy.blank("en")
    nlp.add_pipe("llm_textcat_head", config={"base": str(paths["base"]), "adapter": str(prefix), "share_base": True})
    with pytest.raises(LLMNERError, match="E640"):
        nlp("email me")
