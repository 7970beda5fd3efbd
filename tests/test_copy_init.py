"""The copy-ready init of the offline base: it copies at step 0, where a random init does not."""

from __future__ import annotations

from typing import Any

import pytest

from spacy_llmner.errors import LLMNERError
from spacy_llmner.tinybase.tiny import TinyConfig


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
    from spacy_llmner.tinybase.tiny import build_model

    sizes = dict(arch=arch, hidden_size=64, num_heads=1, num_kv_heads=1, num_layers=3,
                 intermediate_size=128, rope_theta=1e6)
    copy = build_model(_Tok(), TinyConfig(**sizes, init="copy")).eval()  # type: ignore[arg-type]
    rand = build_model(_Tok(), TinyConfig(**sizes, init="random")).eval()  # type: ignore[arg-type]
    assert _copy_accuracy(copy, seed=0) > 0.8
    assert _copy_accuracy(rand, seed=0) < 0.1


def test_copy_init_survives_a_save_and_reload(tmp_path: Any) -> None:
    from transformers import AutoModelForCausalLM

    from spacy_llmner.tinybase.tiny import build_model

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


def _tagged_copy_accuracy(model: Any, tok: Any, seed: int) -> dict[str, float]:
    """Random spaced words, then the same words with tags around some of them, as the tagged
    answer has them (`` <PERSON>`` eats the space, so the first entity token is the unspaced
    twin). Next-token accuracy at the three places tags make hard. Twins share their token
    dimensions, so either counts: the copy constraint, not the model, picks the one that fits."""
    import random

    import torch

    from spacy_llmner.decoding.vocab import token_bytes

    pieces = token_bytes(tok)
    index = {p: i for i, p in enumerate(pieces) if p}
    twins = [(index[p], index[p[1:]]) for p in index if p.startswith(b" ") and p[1:].isalpha() and p[1:] in index]
    rng = random.Random(seed)
    open_tag, close_tag = index[b" <PERSON>"], index[b"</PERSON>"]
    hits = {"after_open": 0, "in_entity": 0, "after_close": 0}
    total = dict.fromkeys(hits, 0)
    for _ in range(4):
        words = rng.sample(twins, 40)
        source = [w for w, _ in words]
        answer: list[int] = []
        asks: list[tuple[int, str, set[int]]] = []  # (position predicting, place, accepted ids)
        for i, (spaced, bare) in enumerate(words):
            if i % 6 == 3 and i + 2 < len(words):
                answer.append(open_tag)
                asks.append((len(answer) - 1, "after_open", {spaced, bare}))
                answer.append(bare)
                asks.append((len(answer) - 1, "in_entity", set(words[i + 1])))
            elif i % 6 == 4:
                answer += [spaced, close_tag]
                asks.append((len(answer) - 1, "after_close", set(words[i + 1])))
            else:
                answer.append(spaced)
        start = [tok.convert_tokens_to_ids("<|im_start|>")]
        ids = start + source + start + answer
        with torch.no_grad():
            pred = model(input_ids=torch.tensor([ids])).logits[0].argmax(-1).tolist()
        offset = len(start) * 2 + len(source)
        for pos, place, ok in asks:
            hits[place] += pred[offset + pos] in ok
            total[place] += 1
    return {k: hits[k] / total[k] for k in hits}


def test_tag_aware_init_continues_the_source_across_tags() -> None:
    """With the tokenizer (tags as single tokens), the circuit copies through the tags; the
    tokenizer-less circuit cannot (the tag is not in the source, nor is the unspaced twin)."""
    from spacy_llmner.data import generate
    from spacy_llmner.tagging import render
    from spacy_llmner.tinybase.tiny import build_model, tag_tokens, train_tokenizer

    docs = generate(150, seed=3)
    texts = [d.text for d in docs] + [render(d.text, list(d.spans)) for d in docs]
    tok = train_tokenizer(texts, "qwen2", 1200, tags=tag_tokens(["PERSON", "DATE_TIME"]))
    cfg = TinyConfig(hidden_size=128, num_heads=2, num_kv_heads=2, num_layers=2, intermediate_size=128,
                     rope_theta=1e6, init="copy")
    aware = _tagged_copy_accuracy(build_model(tok, cfg).eval(), tok, seed=0)
    plain_model = build_model(_Tok(), cfg)  # type: ignore[arg-type]
    plain_model.resize_token_embeddings(len(tok))
    plain = _tagged_copy_accuracy(plain_model.eval(), tok, seed=0)
    for place in ("after_open", "in_entity", "after_close"):
        assert aware[place] > 0.8, (place, aware, plain)
        assert plain[place] < 0.4, (place, aware, plain)


def test_tag_tokens_are_single_tokens_after_a_reload(tmp_path: Any) -> None:
    from transformers import AutoTokenizer

    from spacy_llmner.tinybase.tiny import tag_tokens, train_tokenizer

    text = "Seen by Dr. <PERSON>John Doe</PERSON>, on\\n<DATE_TIME>3 May</DATE_TIME>."
    tok = train_tokenizer([text.replace("\\n", "\n")] * 20, "qwen2", 400, tags=tag_tokens(["PERSON", "DATE_TIME"]))
    tok.save_pretrained(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "qwen2"}')
    for t in (tok, AutoTokenizer.from_pretrained(tmp_path)):
        pieces = [t.decode([i]) for i in t.encode(text.replace("\\n", "\n"), add_special_tokens=False)]
        assert {" <PERSON>", "</PERSON>", "<DATE_TIME>", "</DATE_TIME>"} <= set(pieces)
        assert "".join(pieces) == text.replace("\\n", "\n")
