"""Tests for the tagged-text format: escaping, render, tolerant parse, alignment.

Each property runs twice: a quick default run (``FAST`` examples) and a ``slow`` fuzzing
campaign of 10,000 examples (``pytest -m slow tests/test_tagging.py``).
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spacy_llmner.errors import LLMNERError
from spacy_llmner.tagging import (
    LABEL_RE,
    CharSpan,
    escape,
    escape_offsets,
    is_valid_label,
    parse,
    render,
    strip_tags,
    unescape,
    unescape_lenient,
)
from spacy_llmner.tagging.align import align
from spacy_llmner.tagging.parse import _parse

FAST = 200
SLOW = 10_000
LABELS = ["PERSON", "LOCATION", "Rx_NUMBER", "X"]

# --- strategies -------------------------------------------------------------------------------

FRAGMENTS = [
    "<", ">", "&", "&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&", "\n", "\r\n", "\t", "   ",
    " ", "<PERSON>", "</PERSON>", "<PERS", "</", "<X/>", "漢字", "😀", "e\u0301", "\u200b",
    "John", "Doe", ".", ",",
]
TAG_FRAGMENTS = [
    "<PERSON>", "</PERSON>", "<LOCATION>", "</LOCATION>", "<X>", "</X>", "<person>",
    "< PERSON >", '<PERSON id="1">', "<NAME>", "</NAME>", "<PERSON/>", "<Rx_NUMBER>",
    "</Rx_NUMBER>", "<LOC", "</PER", "<", ">",
]

texts = st.lists(
    st.one_of(st.characters(), st.sampled_from(FRAGMENTS)), max_size=40
).map("".join)
labels_st = st.one_of(st.sampled_from(LABELS), st.from_regex(LABEL_RE, fullmatch=True))


@st.composite
def texts_with_spans(draw: st.DrawFn) -> tuple[str, list[CharSpan]]:
    """A text and valid spans over it (possibly adjacent), in random order."""
    text = draw(texts)
    cuts = sorted({0, len(text), *draw(st.lists(st.integers(0, len(text)), max_size=12))})
    spans = [
        (start, end, draw(labels_st))
        for start, end in zip(cuts, cuts[1:])
        if start < end and draw(st.booleans())
    ]
    return text, draw(st.permutations(spans))


@st.composite
def mutated_outputs(draw: st.DrawFn) -> tuple[str, str]:
    """A rendered text damaged by random edits, as a free-generating model might."""
    source, spans = draw(texts_with_spans())
    tagged = render(source, spans)
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(tagged)))
        cut = draw(st.integers(0, 6))
        insert = draw(st.one_of(st.just(""), texts, st.sampled_from(TAG_FRAGMENTS)))
        tagged = tagged[:pos] + insert + tagged[pos + cut :]
    return tagged, source


arbitrary_outputs = st.one_of(
    st.tuples(
        st.lists(st.one_of(texts, st.sampled_from(TAG_FRAGMENTS)), max_size=12).map("".join),
        texts,
    ),
    mutated_outputs(),
)


def fuzz(*strategies: st.SearchStrategy[Any]) -> Callable[[Callable[..., None]], tuple[Any, Any]]:
    """A quick test and a ``slow`` 10,000-example campaign from one property."""

    def make(check: Callable[..., None]) -> tuple[Any, Any]:
        common = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
        quick = settings(max_examples=FAST, **common)(given(*strategies)(check))
        slow = settings(max_examples=SLOW, **common)(given(*strategies)(check))
        return quick, pytest.mark.slow(slow)

    return make


def assert_valid(spans: list[CharSpan], source: str, labels: list[str] | None) -> None:
    """The parse contract: in range, sorted, non-overlapping, non-empty, allowed labels."""
    assert spans == sorted(spans)
    previous_end = 0
    for start, end, label in spans:
        assert previous_end <= start < end <= len(source)
        assert is_valid_label(label)
        assert labels is None or label in labels
        previous_end = end


# --- properties -------------------------------------------------------------------------------


def _check_roundtrip(case: tuple[str, list[CharSpan]]) -> None:
    text, spans = case
    tagged = render(text, spans)
    assert parse(tagged, text) == sorted(spans)
    assert _parse(tagged, text, sorted({label for _, _, label in spans})) == sorted(spans)
    assert unescape(strip_tags(tagged)) == text


test_roundtrip, test_roundtrip_slow = fuzz(texts_with_spans())(_check_roundtrip)


def _check_escape(text: str) -> None:
    escaped = escape(text)
    offsets = escape_offsets(text)
    assert unescape(escaped) == text
    assert len(offsets) == len(text) + 1
    assert offsets[0] == 0 and offsets[-1] == len(escaped)
    for i, char in enumerate(text):
        assert escaped[offsets[i] : offsets[i + 1]] == escape(char)
    assert "<" not in escaped and ">" not in escaped


test_escape, test_escape_slow = fuzz(texts)(_check_escape)


def _check_parse_never_raises(case: tuple[str, str], labels: list[str] | None) -> None:
    tagged, source = case
    spans = _parse(tagged, source, labels)  # no safety net: a bug would surface here
    assert_valid(spans, source, labels)
    assert parse(tagged, source, labels) == spans


test_parse_never_raises, test_parse_never_raises_slow = fuzz(
    arbitrary_outputs, st.one_of(st.none(), st.just(LABELS), st.just(["PERSON"]))
)(_check_parse_never_raises)


def _check_alignment(a: str, b: str) -> None:
    previous = (0, 0)
    for i, j, size in align(a, b):
        assert size > 0 and a[i : i + size] == b[j : j + size]
        assert i >= previous[0] and j >= previous[1]
        previous = (i + size, j + size)


test_alignment, test_alignment_slow = fuzz(texts, texts)(_check_alignment)


# --- escaping and labels ------------------------------------------------------------------------


def test_escape_examples() -> None:
    assert escape('a<b>&c "d"') == 'a&lt;b&gt;&amp;c "d"'
    assert unescape("&amp;lt; &lt; &quot;") == '&lt; < &quot;'
    assert unescape_lenient("&quot;&#39;&#x41;&nbsp;&bogus; & &#0;") == "\"'A\xa0&bogus; & &#0;"
    assert escape_offsets("a&<") == [0, 1, 6, 10]
    assert escape_offsets("") == [0]


@pytest.mark.parametrize("label", ["PERSON", "Rx_NUMBER", "a", "A1_b", "creative-work", "B-PER", "A.B", "_A"])
def test_valid_labels(label: str) -> None:
    assert is_valid_label(label)


@pytest.mark.parametrize("label", ["", "1A", "-A", ".A", "a:b", "PER SON", "ÉTAT", "A>", None, 3])
def test_invalid_labels(label: object) -> None:
    assert not is_valid_label(label)


# --- render errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spans", "code"),
    [
        ([(0, 99, "PERSON")], "E401"),
        ([(-1, 2, "PERSON")], "E401"),
        ([(3, 3, "PERSON")], "E402"),
        ([(4, 2, "PERSON")], "E402"),
        ([(0, 4, "PERSON"), (2, 6, "LOCATION")], "E403"),
        ([(5, 9, "X"), (0, 4, "PERSON"), (0, 2, "X")], "E403"),
        ([(0, 4, "1PER")], "E404"),
        ([(0, 4, "")], "E404"),
        ([(0, 4)], "E405"),
        ([("0", 4, "PERSON")], "E405"),
        ([(0, 4, None)], "E405"),
    ],
)
def test_render_rejects_invalid_spans(spans: list[Any], code: str) -> None:
    with pytest.raises(LLMNERError, match=rf"^\[{code}\]"):
        render("John Doe lives here", spans)


def test_render_error_names_fix_without_text() -> None:
    with pytest.raises(LLMNERError) as info:
        render("secret text", [(0, 4, "B PER")])
    assert "'B_PER'" in str(info.value) and "secret" not in str(info.value)


def test_render_example() -> None:
    text = "My name is John Doe & co <b>"
    spans = [(11, 19, "PERSON"), (0, 2, "X")]
    assert render(text, spans) == "<X>My</X> name is <PERSON>John Doe</PERSON> &amp; co &lt;b&gt;"


# --- deliberately broken model output -----------------------------------------------------------

SRC = "My name is John Doe and I live in Paris & Rome."
JOHN, PARIS, ROME = (11, 19, "PERSON"), (34, 39, "LOCATION"), (42, 46, "LOCATION")
PL = ["PERSON", "LOCATION"]

BROKEN: list[tuple[str, str, str, list[str] | None, list[CharSpan]]] = [
    # (name, tagged, source, labels, expected)
    ("exact", "My name is <PERSON>John Doe</PERSON> and I live in <LOCATION>Paris</LOCATION> "
     "&amp; <LOCATION>Rome</LOCATION>.", SRC, PL, [JOHN, PARIS, ROME]),
    ("unclosed", "My name is <PERSON>John Doe and I live in <LOCATION>Paris</LOCATION> &amp; Rome.",
     SRC, PL, [PARIS]),
    ("unclosed at end", "My name is <PERSON>John Doe</PERSON> and I live in Paris &amp; "
     "<LOCATION>Rome.", SRC, PL, [JOHN]),
    ("nested: outer wins", "My name is <PERSON>John <LOCATION>Doe</LOCATION></PERSON> and I live "
     "in Paris &amp; Rome.", SRC, PL, [JOHN]),
    ("nested, inner unclosed", "My name is <PERSON>John <LOCATION>Doe</PERSON> and I live in "
     "<LOCATION>Paris</LOCATION> &amp; Rome.", SRC, PL, [JOHN, PARIS]),
    ("overlapping tags", "My name is <PERSON>John <LOCATION>Doe</PERSON> and I live in "
     "Paris</LOCATION> &amp; Rome.", SRC, PL, [JOHN]),
    ("unknown label is text", "My name is <NAME>John Doe</NAME> and I live in "
     "<LOCATION>Paris</LOCATION> &amp; Rome.", SRC, PL, [PARIS]),
    ("any label without a label set", "My name is <NAME>John Doe</NAME> and I live in Paris "
     "&amp; Rome.", SRC, None, [(11, 19, "NAME")]),
    ("label case folded", "My name is <person>John Doe</Person> and I live in Paris &amp; Rome.",
     SRC, PL, [JOHN]),
    ("truncated mid-tag", "My name is <PERSON>John Doe</PERSON> and I live in Paris &amp; "
     "Rome.<LOC", SRC, PL, [JOHN]),
    ("truncated closing tag", "My name is <PERSON>John Doe</PERSON> and I live in "
     "<LOCATION>Paris</LOCAT", SRC, PL, [JOHN]),
    ("truncated after <", "My name is <PERSON>John Doe</PERSON> and I live in Paris &amp; Rome.<",
     SRC, PL, [JOHN]),
    ("stray closing tag", "My name is John Doe</PERSON> and I live in <LOCATION>Paris</LOCATION> "
     "&amp; Rome.", SRC, PL, [PARIS]),
    ("mismatched closing tag", "My name is <PERSON>John Doe</LOCATION> and I live in Paris "
     "&amp; <LOCATION>Rome</LOCATION>.", SRC, PL, [ROME]),
    ("empty and self-closing", "My name is <PERSON></PERSON>John Doe<PERSON/> and I live in "
     "Paris &amp; <LOCATION>Rome</LOCATION>.", SRC, PL, [ROME]),
    ("whitespace and attributes in tags", 'My name is < PERSON id="1" >John Doe</ PERSON > and '
     "I live in <LOCATION\n>Paris</LOCATION> &amp; Rome.", SRC, PL, [JOHN, PARIS]),
    ("repeated text", "My name is <PERSON>John Doe</PERSON> and I live in Paris &amp; Rome. "
     "My name is John Doe.", SRC, PL, [JOHN]),
    ("tag only in the repeat: first copy aligns", "My name is John Doe and I live in Paris &amp; "
     "Rome. My name is <PERSON>John Doe</PERSON>.", SRC, PL, []),
    ("missing text", "My name is <PERSON>John Doe</PERSON>. I live in <LOCATION>Rome</LOCATION>.",
     SRC, PL, [JOHN, ROME]),
    ("rephrased around entities", "I'm called <PERSON>John Doe</PERSON>, living in "
     "<LOCATION>Paris</LOCATION> and Rome.", SRC, PL, [JOHN, PARIS]),
    ("entity text changed: dropped", "My name is <PERSON>Jim</PERSON> and I live in "
     "<LOCATION>Paris</LOCATION> &amp; Rome.", SRC, PL, [PARIS]),
    ("entity in added text: dropped", "Hello <PERSON>Bob</PERSON>! My name is John Doe and I "
     "live in Paris &amp; Rome.", SRC, PL, []),
    ("raw &", "My name is <PERSON>John Doe</PERSON> and I live in Paris & "
     "<LOCATION>Rome</LOCATION>.", SRC, PL, [JOHN, ROME]),
    ("raw & and a rephrase", "My name: <PERSON>John Doe</PERSON>, I live in Paris & "
     "<LOCATION>Rome</LOCATION>.", SRC, PL, [JOHN, ROME]),
    ("html entities", "He said &quot;hi&quot; to <PERSON>Ann</PERSON>&#46;",
     'He said "hi" to Ann.', PL, [(16, 19, "PERSON")]),
    ("escaped source copied raw", "Type <PERSON>&amp;amp;</PERSON> now", "Type &amp; now", PL,
     [(5, 10, "PERSON")]),
    ("escaped source copied unescaped", "Type <PERSON>&amp;</PERSON> now", "Type &amp; now", PL,
     [(5, 10, "PERSON")]),
    ("raw < from the source", "Use <b> for bold, <PERSON>Ann</PERSON>.", "Use <b> for bold, Ann.",
     PL, [(18, 21, "PERSON")]),
    ("raw < read as a tag without a label set", "Use <b> for bold, <PERSON>Ann</PERSON>.",
     "Use <b> for bold, Ann.", None, [(18, 21, "PERSON")]),
    ("unaligned whitespace shed", "Name: <PERSON> John </PERSON>.", "Name:John.", PL,
     [(5, 9, "PERSON")]),
    ("adjacent entities", "<PERSON>Jo</PERSON><LOCATION>hn</LOCATION>", "John", PL,
     [(0, 2, "PERSON"), (2, 4, "LOCATION")]),
    ("newlines and spaces normalized", "Dear <PERSON>Ann\nLee</PERSON>,\nhi",
     "Dear Ann\r\nLee,\r\n  hi", PL, [(5, 13, "PERSON")]),
    ("no tags", "Nothing here.", "Nothing here.", PL, []),
    ("empty output", "", SRC, PL, []),
    ("empty source", "<PERSON>John</PERSON>", "", PL, []),
]


@pytest.mark.parametrize(
    ("tagged", "source", "labels", "expected"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_broken_output(
    tagged: str, source: str, labels: list[str] | None, expected: list[CharSpan]
) -> None:
    assert _parse(tagged, source, labels) == expected


# --- long inputs --------------------------------------------------------------------------------


def _long_document(rng: random.Random, length: int) -> tuple[str, list[CharSpan]]:
    """Pseudo-text from a small vocabulary (few unique words, the hard case for anchoring)."""
    vocabulary = ["the", "patient", "was", "seen", "on", "and", "at", "a", "&", "<b>", "clinic"]
    names = ["John Doe", "Ann Lee", "Mary Major", "Rome", "Paris"]
    parts: list[str] = []
    spans: list[CharSpan] = []
    size = 0
    while size < length:
        if rng.random() < 0.05:
            name = rng.choice(names)
            spans.append((size, size + len(name), "PERSON"))
            parts.append(name)
            size += len(name)
        else:
            word = rng.choice(vocabulary)
            parts.append(word)
            size += len(word)
        parts.append(" ")
        size += 1
    return "".join(parts), spans


def test_long_input_with_edits() -> None:
    rng = random.Random(7)
    source, spans = _long_document(rng, 100_000)
    assert len(source) >= 100_000
    # Three small edits far from any entity: replace, delete, insert.
    edits = [(25_000, 3, "XYZW"), (50_000, 4, ""), (75_000, 0, "the the ")]
    edited, edited_spans = source, list(spans)
    for position, cut, insert in reversed(edits):
        position = _far_from_entities(edited_spans, position)
        edited = edited[:position] + insert + edited[position + cut :]
        shift = len(insert) - cut
        edited_spans = [
            (s + shift, e + shift, label) if s >= position else (s, e, label)
            for s, e, label in edited_spans
        ]
    tagged = render(edited, edited_spans)
    assert strip_tags(tagged) != escape(source)
    assert parse(tagged, source, ["PERSON"]) == spans


def _far_from_entities(spans: list[CharSpan], position: int, margin: int = 40) -> int:
    """The first offset at or after ``position`` with no entity within ``margin`` chars."""
    while any(s - margin <= position <= e + margin for s, e, _ in spans):
        position += 1
    return position


def test_long_input_exact_copy() -> None:
    source, spans = _long_document(random.Random(3), 100_000)
    assert parse(render(source, spans), source) == spans


def test_long_input_garbage_stays_valid() -> None:
    rng = random.Random(5)
    source, _ = _long_document(rng, 20_000)
    garbage = "".join(rng.choice("the <PERSON></PERSON>&; x") for _ in range(20_000))
    assert_valid(_parse(garbage, source, ["PERSON"]), source, ["PERSON"])


def test_parse_safety_net_logs_no_text(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(tagged: str, source: str, labels: object) -> list[CharSpan]:
        raise RuntimeError(f"bug while reading {tagged}")

    # The package exports the function ``parse``, which shadows the module of the same name.
    monkeypatch.setattr(importlib.import_module("spacy_llmner.tagging.parse"), "_parse", broken)
    assert parse("<PERSON>secret</PERSON>", "secret") == []
    assert "RuntimeError" in caplog.text and "secret" not in caplog.text


# --- prompt templates ----------------------------------------------------------------------


def test_template_versions_and_their_round_trip() -> None:
    from spacy_llmner.prompting import build_messages, resolve_labels
    from spacy_llmner.tasks.xmlner import XMLNERTask

    labels = resolve_labels("PERSON,creative_work")
    v1, v2 = build_messages(labels), build_messages(labels, version="v2")
    assert len(v1) == 8 and [m["role"] for m in v2] == ["system"]
    assert "PERSON: " in v2[0]["content"] and "creative_work: " in v2[0]["content"]
    assert len(v2[0]["content"]) < len(" ".join(m["content"] for m in v1)) / 2
    task = XMLNERTask(labels, template_version="v2")
    assert task.messages == v2
    again = XMLNERTask().from_bytes(task.to_bytes())
    assert again.template_version == "v2" and again.messages == v2
    # pipelines saved before the option existed carry no version: v1
    import srsly

    cfg = srsly.json_loads(task.to_bytes())
    del cfg["template_version"]
    assert XMLNERTask().from_bytes(srsly.json_dumps(cfg).encode()).messages == v1
    with pytest.raises(LLMNERError, match=r"E011.*template_version"):
        XMLNERTask(labels, template_version="v3")


def test_char_scores_ignore_labels_and_whitespace() -> None:
    from spacy_llmner.evaluation.ner import keep_labels, score_chars

    text = "John Doe lives in Paris"
    gold = [[(0, 8, "PERSON"), (18, 23, "LOCATION")]]
    pred = [[(5, 8, "ORGANIZATION"), (9, 14, "PERSON")]]
    chars = score_chars([text], gold, pred)
    # 'Doe' (3 chars) right; 'lives' (5) wrong; 'John' (4) + 'Paris' (5) missed; the space is not counted
    assert (chars["tp"], chars["fp"], chars["fn"]) == (3, 5, 9)
    assert keep_labels(pred[0], ["PERSON"]) == [(9, 14, "PERSON")]
    assert keep_labels(pred[0], None) == pred[0]


def test_xml_name_labels_work_end_to_end() -> None:
    """WNUT-17-style labels: render, parse (exact and tolerant), prompt and suggestion."""
    from spacy_llmner.prompting import build_messages, resolve_labels
    from spacy_llmner.tagging.labels import suggest_label

    text = "Watching Rick and Morty with Ann in L.A."
    spans = [(9, 23, "creative-work"), (29, 32, "person"), (36, 40, "geo.city")]
    tagged = render(text, spans)
    assert tagged == (
        "Watching <creative-work>Rick and Morty</creative-work> with <person>Ann</person> in <geo.city>L.A.</geo.city>"
    )
    assert parse(tagged, text) == spans
    assert parse(tagged.replace("</person>", ""), text, ["creative-work", "person", "geo.city"])[0] == spans[0]
    labels = resolve_labels(["creative-work", "geo.city"])
    assert labels["creative-work"] == "Creative work"
    assert "creative-work: Creative work" in build_messages(labels, version="v2")[0]["content"]
    with pytest.raises(LLMNERError, match=r"E002.*'x_y'"):
        resolve_labels(["x y"])
    assert is_valid_label(suggest_label("1 weird:label")) and is_valid_label(suggest_label("-a"))
