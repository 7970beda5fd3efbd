"""spacy_llmner.TextCat.v1 with HF.v1: exact label scores, the label trie, demonstrations, the
llm_textcat pipeline (round trip, scorer) and the coded config errors."""

from __future__ import annotations

import copy
import math
import pickle
from pathlib import Path
from typing import Any

import pytest
import spacy
from conftest import randomize
from spacy.language import Language
from spacy.training import Example
from spacy.util import registry as spacy_registry
from spacy_llm.registry import registry as llm_registry

from spacy_llmner.decoding.label_trie import LabelTrie, answer_ids
from spacy_llmner.errors import LLMNERError
from spacy_llmner.models.hf import HFModel
from spacy_llmner.prompting import prompt_frame
from spacy_llmner.prompting.frame import document_ids
from spacy_llmner.textcat.prompts import ClassifyPrompt, build_classify_messages, resolve_classes
from spacy_llmner.textcat.retrieval import CharNgramTfidf, make_char_ngram_tfidf, nearest_last
from spacy_llmner.textcat.task import TextCatTask, label_probabilities, make_textcat_task

# Explicit registration (the entry points arrive with the next install).
llm_registry.llm_tasks.register("spacy_llmner.TextCat.v1", func=make_textcat_task)
spacy_registry.misc.register("spacy_llmner.CharNgramTfidf.v1", func=make_char_ngram_tfidf)

# Labels that share first tokens (a real trie), one with spaces, one Chinese.
LABELS = {"patient": "Clinical text", "patient discharged": "", "email": "", "病人": "Chinese"}
TEXTS = ["John Doe was discharged from the clinic", "email jdoe@example.com", "病人 北京", ""]


@pytest.fixture(scope="module")
def random_base(tiny_models: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    from spacy_llmner.tinybase.tiny import save

    tok, model, _ = tiny_models["qwen2"]
    return save(randomize(copy.deepcopy(model), 5, std=0.2), tok, tmp_path_factory.mktemp("tc") / "base")


def brute_force(model: HFModel, prompt: ClassifyPrompt) -> dict[str, float]:
    """Each label's answer log-prob from one full forward of prompt + answer, token by token."""
    import torch

    tok = model.tokenizer
    framed = prompt_frame(tok, prompt.messages)
    ids = framed.prefix_ids + document_ids(tok, framed.frame, prompt.source)
    out = {}
    for label in prompt.answers:
        answer = answer_ids(tok, framed.frame, label)
        with torch.no_grad():
            logits = model.hf_model(input_ids=torch.tensor([ids + answer])).logits[0].float()
        logp = torch.log_softmax(logits, -1)
        out[label] = sum(float(logp[len(ids) + i - 1, t]) for i, t in enumerate(answer))
    return out


def make_nlp(base: Path, **task: Any) -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "llm_textcat",
        config={
            "task": {"@llm_tasks": "spacy_llmner.TextCat.v1", "labels": list(LABELS), **task},
            "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(base), "batch_size": 3},
            "save_io": False,
        },
    )
    return nlp


# --- pure parts ---------------------------------------------------------------------------
def test_label_trie_allows_only_labels_then_end() -> None:
    trie = LabelTrie.build({"a b": [1, 2, 9], "a": [1, 9], "c": [3, 9]})
    assert trie.allowed([]) == {1, 3}
    assert trie.allowed([1]) == {2, 9}
    assert trie.allowed([1, 9]) == frozenset()
    assert trie.label_of([1, 9]) == "a" and trie.label_of([1, 2, 9]) == "a b"
    assert trie.label_of([1]) is None and trie.label_of([4]) is None
    with pytest.raises(LLMNERError, match="E609"):
        LabelTrie.build({"x": [1, 9], "y": [1, 9]})


def test_label_sequences_end_with_the_end_token(tiny_models: dict[str, Any]) -> None:
    tok, _, _ = tiny_models["qwen2"]
    frame = prompt_frame(tok, build_classify_messages(LABELS)).frame
    end = tok.encode(frame.end, add_special_tokens=False)[0]
    trie = LabelTrie.from_tokenizer(tok, frame, list(LABELS))
    for label, ids in trie.sequences.items():
        assert ids[-1] == end and end not in ids[:-1]
        assert tok.decode(list(ids[:-1])) == label


def test_similarity_ranks_and_nearest_is_last() -> None:
    index = CharNgramTfidf().index(["the cat sat", "stock market falls", "a cat sat on the mat", "病人 北京"])
    scores = index.scores("cat sat on a mat")
    assert scores[2] > scores[0] > scores[1]
    assert nearest_last(scores, 2) == [0, 2]
    assert nearest_last([0.5, 0.5, 0.1], 3) == [2, 1, 0]  # ties: the earlier counts as nearer
    assert nearest_last(scores, 0) == []


def test_demonstrations_in_prompt_most_similar_last() -> None:
    pool = [
        {"text": "stock market falls sharply", "label": "email"},
        {"text": "the patient was discharged", "label": "patient discharged"},
        {"text": "patient John Doe discharged from the clinic today", "label": "patient"},
        {"text": "北京 病人", "label": "病人"},
    ]
    task = TextCatTask(LABELS, examples=pool, n_demos=2)
    doc = spacy.blank("en")("John Doe was discharged from the clinic")
    prompt = next(iter(next(iter(task.generate_prompts([doc])))[0]))
    users = [m["content"] for m in prompt.messages if m["role"] == "user"]
    assistants = [m["content"] for m in prompt.messages if m["role"] == "assistant"]
    assert users == [pool[1]["text"], pool[2]["text"]]
    assert assistants == ["patient discharged", "patient"]
    system = prompt.messages[0]["content"]
    assert "- patient: Clinical text" in system and "- email\n" in system and "exactly one label" in system


def test_probabilities_are_a_softmax() -> None:
    probs = label_probabilities({"a": math.log(0.2), "b": math.log(0.6), "c": -1000.0}, ["a", "b", "c"])
    assert probs["a"] == pytest.approx(0.25) and probs["b"] == pytest.approx(0.75)
    assert sum(probs.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"labels": []}, "E602"),
        ({"labels": ["a", "b", "a"]}, "E603"),
        ({"labels": "a, b, a"}, "E603"),
        ({"labels": ["a", " b"]}, "E604"),
        ({"labels": ["a", "b\nc"]}, "E604"),
        ({"labels": ["only"]}, "E605"),
        ({"labels": ["a", "b"], "threshold": 1.5}, "E611"),
        ({"labels": ["a", "b"], "exclusive_classes": False, "template_version": "textcat1"}, "E612"),
        ({"labels": ["a", "b"], "n_demos": -1}, "E607"),
    ],
)
def test_bad_config_gives_coded_errors(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(LLMNERError, match=code):
        task = make_textcat_task(**kwargs)
        list(task.generate_prompts([spacy.blank("en")("x")]))


def test_demonstration_with_unknown_label_is_refused() -> None:
    task = make_textcat_task(labels=["a", "b"], examples=[{"text": "t", "label": "c"}], n_demos=1)
    with pytest.raises(LLMNERError, match="E606"):
        list(task.generate_prompts([spacy.blank("en")("x")]))


def test_resolve_classes_keeps_order_and_descriptions() -> None:
    assert resolve_classes({"b": "  two\nlines ", "a": None}) == {"b": "two lines", "a": ""}


# --- with a tiny model --------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(12))
def test_answer_is_a_label_and_scores_are_exact(tiny_models: dict[str, Any], tmp_path: Path, seed: int) -> None:
    from spacy_llmner.tinybase.tiny import save

    tok, model, _ = tiny_models["llama" if seed % 2 else "qwen2"]
    base = save(randomize(copy.deepcopy(model), seed), tok, tmp_path / "base")
    hf = HFModel(str(base), batch_size=2)  # 4 labels: two chunks share one prompt cache
    pool = [{"text": "email me", "label": "email"}, {"text": "John Doe discharged", "label": "patient discharged"}]
    task = TextCatTask(LABELS, examples=pool, n_demos=seed % 3)  # 0, 1 or 2 demonstrations
    prompts = [ps[0] for ps, _ in task.generate_prompts([spacy.blank("en")(t) for t in TEXTS[:2]])]
    answers = [a for doc in hf([[p] for p in prompts]) for a in doc]
    for prompt, answer in zip(prompts, answers):
        assert str(answer) in LABELS
        expected = brute_force(hf, prompt)
        assert answer.logprobs == pytest.approx(expected, abs=1e-4)
        assert str(answer) == max(expected, key=expected.__getitem__)
        cats = task.cats_from(answer)
        assert set(cats) == set(LABELS) and sum(cats.values()) == pytest.approx(1.0)
        total = sum(math.exp(v) for v in expected.values())
        assert cats == pytest.approx({lab: math.exp(v) / total for lab, v in expected.items()}, abs=1e-5)


def test_llm_textcat_pipeline_round_trip_and_scorer(random_base: Path, tmp_path: Path) -> None:
    pool = [{"text": "patient seen at the clinic", "label": "patient"}, {"text": "email me", "label": "email"}]
    nlp = make_nlp(random_base, examples=pool, n_demos=1)
    docs = list(nlp.pipe(TEXTS))
    for doc in docs:
        assert set(doc.cats) == set(LABELS)
        assert sum(doc.cats.values()) == pytest.approx(1.0)
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.get_pipe("llm_textcat").task.demonstrations == nlp.get_pipe("llm_textcat").task.demonstrations
    for doc, again in zip(docs, loaded.pipe(TEXTS)):
        assert again.cats == pytest.approx(doc.cats)

    gold = []
    for doc in docs:
        best = max(doc.cats, key=doc.cats.__getitem__)
        gold.append(Example.from_dict(nlp.make_doc(doc.text), {"cats": {lab: float(lab == best) for lab in LABELS}}))
    scores = loaded.evaluate(gold)  # what `spacy evaluate` runs
    per_type = scores["cats_f_per_type"]
    predicted = {max(doc.cats, key=doc.cats.__getitem__) for doc in docs}
    assert set(per_type) == set(LABELS)
    assert all(per_type[lab]["f"] == (1.0 if lab in predicted else 0.0) for lab in LABELS)
    assert scores["cats_macro_f"] == pytest.approx(len(predicted) / len(LABELS))
    assert scores["cats_score"] == scores["cats_macro_f"]  # exclusive classes: macro F is the score


def test_initialize_takes_labels_and_demonstrations_from_data(random_base: Path) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "llm_textcat",
        config={
            "task": {"@llm_tasks": "spacy_llmner.TextCat.v1", "n_demos": 1},
            "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(random_base)},
        },
    )
    examples = [
        Example.from_dict(nlp.make_doc("good day"), {"cats": {"POS": 1.0, "NEG": 0.0}}),
        Example.from_dict(nlp.make_doc("bad day"), {"cats": {"POS": 0.0, "NEG": 1.0}}),
    ]
    nlp.get_pipe("llm_textcat").initialize(lambda: examples, nlp=nlp, n_prompt_examples=-1)
    task = nlp.get_pipe("llm_textcat").task
    assert task.labels == ("POS", "NEG")
    assert [(d.text, d.label) for d in task.demonstrations] == [("good day", "POS"), ("bad day", "NEG")]
    task.initialize(lambda: examples, n_prompt_examples=1)  # one more, from the start of the data
    assert [d.text for d in task.demonstrations] == ["good day", "bad day", "good day"]
    assert set(nlp("a bad day").cats) == {"POS", "NEG"}


def test_too_long_prompt_is_refused_not_cut(random_base: Path) -> None:
    hf = HFModel(str(random_base), context_length=64)
    prompt = next(iter(TextCatTask(LABELS).generate_prompts([spacy.blank("en")("patient " * 50)])))[0][0]
    with pytest.raises(LLMNERError, match="E608"):
        list(hf([[prompt]]))


def test_contract_prompts_and_answers_are_told_apart() -> None:
    """The model tells classification prompts from tagging prompts by what they carry; a plain
    answer from any other spacy-llm model counts for the label it names exactly."""
    from spacy_llmner.prompting import XMLPrompt
    from spacy_llmner.textcat.prompts import ScoredAnswer
    from spacy_llmner.ty import LabelScores, LabelScoringPrompt, TaggingPrompt

    prompt = ClassifyPrompt([{"role": "system", "content": "x"}], "text", ["a", "b"], "textcat1")
    assert isinstance(prompt, LabelScoringPrompt) and not isinstance(prompt, TaggingPrompt)
    assert not isinstance(XMLPrompt([], "t", ["PERSON"], [(0, 1)]), LabelScoringPrompt)
    assert isinstance(ScoredAnswer("a", {"a": 0.0, "b": -1.0}), LabelScores)
    # Both survive pickling (spacy-llm's cache, multiprocessing) with their attributes.
    again = pickle.loads(pickle.dumps(prompt))
    assert (again, again.messages, again.source, again.answers) == (prompt, prompt.messages, "text", ("a", "b"))
    assert pickle.loads(pickle.dumps(ScoredAnswer("a", {"a": 0.0}))).logprobs == {"a": 0.0}
    task = TextCatTask(["a", "b"])
    assert task.cats_from(" b\n") == {"a": 0.0, "b": 1.0}
    assert task.cats_from("c") == {"a": 0.0, "b": 0.0}
    # Scores that miss a label are not trusted: the named label counts instead.
    assert task.cats_from(ScoredAnswer("a", {"a": 0.0})) == {"a": 1.0, "b": 0.0}


def test_config_takes_a_few_shot_reader_and_a_registered_similarity(random_base: Path, tmp_path: Path) -> None:
    """The demonstration pool from spacy-llm's reader (its ``answer`` key works too); the
    similarity from our registered function."""
    import srsly

    path = tmp_path / "demos.jsonl"
    srsly.write_jsonl(path, [{"text": "email me", "answer": "email"}, {"text": "病人", "label": "病人"}])
    nlp = make_nlp(
        random_base,
        examples={"@misc": "spacy.FewShotReader.v1", "path": str(path)},
        n_demos=1,
        similarity={"@misc": "spacy_llmner.CharNgramTfidf.v1", "sizes": [1]},
    )
    task = nlp.get_pipe("llm_textcat").task
    assert [(d.text, d.label) for d in task.demonstrations] == [("email me", "email"), ("病人", "病人")]
    assert [d.label for d in task.demonstrations_for("病人 北京")] == ["病人"]
    assert set(nlp("email jdoe@example.com").cats) == set(LABELS)


def test_prefix_tuned_adapter_is_refused_before_loading(tmp_path: Path) -> None:
    hf = HFModel(str(tmp_path / "never-loaded"))
    hf._adapter_meta = {"peft_method": "prefix"}  # what check_adapter_dir reads from a prefix adapter
    prompt = ClassifyPrompt([{"role": "system", "content": "x"}], "text", ["a", "b"])
    with pytest.raises(LLMNERError, match="E610"):
        list(hf([[prompt]]))
    assert not hf.loaded
