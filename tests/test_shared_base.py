"""One base, several adapters (``share_base``): llm_ner and llm_textcat load the base once, each
runs with its own LoRA adapter, and the answers are those of two separate, unshared pipelines."""

from __future__ import annotations

import copy
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
import spacy
from conftest import random_lora, randomize
from spacy.language import Language

from spacy_llmner.errors import LLMNERError
from spacy_llmner.models import shared
from spacy_llmner.models.hf import HFModel

NER_LABELS = ["PERSON", "PHONE_NUMBER", "LOCATION"]
CATS = ["patient", "email", "other"]
TEXTS = [
    "My name is John Doe, and I can be contacted at 555-123-4567.",
    "email jdoe@example.com",
    "病人 北京",
    "",
]


@pytest.fixture(scope="module")
def setup(tiny_models: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from spacy_llmner.tinybase.tiny import save

    tmp = tmp_path_factory.mktemp("shared")
    tok, model, _ = tiny_models["qwen2"]
    base = save(randomize(copy.deepcopy(model), 3, std=0.2), tok, tmp / "base")
    return {
        "base": base,
        "ner": random_lora(base, tmp / "ner", 0, {"labels": NER_LABELS, "template_version": "v1"}),
        "cat": random_lora(base, tmp / "cat", 1, {"labels": {c: "" for c in CATS}, "template_version": "textcat1"}),
    }


def make_nlp(paths: dict[str, Path], share: bool, ner: bool = True, cat: bool = True, base: Path | None = None) -> Language:
    nlp = spacy.blank("en")
    model = {"@llm_models": "spacy_llmner.HF.v1", "name": str(base or paths["base"]), "share_base": share}
    if ner:
        nlp.add_pipe(
            "llm_ner",
            config={
                "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": NER_LABELS},
                "model": {**model, "adapter": str(paths["ner"])},
                "save_io": False,
            },
        )
    if cat:
        nlp.add_pipe(
            "llm_textcat",
            config={
                "task": {"@llm_tasks": "spacy_llmner.TextCat.v1", "labels": CATS},
                "model": {**model, "adapter": str(paths["cat"])},
                "save_io": False,
            },
        )
    return nlp


def model_of(nlp: Language, pipe: str) -> HFModel:
    return nlp.get_pipe(pipe)._model  # type: ignore[no-any-return]


def ents(doc: Any) -> list[tuple[int, int, str]]:
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents]


def scores(doc: Any) -> list[float]:
    return [e._.llmner_score for e in doc.ents]


def _param(model: Any) -> Any:
    return model.get_input_embeddings().weight


def assert_same(doc: Any, ref: Any) -> None:
    assert doc.text == ref.text
    assert ents(doc) == ents(ref)
    assert scores(doc) == pytest.approx(scores(ref), abs=1e-4)
    assert doc.cats == pytest.approx(ref.cats, abs=1e-5)


def test_two_components_load_the_base_once(setup: dict[str, Path]) -> None:
    nlp = make_nlp(setup, share=True)
    before = shared.load_count
    ner, cat = model_of(nlp, "llm_ner"), model_of(nlp, "llm_textcat")
    assert ner.shared_base is cat.shared_base
    assert shared.load_count - before <= 1
    assert ner.hf_model is cat.hf_model
    assert _param(ner.hf_model).data_ptr() == _param(cat.hf_model).data_ptr()
    assert set(ner.shared_base.adapters) == {ner._adapter_name, cat._adapter_name}
    assert ner._adapter_name != cat._adapter_name
    # The default keeps a private copy per component, as before.
    plain = make_nlp(setup, share=False)
    a, b = model_of(plain, "llm_ner"), model_of(plain, "llm_textcat")
    assert a.shared_base is None and _param(a.hf_model).data_ptr() != _param(b.hf_model).data_ptr()


def test_shared_answers_equal_separate_pipelines_back_and_forth(setup: dict[str, Path]) -> None:
    ner_only = make_nlp(setup, share=False, cat=False)
    cat_only = make_nlp(setup, share=False, ner=False)
    expected = []
    for text in TEXTS:
        doc = ner_only(text)
        doc.cats = cat_only(text).cats
        expected.append(doc)
    assert any(d.ents for d in expected)  # the NER adapter tags something
    nlp = make_nlp(setup, share=True)
    for _ in range(2):  # back and forth: ner, textcat, ner, textcat, ...
        for doc, ref in zip(nlp.pipe(TEXTS), expected):
            assert_same(doc, ref)
    # Each component alone, in either order, then the base without any adapter.
    ner, cat = nlp.get_pipe("llm_ner"), nlp.get_pipe("llm_textcat")
    for text, ref in reversed(list(zip(TEXTS, expected))):
        assert cat(nlp.make_doc(text)).cats == pytest.approx(ref.cats, abs=1e-5)
        assert ents(ner(nlp.make_doc(text))) == ents(ref)
    bare = make_nlp(setup, share=True, cat=False)
    bare.get_pipe("llm_ner")._model.adapter = None
    unshared_bare = make_nlp(setup, share=False, cat=False)
    unshared_bare.get_pipe("llm_ner")._model.adapter = None
    for text in TEXTS:
        assert ents(bare(text)) == ents(unshared_bare(text))
    assert model_of(bare, "llm_ner").shared_base is model_of(nlp, "llm_ner").shared_base


def test_threads_never_interleave_adapters(setup: dict[str, Path]) -> None:
    nlp = make_nlp(setup, share=True)
    expected = [(ents(d), d.cats) for d in nlp.pipe(TEXTS)]
    ner, cat = nlp.get_pipe("llm_ner"), nlp.get_pipe("llm_textcat")
    failures: list[str] = []

    def work(pipe: Any, check: Any) -> None:
        for _ in range(3):
            for text, exp in zip(TEXTS, expected):
                if not check(pipe(nlp.make_doc(text)), exp):
                    failures.append(pipe.name)

    threads = [
        threading.Thread(target=work, args=(ner, lambda d, e: ents(d) == e[0])),
        threading.Thread(target=work, args=(cat, lambda d, e: d.cats == pytest.approx(e[1], abs=1e-5))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


def test_saved_pipeline_still_shares_after_spacy_load(setup: dict[str, Path], tmp_path: Path) -> None:
    nlp = make_nlp(setup, share=True)
    expected = list(nlp.pipe(TEXTS))
    nlp.to_disk(tmp_path / "pipeline")
    # Each component saved its own adapter and its own copy of the small base.
    for pipe in ("llm_ner", "llm_textcat"):
        assert (tmp_path / "pipeline" / pipe / "model" / "base" / "model.safetensors").exists()
        assert (tmp_path / "pipeline" / pipe / "model" / "adapter" / "adapter_model.safetensors").exists()
    loaded = spacy.load(tmp_path / "pipeline")
    ner, cat = model_of(loaded, "llm_ner"), model_of(loaded, "llm_textcat")
    assert ner.name != cat.name  # two directories, one base in memory
    assert ner.shared_base is cat.shared_base
    assert _param(ner.hf_model).data_ptr() == _param(cat.hf_model).data_ptr()
    for doc, ref in zip(loaded.pipe(TEXTS), expected):
        assert_same(doc, ref)


def test_a_different_tokenizer_is_refused(setup: dict[str, Path], tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    other = tmp_path / "same_weights_other_tokenizer"
    shutil.copytree(setup["base"], other)
    tok = AutoTokenizer.from_pretrained(other)
    tok.add_tokens(["<EXTRA>"])
    tok.save_pretrained(other)
    keep = make_nlp(setup, share=True, cat=False)
    model_of(keep, "llm_ner").load()
    nlp = make_nlp(setup, share=True, ner=False, base=other)
    with pytest.raises(LLMNERError, match="E642"):
        nlp("email me")


def test_adapters_that_cannot_share_are_refused(setup: dict[str, Path], tmp_path: Path) -> None:
    from peft import PrefixTuningConfig, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM

    prefix = tmp_path / "prefix"
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(setup["base"]),
        PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=2),
    )
    model.save_pretrained(prefix)
    with pytest.raises(LLMNERError, match="E640"):
        HFModel(str(setup["base"]), str(prefix), share_base=True, decoding="free").load()
    tagged = tmp_path / "tagged"
    shutil.copytree(setup["ner"], tagged)
    meta = json.loads((tagged / "spacy_llmner.json").read_text())
    (tagged / "spacy_llmner.json").write_text(json.dumps({**meta, "tag_tokens": {"<PERSON>": 700}}))
    with pytest.raises(LLMNERError, match="E641"):
        HFModel(str(setup["base"]), str(tagged), share_base=True).load()
    # Unshared, the same prefix adapter still loads (a private copy of the base).
    assert HFModel(str(setup["base"]), str(prefix), decoding="free").hf_model is not None


def test_handle_api_for_other_components(setup: dict[str, Path]) -> None:
    import torch

    handle = shared.acquire_base(str(setup["base"]))
    assert shared.acquire_base(str(setup["base"])) is handle
    handle.add_adapter("ner", setup["ner"])
    assert handle.add_adapter("ner", setup["ner"]) == "ner"  # idempotent
    with pytest.raises(LLMNERError, match="E643"):
        handle.add_adapter("ner", setup["cat"])
    with pytest.raises(LLMNERError, match="E644"):
        with handle.activate("nope"):
            pass
    handle.add_adapter("cat", setup["cat"])
    ids = torch.tensor([[1, 2, 3, 4]])

    def logits(name: str | None) -> Any:
        with handle.activate(name) as model, torch.no_grad():
            return model(input_ids=ids).logits

    a, b, none = logits("ner"), logits("cat"), logits(None)
    assert not torch.allclose(a, b) and not torch.allclose(a, none)
    assert torch.equal(logits("ner"), a) and torch.equal(logits(None), none)
