"""spacy_llmner.TextCat.v1 with ``exclusive_classes = false``: one yes/no question per label,
``doc.cats[label] = P(yes) / (P(yes) + P(no))`` scored exactly by HF.v1 (checked against full
forwards), the prompts and their demonstrations, free-text answers, the multi-label scorer, the
pipeline round trip and the coded errors (E606, E611-E613)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Iterable  # noqa: UP035 - spacy-llm validates model signatures with typing

import pytest
import spacy
from spacy.language import Language
from spacy.training import Example
from spacy_llm.registry import registry as llm_registry
from test_textcat import LABELS, TEXTS, brute_force, random_base  # noqa: F401 - random_base: a fixture

from spacy_llmner.errors import LLMNERError
from spacy_llmner.models.hf import HFModel
from spacy_llmner.textcat.prompts import (
    MULTI_LABEL_TEMPLATE,
    LabelQuestionPrompt,
    MultiDemonstration,
    ScoredAnswer,
    build_question_messages,
)
from spacy_llmner.textcat.task import TextCatTask, make_textcat_task, yes_probability
from spacy_llmner.ty import LabelScoringPrompt

POOL = [
    {"text": "patient John Doe discharged, email him", "labels": ["patient discharged", "email"]},
    {"text": "stock market falls sharply", "labels": []},
    {"text": "北京 病人", "labels": ["病人"]},
]


def questions(task: TextCatTask, text: str) -> list[LabelQuestionPrompt]:
    prompts, shards = next(iter(task.generate_prompts([spacy.blank("en")(text)])))
    prompts, shards = list(prompts), list(shards)
    assert len(shards) == len(prompts) and all(s is shards[0] for s in shards)  # the same doc each time
    return prompts  # type: ignore[return-value]


@llm_registry.llm_models.register("test.LabelWordYesNo.v1")
def make_label_word_model() -> Callable[[Iterable[Iterable[str]]], Iterable[Iterable[str]]]:
    """A free-text model: answers ``yes`` when the question's label is a word of the text."""

    def answer(prompts: Iterable[Iterable[str]]) -> Iterable[Iterable[str]]:
        return [[" yes\n" if p.label in p.source.split() else "no" for p in doc] for doc in prompts]  # type: ignore[attr-defined]

    return answer


def make_multi_nlp(model: dict[str, Any], **task: Any) -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "llm_textcat",
        config={
            "task": {"@llm_tasks": "spacy_llmner.TextCat.v1", "labels": LABELS, "exclusive_classes": False, **task},
            "model": model,
            "save_io": True,
        },
    )
    return nlp


def hf_config(base: Path) -> dict[str, Any]:
    return {"@llm_models": "spacy_llmner.HF.v1", "name": str(base), "batch_size": 3}


# --- prompts ------------------------------------------------------------------------------
def test_one_question_per_label_with_its_description_and_the_text() -> None:
    task = TextCatTask(LABELS, exclusive_classes=False)
    prompts = questions(task, "John Doe was discharged")
    assert [p.label for p in prompts] == list(LABELS)
    for prompt, (label, description) in zip(prompts, LABELS.items()):
        assert isinstance(prompt, LabelScoringPrompt) and prompt.answers == ("yes", "no")
        assert prompt.labels == (label,) and prompt.template_version == MULTI_LABEL_TEMPLATE
        system = prompt.messages[0]["content"]
        assert f"Label: {label}" in system
        assert (f"Description: {description}" in system) == bool(description)
        assert "Does the text belong to this label? Answer yes or no." in system
        assert prompt.source == "John Doe was discharged" and str(prompt).endswith(
            "USER: John Doe was discharged\n\nASSISTANT:"
        )
        others = [lab for lab in LABELS if lab not in (label, "patient discharged", "patient")]
        assert not any(f"Label: {o}" in system for o in others)  # only this label is asked about


def test_demonstrations_answered_yes_or_no_for_each_label() -> None:
    task = TextCatTask(LABELS, exclusive_classes=False, examples=POOL, n_demos=2)
    prompts = questions(task, "John Doe was discharged from the clinic")
    demos = task.demonstrations_for("John Doe was discharged from the clinic")
    assert len(demos) == 2
    for prompt in prompts:
        users = [m["content"] for m in prompt.messages if m["role"] == "user"]
        answers = [m["content"] for m in prompt.messages if m["role"] == "assistant"]
        assert users == [d.text for d in demos]  # the same retrieved demonstrations for every label
        expected = ["yes" if prompt.label in d.labels else "no" for d in demos]
        assert answers == expected
    by_label = {p.label: [m["content"] for m in p.messages if m["role"] == "assistant"] for p in prompts}
    # The most similar demonstration (last) is labelled patient discharged and email, not patient.
    assert by_label["patient discharged"][-1] == "yes" and by_label["email"][-1] == "yes"
    assert by_label["patient"][-1] == "no" and by_label["病人"][-1] == "no"


def test_demonstration_forms() -> None:
    """``labels`` lists, one ``label``, and spacy-llm's comma-joined ``answer`` (empty: none)."""
    task = TextCatTask(
        ["a", "b", "c"],
        exclusive_classes=False,
        examples=[
            {"text": "t1", "labels": ["a", "c"]},
            {"text": "t2", "label": "b"},
            {"text": "t3", "answer": "a,b"},
            {"text": "t4", "answer": ""},
        ],
    )
    assert task.demonstrations == (
        MultiDemonstration("t1", ("a", "c")),
        MultiDemonstration("t2", ("b",)),
        MultiDemonstration("t3", ("a", "b")),
        MultiDemonstration("t4", ()),
    )
    assert [m["content"] for m in build_question_messages("c", "", task.demonstrations)[2::2]] == [
        "yes", "no", "no", "no"
    ]


# --- scores -------------------------------------------------------------------------------
def test_yes_probability_is_the_yes_share_of_yes_and_no() -> None:
    answer = ScoredAnswer("no", {"yes": math.log(0.1), "no": math.log(0.3)})
    assert yes_probability(answer) == pytest.approx(0.25)
    assert yes_probability(ScoredAnswer("yes", {"yes": -1.0, "no": -2000.0})) == pytest.approx(1.0)
    # Free text (any other spacy-llm model): exactly "yes" is 1, anything else 0.
    assert [yes_probability(a) for a in ["yes", " yes\n", "Yes", "no", "yes, it does", ""]] == [1, 1, 0, 0, 0, 0]
    # Scores that miss an answer are not trusted: the answer's text counts instead.
    assert yes_probability(ScoredAnswer("yes", {"yes": -1.0})) == 1.0


@pytest.mark.parametrize("seed", range(4))
def test_probabilities_are_exact_and_independent(
    random_base: Path, seed: int  # noqa: F811 - the fixture imported from test_textcat
) -> None:
    hf = HFModel(str(random_base), batch_size=2)
    pool = [{"text": "email me", "labels": ["email"]}, {"text": "John Doe discharged", "labels": ["patient"]}]
    task = TextCatTask(LABELS, exclusive_classes=False, examples=pool, n_demos=seed % 3)
    docs = [spacy.blank("en")(t) for t in TEXTS[seed % 2 :: 2]]
    sharded = list(task.generate_prompts(docs))
    responses = list(hf([prompts for prompts, _ in sharded]))
    sums = []
    for (prompts, _), answers, doc in zip(sharded, responses, task.parse_responses([s for _, s in sharded], responses)):
        assert set(doc.cats) == set(LABELS) and all(0.0 <= p <= 1.0 for p in doc.cats.values())
        for prompt, answer in zip(prompts, answers):
            expected = brute_force(hf, prompt)  # one full forward of prompt + answer, per answer
            assert set(expected) == {"yes", "no"} and str(answer) in ("yes", "no")
            assert answer.logprobs == pytest.approx(expected, abs=1e-4)
            yes, no = math.exp(expected["yes"]), math.exp(expected["no"])
            assert doc.cats[prompt.label] == pytest.approx(yes / (yes + no), abs=1e-5)
        sums.append(sum(doc.cats.values()))
    assert any(abs(s - 1.0) > 1e-3 for s in sums)  # independent: nothing makes them sum to 1


# --- the llm_textcat pipeline -------------------------------------------------------------
def test_free_text_model_through_llm_textcat_gives_one_or_zero() -> None:
    nlp = make_multi_nlp({"@llm_models": "test.LabelWordYesNo.v1"})
    docs = list(nlp.pipe(["the patient wrote an email", "病人 北京", "nothing here"]))
    assert len(docs) == 3  # each doc once, whatever its number of questions
    assert docs[0].cats == {"patient": 1.0, "patient discharged": 0.0, "email": 1.0, "病人": 0.0}
    assert docs[1].cats == {"patient": 0.0, "patient discharged": 0.0, "email": 0.0, "病人": 1.0}
    assert set(docs[2].cats.values()) == {0.0}
    io = docs[0].user_data["llm_io"]["llm_textcat"]
    assert len(io["prompt"]) == len(io["response"]) == len(LABELS)  # saved per question


def test_evaluate_gives_multi_label_scores() -> None:
    nlp = make_multi_nlp({"@llm_models": "test.LabelWordYesNo.v1"})
    golds = [
        ("the patient wrote an email", {"patient": 1.0, "patient discharged": 0.0, "email": 1.0, "病人": 0.0}),
        ("email only", {"patient": 1.0, "patient discharged": 0.0, "email": 1.0, "病人": 0.0}),  # patient missed
        ("病人 北京", {"patient": 0.0, "patient discharged": 0.0, "email": 0.0, "病人": 0.0}),  # 病人 wrong
    ]
    scores = nlp.evaluate([Example.from_dict(nlp.make_doc(t), {"cats": c}) for t, c in golds])
    per_type = scores["cats_f_per_type"]
    assert per_type["email"] == {"p": 1.0, "r": 1.0, "f": 1.0}
    assert per_type["patient"]["p"] == 1.0 and per_type["patient"]["r"] == 0.5
    assert per_type["病人"]["p"] == 0.0
    assert scores["cats_micro_p"] == pytest.approx(3 / 4) and scores["cats_micro_r"] == pytest.approx(3 / 4)
    assert scores["cats_score"] == scores["cats_macro_auc"]  # spaCy's multi-label main score


def test_threshold_decides_what_the_scorer_counts() -> None:
    def scored(threshold: float) -> dict[str, Any]:
        nlp = spacy.blank("en")
        predicted = nlp.make_doc("x")
        predicted.cats = {"a": 0.3, "b": 0.8}
        example = Example(predicted, Example.from_dict(nlp.make_doc("x"), {"cats": {"a": 1.0, "b": 1.0}}).reference)
        return TextCatTask(["a", "b"], exclusive_classes=False, threshold=threshold).scorer([example])

    assert scored(0.5)["cats_f_per_type"]["a"]["r"] == 0.0  # 0.3 is below the default threshold
    assert scored(0.2)["cats_f_per_type"]["a"]["r"] == 1.0
    assert scored(0.9)["cats_f_per_type"]["b"]["r"] == 0.0


def test_round_trip_keeps_multi_label(random_base: Path, tmp_path: Path) -> None:  # noqa: F811
    nlp = make_multi_nlp(hf_config(random_base), examples=POOL, n_demos=1, threshold=0.3)
    docs = list(nlp.pipe(TEXTS[:2]))
    assert any(abs(sum(d.cats.values()) - 1.0) > 1e-3 for d in docs)
    nlp.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    task, before = loaded.get_pipe("llm_textcat").task, nlp.get_pipe("llm_textcat").task
    assert not task.exclusive_classes and task.threshold == 0.3
    assert task.template_version == MULTI_LABEL_TEMPLATE
    assert task.demonstrations == before.demonstrations and task.labels == before.labels
    for doc, again in zip(docs, loaded.pipe(TEXTS[:2])):
        assert again.cats == pytest.approx(doc.cats)
    # The task's own bytes (cfg.json) say multi-label too, without the config (the threshold, a
    # scoring setting, comes from the config).
    fresh = TextCatTask().from_bytes(before.to_bytes())
    assert not fresh.exclusive_classes and fresh.demonstrations == before.demonstrations


def test_initialize_adds_multi_label_examples(random_base: Path) -> None:  # noqa: F811
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "llm_textcat",
        config={
            "task": {"@llm_tasks": "spacy_llmner.TextCat.v1", "n_demos": 1, "exclusive_classes": False},
            "model": hf_config(random_base),
        },
    )
    examples = [
        Example.from_dict(nlp.make_doc("good and new"), {"cats": {"POS": 1.0, "NEW": 1.0}}),
        Example.from_dict(nlp.make_doc("bad and old"), {"cats": {"POS": 0.0, "NEW": 0.0}}),
        Example.from_dict(nlp.make_doc("good and old"), {"cats": {"POS": 1.0, "NEW": 0.0}}),
    ]
    nlp.get_pipe("llm_textcat").initialize(lambda: examples, nlp=nlp, n_prompt_examples=-1)
    task = nlp.get_pipe("llm_textcat").task
    assert task.labels == ("POS", "NEW")
    assert task.demonstrations == (
        MultiDemonstration("good and new", ("POS", "NEW")),
        MultiDemonstration("bad and old", ()),
        MultiDemonstration("good and old", ("POS",)),
    )
    cats = nlp("a good day").cats
    assert set(cats) == {"POS", "NEW"} and all(0.0 <= p <= 1.0 for p in cats.values())


def test_adapter_label_check_reads_the_question_label(tmp_path: Path) -> None:
    """An adapter's label set is checked against the label asked about, not the answers yes/no."""
    hf = HFModel(str(tmp_path / "never-loaded"))
    hf._adapter_meta = {"labels": ["a", "b"], "template_version": MULTI_LABEL_TEMPLATE}
    hf._check_prompt(LabelQuestionPrompt([], "t", "a", MULTI_LABEL_TEMPLATE))
    with pytest.raises(LLMNERError, match="E010"):
        hf._check_prompt(LabelQuestionPrompt([], "t", "c", MULTI_LABEL_TEMPLATE))
    with pytest.raises(LLMNERError, match="E017"):
        hf._check_prompt(LabelQuestionPrompt([], "t", "a", "textcat-multi0"))


# --- configuration ------------------------------------------------------------------------
def test_one_label_is_a_valid_multi_label_task() -> None:
    task = make_textcat_task(labels=["PHI"], exclusive_classes=False)
    assert [p.label for p in questions(task, "x")] == ["PHI"]
    assert task.multi_cats_from(["yes"]) == {"PHI": 1.0}


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"threshold": -0.1}, "E611"),
        ({"threshold": 2}, "E611"),
        ({"template_version": "textcat1"}, "E612"),
        ({"examples": [{"text": "t", "labels": ["a", "z"]}], "n_demos": 1}, "E606"),
    ],
)
def test_bad_multi_label_config_gives_coded_errors(kwargs: dict[str, Any], code: str) -> None:
    with pytest.raises(LLMNERError, match=code):
        task = make_textcat_task(labels=["a", "b"], exclusive_classes=False, **kwargs)
        list(task.generate_prompts([spacy.blank("en")("x")]))


def test_missing_answers_are_refused() -> None:
    task = TextCatTask(["a", "b"], exclusive_classes=False)
    with pytest.raises(LLMNERError, match="E613"):
        task.multi_cats_from(["yes"])
