"""LoRA SFT for generative classification: the tokens trained are the tokens TextCat.v1 scores,
the loss covers the answer only, a short run really learns, and the adapter loads into
llm_textcat through spacy.load."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import spacy
from spacy.tokens import Doc, DocBin
from typer.testing import CliRunner

from spacy_llmner.decoding.label_trie import LabelTrie
from spacy_llmner.errors import LLMNERError
from spacy_llmner.models.hf import HFModel
from spacy_llmner.prompting import prompt_frame
from spacy_llmner.prompting.frame import document_ids
from spacy_llmner.textcat.sft import (
    ClassifyConfigFile,
    build_classify_dataset,
    labels_from_data,
)
from spacy_llmner.textcat.task import TextCatTask
from spacy_llmner.training.sft import IGNORE, NO_PREFIX

LABELS = {"patient": "", "email": ""}
_PATIENT = "patient John Doe Mary Smith discharged admitted clinic hospital".split()
_EMAIL = "email jdoe@example.com call 555-123-4567 ; , :".split()


def docs(n: int, seed: int) -> list[Doc]:
    """Separable: a text's words come from one label's word list."""
    nlp = spacy.blank("en")
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = "patient" if i % 2 == 0 else "email"
        words = _PATIENT if label == "patient" else _EMAIL
        doc = nlp.make_doc(" ".join(rng.choice(words) for _ in range(rng.randint(3, 7))))
        doc.cats = {lab: float(lab == label) for lab in LABELS}
        out.append(doc)
    return out


def inference_ids(tok: Any, text: str, label: str, pool: Any = None, n_demos: int = 0) -> tuple[list[int], list[int]]:
    """(prompt ids, answer ids) as TextCat.v1 + HF.v1 build them at inference."""
    task = TextCatTask(LABELS, examples=pool, n_demos=n_demos)
    prompt = next(iter(task.generate_prompts([spacy.blank("en")(text)])))[0][0]
    framed = prompt_frame(tok, prompt.messages)
    answer = LabelTrie.from_tokenizer(tok, framed.frame, prompt.answers).sequences[label]
    return framed.prefix_ids + document_ids(tok, framed.frame, text), list(answer)


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_tokens_are_the_inference_tokens_and_only_the_answer_is_in_the_loss(tiny_models: dict[str, Any], arch: str) -> None:
    tok = tiny_models[arch][0]
    corpus = docs(6, 0)
    data = build_classify_dataset(corpus, tok, LABELS, max_length=4096)
    assert len(data) == 6 and len(data.prefixes) == 1
    for doc, ex in zip(corpus, data.examples):
        label = max(doc.cats, key=doc.cats.__getitem__)
        prompt, answer = inference_ids(tok, doc.text, label)
        assert data.prefixes[ex.prefix] + list(ex.input_ids) == prompt + answer
        n_prompt = len(ex.input_ids) - len(answer)
        assert list(ex.labels) == [IGNORE] * n_prompt + answer
        assert tok.decode(answer[:-1]) == label  # the label, then the end marker


def test_demonstrations_are_other_training_docs_in_the_row(tiny_models: dict[str, Any]) -> None:
    tok = tiny_models["qwen2"][0]
    corpus = docs(6, 1)
    data = build_classify_dataset(corpus, tok, LABELS, max_length=4096, n_demos=2)
    assert data.prefixes == [] and all(ex.prefix == NO_PREFIX for ex in data.examples)
    for i, (doc, ex) in enumerate(zip(corpus, data.examples)):
        label = max(doc.cats, key=doc.cats.__getitem__)
        others = [{"text": d.text, "label": max(d.cats, key=d.cats.__getitem__)} for j, d in enumerate(corpus) if j != i]
        prompt, answer = inference_ids(tok, doc.text, label, pool=others, n_demos=2)
        assert list(ex.input_ids) == prompt + answer  # the prompt TextCat.v1 builds from the other docs
        assert list(ex.labels) == [IGNORE] * len(prompt) + answer


def test_labels_and_skips_and_coded_errors(tiny_models: dict[str, Any]) -> None:
    tok = tiny_models["qwen2"][0]
    corpus = docs(4, 2)
    assert list(labels_from_data(corpus)) == ["patient", "email"]
    both = spacy.blank("en").make_doc("x y")
    both.cats = {"patient": 1.0, "email": 1.0}
    data = build_classify_dataset([*corpus, both], tok, LABELS, max_length=4096)
    assert len(data) == 4 and data.stats["skipped_not_single_label"] == 1
    with pytest.raises(LLMNERError, match="E645"):
        build_classify_dataset([both], tok, LABELS, max_length=4096)
    with pytest.raises(LLMNERError, match="E646"):
        labels_from_data(corpus, ["patient", "other"])
    with pytest.raises(LLMNERError, match="E301"):
        ClassifyConfigFile(lora=_lora(), training=_training(), n_demos=-1)


def _lora() -> Any:
    from spacy_llmner.training.config import LoraSettings

    return LoraSettings(r=8, alpha=16, dropout=0.0)


def _training() -> Any:
    from spacy_llmner.training.config import TrainSettings

    return TrainSettings(epochs=8, lr=1e-2, batch_size=4, warmup_ratio=0.0, logging_steps=5, eval_batch_size=8)


def p_correct(model: HFModel, corpus: list[Doc]) -> list[float]:
    task = TextCatTask(LABELS)
    prompts = [ps[0] for ps, _ in task.generate_prompts(corpus)]
    out = []
    for doc, answer in zip(corpus, (a for r in model([[p] for p in prompts]) for a in r)):
        label = max(doc.cats, key=doc.cats.__getitem__)
        out.append(task.cats_from(answer)[label])
    return out


def test_cli_run_learns_and_the_adapter_loads_through_spacy_load(tiny_models: dict[str, Any], tmp_path: Path) -> None:
    import copy

    from conftest import randomize

    from spacy_llmner.cli import app
    from spacy_llmner.tinybase.tiny import save

    # Spread-out weights: the plain tiny model's near-zero embeddings cap its logits (every
    # answer stays near uniform whatever the adapter does).
    tok, model, _ = tiny_models["qwen2"]
    base = save(randomize(copy.deepcopy(model), 3, std=0.2), tok, tmp_path / "base")
    for name, corpus in (("train", docs(24, 3)), ("dev", docs(4, 4))):
        DocBin(docs=corpus, store_user_data=False).to_disk(tmp_path / f"{name}.spacy")
    cfg = tmp_path / "textcat.cfg"
    cfg.write_text(
        "[task]\nlabels = \"\"\nn_demos = 0\n\n[lora]\nr = 8\nalpha = 16\ndropout = 0.0\n\n"
        "[training]\nepochs = 20\nlr = 0.01\nbatch_size = 4\nwarmup_ratio = 0.0\nlogging_steps = 5\neval_batch_size = 8\n"
    )
    result = CliRunner().invoke(app, [
        "train-textcat-sft", str(base), str(tmp_path / "train.spacy"), str(tmp_path / "dev.spacy"), str(cfg),
        str(tmp_path / "adapter"), "--loss-log", str(tmp_path / "loss.jsonl"), "--pipeline", str(tmp_path / "pipeline"),
    ])
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "adapter" / "spacy_llmner.json").read_text())
    assert meta["labels"] == LABELS and meta["template_version"] == "textcat1"
    assert meta["training"]["task"] == "textcat" and meta["training"]["n_demos"] == 0

    held_out = docs(10, 5)
    before = p_correct(HFModel(str(base)), held_out)
    after = p_correct(HFModel(str(base), str(tmp_path / "adapter")), held_out)
    # Both classes gain (held-out docs): a shift of the label prior alone would lower one of them.
    for cls in (0, 1):
        gain = sum(after[cls::2]) / 5 - sum(before[cls::2]) / 5
        assert gain > 0.1, (cls, before, after)
    assert sum(a > 0.5 for a in after) >= 8, after

    nlp = spacy.load(tmp_path / "pipeline")
    assert (tmp_path / "pipeline" / "llm_textcat" / "model" / "adapter" / "adapter_model.safetensors").exists()
    assert nlp.get_pipe("llm_textcat").task.labels == tuple(LABELS)
    loaded = [d.cats[max(g.cats, key=g.cats.__getitem__)] for d, g in zip(nlp.pipe([d.text for d in held_out]), held_out)]
    assert loaded == pytest.approx(after, abs=1e-5)  # spacy.load gives the adapter's answers
