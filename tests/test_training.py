"""Training: completion mask, configs, shared-prefix loss, a tiny LoRA run, scoring, the workflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spacy_llmner.errors import LLMNERError
from spacy_llmner.prompting import HIPAA, build_messages, check_prefix_consistency, prompt_frame
from spacy_llmner.tagging import escape, render
from spacy_llmner.tinybase.config import BaseConfigFile
from spacy_llmner.training.config import (
    LoraConfigFile,
    LoraSettings,
    TrainSettings,
    from_section,
)
from spacy_llmner.training.sft import (
    IGNORE,
    Collator,
    LengthGroupedBatches,
    build_dataset,
    encode_conversation,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Any:
    """Tiny models run fastest on one thread, and an oversubscribed CPU (OpenMP threads spinning
    against other processes) makes two threads 100x slower per op."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

DOCS: list[tuple[str, list[tuple[int, int, str]]]] = [
    ("My name is John Doe and I live at 42 Main Street.", [(11, 19, "PERSON"), (33, 48, "LOCATION")]),
    ("Call 555-123-4567 & ask for Mary <Smith>.", [(5, 17, "PHONE_NUMBER"), (28, 32, "PERSON")]),
    ("Nothing to see here.", []),
    ("Seen on 03/14/2021 at the clinic; MRN 0012345.", [(8, 18, "DATE_TIME"), (38, 45, "MEDICAL_RECORD_NUMBER")]),
]


def _loaded(tiny_models: dict[str, Any], arch: str) -> Any:
    """The tokenizer as every later step loads it (from the saved dir)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_models[arch][2]))


# --- completion mask ---------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_mask_covers_exactly_the_answer(tiny_models: dict[str, Any], arch: str) -> None:
    tok = _loaded(tiny_models, arch)
    frame = prompt_frame(tok, build_messages(HIPAA))
    for text, spans in DOCS:
        ex = encode_conversation(tok, frame, text, spans)
        full_ids = frame.prefix_ids + list(ex.input_ids)
        n_prompt = len(full_ids) - sum(1 for lab in ex.labels if lab != IGNORE)
        # Labels: -100 on the whole prompt (prefix + document), the ids themselves on the answer.
        assert all(lab == IGNORE for lab in ex.labels[: n_prompt - len(frame.prefix_ids)])
        answer = list(ex.labels[n_prompt - len(frame.prefix_ids) :])
        assert answer == full_ids[n_prompt:]
        # The labels decode back to the tagged text + the template's end marker (so it learns to stop).
        assert tok.decode(answer) == render(text, spans) + frame.frame.end
        # The prompt segments are a token prefix of the whole conversation tokenized at once
        # (ChatML: yes; the [INST] template ends its prefix with a space that merges into the
        # document's first word when tokenized whole, which check_prefix_consistency reports).
        whole = tok.encode(
            frame.frame.prefix + escape(text) + frame.frame.suffix + render(text, spans) + frame.frame.end,
            add_special_tokens=False,
        )
        same = whole[:n_prompt] == full_ids[:n_prompt]
        assert check_prefix_consistency(tok, frame.frame, escape(text), render(text, spans)) == same
        assert same or arch == "llama"


def test_prompt_is_the_inference_prompt(tiny_models: dict[str, Any]) -> None:
    """Training builds the prefix the task+model build at inference (same messages, same frame)."""
    from spacy_llmner.prompting import build_messages, chat_frame, encode_segments

    tok = _loaded(tiny_models, "qwen2")
    frame = chat_frame(tok, build_messages(HIPAA))
    assert prompt_frame(tok, build_messages(HIPAA)).prefix_ids == encode_segments(tok, frame, "")[0]


def test_too_long_examples_are_skipped_and_counted(
    tiny_models: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    tok = _loaded(tiny_models, "qwen2")
    n_prefix = len(prompt_frame(tok, build_messages(HIPAA)).prefix_ids)
    long_doc = ("word " * 200, [])
    data = build_dataset([DOCS[0], long_doc], tok, HIPAA, max_length=n_prefix + 100)
    assert len(data) == 1 and data.n_skipped == 1 and data.stats["skipped"] == 1
    assert "skipped 1 of 2" in caplog.text and "word" not in caplog.text  # counts, never text
    with pytest.raises(LLMNERError, match="E304"):
        build_dataset([long_doc], tok, HIPAA, max_length=n_prefix + 100)


def test_unknown_label_is_an_error(tiny_models: dict[str, Any]) -> None:
    tok = _loaded(tiny_models, "qwen2")
    with pytest.raises(LLMNERError, match="E306.*NAME"):
        build_dataset([("Hi Bob", [(3, 6, "NAME")])], tok, HIPAA, max_length=4096)


def test_collator_pads_labels_and_keeps_prefix_apart(tiny_models: dict[str, Any]) -> None:
    tok = _loaded(tiny_models, "qwen2")
    data = build_dataset(DOCS, tok, HIPAA, max_length=4096)
    feats = [data[0], data[2]]
    shared = Collator(data.prefixes, tok.pad_token_id, shared_prefix=True)(feats)
    plain = Collator(data.prefixes, tok.pad_token_id, shared_prefix=False)(feats)
    n_prefix = len(data.prefixes[0])
    assert shared["prefix_ids"].shape == (1, n_prefix)
    assert plain["input_ids"].shape[1] == n_prefix + shared["input_ids"].shape[1]
    short = min(range(2), key=lambda i: len(feats[i]))
    pad = shared["attention_mask"][short] == 0
    assert pad.any() and (shared["labels"][short][pad] == IGNORE).all()
    assert (shared["input_ids"][short][pad] == tok.pad_token_id).all()
    assert (plain["labels"][:, :n_prefix] == IGNORE).all()


def test_length_grouped_batches_cover_every_example_once_per_epoch(tiny_models: dict[str, Any]) -> None:
    tok = _loaded(tiny_models, "qwen2")
    data = build_dataset(DOCS * 5, tok, HIPAA, max_length=4096)
    sampler = LengthGroupedBatches(data, batch_size=3, seed=1)
    first, second = list(sampler), list(sampler)
    assert len(first) == len(sampler) == 7
    assert sorted(i for b in first for i in b) == list(range(20))
    assert first != second  # reshuffled each epoch


def test_token_cap_splits_long_batches_and_keeps_every_example(tiny_models: dict[str, Any]) -> None:
    tok = _loaded(tiny_models, "qwen2")
    data = build_dataset(DOCS * 5, tok, HIPAA, max_length=4096)
    lengths = [len(ex) for ex in data.examples]
    cap = 2 * max(lengths)  # at most two of the longest rows; more of the short ones
    sampler = LengthGroupedBatches(data, batch_size=4, seed=1, max_tokens=cap)
    batches = list(sampler)
    assert len(batches) == len(sampler)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert all(max(lengths[i] for i in b) * len(b) <= cap for b in batches)
    assert any(len(b) < 4 for b in batches) and any(len(b) > 2 for b in batches)
    uncapped = list(LengthGroupedBatches(data, batch_size=4, seed=1))
    assert len(uncapped) < len(batches)


# --- shared prefix -----------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_shared_prefix_step_equals_plain_step(tiny_models: dict[str, Any], arch: str) -> None:
    import torch

    from spacy_llmner.training.step import batch_loss

    tok = _loaded(tiny_models, arch)
    model = tiny_models[arch][1]
    data = build_dataset(DOCS, tok, HIPAA, max_length=4096)
    results = []
    for shared in (True, False):
        batch = Collator(data.prefixes, tok.pad_token_id, shared_prefix=shared)(list(data.examples))
        model.zero_grad()
        loss, n = batch_loss(model, batch)
        (loss / n).backward()
        grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        results.append((loss.item() / n, n, grads))
    model.zero_grad()
    (l1, n1, g1), (l2, n2, g2) = results
    assert n1 == n2 == data.n_label_tokens()
    assert abs(l1 - l2) < 1e-4
    assert torch.allclose(g1, g2, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("shared", [True, False])
def test_head_on_labelled_positions_equals_the_models_logits(
    tiny_models: dict[str, Any], shared: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gathered-head path gives the loss and gradients of the model's own logits path."""
    import torch

    from spacy_llmner.training import step

    tok = _loaded(tiny_models, "llama")
    model = tiny_models["llama"][1]
    data = build_dataset(DOCS, tok, HIPAA, max_length=4096)
    batch = Collator(data.prefixes, tok.pad_token_id, shared_prefix=shared)(list(data.examples))
    assert step._plain_head(model) is model.get_output_embeddings()
    results = []
    for gathered in (True, False):
        if not gathered:
            monkeypatch.setattr(step, "_plain_head", lambda m: None)
        model.zero_grad()
        loss, n = step.batch_loss(model, batch)
        (loss / n).backward()
        grads = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        results.append((loss.item() / n, grads))
    model.zero_grad()
    (l1, g1), (l2, g2) = results
    assert abs(l1 - l2) < 1e-4
    assert torch.allclose(g1, g2, atol=1e-5, rtol=1e-3)


def test_top_layers_adapts_only_the_top_of_the_stack(tiny_models: dict[str, Any]) -> None:
    from transformers import AutoModelForCausalLM

    from spacy_llmner.training.lora import wrap

    base = AutoModelForCausalLM.from_pretrained(str(tiny_models["qwen2"][2]))
    n_layers = base.config.num_hidden_layers
    model = wrap(base, LoraSettings(r=2, top_layers=1))
    adapted = {
        int(name.split(".layers.")[1].split(".")[0])
        for name, p in model.named_parameters()
        if p.requires_grad and ".layers." in name
    }
    assert adapted == {n_layers - 1}
    kinds = {name.split(".lora_A")[0].rsplit(".", 1)[-1] for name, _ in model.named_parameters() if "lora_A" in name}
    assert {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"} <= kinds


# --- configs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"),
    [
        (LoraSettings, {"r": 0}, "lora.r"),
        (LoraSettings, {"dropout": 1.5}, "lora.dropout"),
        (LoraSettings, {"target_modules": []}, "lora.target_modules"),
        (TrainSettings, {"lr": -1.0}, "training.lr"),
        (TrainSettings, {"batch_size": 0}, "training.batch_size"),
        (TrainSettings, {"lr_scheduler": "wobbly"}, "training.lr_scheduler"),
        (TrainSettings, {"gradient_checkpointing": True}, "training.shared_prefix"),
        (LoraSettings, {"top_layers": -1}, "lora.top_layers"),
        (TrainSettings, {"max_batch_tokens": -5}, "training.max_batch_tokens"),
        (
            LoraConfigFile,
            {"lora": LoraSettings(), "training": TrainSettings(), "template_version": "v9"},
            "task.template_version",
        ),
    ],
)
def test_invalid_settings_name_the_setting(cls: Any, kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(LLMNERError, match=rf"E301.*`{name}`"):
        cls(**kwargs)


def test_gradient_checkpointing_with_plain_path_is_fine(tiny_models: dict[str, Any], tmp_path: Path) -> None:
    """Checkpointing with the plain (per-row prefix) path trains: the loss goes down."""
    from transformers import AutoModelForCausalLM

    from spacy_llmner.training.lora import wrap
    from spacy_llmner.training.trainer import run

    settings = TrainSettings(
        gradient_checkpointing=True, shared_prefix=False, epochs=6, lr=1e-2, batch_size=2,
        logging_steps=1, warmup_ratio=0.0, eval_each_epoch=False,
    )
    tok = _loaded(tiny_models, "qwen2")
    model = wrap(AutoModelForCausalLM.from_pretrained(str(tiny_models["qwen2"][2])), LoraSettings(r=4, dropout=0.0))
    model.enable_input_require_grads()
    data = build_dataset(DOCS, tok, HIPAA, max_length=4096)
    log = tmp_path / "loss.jsonl"
    run(model, data, None, settings, tok.pad_token_id, tmp_path / "work", log)
    losses = [json.loads(line)["loss"] for line in log.read_text().splitlines() if '"loss"' in line]
    assert len(losses) >= 6 and losses[-1] < losses[0]


# Labels that are XML names but not [A-Z_]+: WNUT-17's creative-work, a dotted hierarchy.
XML_NAME_LABELS = {"creative-work": "A title of a book, film, song or game", "geo.city": "A city"}
XML_NAME_DOCS: list[tuple[str, list[tuple[int, int, str]]]] = [
    ("Watching Rick and Morty in L.A. tonight.", [(9, 23, "creative-work"), (27, 31, "geo.city")]),
    ("Read Dune twice & then left Boston.", [(5, 9, "creative-work"), (28, 34, "geo.city")]),
    ("Nothing to see here.", []),
]


def test_xml_name_labels_from_docbin_through_one_training_step(tiny_models: dict[str, Any], tmp_path: Path) -> None:
    """'-' and '.' labels survive a DocBin corpus, become the answer's tags in the SFT example
    (and nothing else), and a LoRA step on them lowers the loss."""
    import torch
    from transformers import AutoModelForCausalLM

    from spacy_llmner.data import to_docbin
    from spacy_llmner.training.lora import wrap
    from spacy_llmner.training.sft import read_docbin
    from spacy_llmner.training.step import batch_loss

    to_docbin([{"text": t, "spans": s} for t, s in XML_NAME_DOCS]).to_disk(tmp_path / "train.spacy")
    docs = read_docbin(tmp_path / "train.spacy")
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs] == [s for _, s in XML_NAME_DOCS]
    tok = _loaded(tiny_models, "qwen2")
    frame = prompt_frame(tok, build_messages(XML_NAME_LABELS))
    assert "creative-work" in tok.decode(frame.prefix_ids) and "geo.city" in tok.decode(frame.prefix_ids)
    ex = encode_conversation(tok, frame, *XML_NAME_DOCS[0])
    answer = tok.decode([lab for lab in ex.labels if lab != IGNORE])
    assert answer == render(*XML_NAME_DOCS[0]) + frame.frame.end
    assert "<creative-work>Rick and Morty</creative-work>" in answer and "<geo.city>L.A.</geo.city>" in answer
    data = build_dataset(docs, tok, XML_NAME_LABELS, max_length=4096)
    assert len(data) == 3 and data.n_skipped == 0
    with pytest.raises(LLMNERError, match="E306.*geo.country"):
        build_dataset([("Left Peru.", [(5, 9, "geo.country")])], tok, XML_NAME_LABELS, max_length=4096)

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(tiny_models["qwen2"][2]))
    model = wrap(base, LoraSettings(r=4, alpha=8, dropout=0.0))
    batch = Collator(data.prefixes, tok.pad_token_id)(list(data.examples))
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    loss, n = batch_loss(model, batch)
    (loss / n).backward()
    opt.step()
    with torch.no_grad():
        after, n_after = batch_loss(model, batch)
    assert n == n_after == data.n_label_tokens() and torch.isfinite(loss)
    assert after.item() / n < loss.item() / n


def test_unknown_setting_and_missing_section(tmp_path: Path) -> None:
    with pytest.raises(LLMNERError, match="E302.*'epoch'"):
        from_section(TrainSettings, {"epoch": 1}, "training")
    cfg = tmp_path / "x.cfg"
    cfg.write_text("[lora]\nr = 4\n", encoding="utf8")
    with pytest.raises(LLMNERError, match=r"E303.*\[training\]"):
        LoraConfigFile.load(cfg)


def test_project_configs_load_with_overrides() -> None:
    lora = LoraConfigFile.load(ROOT / "configs" / "lora.cfg", {"training.epochs": 3, "lora.r": 4})
    assert lora.training.epochs == 3 and lora.lora.r == 4 and lora.lora.target_modules == "all-linear"
    assert lora.template_version == "v2" and lora.lora.top_layers == 15
    assert not lora.training.gradient_checkpointing
    assert lora.training.bf16 == "auto"  # bf16 only where the hardware computes it
    gpu = LoraConfigFile.load(ROOT / "configs" / "lora_gpu.cfg")
    assert gpu.training.bf16 == "auto"  # forced bf16 on a card without it is emulated
    assert gpu.template_version == "v2"  # the template the workflow trains and was measured with
    base = BaseConfigFile.load(ROOT / "configs" / "base.cfg", {"model.hidden_size": 64})
    assert base.model.hidden_size == 64 and base.labels == "hipaa"


def test_bf16_auto_follows_the_hardware(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """A CPU without AVX512-BF16/AMX emulates bf16 ~100x slower than fp32: "auto" must not pick it."""
    import torch

    from spacy_llmner.models import precision
    from spacy_llmner.training.lora import with_precision

    assert TrainSettings(bf16="auto").bf16 == "auto"
    with pytest.raises(LLMNERError, match="E301.*training.bf16"):
        TrainSettings(bf16="yes")
    for native in (False, True):
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda native=native: native, raising=False)
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
        assert precision.native_bf16("cpu") is native
        assert precision.use_bf16("auto", "cpu") is native
        assert precision.use_bf16(False, "cpu") is False
        if not torch.cuda.is_available():
            assert with_precision(TrainSettings(bf16="auto")).bf16 is native
    with caplog.at_level("WARNING", logger="spacy_llmner"):
        assert precision.use_bf16(True, "cpu") is True  # native: no warning
        assert "W003" not in caplog.text
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
        assert precision.use_bf16(True, "cpu") is True  # asked for: kept, with a warning
    assert "W003" in caplog.text


# --- LoRA --------------------------------------------------------------------------------


def test_tiny_lora_run_lowers_loss_and_saves_a_loadable_adapter(
    tiny_models: dict[str, Any], tmp_path: Path
) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from spacy_llmner.models.meta import ADAPTER_META as META_FILE
    from spacy_llmner.training.lora import read_meta, save_adapter, wrap
    from spacy_llmner.training.step import batch_loss
    from spacy_llmner.training.trainer import run

    base_dir = tiny_models["qwen2"][2]
    tok = _loaded(tiny_models, "qwen2")
    model = AutoModelForCausalLM.from_pretrained(str(base_dir))
    data = build_dataset(DOCS, tok, HIPAA, max_length=4096)
    batch = Collator(data.prefixes, tok.pad_token_id)(list(data.examples))

    def loss_of(m: Any) -> float:
        m.eval()
        with torch.no_grad():
            loss, n = batch_loss(m, batch)
        return loss.item() / n

    model = wrap(model, LoraSettings(r=8, alpha=16, dropout=0.0))
    before = loss_of(model)
    settings = TrainSettings(
        epochs=12, lr=1e-2, batch_size=2, logging_steps=1, warmup_ratio=0.0, eval_batch_size=4
    )
    log = tmp_path / "loss.jsonl"
    summary = run(model, data, data, settings, tok.pad_token_id, tmp_path / "work", log)
    after = loss_of(model)
    assert after < before - 0.3, (before, after)
    assert summary["steps"] == 24 and summary["tokens_per_s"] > 0 and summary["bf16"] is False
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert any("eval_loss" in r for r in records)
    assert any("tokens_per_s" in r and "loss" in r for r in records)

    out = save_adapter(model, tmp_path / "adapter", str(base_dir), dict(HIPAA), summary)
    assert (out / "adapter_model.safetensors").exists() and (out / META_FILE).exists()
    assert read_meta(out)["labels"] == dict(HIPAA)
    reloaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(str(base_dir)), str(out))
    assert abs(loss_of(reloaded) - after) < 1e-4


def test_read_meta_names_missing_files(tmp_path: Path) -> None:
    from spacy_llmner.training.lora import read_meta

    with pytest.raises(LLMNERError, match="E008.*adapter_model.safetensors"):
        read_meta(tmp_path)
    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "adapter_model.safetensors").write_bytes(b"")
    with pytest.raises(LLMNERError, match="E307.*spacy_llmner.json"):
        read_meta(tmp_path)


# --- scoring -----------------------------------------------------------------------------


def test_score_spans_is_exact_and_typed() -> None:
    from spacy_llmner.evaluation.ner import score_spans

    gold = [[(0, 4, "PERSON"), (10, 14, "LOCATION")], [(0, 3, "AGE")]]
    pred = [[(0, 4, "PERSON"), (10, 13, "LOCATION")], [(0, 3, "DATE_TIME")]]
    report = score_spans(gold, pred)
    assert report["overall"]["tp"] == 1 and report["overall"]["fp"] == 2 and report["overall"]["fn"] == 2
    assert report["per_label"]["PERSON"]["f"] == 1.0
    assert report["per_label"]["LOCATION"]["f"] == 0.0
    assert report["per_label"]["DATE_TIME"]["p"] == 0.0 and report["per_label"]["AGE"]["r"] == 0.0
    assert abs(report["overall"]["f"] - 1 / 3) < 1e-6


def test_error_kinds_say_where_exact_span_f1_is_lost() -> None:
    from spacy_llmner.evaluation.ner import error_kinds

    gold = [[(0, 4, "PERSON"), (10, 14, "LOCATION"), (20, 25, "AGE"), (30, 40, "DATE_TIME"), (50, 55, "URL")],
            [(0, 8, "PERSON")]]
    pred = [[(0, 4, "PERSON"), (10, 13, "LOCATION"), (20, 25, "DATE_TIME"), (29, 35, "AGE"), (60, 64, "PERSON")],
            [(0, 3, "PERSON")]]
    kinds = error_kinds(gold, pred)
    assert kinds == {
        "wrong_label": 1,  # AGE span answered as DATE_TIME
        "boundary": 2,  # LOCATION one character short; a PERSON cut to its first name
        "boundary_and_label": 1,  # DATE_TIME overlapped by a wrong AGE span
        "missed": 1,  # URL: nothing near it
        "spurious": 1,  # PERSON where no gold entity is
        "confusions": {"AGE->DATE_TIME": 1},
    }
    assert error_kinds(gold, gold)["missed"] == 0 and error_kinds(gold, gold)["spurious"] == 0


def test_jsonl_reader_label_map_and_plots(tmp_path: Path) -> None:
    from spacy_llmner.evaluation.ner import apply_label_map, plot_f1, plot_loss, read_examples, score_spans

    path = tmp_path / "gold.jsonl"
    path.write_text(
        json.dumps({"text": "Bob in Paris", "spans": [{"start": 0, "end": 3, "label": "NAME"}, [7, 12, "CITY"]]})
        + "\n",
        encoding="utf8",
    )
    examples = apply_label_map(read_examples(path), {"NAME": "PERSON", "CITY": None})
    assert examples == [("Bob in Paris", [(0, 3, "PERSON")])]
    report = score_spans([examples[0][1]], [[(0, 3, "PERSON")]])
    assert plot_f1(report, tmp_path / "f1.png").stat().st_size > 1000
    log = tmp_path / "loss.jsonl"
    log.write_text('{"step": 1, "loss": 2.0}\n{"step": 2, "loss": 1.0, "eval_loss": 1.5}\n')
    assert plot_loss({"LoRA": log}, tmp_path / "loss.png").stat().st_size > 1000  # type: ignore[union-attr]
    assert plot_loss({"none": tmp_path / "missing.jsonl"}, tmp_path / "x.png") is None


# --- the workflow, tiny ------------------------------------------------------------------

_TINY_BASE = [
    "--model.hidden_size", "64", "--model.num_layers", "2", "--model.num_heads", "1",
    "--model.num_kv_heads", "1", "--model.intermediate_size", "128",
    "--tokenizer.vocab_size", "600", "--data.n_docs", "48", "--data.n_dev", "8",
    "--training.batch_size", "8", "--training.logging_steps", "2",
]
_TINY_LORA = [
    "--training.max_steps", "3", "--training.batch_size", "4", "--training.logging_steps", "1",
    "--lora.r", "4",
]


_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # tiny models: one thread is fastest (see _one_thread)


def _cli(*args: str, cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "spacy_llmner", *args], cwd=cwd, capture_output=True, text=True, env=_ENV
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.e2e
def test_tiny_workflow_end_to_end(tmp_path: Path) -> None:
    """generate → pretrain-base → base-stamp → train → assemble → evaluate (+ spacy evaluate), tiny sizes."""
    pytest.importorskip("spacy_llmner.tasks.xmlner")
    pytest.importorskip("spacy_llmner.models.hf")
    _cli("generate", "corpus", "--n-train", "16", "--n-dev", "4", "--n-test", "4", "--seed", "3", cwd=tmp_path)
    _cli("pretrain-base", str(ROOT / "configs" / "base.cfg"), "assets/base", "--exclude", "corpus",
         "--loss-log", "training/pretrain_loss.jsonl", *_TINY_BASE, cwd=tmp_path)
    meta = json.loads((tmp_path / "assets/base/spacy_llmner_base.json").read_text())
    assert meta["training"]["excluded_corpus_texts"] == 24
    assert "updated" in _cli("base-stamp", "assets/base", "training/base.json", cwd=tmp_path)
    _cli("train", "assets/base", "corpus/train.spacy", "corpus/dev.spacy", str(ROOT / "configs" / "lora.cfg"),
         "training/adapter", "--loss-log", "training/loss.jsonl", *_TINY_LORA, cwd=tmp_path)
    assert (tmp_path / "training/adapter/adapter_model.safetensors").exists()
    _cli("assemble", "assets/base", "training/adapter", "--output", "training/pipeline", cwd=tmp_path)
    out = _cli("evaluate", "training/pipeline", "corpus/test.spacy", "--output", "metrics/scores.json",
               "--f1-plot", "metrics/f1.png", "--loss-log", "LoRA=training/loss.jsonl",
               "--loss-plot", "metrics/loss.png", cwd=tmp_path)
    assert "F1" in out
    scores = json.loads((tmp_path / "metrics/scores.json").read_text())
    assert scores["docs"] == 4 and scores["docs_per_s"] > 0 and set(scores["overall"]) >= {"p", "r", "f"}
    assert (tmp_path / "metrics/f1.png").exists() and (tmp_path / "metrics/loss.png").exists()
    # The pipeline is self-contained (adapter and small base inside) and `spacy evaluate` works on it.
    import shutil

    shutil.rmtree(tmp_path / "assets")
    shutil.rmtree(tmp_path / "training/adapter")
    proc = subprocess.run(
        [sys.executable, "-m", "spacy", "evaluate", "training/pipeline", "corpus/test.spacy",
         "--output", "metrics/spacy.json"],
        cwd=tmp_path, capture_output=True, text=True, env=_ENV,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "ents_f" in json.loads((tmp_path / "metrics/spacy.json").read_text())


def test_base_stamp_changes_with_the_base_and_only_then(tmp_path: Path) -> None:
    from spacy_llmner.training.stamp import write_stamp

    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text("{}")
    (base / "model.safetensors").write_bytes(b"x" * 10)
    stamp = tmp_path / "training" / "base.json"
    assert write_stamp(str(base), stamp) is True
    first = stamp.read_text()
    assert write_stamp(str(base), stamp) is False and stamp.read_text() == first
    (base / "model.safetensors").write_bytes(b"y" * 11)  # a rebuilt base
    assert write_stamp(str(base), stamp) is True and stamp.read_text() != first
    assert write_stamp("Qwen/Qwen2.5-1.5B-Instruct", stamp) is True
    assert json.loads(stamp.read_text()) == {"base": "Qwen/Qwen2.5-1.5B-Instruct", "kind": "hub id"}


@pytest.mark.parametrize("command", ["train", "evaluate", "pretrain-base"])
def test_cli_commands_print_coded_errors_not_tracebacks(tmp_path: Path, command: str) -> None:
    from typer.testing import CliRunner

    from spacy_llmner.cli import app

    cfg = tmp_path / "x.cfg"
    cfg.write_text("[lora]\nr = 4\n", encoding="utf8")
    bad = tmp_path / "bad.spacy"
    bad.write_bytes(b"not a docbin")
    args = {
        "train": ["train", "base", str(bad), str(bad), str(cfg), str(tmp_path / "out")],
        "evaluate": ["evaluate", str(tmp_path), str(bad)],
        "pretrain-base": ["pretrain-base", str(cfg), str(tmp_path / "out")],
    }[command]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "[E3" in result.output and "Traceback" not in result.output


def test_interrupted_run_resumes_to_the_same_weights(tiny_models: dict[str, Any], tmp_path: Path) -> None:
    """A run stopped early (stop_after) and rerun with the same checkpoint directory continues
    from the checkpoint, not from step 0, and ends with the weights of an uninterrupted run."""
    import torch
    from transformers import AutoModelForCausalLM

    from spacy_llmner.training.lora import wrap
    from spacy_llmner.training.trainer import last_checkpoint, run

    base_dir = tiny_models["qwen2"][2]
    tok = _loaded(tiny_models, "qwen2")
    data = build_dataset(DOCS, tok, HIPAA, max_length=4096)
    settings = TrainSettings(
        epochs=4, lr=1e-2, batch_size=2, logging_steps=1, warmup_ratio=0.0, eval_each_epoch=False, save_steps=1,
    )

    def fresh() -> Any:
        torch.manual_seed(0)
        return wrap(AutoModelForCausalLM.from_pretrained(str(base_dir)), LoraSettings(r=4, dropout=0.0))

    def lora_state(m: Any) -> dict[str, Any]:
        return {k: v.detach().clone() for k, v in m.state_dict().items() if "lora_" in k}

    straight = fresh()
    full = run(straight, data, None, settings, tok.pad_token_id, tmp_path / "straight", tmp_path / "a.jsonl")
    assert full["complete"] and full["resumed_from_step"] == 0

    first = fresh()
    part = run(first, data, None, settings, tok.pad_token_id, tmp_path / "ckpt", tmp_path / "b.jsonl", stop_after_s=1e-9)
    assert part["steps"] == 1 and not part["complete"] and last_checkpoint(tmp_path / "ckpt") is not None

    second = fresh()  # a new process would start from the base again
    rest = run(second, data, None, settings, tok.pad_token_id, tmp_path / "ckpt", tmp_path / "b.jsonl")
    assert rest["resumed_from_step"] == 1 and rest["complete"] and rest["steps"] == full["steps"]
    logged = [json.loads(line)["step"] for line in (tmp_path / "b.jsonl").read_text().splitlines() if '"loss"' in line]
    assert logged[0] == 1 and logged[-1] == full["steps"]  # appended, not restarted
    a, b = lora_state(straight), lora_state(second)
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)

    # `touch DIR/STOP` ends a run cleanly at the next step, with a checkpoint; the file is consumed.
    (tmp_path / "asked").mkdir()
    (tmp_path / "asked" / "STOP").touch()
    asked = run(fresh(), data, None, settings, tok.pad_token_id, tmp_path / "asked", tmp_path / "c.jsonl")
    assert asked["steps"] == 1 and not asked["complete"] and not (tmp_path / "asked" / "STOP").exists()
    assert last_checkpoint(tmp_path / "asked") is not None
