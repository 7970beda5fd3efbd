"""Prefix tuning (P-tuning v2, the seed's PEFT method) as an alternative to LoRA: configured,
trained through the plain path, recorded in the adapter's metadata, loaded unmerged, decoded
freely; copy-constrained decoding refuses it (E020) rather than silently dropping the prefix."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import spacy
import torch

from spacy_llmner.errors import LLMNERError
from spacy_llmner.prompting import HIPAA
from spacy_llmner.training.config import LoraConfigFile, LoraSettings, PeftSettings, TrainSettings
from spacy_llmner.training.sft import Collator, build_dataset

ROOT = Path(__file__).resolve().parents[1]
DOCS = [
    ("My name is John Doe, call 555-123-4567.", [(11, 19, "PERSON"), (26, 38, "PHONE_NUMBER")]),
    ("Mary Smith lives in Springfield.", [(0, 10, "PERSON"), (20, 31, "LOCATION")]),
]


def test_prefix_settings_are_validated_and_read_from_the_config() -> None:
    with pytest.raises(LLMNERError, match="peft.method"):
        PeftSettings(method="ptuning")
    with pytest.raises(LLMNERError, match="peft.num_virtual_tokens"):
        PeftSettings(num_virtual_tokens=0)
    with pytest.raises(LLMNERError, match=r"\[E301\].*training.shared_prefix"):
        LoraConfigFile(LoraSettings(), TrainSettings(shared_prefix=True), peft=PeftSettings(method="prefix"))
    cfg = LoraConfigFile.load(
        ROOT / "configs" / "lora_cluener.cfg",
        {"peft.method": "prefix", "peft.num_virtual_tokens": 128, "training.shared_prefix": False},
    )
    assert (cfg.peft.method, cfg.peft.num_virtual_tokens, cfg.labels) == ("prefix", 128, "cluener")
    assert LoraConfigFile.load(ROOT / "configs" / "lora.cfg").peft.method == "lora"  # no [peft]: LoRA


def test_tiny_prefix_run_uses_the_prefix_lowers_loss_and_loads_for_free_decoding_only(
    tiny_models: dict[str, Any], tmp_path: Path
) -> None:
    from transformers import AutoModelForCausalLM

    from spacy_llmner.models.hf import HFModel
    from spacy_llmner.training.lora import read_meta, save_adapter, wrap
    from spacy_llmner.training.step import batch_loss
    from spacy_llmner.training.trainer import run

    tok, _, base_dir = tiny_models["qwen2"]
    base = AutoModelForCausalLM.from_pretrained(str(base_dir))
    data = build_dataset(DOCS, tok, HIPAA, max_length=4096, template_version="v2")
    batch = Collator(data.prefixes, tok.pad_token_id, shared_prefix=False)(list(data.examples))

    def loss_of(m: Any) -> float:
        m.eval()
        with torch.no_grad():
            loss, n = batch_loss(m, batch)
        return loss.item() / n

    bare = loss_of(copy.deepcopy(base))
    model = wrap(base, LoraSettings(), peft=PeftSettings(method="prefix", num_virtual_tokens=8))
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("prompt_encoder" in n for n in trainable)  # only the virtual tokens
    before = loss_of(model)
    assert abs(before - bare) > 1e-4  # the loss sees the prefix (not the bare decoder)
    settings = TrainSettings(epochs=15, lr=0.3, batch_size=2, logging_steps=5, warmup_ratio=0.0,
                             shared_prefix=False, eval_each_epoch=False)
    summary = run(model, data, None, settings, tok.pad_token_id, tmp_path / "work", tmp_path / "loss.jsonl")
    after = loss_of(model)
    assert after < before - 0.05, (before, after)  # an untrained tiny base: the prefix has little leverage

    out = save_adapter(model, tmp_path / "adapter", str(base_dir), dict(HIPAA), summary,
                       template_version="v2", peft_method="prefix")
    assert read_meta(out)["peft_method"] == "prefix"

    free = HFModel(str(base_dir), str(out), decoding="free")
    assert not hasattr(free.hf_model, "merge_and_unload") or free.hf_model.active_peft_config.is_prompt_learning
    nlp = spacy.blank("en")
    nlp.add_pipe("llm_ner", config={
        "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": "hipaa", "template_version": "v2"},
        "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(base_dir), "adapter": str(out), "decoding": "free"},
    })
    doc = nlp(DOCS[0][0])
    assert doc.text == DOCS[0][0]
    for decoding in ("constrained", "reference"):
        nlp = spacy.blank("en")
        nlp.add_pipe("llm_ner", config={
            "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": "hipaa", "template_version": "v2"},
            "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(base_dir), "adapter": str(out),
                      "decoding": decoding},
        })
        with pytest.raises(LLMNERError, match=r"\[E020\]"):
            nlp(DOCS[0][0])


def test_assemble_picks_free_decoding_for_a_prefix_adapter() -> None:
    from spacy_llmner.assemble import pipeline_config

    assert pipeline_config("b", "a", "hipaa", template_version="v2", peft_method="prefix")["model"]["decoding"] == "free"
    assert "decoding" not in pipeline_config("b", "a", "hipaa", template_version="v2")["model"]
    json_cfg = pipeline_config("b", "a", "cluener", template_version="json1")
    assert json_cfg["task"]["@llm_tasks"] == "spacy_llmner.JSONNER.v1" and json_cfg["model"]["decoding"] == "free"


def test_assemble_decoding_choice() -> None:
    """A JSON adapter can be assembled copy-constrained (any token split, E680); bad modes fail coded."""
    from spacy_llmner.assemble import pipeline_config

    model = pipeline_config("b", "a", "cluener", template_version="json1", decoding="constrained")["model"]
    assert "decoding" not in model and model["copy_tokens"] == "any"
    assert pipeline_config("b", "a", "hipaa", template_version="v2", decoding="free")["model"]["decoding"] == "free"
    constrained = pipeline_config("b", "a", "hipaa", template_version="v2", decoding="constrained")
    assert constrained["model"]["copy_tokens"] == "canonical"
    with pytest.raises(LLMNERError, match=r"\[E005\]"):
        pipeline_config("b", "a", "hipaa", decoding="greedy")
