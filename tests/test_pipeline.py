"""The task + model inside spacy-llm's ``llm_ner``: round trips, sharding, errors, threads, logs."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
import spacy
from conftest import randomize
from spacy.language import Language

from spacy_llmner.errors import LLMNERError
from spacy_llmner.prompting.prompt import XMLPrompt
from spacy_llmner.tasks import XMLNERTask

LABELS = ["PERSON", "PHONE_NUMBER", "LOCATION"]
TEXTS = [
    "My name is John Doe, and I can be contacted at 555-123-4567.",
    "Text with <PERSON>literal tags</PERSON> & ampersands.",
    "",
    "中文病人张三在北京就诊。",
    "line1\r\nline2\rline3",
]


def make_nlp(name: str | Path, adapter: str | Path | None = None, **model: Any) -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "llm_ner",
        config={
            "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": LABELS},
            "model": {
                "@llm_models": "spacy_llmner.HF.v1",
                "name": str(name),
                "adapter": str(adapter) if adapter else None,
                **model,
            },
            "save_io": False,
        },
    )
    return nlp


def ents(doc: Any) -> list[tuple[int, int, str, float | None]]:
    return [(e.start_char, e.end_char, e.label_, e._.llmner_score) for e in doc.ents]


@pytest.fixture(scope="module")
def random_base(tiny_models: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved random Qwen2 base whose greedy choices include tags."""
    import copy

    from spacy_llmner.tinybase.tiny import save

    tok, model, _ = tiny_models["qwen2"]
    return save(randomize(copy.deepcopy(model), 3, std=0.2), tok, tmp_path_factory.mktemp("b") / "base")


@pytest.fixture(scope="module")
def adapter_dir(random_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LoRA adapter with non-zero weights (so it changes the output), saved as safetensors."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(random_base)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    out = tmp_path_factory.mktemp("a") / "adapter"
    peft_model.save_pretrained(out)
    (out / "spacy_llmner.json").write_text(json.dumps({"labels": LABELS, "template_version": "v1"}))
    return out


def test_pipeline_keeps_text_and_sets_scored_ents(random_base: Path) -> None:
    nlp = make_nlp(random_base)
    docs = list(nlp.pipe(TEXTS))
    assert [d.text for d in docs] == TEXTS
    all_ents = [e for d in docs for e in ents(d)]
    assert all_ents, "a random model tags something: the test must see entities"
    assert all(score is not None and 0 < score <= 1 for *_, score in all_ents)
    assert len({round(s, 6) for *_, s in all_ents}) > 1  # real scores, not a constant


def test_adapter_round_trip_in_a_fresh_process(
    random_base: Path, adapter_dir: Path, tmp_path: Path
) -> None:
    nlp = make_nlp(random_base, adapter_dir)
    without_adapter = [ents(d) for d in make_nlp(random_base).pipe(TEXTS)]
    expected = [ents(d) for d in nlp.pipe(TEXTS)]
    assert expected != without_adapter  # the adapter is really applied
    out = tmp_path / "pipeline"
    nlp.to_disk(out)
    assert (out / "llm_ner" / "model" / "adapter" / "adapter_model.safetensors").exists()
    assert (out / "llm_ner" / "model" / "base" / "model.safetensors").exists()
    # "Another machine": the original base and adapter directories are gone.
    moved = tmp_path / "elsewhere"
    shutil.copytree(out, moved)
    shutil.rmtree(out)
    code = textwrap.dedent(
        f"""
        import json, socket, spacy
        def refuse(*args, **kwargs):
            raise OSError("network call attempted")
        socket.socket.connect = refuse  # the saved pipeline must load and run offline
        socket.create_connection = refuse
        nlp = spacy.load({str(moved)!r})
        texts = json.loads({json.dumps(json.dumps(TEXTS))})
        print(json.dumps([[(e.start_char, e.end_char, e.label_, e._.llmner_score) for e in d.ents]
                          for d in nlp.pipe(texts)]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [[tuple(e[:3]) for e in d] for d in got] == [[e[:3] for e in d] for d in expected]
    for gd, ed in zip(got, expected):
        assert [e[3] for e in gd] == pytest.approx([e[3] for e in ed], rel=1e-4)


def test_registered_names_resolve_in_a_fresh_process(random_base: Path) -> None:
    """Entry points: a config resolves without importing spacy_llmner first."""
    code = textwrap.dedent(
        f"""
        import sys
        from spacy.util import registry
        from confection import Config
        cfg = Config().from_str('''
        [task]
        @llm_tasks = "spacy_llmner.XMLNER.v1"
        labels = "hipaa"
        [model]
        @llm_models = "spacy_llmner.HF.v1"
        name = "{random_base}"
        [labels]
        @misc = "spacy_llmner.labels.v1"
        preset = "hipaa"
        ''')
        assert "spacy_llmner" not in sys.modules
        import spacy_llm  # creates the llm_* registries
        out = registry.resolve(cfg)
        print(type(out["task"]).__name__, type(out["model"]).__name__, len(out["labels"]),
              out["model"].loaded)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["XMLNERTask", "HFModel", "21", "False"]  # weights stay lazy


def test_add_pipe_works_without_importing_anything_first(random_base: Path) -> None:
    """``llm_ner`` comes from spacy-llm's own factory entry point, our task and model from ours:
    nothing needs ``import spacy_llmner`` or ``import spacy_llm`` first. spaCy imports every
    ``spacy_factories`` entry point (our ``llm_textcat_head`` and ``llmner_phi_gate`` among them)
    when a Language is made, so those modules must not pull in the model code."""
    code = textwrap.dedent(
        f"""
        import sys
        import spacy
        nlp = spacy.blank("en")
        assert "spacy_llmner.models.hf" not in sys.modules, "a factory module imports the model code"
        assert "spacy_llmner.decoding.fast" not in sys.modules
        nlp.add_pipe("llm_ner", config={{
            "task": {{"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": ["PERSON"]}},
            "model": {{"@llm_models": "spacy_llmner.HF.v1", "name": {str(random_base)!r}}},
        }})
        doc = nlp("John Doe was seen today.")
        print(type(nlp.get_pipe("llm_ner")._task).__name__, doc.text == "John Doe was seen today.")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-2:] == ["XMLNERTask", "True"]


def test_long_doc_is_sharded_and_fused_exactly() -> None:
    """A 20,000-word document is processed whole: shards cover it, fused text is identical."""
    task = XMLNERTask(LABELS)
    nlp = spacy.blank("en")
    words = [("John" if i % 50 == 0 else "word") for i in range(20_000)]
    text = " ".join(words).replace("word word word", "word, word.\nword", 500)
    doc = nlp(text)
    (prompts, shards), = list(task.generate_prompts([doc], context_length=4096))
    prompts, shards = list(prompts), list(shards)
    assert len(shards) > 10
    assert "".join(s.text for s in shards) == text
    assert all(isinstance(p, XMLPrompt) and p.source == s.text for p, s in zip(prompts, shards))
    # A scripted "model" that tags every John via free text (the tolerant path).
    responses = [p.source.replace("John", "<PERSON>John</PERSON>").replace("&", "&amp;") for p in prompts]
    fused = next(iter(task.parse_responses([shards], [responses])))
    assert fused.text == text
    assert [e.start_char for e in fused.ents] == [i for i in range(len(text)) if text.startswith("John", i)]


def test_small_context_shards_through_the_real_model(random_base: Path) -> None:
    nlp = make_nlp(random_base, context_length=1100)
    text = " ".join(["Patient John Doe was seen today."] * 30)
    task = nlp.get_pipe("llm_ner")._task
    (prompts, _), = list(task.generate_prompts([nlp.make_doc(text)], context_length=1100))
    assert len(list(prompts)) > 1  # the context really forces several shards
    doc = nlp(text)
    assert doc.text == text
    assert doc.ents, "a random model tags something: the fused entities are checked below"
    for e in doc.ents:
        assert doc.char_span(e.start_char, e.end_char, alignment_mode="strict") is not None


def test_free_decoding_runs_and_parses_tolerantly(random_base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Free generation goes through the tolerant parser: whatever it wrote, the entities it did
    tag around source text are aligned to the source."""
    from spacy_llmner.tasks import xmlner

    nlp = make_nlp(random_base, decoding="free")
    parsed: list[tuple[str, str]] = []
    real_parse = xmlner.parse

    def spy(answer: str, source: str, labels: Any = None) -> Any:
        parsed.append((str(answer), source))
        return real_parse(answer, source, labels)

    monkeypatch.setattr(xmlner, "parse", spy)
    docs = list(nlp.pipe(TEXTS[:2]))
    assert [d.text for d in docs] == TEXTS[:2]
    assert [src for _, src in parsed] == TEXTS[:2]  # free answers took the tolerant path
    for doc, (answer, _) in zip(docs, parsed):
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [
            span for span in real_parse(answer, doc.text, LABELS)
            if doc.char_span(span[0], span[1], alignment_mode="contract") is not None
        ]


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        ("<PERSON>John", []),  # never closed: dropped, not guessed
        ("John</PERSON>", []),  # a close without an open: dropped
        ("<PER", []),  # truncated mid-tag
        ("<X>John</X>", []),  # a label the task does not have
        ("<PERSON><PERSON>John</PERSON>", [("John", "PERSON")]),  # doubled open
        ("", []),
        ("totally different", []),
        ("<PERSON>John</PERSON> lives here", [("John", "PERSON")]),  # well-formed, for contrast
    ],
)
def test_broken_model_output_never_raises(broken: str, expected: list[tuple[str, str]]) -> None:
    task = XMLNERTask(LABELS)
    doc = spacy.blank("en")("John lives here")
    (prompts, shards), = list(task.generate_prompts([doc]))
    out = next(iter(task.parse_responses([list(shards)], [[broken]])))
    assert out.text == "John lives here"
    assert [(e.text, e.label_) for e in out.ents] == expected


def test_coded_errors_name_the_fix(random_base: Path, adapter_dir: Path, tmp_path: Path) -> None:
    from spacy_llmner.models import HFModel

    with pytest.raises(LLMNERError, match=r"\[E005\]"):
        HFModel(str(random_base), decoding="sampling")
    empty = tmp_path / "empty_adapter"
    empty.mkdir()
    with pytest.raises(LLMNERError, match=r"\[E008\].*adapter_config.json"):
        HFModel(str(random_base), str(empty))
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text((random_base / "config.json").read_text())
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(LLMNERError, match=r"\[E007\].*safetensors"):
        HFModel(str(pickled)).load()
    no_template = tmp_path / "no_template"
    shutil.copytree(random_base, no_template)
    (no_template / "chat_template.jinja").unlink()
    cfg = json.loads((no_template / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (no_template / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(LLMNERError, match=r"\[E004\]"):
        make_nlp(no_template)("John Doe")
    with pytest.raises(LLMNERError, match=r"\[E010\].*ORGANIZATION"):
        nlp = spacy.blank("en")
        nlp.add_pipe(
            "llm_ner",
            config={
                "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": [*LABELS, "ORGANIZATION"]},
                "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(random_base), "adapter": str(adapter_dir)},
            },
        )
        nlp("John Doe")


def test_adapter_trained_on_another_prompt_template_is_a_coded_error(random_base: Path, adapter_dir: Path) -> None:
    def nlp_with(version: str) -> Any:
        nlp = spacy.blank("en")
        nlp.add_pipe("llm_ner", config={
            "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": LABELS, "template_version": version},
            "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(random_base), "adapter": str(adapter_dir)},
        })
        return nlp

    assert nlp_with("v1")("John Doe").text == "John Doe"  # the adapter's own template
    with pytest.raises(LLMNERError, match=r"\[E017\].*'v2'.*'v1'"):
        nlp_with("v2")("John Doe")


def test_adapter_for_another_base_is_a_coded_error(
    tiny_models: dict[str, Any], adapter_dir: Path, tmp_path: Path
) -> None:
    from spacy_llmner.tinybase.tiny import TinyConfig, build_model, save

    tok, _, _ = tiny_models["qwen2"]
    other = save(build_model(tok, TinyConfig(hidden_size=32, num_heads=2, num_kv_heads=1)), tok, tmp_path / "other")
    with pytest.raises(LLMNERError, match=r"\[E009\]"):
        make_nlp(other, adapter_dir)("John Doe")


def test_threads_get_the_same_answers(random_base: Path) -> None:
    nlp = make_nlp(random_base)
    expected = [ents(d) for d in nlp.pipe(TEXTS)]
    results: dict[int, list[Any]] = {}

    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = [ents(d) for d in nlp.pipe(TEXTS)]
        except BaseException as err:  # noqa: BLE001 - a thread's exception must fail the test
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(results) == [0, 1, 2]
    assert all(r == expected for r in results.values())


def test_no_raw_text_in_logs(random_base: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Zebediah Quackenbush 555-867-5309"
    with caplog.at_level(logging.INFO):
        make_nlp(random_base)(f"Patient {secret} called.")
    assert "Zebediah" not in caplog.text and "867-5309" not in caplog.text
