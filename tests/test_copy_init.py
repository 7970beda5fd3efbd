"""The copy-ready init of the offline base: it copies at step 0, where a random init does not."""

from __future__ import annotations

from typing import Any

import pytest

from spacy_llmner.errors import LLMNERError
from spacy_llmner.training.tiny import TinyConfig


class _Tok:
    """Just what ``build_model`` reads from a tokenizer."""

    pad_token_id, bos_token_id, eos_token_id = 0, 0, 1

    def __len__(self) -> int:
        return 512


def _copy_accuracy(model: Any, seed: int) -> float:
    """Random tokens, noise, then the same tokens again at a varying offset: next-token accuracy
    over the repeat (its first token is unpredictable and left out)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    hits = total = 0
    with torch.no_grad():
        for offset in (0, 37, 150, 400):
            x = torch.randint(10, 512, (4, 40), generator=gen)
            noise = torch.randint(10, 512, (4, offset), generator=gen)
            ids = torch.cat([noise, x, torch.full((4, 1), 2), x], dim=1)
            pred = model(input_ids=ids).logits[:, -41:-1].argmax(-1)
            hits += int((pred[:, 1:] == x[:, 1:]).sum())
            total += x[:, 1:].numel()
    return hits / total


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_copy_init_copies_at_step_zero_random_init_does_not(arch: str) -> None:
    from spacy_llmner.training.tiny import build_model

    sizes = dict(arch=arch, hidden_size=64, num_heads=1, num_kv_heads=1, num_layers=3,
                 intermediate_size=128, rope_theta=1e6)
    copy = build_model(_Tok(), TinyConfig(**sizes, init="copy")).eval()  # type: ignore[arg-type]
    rand = build_model(_Tok(), TinyConfig(**sizes, init="random")).eval()  # type: ignore[arg-type]
    assert _copy_accuracy(copy, seed=0) > 0.8
    assert _copy_accuracy(rand, seed=0) < 0.1


def test_copy_init_survives_a_save_and_reload(tmp_path: Any) -> None:
    from transformers import AutoModelForCausalLM

    from spacy_llmner.training.tiny import build_model

    cfg = TinyConfig(hidden_size=64, num_heads=1, num_kv_heads=1, num_layers=2, rope_theta=1e6, init="copy")
    build_model(_Tok(), cfg).save_pretrained(tmp_path, safe_serialization=True)
    assert _copy_accuracy(AutoModelForCausalLM.from_pretrained(tmp_path).eval(), seed=1) > 0.8


@pytest.mark.parametrize(
    "sizes",
    [dict(hidden_size=128, num_heads=4, num_kv_heads=2),  # shared key/value heads
     dict(hidden_size=64, num_heads=4, num_kv_heads=4)],  # head size 16 < 32
)
def test_copy_init_rejects_shapes_it_cannot_wire(sizes: dict[str, int]) -> None:
    with pytest.raises(LLMNERError, match="model.init"):
        TinyConfig(init="copy", **sizes)  # type: ignore[arg-type]


def test_copy_init_needs_two_layers() -> None:
    with pytest.raises(LLMNERError, match="num_layers"):
        TinyConfig(hidden_size=64, num_heads=1, num_kv_heads=1, num_layers=1, init="copy")
