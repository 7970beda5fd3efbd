"""Span sanity and de-identification policies: pure rules, then through the task."""

from __future__ import annotations

import pytest
import spacy

from spacy_llmner.errors import LLMNERError
from spacy_llmner.policy import apply_policy, clean_span, clean_spans, get_policy
from spacy_llmner.policy.policies import age_value, is_time_of_day
from spacy_llmner.tasks.xmlner import XMLNERTask, make_xmlner_task


@pytest.mark.parametrize("text", ["0400", "7a-7p", "7P-7A", "14:30", "2:15 p.m.", "1900-0700", "at 0400",
                                  "9pm", "noon", "06h30", "1930h", "11:05:59"])
def test_times_of_day_are_recognised(text: str) -> None:
    assert is_time_of_day(text)


@pytest.mark.parametrize("text", ["2021", "1930", "3/14/2021", "March 3", "03/14/2021 14:30", "Monday",
                                  "10/15", "'92", "2021-03-04T10:00", "9/3"])
def test_dates_and_years_are_not_times_of_day(text: str) -> None:
    """A bare 19xx/20xx is a year (Safe Harbor keeps years tagged); anything with a day is a date."""
    assert not is_time_of_day(text)


@pytest.mark.parametrize(("text", "kept"), [("54", False), ("89", False), ("90", True), ("(92)", True),
                                            ("54yo", False), ("6 months", False), ("ninety-two", True)])
def test_safe_harbor_keeps_ages_over_89_only(text: str, kept: bool) -> None:
    """An age the policy cannot read (words) is kept: over-removal is the safe side."""
    assert get_policy("safe_harbor")(text, "AGE") is kept


def test_safe_harbor_on_a_note() -> None:
    note = "54 y/o M, seen 10/15 at 0400; father 92. Shift 7a-7p. Call 555-123-4567."
    spans = [(0, 2, "AGE"), (15, 20, "DATE_TIME"), (24, 28, "DATE_TIME"), (37, 39, "AGE"),
             (47, 52, "DATE_TIME"), (59, 71, "PHONE_NUMBER")]
    kept = apply_policy(note, spans, "safe_harbor")
    assert [note[s:e] for s, e, _ in kept] == ["10/15", "92", "555-123-4567"]
    assert apply_policy(note, spans, None) == spans == apply_policy(note, spans, "none")
    assert age_value("(92)") == 92.0


def test_unknown_policy_is_a_coded_error() -> None:
    with pytest.raises(LLMNERError, match="E030.*safe_harbor"):
        get_policy("hipaa2")
    with pytest.raises(LLMNERError, match="E030"):
        make_xmlner_task(policy="strict")


def test_nonsense_spans_are_dropped_or_cut() -> None:
    text = "Pt ( seen by John Smith\n\nPlan: rest.  -- "
    assert clean_span(text, (3, 4, "AGE")) is None  # "(" alone
    assert clean_span(text, (38, 41, "PERSON")) is None  # "-- " whitespace and dashes
    assert clean_span(text, (13, 29, "PERSON")) == (13, 23, "PERSON")  # cut at the blank line
    assert clean_span(text, (12, 23, "PERSON")) == (13, 23, "PERSON")  # outer space trimmed
    assert clean_span(text, (13, 23, "PERSON")) == (13, 23, "PERSON")  # a good span is untouched
    assert clean_spans("李四 (", [(0, 2, "name"), (3, 4, "name")]) == [(0, 2, "name")]  # letters of any script


def test_task_applies_sanity_and_policy_and_keeps_scores() -> None:
    """The task drops what sanity and the policy drop, from constrained spans and parsed text alike,
    and serializes both settings; a cut span keeps its score."""
    nlp = spacy.blank("en")
    text = "Bob ( 54 y/o, seen 0400 on 3/4/2021.\n\nJim"
    tagged = ("<PERSON>Bob</PERSON> <AGE>(</AGE> <AGE>54</AGE> y/o, seen <DATE_TIME>0400</DATE_TIME> on "
              "<DATE_TIME>3/4/2021</DATE_TIME>.\n\nJim")

    def ents(task: XMLNERTask) -> list[str]:
        (_, shards), = task.generate_prompts([nlp(text)])
        doc = next(iter(task.parse_responses([list(shards)], [[tagged]])))
        return [e.text for e in doc.ents]

    labels = ["PERSON", "AGE", "DATE_TIME"]
    assert ents(XMLNERTask(labels, drop_nonsense=False)) == ["Bob", "(", "54", "0400", "3/4/2021"]
    assert ents(XMLNERTask(labels)) == ["Bob", "54", "0400", "3/4/2021"]
    task = XMLNERTask(labels, policy="safe_harbor")
    assert ents(task) == ["Bob", "3/4/2021"]
    restored = XMLNERTask(labels)
    restored.from_bytes(task.to_bytes())
    assert restored.policy == "safe_harbor" and ents(restored) == ["Bob", "3/4/2021"]

    scores: dict[tuple[int, int, str], float] = {(0, 40, "PERSON"): 0.7}
    assert XMLNERTask(labels)._filter(text, [(0, 40, "PERSON")], scores) == [(0, 36, "PERSON")]
    assert scores[(0, 36, "PERSON")] == 0.7
