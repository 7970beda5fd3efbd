"""models/precision.py: ``dtype = "auto"`` and the opt-in int8 path, through ``spacy_llmner.HF.v1``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_pipeline import TEXTS, adapter_dir, ents, make_nlp, random_base  # noqa: F401 - fixtures

from spacy_llmner.errors import LLMNERError
from spacy_llmner.models.hf import HFModel


def test_int8_quantizes_the_decoder_not_the_head_and_still_copies_the_text(
    random_base: Path, adapter_dir: Path  # noqa: F811 - the fixtures imported from test_pipeline
) -> None:
    """The decoder's linear layers become int8, the output head (read row by row by the
    verifier) stays float; the answer is still the source plus tags, with the adapter merged in."""
    import torch
    from torch.ao.nn.quantized.dynamic import Linear as Int8Linear

    nlp = make_nlp(random_base, adapter_dir, quantize="int8")
    docs = list(nlp.pipe(TEXTS))
    assert [d.text for d in docs] == TEXTS
    model = nlp.get_pipe("llm_ner")._model.hf_model
    linear = [m for m in model.get_decoder().modules() if isinstance(m, (torch.nn.Linear, Int8Linear))]
    assert linear and all(isinstance(m, Int8Linear) for m in linear)
    head = model.get_output_embeddings()
    assert isinstance(head, torch.nn.Linear) and head.weight.dtype == torch.float32
    found = [ents(d) for d in docs]
    assert any(found), "the random base with its adapter tags something"
    for doc in docs:
        assert all(doc.text[e.start_char : e.end_char] == e.text for e in doc.ents)


def test_flop_count_is_the_same_for_int8_weights(random_base: Path) -> None:  # noqa: F811
    """benchmarks/flops.py counts the multiply-adds of int8 linears (packed outside
    ``parameters()``) as the float layers they replace: decode.py's GFLOP/doc does not drop."""
    import sys

    from transformers import AutoModelForCausalLM

    from spacy_llmner.models.precision import quantize_int8

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        from flops import model_shape
    finally:
        sys.path.pop(0)
    model = AutoModelForCausalLM.from_pretrained(str(random_base))
    before = model_shape(model)
    assert before == model_shape(quantize_int8(model)) and before["body_params"] > 0


def test_quantize_and_dtype_are_checked_with_coded_errors(random_base: Path) -> None:  # noqa: F811
    with pytest.raises(LLMNERError, match="E011.*`quantize`"):
        HFModel(str(random_base), quantize="int4")
    with pytest.raises(LLMNERError, match="E034"):
        HFModel(str(random_base), quantize="int8", share_base=True)
    with pytest.raises(LLMNERError, match="E034"):
        HFModel(str(random_base), quantize="int8", merge_adapter=False)
    with pytest.raises(LLMNERError, match="E011.*`dtype`"):
        HFModel(str(random_base), dtype="float33").load()


@pytest.mark.parametrize("native", [True, False])
def test_auto_dtype_is_bf16_only_where_the_cpu_computes_it(native: bool, monkeypatch: Any) -> None:
    import torch

    from spacy_llmner.models import precision

    monkeypatch.setattr(precision, "native_bf16", lambda device: native)
    _, dtype = precision.pick_device_dtype("cpu", "auto")
    assert dtype == (torch.bfloat16 if native else torch.float32)


def test_decoder_settings_reach_the_fast_decoder() -> None:
    """``draft_bytes`` and ``tree_labels`` are HF.v1 settings, checked by FastOptions."""
    from spacy_llmner.decoding import FastOptions

    model = HFModel("not/loaded", draft_bytes=0, tree_labels=0)
    assert model.options == FastOptions(draft_bytes=0, tree_labels=0)
    with pytest.raises(LLMNERError, match="E011.*`tree_labels`"):
        HFModel("not/loaded", tree_labels=-1)
