"""spacy_llmner.EmbeddingSimilarity.v1: demonstrations retrieved by the cosine of mean-pooled hidden
states. Tiny random models built in-process (a decoder from conftest, a BERT encoder here)."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import spacy
from conftest import randomize
from spacy.util import registry as spacy_registry
from spacy_llm.registry import registry as llm_registry

from spacy_llmner.errors import LLMNERError
from spacy_llmner.textcat.embedding import EmbeddingSimilarity, make_embedding_similarity
from spacy_llmner.textcat.retrieval import Similarity, nearest_last
from spacy_llmner.textcat.task import TextCatTask, make_textcat_task

# Explicit registration (the entry points arrive with the next install).
llm_registry.llm_tasks.register("spacy_llmner.TextCat.v1", func=make_textcat_task)
spacy_registry.misc.register("spacy_llmner.EmbeddingSimilarity.v1", func=make_embedding_similarity)

LABELS = ["patient", "email", "病人"]
POOL = [
    {"text": "patient John Doe was discharged from the clinic", "label": "patient"},
    {"text": "email jdoe@example.com", "label": "email"},
    {"text": "病人 北京", "label": "病人"},
    {"text": "call 555-123-4567 daily", "label": "email"},
    {"text": "Mary Smith admitted to hospital on 03/14/2021 at 10:30 with dr. clinic referred", "label": "patient"},
]
TEXTS = [d["text"] for d in POOL]


@pytest.fixture(scope="module")
def bases(tiny_models: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """arch → saved model directory: the two tiny decoders (random, spread-out weights) and a tiny
    BERT encoder (bidirectional: there the attention mask matters inside the model too)."""
    from transformers import BertConfig, BertModel

    from spacy_llmner.tinybase.tiny import save

    tmp = tmp_path_factory.mktemp("embed")
    out = {}
    for arch in ("qwen2", "llama"):
        tok, model, _ = tiny_models[arch]
        out[arch] = save(randomize(copy.deepcopy(model), 7, std=0.1), tok, tmp / arch)
    tok = tiny_models["qwen2"][0]
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    import torch

    torch.manual_seed(0)
    out["bert"] = save(BertModel(cfg).eval(), tok, tmp / "bert")
    return out


def direct(path: Path, text: str, pooling: str = "mean") -> Any:
    """The text alone, no padding: mean (or last) of the last hidden states, L2-normalised."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    ids = tok(text)["input_ids"]
    with torch.no_grad():
        hidden = model(input_ids=torch.tensor([ids])).last_hidden_state[0].float()
    vec = hidden[-1] if pooling == "last" else hidden.mean(0)
    return vec / vec.norm()


# --- retrieval ------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", ["qwen2", "llama", "bert"])
def test_a_texts_own_score_is_highest(bases: dict[str, Path], arch: str) -> None:
    sim = EmbeddingSimilarity(str(bases[arch]), batch_size=2)
    assert isinstance(sim, Similarity) and not sim.loaded  # nothing loads before the first use
    index = sim.index(TEXTS)
    for i, text in enumerate(TEXTS):
        scores = index.scores(text)
        assert len(scores) == len(TEXTS) and all(isinstance(s, float) for s in scores)
        assert scores[i] == pytest.approx(1.0, abs=1e-5)
        assert max(range(len(scores)), key=scores.__getitem__) == i
        assert all(s < 1.0 - 1e-4 for j, s in enumerate(scores) if j != i)


@pytest.mark.parametrize(("arch", "pooling"), [("qwen2", "mean"), ("bert", "mean"), ("llama", "last")])
def test_scores_are_the_cosines_of_pooled_hidden_states(bases: dict[str, Path], arch: str, pooling: str) -> None:
    sim = EmbeddingSimilarity(str(bases[arch]), batch_size=3, pooling=pooling)
    index = sim.index(TEXTS)
    pool = [direct(bases[arch], t, pooling) for t in TEXTS]
    query = "patient Mary discharged 北京"
    q = direct(bases[arch], query, pooling)
    assert index.scores(query) == pytest.approx([float(p @ q) for p in pool], abs=1e-5)


@pytest.mark.parametrize(
    ("arch", "pooling"), [("qwen2", "mean"), ("llama", "mean"), ("bert", "mean"), ("qwen2", "last"), ("bert", "last")]
)
def test_padding_does_not_change_an_embedding(bases: dict[str, Path], arch: str, pooling: str) -> None:
    """Texts of very different lengths in one batch (the short ones padded) against each alone."""
    sim = EmbeddingSimilarity(str(bases[arch]), batch_size=len(TEXTS), pooling=pooling)
    together = sim.embed(TEXTS)
    for i, text in enumerate(TEXTS):
        alone = sim.embed([text])[0]
        assert float((together[i] - alone).abs().max()) < 1e-5
        assert float(together[i].norm()) == pytest.approx(1.0, abs=1e-5)


def test_the_pool_is_embedded_once(bases: dict[str, Path]) -> None:
    """One forward per batch of the pool when the index is built, then one per document."""
    sim = EmbeddingSimilarity(str(bases["qwen2"]), batch_size=2)
    model = sim.model
    calls: list[int] = []
    forward = model.forward

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(int(kwargs["input_ids"].shape[0]))
        return forward(*args, **kwargs)

    model.forward = counting
    task = TextCatTask(LABELS, examples=POOL, n_demos=2, similarity=sim)
    for text in ("email me", "病人", "John Doe discharged"):
        assert len(task.demonstrations_for(text)) == 2
    assert calls == [2, 2, 1, 1, 1, 1]  # pool of 5 in batches of 2, then each document alone


def test_empty_pool_and_empty_text(bases: dict[str, Path]) -> None:
    sim = EmbeddingSimilarity(str(bases["qwen2"]))
    assert sim.index([]).scores("email") == []
    scores = sim.index(TEXTS).scores("")
    assert len(scores) == len(TEXTS) and all(math.isfinite(s) for s in scores)


# --- in a spaCy pipeline --------------------------------------------------------------------
def test_textcat_config_retrieves_by_embedding(bases: dict[str, Path]) -> None:
    base = str(bases["qwen2"])
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "llm_textcat",
        config={
            "task": {
                "@llm_tasks": "spacy_llmner.TextCat.v1",
                "labels": LABELS,
                "examples": POOL,
                "n_demos": 2,
                "similarity": {"@misc": "spacy_llmner.EmbeddingSimilarity.v1", "name": base, "batch_size": 2},
            },
            "model": {"@llm_models": "spacy_llmner.HF.v1", "name": base},
            "save_io": False,
        },
    )
    task = nlp.get_pipe("llm_textcat").task
    assert isinstance(task._similarity, EmbeddingSimilarity) and not task._similarity.loaded
    # A pool text retrieves itself, last (nearest the text).
    assert task.demonstrations_for(TEXTS[2])[-1].text == TEXTS[2]
    # Another text: the two pool items with the highest cosine, the most similar last.
    query = "Mary admitted to the clinic"
    q = direct(bases["qwen2"], query)
    expected = nearest_last([float(direct(bases["qwen2"], t) @ q) for t in TEXTS], 2)
    assert [d.text for d in task.demonstrations_for(query)] == [TEXTS[i] for i in expected]
    doc = nlp(query)
    assert set(doc.cats) == set(LABELS) and sum(doc.cats.values()) == pytest.approx(1.0)


# --- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"name": ""}, "name"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"max_length": 0}, "max_length"),
        ({"pooling": "cls"}, "pooling"),
        ({"dtype": "float64x"}, "dtype"),
        ({"device": "gpu"}, "device"),
    ],
)
def test_bad_settings_give_coded_errors(kwargs: dict[str, Any], setting: str) -> None:
    with pytest.raises(LLMNERError, match=rf"E655.*`{setting}`"):
        make_embedding_similarity(**{"name": "some/model", **kwargs})


def test_a_too_long_text_is_refused_unless_truncation_is_on(bases: dict[str, Path]) -> None:
    long_text = " ".join(["patient"] * 40)
    sim = EmbeddingSimilarity(str(bases["qwen2"]), max_length=8)
    with pytest.raises(LLMNERError, match="E656.*Demonstration 1 of the pool") as err:
        sim.index(["email", long_text])
    assert "patient" not in str(err.value)  # errors name the text, never quote it
    index = sim.index(["email", "call"])
    with pytest.raises(LLMNERError, match="E656.*The document"):
        index.scores(long_text)
    cut = EmbeddingSimilarity(str(bases["qwen2"]), max_length=8, truncation=True)
    ids = cut.tokenizer(long_text)["input_ids"][:8]
    first = cut.tokenizer.decode(ids)
    assert float((cut.embed([long_text])[0] - cut.embed([first])[0]).abs().max()) < 1e-5


def test_load_errors_are_coded(bases: dict[str, Path], tmp_path: Path) -> None:
    import torch

    with pytest.raises(LLMNERError, match="E657"):
        EmbeddingSimilarity(str(bases["bert"]), max_length=129).index(["x"])  # 128 positions
    t5 = tmp_path / "t5"
    t5.mkdir()
    (t5 / "config.json").write_text(json.dumps({"model_type": "t5", "is_encoder_decoder": True}))
    with pytest.raises(LLMNERError, match="E658"):
        EmbeddingSimilarity(str(t5)).index(["x"])
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "pytorch_model.bin").write_bytes(b"")
    with pytest.raises(LLMNERError, match="E007"):
        EmbeddingSimilarity(str(pickled)).index(["x"])
    if not torch.cuda.is_available():
        with pytest.raises(LLMNERError, match="E659"):
            EmbeddingSimilarity(str(bases["bert"]), device="cuda").index(["x"])


def test_registering_the_factory_does_not_import_torch() -> None:
    code = (
        "import sys, spacy_llmner.textcat.embedding as e; e.make_embedding_similarity('some/model'); "
        "print([m for m in ('torch', 'transformers') if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
