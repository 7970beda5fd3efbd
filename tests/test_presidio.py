"""Presidio integration: recognizer, analyzer, overlap policy, operators, CLI, no network."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("presidio_analyzer")
pytest.importorskip("presidio_anonymizer")

import _presidio_scripted as scripted  # noqa: E402
import spacy  # noqa: E402
import typer  # noqa: E402
import typer.core  # noqa: E402
import typer.main  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from presidio_analyzer import AnalysisExplanation, RecognizerResult  # noqa: E402
from presidio_anonymizer.entities import OperatorConfig  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from spacy_llmner.cli import app  # noqa: E402
from spacy_llmner.errors import LLMNERError  # noqa: E402
from spacy_llmner.presidio import (  # noqa: E402
    LLMNERNlpEngine,
    LLMNERRecognizer,
    SurrogateTable,
    anonymize,
    build_analyzer,
    deanonymize,
    hipaa_operators,
    resolve_overlaps,
)

TESTS = Path(__file__).parent
KEY = "0123456789abcdef"  # 16 bytes: AES-128
TEXT = (
    "John Doe (MRN-123) called 617-555-1234 from Boston; card 4111 1111 1111 1111, "
    "mail john@example.com, Acme. Later john  doe met Jane Roe."
)


@pytest.fixture(scope="module")
def nlp():
    return scripted.make_nlp()


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory, nlp) -> Path:
    path = tmp_path_factory.mktemp("pipe") / "pipeline"
    nlp.to_disk(path)
    return path


@pytest.fixture(scope="module")
def analyzer(nlp):
    return build_analyzer(nlp)


def _by_type(results) -> dict[str, list]:
    out: dict[str, list] = {}
    for r in results:
        out.setdefault(r.entity_type, []).append(r)
    return out


# -- recognizer -------------------------------------------------------------------------------
def test_recognizer_scores_come_from_the_pipeline(nlp):
    rec = LLMNERRecognizer(nlp)
    results = rec.analyze(TEXT, entities=None)
    scores = {TEXT[r.start : r.end]: r.score for r in results}
    assert scores["John Doe"] == pytest.approx(0.93)
    assert scores["Boston"] == pytest.approx(0.71)
    assert scores["MRN-123"] == pytest.approx(0.97)
    assert len({round(s, 3) for s in scores.values()}) >= 5  # not a constant
    acme = next(r for r in results if TEXT[r.start : r.end] == "Acme")
    assert acme.score == rec.default_score  # the scripted model gives no score for it
    assert acme.recognition_metadata["llmner_score_source"] == "default"
    person = next(r for r in results if r.entity_type == "PERSON")
    assert person.recognition_metadata["llmner_score_source"] == "model"
    assert person.analysis_explanation.recognizer == "LLMNERRecognizer"
    assert "model label PERSON" in person.analysis_explanation.textual_explanation
    assert "John" not in person.analysis_explanation.textual_explanation  # no values in it


def test_recognizer_mapping_and_supported_entities(nlp):
    rec = LLMNERRecognizer(
        nlp, entity_mapping={"MEDICAL_RECORD_NUMBER": "MRN"}, labels_to_ignore=["ORGANIZATION"]
    )
    assert set(rec.supported_entities) == {
        "PERSON",
        "LOCATION",
        "PHONE_NUMBER",
        "MRN",
        "ACCOUNT_NUMBER",
    }
    results = rec.analyze(TEXT, entities=None)
    types = {r.entity_type for r in results}
    assert "MRN" in types and "MEDICAL_RECORD_NUMBER" not in types
    assert "ORGANIZATION" not in types
    only = rec.analyze(TEXT, entities=["PERSON"])
    assert {r.entity_type for r in only} == {"PERSON"}
    mrn = next(r for r in results if r.entity_type == "MRN")
    assert mrn.recognition_metadata["llmner_label"] == "MEDICAL_RECORD_NUMBER"


XML_TEXT = "John Doe watched Star Wars in Boston, then Star Wars again in Boston."
XML_RULES = [
    [r"\bStar Wars\b", "creative-work", 0.9],
    [r"\bBoston\b", "geo.city", 0.7],
    [r"\bJohn Doe\b", "PERSON", 0.8],
]


@pytest.fixture(scope="module")
def xml_nlp():
    """A pipeline whose labels have '-' and '.' (XML names, not [A-Z_]+)."""
    nlp = spacy.blank("en")
    nlp.add_pipe(scripted.FACTORY, config={"rules": XML_RULES})
    return nlp


def _found(text, results) -> list[tuple[str, str]]:
    return sorted((r.entity_type, text[r.start : r.end]) for r in results)


def test_xml_name_labels_map_through_recognizer_and_analyzer(xml_nlp):
    rec = LLMNERRecognizer(xml_nlp, entity_mapping={"geo.city": "LOCATION"})
    assert set(rec.supported_entities) == {"creative-work", "LOCATION", "PERSON"}
    results = rec.analyze(XML_TEXT, entities=None)
    assert _found(XML_TEXT, results) == [
        ("LOCATION", "Boston"), ("LOCATION", "Boston"), ("PERSON", "John Doe"),
        ("creative-work", "Star Wars"), ("creative-work", "Star Wars"),
    ]
    assert {r.recognition_metadata["llmner_label"] for r in results if r.entity_type == "LOCATION"} == {"geo.city"}
    assert _found(XML_TEXT, rec.analyze(XML_TEXT, entities=["creative-work"])) == [("creative-work", "Star Wars")] * 2
    mapped = build_analyzer(xml_nlp, entity_mapping={"geo.city": "LOCATION"})
    assert _found(XML_TEXT, mapped.analyze(XML_TEXT, language="en", entities=["creative-work", "LOCATION"])) == [
        ("LOCATION", "Boston"), ("LOCATION", "Boston"), ("creative-work", "Star Wars"), ("creative-work", "Star Wars"),
    ]
    plain = build_analyzer(xml_nlp).analyze(XML_TEXT, language="en")
    assert {r.entity_type for r in plain} == {"creative-work", "geo.city", "PERSON"}


def test_xml_name_labels_through_every_operator(xml_nlp):
    results = build_analyzer(xml_nlp).analyze(XML_TEXT, language="en")
    replace = anonymize(XML_TEXT, results, hipaa_operators("replace"))
    assert replace.text == (
        "<PERSON_1> watched <creative-work_1> in <geo.city_1>, then <creative-work_1> again in <geo.city_1>."
    )
    named = hipaa_operators("replace", entities=["creative-work", "geo.city", "PERSON"])  # own keys
    assert {"creative-work", "geo.city"} <= set(named)
    assert anonymize(XML_TEXT, results, named).text == replace.text
    assert anonymize(XML_TEXT, results, hipaa_operators("replace", numbered=False)).text == (
        "<PERSON> watched <creative-work> in <geo.city>, then <creative-work> again in <geo.city>."
    )
    assert anonymize(XML_TEXT, results, hipaa_operators("mask")).text == (
        "******** watched ********* in ******, then ********* again in ******."
    )
    hashed = anonymize(XML_TEXT, results, hipaa_operators("hash", salt="a-salt-of-16-bytes-or-more")).text
    assert "Star Wars" not in hashed and "Boston" not in hashed
    enc = anonymize(XML_TEXT, results, hipaa_operators("encrypt", key=KEY))
    assert {i.entity_type for i in enc.items} == {"creative-work", "geo.city", "PERSON"}
    assert deanonymize(enc.text, enc.items, key=KEY).text == XML_TEXT


def test_recognizer_loads_a_pipeline_directory(pipeline_dir, tmp_path):
    rec = LLMNERRecognizer(pipeline_dir)
    assert {r.entity_type for r in rec.analyze("Jane Roe", None)} == {"PERSON"}
    with pytest.raises(LLMNERError, match=r"\[E202\]"):
        LLMNERRecognizer(tmp_path / "missing")


def test_analyze_batch_goes_through_nlp_pipe(nlp, monkeypatch):
    rec = LLMNERRecognizer(nlp)
    seen: list[int] = []
    original = nlp.pipe

    def spy(texts, **kwargs):
        seen.append(kwargs.get("batch_size"))
        return original(texts, **kwargs)

    monkeypatch.setattr(nlp, "pipe", spy)
    texts = ["John Doe in Boston", "nothing", "Jane Roe, MRN-9"]
    batched = rec.analyze_batch(texts, batch_size=2)
    assert seen == [2]
    single = [rec.analyze(t, None) for t in texts]
    key = lambda rs: sorted((r.entity_type, r.start, r.end, r.score) for r in rs)  # noqa: E731
    assert [key(b) for b in batched] == [key(s) for s in single]


# -- analyzer + overlap policy ----------------------------------------------------------------
def test_build_analyzer_combines_llm_and_patterns(analyzer):
    before = scripted.ScriptedNER.calls
    results = analyzer.analyze(TEXT, language="en", return_decision_process=True)
    assert scripted.ScriptedNER.calls == before + 1  # the LLM runs once per text
    spans = {(TEXT[r.start : r.end], r.entity_type) for r in results}
    # the LLM said ACCOUNT_NUMBER (0.8) for the card; the Luhn-validated pattern wins
    assert ("4111 1111 1111 1111", "CREDIT_CARD") in spans
    assert ("4111 1111 1111 1111", "ACCOUNT_NUMBER") not in spans
    assert ("john@example.com", "EMAIL_ADDRESS") in spans  # pattern only
    assert ("MRN-123", "MEDICAL_RECORD_NUMBER") in spans  # LLM only
    ordered = sorted(results, key=lambda r: r.start)
    assert all(a.end <= b.start for a, b in zip(ordered, ordered[1:]))  # never overlapping
    card = next(r for r in results if r.entity_type == "CREDIT_CARD")
    assert card.analysis_explanation.validation_result is True
    plain = analyzer.analyze(TEXT, language="en")
    assert all(r.analysis_explanation is None for r in plain)


def test_build_analyzer_without_patterns_and_threshold(nlp):
    llm_only = build_analyzer(nlp, with_patterns=False, score_threshold=0.7)
    results = llm_only.analyze(TEXT, language="en")
    assert {r.entity_type for r in results} <= set(scripted.ScriptedNER([]).labels) | {
        "PERSON",
        "LOCATION",
        "MEDICAL_RECORD_NUMBER",
        "ACCOUNT_NUMBER",
        "ORGANIZATION",
    }
    assert "EMAIL_ADDRESS" not in {r.entity_type for r in results}
    assert all(r.score >= 0.7 for r in results)
    assert "PHONE_NUMBER" not in {r.entity_type for r in results}  # 0.66 < 0.7


def test_analyzer_batch_matches_single(analyzer):
    texts = [TEXT, "Jane Roe, 617-555-9876", "", "nothing here"]
    batched = list(analyzer.analyze_batch(texts, "en", batch_size=3))
    single = [analyzer.analyze(t, "en") for t in texts]
    key = lambda rs: [(r.entity_type, r.start, r.end, round(r.score, 6)) for r in rs]  # noqa: E731
    assert [key(b) for b in batched] == [key(s) for s in single]


def _res(entity, start, end, score, *, llm=False, validated=None):
    meta = {"llmner_label": entity} if llm else {}
    explanation = AnalysisExplanation("x", score, validation_result=validated)
    return RecognizerResult(entity, start, end, score, explanation, meta)


def test_overlap_policy():
    text = "aaaa bbbb cccc dddd eeee"
    # validated pattern beats a higher-scored LLM result; the LLM keeps the rest of its span
    out = resolve_overlaps(
        [
            _res("ACCOUNT_NUMBER", 0, 9, 1.0, llm=True),
            _res("CREDIT_CARD", 5, 9, 1.0, validated=True),
        ],
        text,
    )
    assert [(r.entity_type, r.start, r.end) for r in out] == [
        ("ACCOUNT_NUMBER", 0, 4),
        ("CREDIT_CARD", 5, 9),  # whitespace-only fragment dropped
    ]
    # a contained result goes even with a higher score
    out = resolve_overlaps([_res("PERSON", 0, 9, 0.5, llm=True), _res("URL", 5, 9, 0.9)], text)
    assert [(r.entity_type, r.start, r.end) for r in out] == [("PERSON", 0, 9)]
    # same span: higher score wins; on a tie the LLM wins
    out = resolve_overlaps(
        [_res("US_SSN", 10, 14, 0.6), _res("PHONE_NUMBER", 10, 14, 0.9, llm=True)]
    )
    assert [r.entity_type for r in out] == ["PHONE_NUMBER"]
    out = resolve_overlaps(
        [_res("US_SSN", 10, 14, 0.6), _res("PHONE_NUMBER", 10, 14, 0.6, llm=True)]
    )
    assert [r.entity_type for r in out] == ["PHONE_NUMBER"]
    # partial overlap: the loser is trimmed to what the winner does not cover
    out = resolve_overlaps(
        [_res("LOCATION", 0, 12, 0.9, llm=True), _res("DATE_TIME", 10, 19, 0.5)], text
    )
    assert [(r.entity_type, r.start, r.end) for r in out] == [
        ("LOCATION", 0, 12),
        ("DATE_TIME", 12, 19),
    ]
    # zero scores and empty spans are dropped
    assert resolve_overlaps([_res("PERSON", 0, 4, 0.0), _res("PERSON", 3, 3, 0.9)]) == []


# -- anonymization ---------------------------------------------------------------------------
_ENTITY = st.sampled_from(["PERSON", "LOCATION", "US_SSN", "CREDIT_CARD", "OTHER_LABEL"])


@st.composite
def _text_and_results(draw, overlapping: bool):
    text = draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
    n = len(text)
    results = []
    if overlapping:
        for _ in range(draw(st.integers(0, 6))):
            start = draw(st.integers(0, n))
            end = draw(st.integers(start, n))
            results.append(
                _res(
                    draw(_ENTITY),
                    start,
                    end,
                    draw(st.floats(0.01, 1.0)),
                    llm=draw(st.booleans()),
                    validated=draw(st.sampled_from([None, True])),
                )
            )
    else:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=10, unique=True)))
        for start, end in zip(cuts[::2], cuts[1::2]):
            results.append(_res(draw(_ENTITY), start, end, draw(st.floats(0.01, 1.0))))
    return text, results


def _check_preserved(text, results, mode):
    covered_in = set()
    for r in results:
        covered_in.update(range(r.start, r.end))
    operators = hipaa_operators(mode, key=KEY)
    out = anonymize(text, results, operators)
    resolved = resolve_overlaps(results, text)
    items = sorted(out.items, key=lambda i: i.start)
    assert len(items) == len(resolved)
    # rebuild: original gaps, byte-identical and in order, around the replacements
    rebuilt, pos = [], 0
    for r, item in zip(resolved, items):
        rebuilt.append(text[pos : r.start])
        rebuilt.append(out.text[item.start : item.end])
        pos = r.end
    rebuilt.append(text[pos:])
    assert "".join(rebuilt) == out.text
    gaps_ok = [out.text[a.end : b.start] for a, b in zip(items, items[1:])]
    assert gaps_ok == [text[a.end : b.start] for a, b in zip(resolved, resolved[1:])]
    covered_out = set()
    for r in resolved:
        covered_out.update(range(r.start, r.end))
    assert covered_out <= covered_in  # nothing outside the detections changes
    missed = covered_in - covered_out
    assert all(text[i].isspace() for i in missed)  # only whitespace fragments may be left


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_text_and_results(overlapping=False), st.sampled_from(["replace", "mask", "hash"]))
def test_anonymize_keeps_every_non_pii_character(case, mode):
    _check_preserved(*case, mode)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_text_and_results(overlapping=True), st.sampled_from(["replace", "mask"]))
def test_anonymize_keeps_non_pii_with_overlapping_results(case, mode):
    _check_preserved(*case, mode)


# The long fuzzing campaign (`pytest -m slow`): the same properties, 10,000 examples each.
@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_text_and_results(overlapping=False), st.sampled_from(["replace", "mask", "hash"]))
def test_anonymize_keeps_every_non_pii_character_long_run(case, mode):
    _check_preserved(*case, mode)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_text_and_results(overlapping=True), st.sampled_from(["replace", "mask"]))
def test_anonymize_keeps_non_pii_with_overlapping_results_long_run(case, mode):
    _check_preserved(*case, mode)


def _results_for(text: str, *pairs: tuple[str, str], occurrence: str = "all") -> list:
    out = []
    for value, entity in pairs:
        start = text.find(value)
        while start != -1:
            out.append(_res(entity, start, start + len(value), 0.9, llm=True))
            start = text.find(value, start + 1)
    return out


def test_replace_mode_consistent_surrogates():
    text = "John Doe met Jane Roe; later JOHN  DOE called Jane Roe in Boston."
    results = _results_for(
        text,
        ("John Doe", "PERSON"),
        ("JOHN  DOE", "PERSON"),
        ("Jane Roe", "PERSON"),
        ("Boston", "LOCATION"),
    )
    out = anonymize(text, results, hipaa_operators("replace"))
    assert out.text == (
        "<PERSON_1> met <PERSON_2>; later <PERSON_1> called <PERSON_2> in <LOCATION_1>."
    )
    plain = anonymize(text, results, hipaa_operators("replace", numbered=False))
    assert plain.text == "<PERSON> met <PERSON>; later <PERSON> called <PERSON> in <LOCATION>."
    # one table across documents keeps numbers consistent; by default each text restarts
    table = SurrogateTable()
    first = anonymize(
        "Jane Roe", _results_for("Jane Roe", ("Jane Roe", "PERSON")), surrogates=table
    )
    second = anonymize(
        "John Doe, Jane Roe",
        _results_for("John Doe, Jane Roe", ("John Doe", "PERSON"), ("Jane Roe", "PERSON")),
        surrogates=table,
    )
    assert first.text == "<PERSON_1>" and second.text == "<PERSON_2>, <PERSON_1>"


def test_mask_and_overrides():
    text = "Call 617-555-1234 or see John Doe."
    results = _results_for(text, ("617-555-1234", "PHONE_NUMBER"), ("John Doe", "PERSON"))
    out = anonymize(text, results, hipaa_operators("mask"))
    assert out.text == "Call ************ or see ********."
    ops = hipaa_operators("mask", overrides={"PERSON": OperatorConfig("replace")})
    assert anonymize(text, results, ops).text == "Call ************ or see <PERSON>."


def test_hash_mode_is_salted_and_consistent():
    text = "John Doe and John Doe and Jane Roe"
    results = _results_for(text, ("John Doe", "PERSON"), ("Jane Roe", "PERSON"))
    salt = "a-salt-of-16-bytes-or-more"
    a = anonymize(text, results, hipaa_operators("hash", salt=salt)).text.split(" and ")
    b = anonymize(text, results, hipaa_operators("hash", salt=salt)).text.split(" and ")
    c = anonymize(text, results, hipaa_operators("hash", salt="another-salt-of-16+")).text.split(
        " and "
    )
    assert a[0] == a[1] != a[2] and len(a[0]) == 64
    assert a == b and a[0] != c[0]
    r1 = anonymize(text, results, hipaa_operators("hash")).text.split(" and ")
    r2 = anonymize(text, results, hipaa_operators("hash")).text.split(" and ")
    assert r1[0] == r1[1] and r1[0] != r2[0]  # random salt: consistent within a preset only
    import hashlib

    assert a[0] == hashlib.sha256(b"John Doe" + salt.encode()).hexdigest()
    with pytest.raises(LLMNERError, match=r"\[E206\]"):
        hipaa_operators("hash", salt="short")


def test_encrypt_round_trip_and_key_errors():
    text = "Patient John Doe, MRN-42, phone 617-555-1234."
    results = _results_for(
        text,
        ("John Doe", "PERSON"),
        ("MRN-42", "MEDICAL_RECORD_NUMBER"),
        ("617-555-1234", "PHONE_NUMBER"),
    )
    out = anonymize(text, results, hipaa_operators("encrypt", key=KEY))
    assert "John" not in out.text and out.text.startswith("Patient ")
    assert deanonymize(out.text, out.items, key=KEY).text == text
    as_dicts = [
        {"start": i.start, "end": i.end, "entity_type": i.entity_type, "operator": i.operator}
        for i in out.items
    ]
    assert deanonymize(out.text, as_dicts, key=KEY).text == text
    with pytest.raises(LLMNERError, match=r"\[E205\]"):
        hipaa_operators("encrypt")
    with pytest.raises(LLMNERError, match=r"\[E205\]"):
        hipaa_operators("encrypt", key="too-short")
    with pytest.raises(LLMNERError, match=r"\[E204\]"):
        hipaa_operators("redact-ish")
    with pytest.raises(LLMNERError, match=r"\[E207\]"):
        anonymize("abc", [_res("PERSON", 1, 9, 0.9)])


# -- CLI ------------------------------------------------------------------------------------------
def _cli(*args: str) -> list[str]:
    """Arguments for the app: the command name is needed once the app has several commands."""
    is_group = isinstance(typer.main.get_command(app), typer.core.TyperGroup)
    return (["anonymize"] if is_group else []) + list(args)


def _run(*args: str):
    return CliRunner().invoke(app, _cli(*args, "--quiet"))


def test_cli_txt_round_trip(pipeline_dir, tmp_path):
    src = tmp_path / "in.txt"
    src.write_bytes(
        b"John Doe called 617-555-1234.\r\n\r\n  \nJane Roe in Boston\nno pii\nJohn Doe"
    )
    dst = tmp_path / "out.txt"
    result = _run(str(pipeline_dir), str(src), str(dst))
    assert result.exit_code == 0, result.output
    assert dst.read_bytes() == (
        b"<PERSON_1> called <PHONE_NUMBER_1>.\r\n\r\n  \n"
        b"<PERSON_1> in <LOCATION_1>\nno pii\n<PERSON_1>"
    )
    whole = tmp_path / "whole.txt"
    result = _run(str(pipeline_dir), str(src), str(whole), "--whole-file", "--mode", "mask")
    assert result.exit_code == 0, result.output
    assert whole.read_bytes() == (
        b"******** called ************.\r\n\r\n  \n******** in ******\nno pii\n********"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.txt", "out.txt", "whole.txt"]


def test_cli_jsonl_round_trip_with_encrypt(pipeline_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"id": 1, "body": "John Doe, MRN-55", "meta": {"k": [1, 2]}}, {"id": 2, "body": None}]
    src.write_text(json.dumps(rows[0]) + "\n\n" + json.dumps(rows[1]) + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    result = _run(
        str(pipeline_dir),
        str(src),
        str(dst),
        "--field",
        "body",
        "--mode",
        "encrypt",
        "--key",
        KEY,
        "--items-field",
        "spans",
    )
    assert result.exit_code == 0, result.output
    lines = dst.read_text(encoding="utf-8").split("\n")
    assert lines[1] == "" and lines[3] == ""
    first, second = json.loads(lines[0]), json.loads(lines[2])
    assert first["id"] == 1 and first["meta"] == {"k": [1, 2]}
    assert "John" not in first["body"]
    assert deanonymize(first["body"], first["spans"], key=KEY).text == rows[0]["body"]
    assert second == {"id": 2, "body": None, "spans": []}


def test_cli_csv_round_trip(pipeline_dir, tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(b'id,note,extra\r\n1,"John Doe, Boston",keep\r\n2,"two\nlines Jane Roe",ok\r\n')
    dst = tmp_path / "out.csv"
    result = _run(str(pipeline_dir), str(src), str(dst), "--column", "note")
    assert result.exit_code == 0, result.output
    assert dst.read_bytes() == (
        b'id,note,extra\r\n1,"<PERSON_1>, <LOCATION_1>",keep\r\n2,"two\nlines <PERSON_1>",ok\r\n'
    )


def test_cli_tsv_with_file_wide_surrogates(pipeline_dir, tmp_path):
    src = tmp_path / "in.tsv"
    src.write_text("text\tn\nJane Roe\t1\nJohn Doe and Jane Roe\t2\n", encoding="utf-8")
    dst = tmp_path / "out.tsv"
    result = _run(str(pipeline_dir), str(src), str(dst), "--surrogate-scope", "file")
    assert result.exit_code == 0, result.output
    assert dst.read_text(encoding="utf-8") == (
        "text\tn\n<PERSON_1>\t1\n<PERSON_2> and <PERSON_1>\t2\n"
    )


def test_cli_failures_leave_no_output(pipeline_dir, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"text": "John Doe"}\n{"text": "Jane Roe"}\n{"text": "secret value\n', encoding="utf-8"
    )
    dst = tmp_path / "out.jsonl"
    stop = ("--on-error", "stop")
    result = _run(str(pipeline_dir), str(src), str(dst), *stop)
    assert result.exit_code == 1
    assert "[E208]" in result.output and "Line 3" in result.output
    assert "secret" not in result.output and "John" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]  # no partial, no temp
    dst.write_text("previous", encoding="utf-8")
    assert _run(str(pipeline_dir), str(src), str(dst), *stop).exit_code == 1
    assert dst.read_text(encoding="utf-8") == "previous"  # an old output survives a failure
    src.write_text('{"text": "John Doe"}\n{"body": "x"}\n', encoding="utf-8")
    result = _run(str(pipeline_dir), str(src), str(dst), *stop)
    assert result.exit_code == 1 and "[E209]" in result.output and "Line 2" in result.output
    csv_src = tmp_path / "in.csv"
    csv_src.write_text("id,body\n1,John Doe\n", encoding="utf-8")
    result = _run(str(pipeline_dir), str(csv_src), str(tmp_path / "o.csv"))
    assert result.exit_code == 1 and "[E211]" in result.output
    result = _run(str(tmp_path / "no-pipeline"), str(src), str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1 and "[E202]" in result.output
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "o.jsonl").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "in.jsonl", "out.jsonl"]


def test_cli_subprocess_with_code(pipeline_dir, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("Jane Roe\n", encoding="utf-8")
    dst = tmp_path / "out.txt"
    env = {**os.environ, "SPACY_LLMNER_KEY": KEY}
    cmd = [
        sys.executable,
        "-m",
        "spacy_llmner",
        *_cli(
            "--code",
            str(TESTS / "_presidio_scripted.py"),
            str(pipeline_dir),
            str(src),
            str(dst),
            "--mode",
            "encrypt",
            "--quiet",
        ),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = dst.read_text(encoding="utf-8")
    assert out.endswith("\n") and "Jane" not in out
    assert (
        deanonymize(
            out,
            [{"start": 0, "end": len(out) - 1, "entity_type": "PERSON", "operator": "encrypt"}],
            key=KEY,
        ).text
        == "Jane Roe\n"
    )


# -- no network -----------------------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    import spacy.cli

    monkeypatch.setattr(spacy.cli, "download", refuse)
    with pytest.raises(RuntimeError):
        socket.create_connection(("127.0.0.1", 9))


def test_no_network_calls(no_network, pipeline_dir):
    analyzer = build_analyzer(pipeline_dir)
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    # Presidio's own e-mail recognizer fetches the public suffix list on first use
    assert not any(type(r) is EmailRecognizer for r in analyzer.registry.recognizers)
    text = TEXT + " Visit https://www.example.org or mail jane.roe@hospital.co.uk from 10.0.0.1."
    results = analyzer.analyze(text, "en")
    types = {r.entity_type for r in results}
    assert {"EMAIL_ADDRESS", "URL", "IP_ADDRESS", "CREDIT_CARD", "PERSON"} <= types
    out = anonymize(text, results, hipaa_operators("replace"))
    assert "jane.roe@" not in out.text and "<EMAIL_ADDRESS_2>" in out.text


# -- zero-code route --------------------------------------------------------------------------
def test_zero_code_route_stock_engine_constant_scores(pipeline_dir):
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    labels = scripted.ScriptedNER([[r"x", lab, 1.0] for _, lab, _ in scripted.RULES]).labels
    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": str(pipeline_dir)}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {label: label for label in labels},
            "labels_to_ignore": ["ORGANIZATION"],
            "default_score": 0.6,
        },
    }
    engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_nlp_recognizer(engine)
    stock = AnalyzerEngine(nlp_engine=engine, registry=registry)
    results = stock.analyze(TEXT, "en")
    assert {r.entity_type for r in results} >= {"PERSON", "MEDICAL_RECORD_NUMBER", "LOCATION"}
    assert "ORGANIZATION" not in {r.entity_type for r in results}
    assert {r.score for r in results} == {0.6}  # Presidio's spaCy engine: a constant score

    config = {**config, "nlp_engine_name": "spacy_llmner"}
    ours = NlpEngineProvider(
        nlp_engines=(LLMNERNlpEngine,), nlp_configuration=config
    ).create_engine()
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.add_nlp_recognizer(ours)
    scored = AnalyzerEngine(nlp_engine=ours, registry=registry).analyze(TEXT, "en")
    by_text = {TEXT[r.start : r.end]: r.score for r in scored}
    assert by_text["John Doe"] == pytest.approx(0.93) and by_text["Boston"] == pytest.approx(0.71)
