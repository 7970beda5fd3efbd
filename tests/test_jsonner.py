"""The seed's JSON answer (spacy_llmner.JSONNER.v1): render, tolerant parse, alignment policy,
the task through spaCy, and training targets."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

import pytest
import spacy
from conftest import randomize
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy_llm.registry import registry

from spacy_llmner.errors import LLMNERError
from spacy_llmner.jsonner import align_strings, parse_answer, render_answer
from spacy_llmner.jsonner.task import JSONNERTask
from spacy_llmner.prompting import build_messages, resolve_labels
from spacy_llmner.prompting.prompt import XMLPrompt
from spacy_llmner.tasks.xmlner import XMLNERTask

LABELS = ["name", "company", "address"]
TEXT = "浙商银行企业信贷部叶老桂博士则从另一个角度对五道门槛进行了解读。叶老桂认为，对目前国内商业银行而言，"
GOLD = [(0, 4, "company"), (9, 12, "name"), (32, 35, "name")]
SEED_ALIASES = {"属于人名类实体有?": "name", "属于企业类实体有?": "company", "属于地点类实体有?": "address"}


# --- render -----------------------------------------------------------------------------
def test_render_lists_each_string_once_in_label_order() -> None:
    answer = render_answer(TEXT, GOLD, LABELS)
    assert json.loads(answer) == {"name": ["叶老桂"], "company": ["浙商银行"]}
    assert list(json.loads(answer)) == ["name", "company"]  # label order, not text order
    assert "叶老桂" in answer  # ensure_ascii off: Chinese as is, not \\u escapes
    assert render_answer("没有实体。", [], LABELS) == "{}"


# --- parse ------------------------------------------------------------------------------
def test_parse_reads_json_and_the_seeds_python_dicts() -> None:
    assert parse_answer('{"name": ["叶老桂"], "company": ["浙商银行"]}', LABELS) == [
        ("name", "叶老桂"), ("company", "浙商银行")]
    seed = "{'属于人名类实体有?': ['叶老桂'], '属于企业类实体有?': ['浙商银行'], '属于地点类实体有?': []}"
    assert parse_answer(seed, LABELS, SEED_ALIASES) == [("name", "叶老桂"), ("company", "浙商银行")]
    assert parse_answer('```json\n{"Company": ["浙商银行"]}\n```', LABELS) == [("company", "浙商银行")]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ('{"name": ["叶老桂", "张', [("name", "叶老桂")]),  # cut inside a string: that one is dropped
        ('{"name": ["叶老桂"], "company": ["浙商银行"', [("name", "叶老桂"), ("company", "浙商银行")]),
        ('{"name": ["叶老桂"] "company": ["浙商银行"]}', [("name", "叶老桂"), ("company", "浙商银行")]),  # no comma
        (
            '{"name": ["叶老桂"], "person": ["x"], "company": [1, null, "浙商银行", ""]}',
            [("name", "叶老桂"), ("company", "浙商银行")],
        ),
        ('{"name": "叶老桂"}', [("name", "叶老桂")]),  # a string instead of a list
        ('叶老桂是人名', []),
        ("", []),
        ("[[[[[[", []),
        ("{" * 5000, []),
        ('{"name": 5}', []),
    ],
)
def test_parse_is_tolerant_of_broken_and_truncated_output(raw: str, expected: list[tuple[str, str]]) -> None:
    assert parse_answer(raw, LABELS) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('{}[]"\':,\\ 叶老桂name\n')), max_size=60))
def test_parse_never_raises_on_garbage(raw: str) -> None:
    for label, value in parse_answer(raw, LABELS):
        assert label in LABELS and isinstance(value, str) and value.strip()


# --- align ------------------------------------------------------------------------------
def test_every_occurrence_is_marked_by_default_or_only_the_first() -> None:
    pairs = [("company", "浙商银行"), ("name", "叶老桂")]
    assert align_strings(TEXT, pairs)[0] == GOLD
    assert align_strings(TEXT, pairs, "first")[0] == GOLD[:2]


def test_strings_not_in_the_source_are_dropped_and_counted() -> None:
    spans, stats = align_strings(TEXT, [("name", "叶老贵"), ("name", "叶老桂"), ("company", "")])
    assert spans == [(9, 12, "name"), (32, 35, "name")]
    assert (stats.strings, stats.not_in_source) == (3, 2)


def test_overlaps_keep_the_longest_then_the_earliest_listed() -> None:
    text = "北京大学在北京。"
    spans, stats = align_strings(text, [("address", "北京"), ("organization", "北京大学")])
    assert spans == [(0, 4, "organization"), (5, 7, "address")] and stats.overlaps_dropped == 1
    spans, _ = align_strings(text, [("address", "北京"), ("name", "北京")])
    assert spans == [(0, 2, "address"), (5, 7, "address")]


def test_occurrences_off_token_boundaries_are_skipped() -> None:
    text = "Johnson met John."
    doc = spacy.blank("en")(text)
    starts = {t.idx for t in doc}
    ends = {t.idx + len(t) for t in doc}
    assert align_strings(text, [("name", "John")], starts=starts, ends=ends)[0] == [(12, 16, "name")]
    assert align_strings("Tom & Jerry", [("name", "Tom &amp; Jerry")])[0] == [(0, 11, "name")]  # unescaped


WORDS = ["叶老桂", "浙商银行", "北京", "dota2", "《活着》"]  # none is inside another


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.integers(0, len(WORDS) - 1), st.sampled_from(list("，的了是在 。a1"))), max_size=25))
def test_render_then_parse_round_trips_when_every_occurrence_is_gold(parts: list[Any]) -> None:
    word_label = dict(zip(range(len(WORDS)), ["name", "company", "address", "name", "company"]))
    text, gold = "", []
    for part in parts:
        if isinstance(part, int):
            gold.append((len(text), len(text) + len(WORDS[part]), word_label[part]))
            text += WORDS[part]
        else:
            text += part
    spans, stats = align_strings(text, parse_answer(render_answer(text, gold, LABELS), LABELS))
    assert spans == gold and stats.not_in_source == 0


# --- the task -----------------------------------------------------------------------------
class _Scripted:
    """Answers every prompt with a fixed string (no LLM)."""

    context_length = 4096
    answer = ""

    def __call__(self, prompts: Iterable[Iterable[XMLPrompt]]) -> Iterable[Iterable[str]]:
        return [[_Scripted.answer for _ in doc_prompts] for doc_prompts in prompts]


@registry.llm_models("test.ScriptedJSON.v1")
def _scripted() -> Any:
    return _Scripted()


def _nlp(labels: Any = "cluener") -> Any:
    nlp = spacy.blank("zh")
    nlp.add_pipe("llm_ner", config={
        "task": {"@llm_tasks": "spacy_llmner.JSONNER.v1", "labels": labels,
                 "key_aliases": SEED_ALIASES},
        "model": {"@llm_models": "test.ScriptedJSON.v1"},
        "validate_types": False,
    })
    return nlp


def test_task_sets_every_occurrence_as_doc_ents_on_chinese_text() -> None:
    nlp = _nlp()
    _Scripted.answer = '{"name": ["叶老桂"], "company": ["浙商银行", "招商银行"], "book": ["《活着》"]}'
    doc = nlp(TEXT)
    assert doc.text == TEXT
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == GOLD
    stats = nlp.get_pipe("llm_ner").task.align_stats
    assert (stats.strings, stats.not_in_source) == (4, 2)
    _Scripted.answer = "{'属于人名类实体有?': ['叶老桂'"  # the seed's keys, cut short
    assert [e.text for e in nlp(TEXT).ents] == ["叶老桂", "叶老桂"]


def test_task_round_trips_through_disk(tmp_path: Any) -> None:
    nlp = _nlp()
    nlp.to_disk(tmp_path / "p")
    task = spacy.load(tmp_path / "p").get_pipe("llm_ner").task
    assert isinstance(task, JSONNERTask) and task.template_version == "json1"
    assert task._cfg()["occurrences"] == "all" and task._cfg()["key_aliases"] == SEED_ALIASES


def test_templates_and_tasks_do_not_mix() -> None:
    with pytest.raises(LLMNERError, match="JSONNER"):
        XMLNERTask(LABELS, template_version="json1")
    with pytest.raises(LLMNERError, match="json1"):
        JSONNERTask(LABELS, template_version="v2")
    with pytest.raises(LLMNERError, match="occurrences"):
        JSONNERTask(LABELS, occurrences="last")
    system = build_messages(resolve_labels("cluener"), version="json1")[0]["content"]
    assert '{"name": ["..."]}' in system and "name: 人名" in system


def test_constrained_and_free_decoding_of_json_prompts_never_raise(tiny_models: Any, tmp_path: Any) -> None:
    from spacy_llmner.tinybase.tiny import save

    tok, model, _ = tiny_models["qwen2"]
    path = save(randomize(copy.deepcopy(model), 5), tok, tmp_path / "m")
    for decoding in ("constrained", "free"):
        nlp = spacy.blank("zh")
        nlp.add_pipe("llm_ner", config={
            "task": {"@llm_tasks": "spacy_llmner.JSONNER.v1", "labels": LABELS},
            "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(path), "decoding": decoding},
        })
        for text in (TEXT, "", "病人张三，电话13800138000。"):
            doc = nlp(text)  # random weights write random text: parsed, aligned, never raises
            assert doc.text == text
            assert all(TEXT[e.start_char:e.end_char] == e.text for e in doc.ents if text == TEXT)
        if decoding == "constrained":  # the JSON copy constraint: no string is invented
            assert nlp.get_pipe("llm_ner").task.align_stats.not_in_source == 0


def test_training_targets_are_json_under_the_json_template(tiny_models: Any) -> None:
    from spacy_llmner.training.sft import IGNORE, build_dataset

    tok = tiny_models["qwen2"][0]
    labels = resolve_labels(LABELS)
    data = build_dataset([(TEXT, GOLD)], tok, labels, 4096, template_version="json1")
    example = data.examples[0]
    answer = tok.decode([t for t in example.labels if t != IGNORE])
    assert answer.startswith('{"name": ["叶老桂"], "company": ["浙商银行"]}')
    xml = build_dataset([(TEXT, GOLD)], tok, labels, 4096, template_version="v2").examples[0]
    assert tok.decode([t for t in xml.labels if t != IGNORE]).startswith("<company>浙商银行</company>")
