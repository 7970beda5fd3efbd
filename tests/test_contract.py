"""The task<->model contract (``spacy_llmner.ty``): each side checks what the other carries."""

from __future__ import annotations

import pytest
import spacy

from spacy_llmner.errors import LLMNERError
from spacy_llmner.models.hf import HFModel
from spacy_llmner.prompting import XMLPrompt
from spacy_llmner.prompting.prompt import TaggedResponse
from spacy_llmner.tasks import XMLNERTask
from spacy_llmner.ty import TaggedAnswer, TaggingPrompt

TEXT = "Call John Doe in Boston."


class OtherAnswer(str):
    """Not our TaggedResponse, but an answer that knows its spans (another model's, say)."""

    spans = ((5, 13, "PERSON"),)
    scores = (0.25,)
    source = TEXT


def test_prompts_and_answers_satisfy_the_protocols() -> None:
    prompt = XMLPrompt([{"role": "user", "content": "tag"}], TEXT, ["PERSON"], [(0, 4)], "v2")
    assert isinstance(prompt, TaggingPrompt) and not isinstance(str(prompt), TaggingPrompt)
    assert isinstance(TaggedResponse("x", [], [], "x"), TaggedAnswer)
    assert isinstance(OtherAnswer("x"), TaggedAnswer) and not isinstance("x", TaggedAnswer)


def test_model_refuses_prompts_that_carry_nothing_to_constrain() -> None:
    """A plain string (another task's prompt) is a coded error before any weights load."""
    model = HFModel("not/loaded")
    with pytest.raises(LLMNERError, match=r"E011.*prompt.*spacy_llmner.XMLNER.v1"):
        model([["a prompt of some other task"]])
    assert not model.loaded


def test_task_takes_exact_spans_from_any_tagged_answer() -> None:
    """Spans and scores of an answer that carries them win over its text; a plain string goes
    through the tolerant parser."""
    task = XMLNERTask(["PERSON", "LOCATION"])
    nlp = spacy.blank("en")

    def ents(answer: str) -> list[tuple[str, str, float | None]]:
        (prompts, shards), = task.generate_prompts([nlp(TEXT)])
        doc = next(iter(task.parse_responses([list(shards)], [[answer]])))
        return [(e.text, e.label_, e._.llmner_score) for e in doc.ents]

    # The text tags Boston; the carried spans say John Doe: the spans are what counts.
    text = "Call John Doe in <LOCATION>Boston</LOCATION>."
    assert ents(OtherAnswer(text)) == [("John Doe", "PERSON", 0.25)]
    assert ents(TaggedResponse(text, [(5, 13, "PERSON")], [0.5], TEXT)) == [("John Doe", "PERSON", 0.5)]
    assert ents(text) == [("Boston", "LOCATION", None)]
    # Spans for another text (a stale answer) are not trusted: the text is parsed instead.
    assert ents(TaggedResponse(text, [(5, 13, "PERSON")], [0.5], "other text")) == [("Boston", "LOCATION", None)]
