"""Label tags as added tokens: one id per tag, trained rows carried by the adapter, same ids and
same outputs after loading (models/tag_tokens.py, training/lora.py, models/loading.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spacy_llmner.errors import LLMNERError
from spacy_llmner.prompting import HIPAA
from spacy_llmner.tagging import render

LABELS = {"PERSON": "a person's name", "creative-work": "a title", "geo.city": "a city"}
DOCS = [
    ("John Doe saw Hamlet in Paris.", [(0, 8, "PERSON"), (13, 19, "creative-work"), (23, 28, "geo.city")]),
    ("Mary Smith lives in Rome.", [(0, 10, "PERSON"), (20, 24, "geo.city")]),
    ("Nothing here.", []),
]


def _base(tiny_models: dict[str, Any]) -> tuple[Any, Any, Path]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = tiny_models["qwen2"][2]
    return AutoTokenizer.from_pretrained(str(path)), AutoModelForCausalLM.from_pretrained(str(path)), path


def test_each_tag_becomes_one_token_starting_at_its_pieces_mean(tiny_models: dict[str, Any]) -> None:
    from spacy_llmner.models.tag_tokens import add_tag_tokens, tag_strings

    tok, model, _ = _base(tiny_models)
    size = len(tok)
    pieces = {t: tok.encode(t, add_special_tokens=False) for t in tag_strings(LABELS)}
    assert any(len(p) > 1 for p in pieces.values())  # the tiny tokenizer does split them
    ids = add_tag_tokens(tok, model, LABELS)
    assert sorted(ids.values()) == list(range(size, size + 2 * len(LABELS)))
    weight = model.get_input_embeddings().weight
    for tag, tid in ids.items():
        assert tok.encode(tag, add_special_tokens=False) == [tid]
        assert weight[tid].allclose(weight[pieces[tag]].mean(dim=0))
    # tied head: the output rows are the same rows
    assert model.get_output_embeddings().weight.data_ptr() == weight.data_ptr()
    # rendered text keeps its characters around the new tokens
    text, spans = DOCS[0]
    tagged = render(text, spans)
    assert tok.decode(tok.encode(tagged, add_special_tokens=False)) == tagged


def test_tag_rows_train_through_the_head_and_survive_save_and_load(
    tiny_models: dict[str, Any], tmp_path: Path
) -> None:
    import torch

    from spacy_llmner.models.loading import load_model
    from spacy_llmner.models.tag_tokens import add_tag_tokens
    from spacy_llmner.training.config import LoraSettings, TrainSettings
    from spacy_llmner.training.lora import read_meta, save_adapter, wrap
    from spacy_llmner.training.sft import Collator, build_dataset
    from spacy_llmner.training.step import batch_loss
    from spacy_llmner.training.trainer import run

    tok, model, base_dir = _base(tiny_models)
    ids = add_tag_tokens(tok, model, LABELS)
    start = model.get_input_embeddings().weight[sorted(ids.values())].clone()
    data = build_dataset(DOCS, tok, LABELS, max_length=4096)
    lora = LoraSettings(r=4, alpha=8, dropout=0.0, top_layers=1, tag_tokens=True)
    peft_model = wrap(model, lora, sorted(ids.values()))
    # top_layers: the rows feed the input, but backward does not run down to them from there
    assert not peft_model.get_input_embeddings()(torch.tensor([[sorted(ids.values())[0]]])).requires_grad
    settings = TrainSettings(epochs=6, lr=1e-2, batch_size=3, logging_steps=1, warmup_ratio=0.0)
    run(peft_model, data, None, settings, tok.pad_token_id, tmp_path / "work", tmp_path / "loss.jsonl")

    peft_model.eval()
    trained = peft_model.get_input_embeddings().token_adapter.get_merged_weights(["default"])
    assert not torch.allclose(trained[sorted(ids.values())], start)  # the head side trained them
    batch = Collator(data.prefixes, tok.pad_token_id)(list(data.examples))
    with torch.no_grad():
        expected = batch_loss(peft_model, batch)[0].item()

    out = save_adapter(peft_model, tmp_path / "adapter", str(base_dir), LABELS, {}, tag_tokens=ids)
    assert read_meta(out)["tag_tokens"] == ids
    from safetensors import safe_open

    with safe_open(str(out / "adapter_model.safetensors"), "pt") as f:  # the rows, not the matrix
        assert not any("embed_tokens.weight" in k or "lm_head.weight" in k for k in f.keys())
    for merge in (False, True):
        fresh_tok = _base(tiny_models)[0]
        loaded = load_model(str(base_dir), str(out), torch.device("cpu"), torch.float32, False, merge, tokenizer=fresh_tok)
        assert {t: fresh_tok.convert_tokens_to_ids(t) for t in ids} == ids
        with torch.no_grad():
            assert abs(batch_loss(loaded, batch)[0].item() - expected) < 1e-3, merge

    # A base tokenizer that already grew elsewhere would give the tags other ids.
    other = _base(tiny_models)[0]
    other.add_tokens(["<unrelated>"])
    with pytest.raises(LLMNERError, match="E018"):
        load_model(str(base_dir), str(out), torch.device("cpu"), torch.float32, False, True, tokenizer=other)
    with pytest.raises(LLMNERError, match="tokenizer"):
        load_model(str(base_dir), str(out), torch.device("cpu"), torch.float32, False, True)


def test_pipeline_with_tag_token_adapter_round_trips_through_spacy_load(
    tiny_models: dict[str, Any], tmp_path: Path
) -> None:
    import spacy
    import torch

    from spacy_llmner.assemble import assemble
    from spacy_llmner.models.tag_tokens import add_tag_tokens
    from spacy_llmner.training.config import LoraSettings
    from spacy_llmner.training.lora import save_adapter, wrap

    tok, model, base_dir = _base(tiny_models)
    ids = add_tag_tokens(tok, model, HIPAA)
    peft_model = wrap(model, LoraSettings(r=4, alpha=8, tag_tokens=True), sorted(ids.values()))
    with torch.no_grad():  # spread-out tag rows so the untrained model does emit tags
        delta = peft_model.get_input_embeddings().token_adapter.trainable_tokens_delta["default"]
        delta.copy_(torch.randn(delta.shape, generator=torch.Generator().manual_seed(0)))
    adapter = save_adapter(peft_model, tmp_path / "adapter", str(base_dir), dict(HIPAA), {}, tag_tokens=ids)
    assemble(str(base_dir), adapter, tmp_path / "pipeline")
    nlp = spacy.load(tmp_path / "pipeline")
    texts = ["John Doe, MRN 0012345, seen 03/14/2021 <b> & co.", "Call 555-123-4567 now"]
    docs = list(nlp.pipe(texts))
    assert [d.text for d in docs] == texts
    llm = nlp.get_pipe("llm_ner")
    tokenizer = llm._model.tokenizer  # noqa: SLF001 - the model's own tokenizer
    assert all(tokenizer.convert_tokens_to_ids(t) == i for t, i in ids.items())
    for doc in docs:
        for ent in doc.ents:
            assert ent.label_ in HIPAA and ent.text.strip() == ent.text
