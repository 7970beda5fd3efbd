"""Shared fixtures: tiny models built in-process (no hub), for both supported architectures."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see spacy_llmner/cli/__init__.py

import random  # noqa: E402
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from spacy_llmner.prompting import HIPAA, build_messages
from spacy_llmner.tagging import render

# The default suite draws the same examples every run, so a CI result depends on the change, not
# on the draw; `HYPOTHESIS_PROFILE=explore pytest` draws fresh ones (the `-m slow` campaigns run
# 10,000 examples per property).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ARCHS = ("qwen2", "llama")
_WORDS = (
    "patient John Doe Mary Smith seen on 03/14/2021 at 10:30 call 555-123-4567 email "
    "jdoe@example.com lives 42 Main Street Springfield MRN 0012345 the and with for was "
    "discharged admitted referred dr. clinic hospital & < > ; , . : ( ) - / 5 mg daily "
    "测试 病人 北京 🎉 é ü ß \u0301"
).split()


def corpus(n: int = 300, seed: int = 0) -> list[str]:
    """Generated text for training tiny tokenizers: plain, tagged and prompt text."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(3, 20))]
        text = " ".join(words)
        texts.append(text)
        a = rng.randrange(len(words))
        start = len(" ".join(words[:a])) + (1 if a else 0)
        end = start + len(words[a])
        texts.append(render(text, [(start, end, rng.choice(list(HIPAA)))]))
    texts += [m["content"] for m in build_messages(HIPAA)]
    return texts


def _build(arch: str, tmp: Path) -> tuple[Any, Any, Path]:
    from spacy_llmner.tinybase.tiny import TinyConfig, build_model, save, train_tokenizer

    tok = train_tokenizer(corpus(), arch=arch, vocab_size=700)  # type: ignore[arg-type]
    model = build_model(tok, TinyConfig(arch=arch, seed=1))  # type: ignore[arg-type]
    path = save(model, tok, tmp / f"tiny_{arch}")
    return tok, model.eval(), path


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Any, Path]]:
    """arch → (tokenizer, random model, saved dir)."""
    tmp = tmp_path_factory.mktemp("tiny")
    return {arch: _build(arch, tmp) for arch in ARCHS}


def random_lora(base: Path, out: Path, seed: int, meta: dict[str, Any] | None = None, r: int = 4) -> Path:
    """A LoRA adapter on ``base`` (all linear layers) with non-zero random B matrices, so it
    changes the answers; ``meta`` is written as its ``spacy_llmner.json`` when given."""
    import json

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(base), LoraConfig(r=r, lora_alpha=2 * r, target_modules="all-linear")
    )
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    model.save_pretrained(out)
    if meta is not None:
        (out / "spacy_llmner.json").write_text(json.dumps(meta))
    return out


def randomize(model: Any, seed: int, std: float = 0.3) -> Any:
    """Untrained weights with spread-out logits: the hardest test of the constraint."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * std)
    return model
