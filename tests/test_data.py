"""Synthetic data generator, DocBin corpora, JSONL conversion and the data CLI."""

from __future__ import annotations

import json
import random
import re
import statistics
from collections import Counter
from pathlib import Path

import pytest
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_llmner.cli import app
from spacy_llmner.data import (
    HIPAA_LABELS,
    GeneratedDoc,
    corpus_docs,
    docbin_to_jsonl,
    generate,
    jsonl_to_docbin,
    parse_label_map,
    to_docbin,
    write_corpus,
)
from spacy_llmner.data import identifiers as ids
from spacy_llmner.data import vocab
from spacy_llmner.data.blank import blank
from spacy_llmner.errors import LLMNERError

REPO = Path(__file__).resolve().parents[1]
CLUENER = REPO / ".." / "shared" / "data" / "cluener2020" / "train.jsonl"
UNITS = {"mg", "mcg", "mL", "mmHg", "bpm", "kg", "units", "IU", "mmol/L", "mg/dL", "%"}


@pytest.fixture(scope="module")
def docs() -> list[GeneratedDoc]:
    return generate(2000, seed=0)


def _covered(doc: GeneratedDoc, start: int, end: int) -> bool:
    return any(s < end and start < e for s, e, _ in doc.spans)


# --- generator ----------------------------------------------------------------------------------


def test_label_set() -> None:
    assert len(HIPAA_LABELS) == 21 == len(set(HIPAA_LABELS))
    assert {"PERSON", "LOCATION", "DATE_TIME", "Rx_NUMBER", "US_SSN", "ORGANIZATION"} <= set(HIPAA_LABELS)


def test_deterministic_and_independent_of_global_random() -> None:
    random.seed(1)
    a = generate(40, seed=7)
    random.seed(2)
    random.random()
    b = generate(40, seed=7)
    assert a == b
    assert generate(15, seed=7) == a[:15]  # document i depends only on (seed, i)
    c = generate(40, seed=8)
    assert [d.text for d in a] != [d.text for d in c]
    assert len({d.text for d in a} & {d.text for d in c}) <= 2  # at most a chance short duplicate


def test_bad_arguments() -> None:
    with pytest.raises(LLMNERError, match="E101"):
        generate(1, locales=("fr_FR",))
    with pytest.raises(LLMNERError, match="E102"):
        generate(-1)


def test_spans_valid_and_token_aligned(docs: list[GeneratedDoc]) -> None:
    tokenizer = blank("en").tokenizer
    for doc in docs:
        assert doc.text and doc.text == doc.text.strip()
        prev_end = 0
        for start, end, label in doc.spans:
            assert label in HIPAA_LABELS
            assert prev_end <= start < end <= len(doc.text)
            value = doc.text[start:end]
            assert value == value.strip()
            prev_end = end
        tokens = tokenizer(doc.text)
        for start, end, label in doc.spans:
            assert tokens.char_span(start, end, label=label, alignment_mode="strict") is not None


def test_label_coverage_and_shape(docs: list[GeneratedDoc]) -> None:
    sample = docs[:1000]
    per_label = Counter(label for d in sample for label in {s[2] for s in d.spans})
    for label in HIPAA_LABELS:
        assert per_label[label] >= 30, (label, per_label[label])  # >= 3% of documents
    empty = sum(1 for d in sample if not d.spans)
    assert 50 <= empty <= 150
    assert len({d.kind for d in sample}) >= 10
    words = [len(d.text.split()) for d in sample]
    assert statistics.median(words) < 60
    assert sum(20 <= w <= 90 for w in words) >= 0.75 * len(words)
    units = [len([p for p in re.split(r"(?<=[.?!])\s+|\n+", d.text) if p.strip()]) for d in sample]
    assert statistics.median(units) <= 8 and statistics.quantiles(units, n=20)[-1] <= 12  # sentences/lines


def test_value_formats_are_varied_and_valid(docs: list[GeneratedDoc]) -> None:
    values: dict[str, list[str]] = {}
    for d in docs:
        for s, e, label in d.spans:
            values.setdefault(label, []).append(d.text[s:e])
    cards = [v for v in values["CREDIT_CARD"] if len(re.sub(r"\D", "", v)) >= 13]
    assert cards and all(ids.luhn_valid(v) for v in cards)
    assert all(ids.iban_valid(v) for v in values["IBAN_CODE"])
    assert any("\n" in v for v in values["LOCATION"])  # multi-line addresses
    assert any(re.search(r"(?i)ext|x\d", v) for v in values["PHONE_NUMBER"])  # extensions
    assert any(v.startswith("+") for v in values["PHONE_NUMBER"])  # international
    assert any(":" in v for v in values["IP_ADDRESS"]) and any(v.count(".") == 3 for v in values["IP_ADDRESS"])
    assert any(re.fullmatch(r"\d{4}", v) for v in values["DATE_TIME"])  # bare years are DATE_TIME
    assert any(re.search(r"[A-Za-z]", v) for v in values["DATE_TIME"])
    assert any(re.search(r"\d:\d\d", v) for v in values["DATE_TIME"])
    for label in ("MEDICAL_RECORD_NUMBER", "HEALTH_PLAN_ID", "DEVICE_ID", "ORDER_NUMBER", "Rx_NUMBER"):
        assert len({re.sub(r"\d", "9", re.sub(r"[A-Z]", "A", v)) for v in values[label]}) >= 5, label


def test_hard_negatives_present_and_untagged(docs: list[GeneratedDoc]) -> None:
    tokenizer = blank("en").tokenizer
    terms = [*vocab.DRUGS, *vocab.EPONYMS, *vocab.PLACE_DISEASES, *vocab.ICD10, *vocab.ROLES]
    patterns = [re.compile(r"(?<![\w-])" + re.escape(t) + r"(?![\w-])") for t in terms]
    patterns += [re.compile(r"CPT \d{5}"), re.compile(r"\b(?:Room|Bed|Bay|Ward) \d+\w*"),
                 re.compile(r"\bBP \d+/\d+"), re.compile(r"\b\d+(?:\.\d+)? ?(?:mg|mL|mcg)\b")]
    seen: Counter[str] = Counter()
    for doc in docs:
        for pattern in patterns:
            for m in pattern.finditer(doc.text):
                seen[pattern.pattern] += 1
                assert not _covered(doc, m.start(), m.end()), (doc.kind, m.group())
        tokens = tokenizer(doc.text)
        for s, e, _ in doc.spans:
            assert not {t.text for t in tokens.char_span(s, e)} & UNITS
    assert sum(seen.values()) > 2000
    assert all(seen[p.pattern] > 0 for p in patterns[-4:])  # codes, rooms, vitals, doses occur


# --- DocBin corpora -----------------------------------------------------------------------------


def test_to_docbin_sets_ents() -> None:
    nlp = blank("en")
    items = [*generate(5, seed=3), {"text": "Call Jane now", "spans": [{"start": 5, "end": 9, "label": "PERSON"}]},
             {"text": "Call Jane now", "spans": [(5, 9, "PERSON")]}]
    docs = list(to_docbin(items).get_docs(nlp.vocab))
    for item, doc in zip(items[:5], docs):
        assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == list(item.spans)
    assert [(e.text, e.label_) for e in docs[-1].ents] == [("Jane", "PERSON")]
    with pytest.raises(LLMNERError, match="E110"):
        to_docbin([{"text": "Call Jane now", "spans": [(6, 9, "PERSON")]}])


def test_write_corpus_disjoint_splits(tmp_path: Path) -> None:
    paths = write_corpus(tmp_path, 30, 10, 10, seed=4)
    assert set(paths) == {"train", "dev", "test"} and all(p.is_file() for p in paths.values())
    texts = {s: [d.text for d in DocBin().from_disk(p).get_docs(blank("en").vocab)] for s, p in paths.items()}
    assert [len(texts[s]) for s in ("train", "dev", "test")] == [30, 10, 10]
    assert not set(texts["train"]) & set(texts["dev"]) and not set(texts["dev"]) & set(texts["test"])
    assert not set(texts["train"]) & set(texts["test"])
    again = corpus_docs(30, 10, 10, seed=4)
    assert [d.text for d in again["dev"]] == texts["dev"]


# --- JSONL --------------------------------------------------------------------------------------


def _write(path: Path, records: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def test_jsonl_round_trip(tmp_path: Path) -> None:
    records = [{"text": d.text, "spans": [{"start": s, "end": e, "label": label} for s, e, label in d.spans]}
               for d in generate(50, seed=9)]
    db, stats = jsonl_to_docbin(_write(tmp_path / "in.jsonl", records))
    assert stats.docs == 50 and stats.spans_in == stats.spans_kept
    assert docbin_to_jsonl(db) == records
    db.to_disk(tmp_path / "out.spacy")
    assert docbin_to_jsonl(tmp_path / "out.spacy", tmp_path / "out.jsonl") == records
    lines = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == records


def test_label_map_alignment_and_overlaps(tmp_path: Path) -> None:
    text = "Jane Doe lives in Springfield since 2019."
    path = _write(tmp_path / "x.jsonl", [
        {"text": text, "spans": [
            {"start": 0, "end": 8, "label": "name"}, {"start": 0, "end": 4, "label": "first"},
            {"start": 18, "end": 29, "label": "city"}, {"start": 36, "end": 40, "label": "year"},
            {"start": 19, "end": 24, "label": "name"},  # inside a token
        ]},
        {"text": "no entities here"},
    ])
    db, stats = jsonl_to_docbin(path, label_map={"name": "PERSON", "city": "LOCATION", "year": None})
    ents = [[(e.text, e.label_) for e in d.ents] for d in db.get_docs(blank("en").vocab)]
    assert ents == [[("Jane Doe", "PERSON"), ("Springfield", "LOCATION")], []]
    assert (stats.docs, stats.spans_in, stats.spans_kept) == (2, 5, 2)
    assert (stats.dropped_label, stats.dropped_misaligned, stats.dropped_overlap) == (1, 1, 1)
    assert stats.renamed == 3 and stats.labels == Counter({"PERSON": 1, "LOCATION": 1})
    _, loose = jsonl_to_docbin(path, alignment_mode="expand")
    assert loose.dropped_misaligned == 0 and loose.adjusted == 1
    with pytest.raises(LLMNERError, match="E107"):
        jsonl_to_docbin(path, alignment_mode="fuzzy")


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ('{"text": "Jane Doe", "spans": [', "E103"),
        ('{"spans": []}', "E104"),
        ('["Jane Doe"]', "E104"),
        ('{"text": "Jane Doe", "spans": [{"start": 0, "end": 4}]}', "E105"),
        ('{"text": "Jane Doe", "spans": [{"start": "0", "end": 4, "label": "P"}]}', "E105"),
        ('{"text": "Jane Doe", "spans": [{"start": 0, "end": 40, "label": "P"}]}', "E106"),
        ('{"text": "Jane Doe", "spans": [{"start": 4, "end": 4, "label": "P"}]}', "E106"),
        ('{"text": "Jane Doe", "spans": [{"start": -1, "end": 4, "label": "P"}]}', "E106"),
    ],
)
def test_malformed_lines_name_the_line(tmp_path: Path, line: str, code: str) -> None:
    path = _write(tmp_path / "bad.jsonl", [{"text": "ok", "spans": []}, "", line])
    with pytest.raises(LLMNERError, match=code) as err:
        jsonl_to_docbin(path)
    assert "Line 3 " in str(err.value) and "Jane" not in str(err.value)


def test_parse_label_map(tmp_path: Path) -> None:
    assert parse_label_map("name=PERSON, book=,address=LOCATION") == {
        "name": "PERSON", "book": None, "address": "LOCATION"}
    (tmp_path / "m.json").write_text('{"name": "PERSON", "book": null, "game": ""}')
    assert parse_label_map(str(tmp_path / "m.json")) == {"name": "PERSON", "book": None, "game": None}
    with pytest.raises(LLMNERError, match="E109"):
        parse_label_map("name")


def test_cluener_conversion(tmp_path: Path) -> None:
    if not CLUENER.is_file():
        pytest.skip(f"CLUENER2020 data not present at {CLUENER}")
    with CLUENER.open(encoding="utf-8") as f:
        lines = [next(f) for _ in range(200)]
    path = tmp_path / "clue.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    db, stats = jsonl_to_docbin(path, label_map={"name": "PERSON", "address": "LOCATION"}, lang="zh")
    assert stats.docs == 200 and stats.dropped_misaligned == 0
    assert stats.spans_kept == stats.spans_in - stats.dropped_overlap > 300
    assert stats.labels["PERSON"] > 0 and stats.labels["LOCATION"] > 0 and stats.labels["company"] > 0
    back = docbin_to_jsonl(db, lang="zh")
    originals = [json.loads(line) for line in lines]
    assert [r["text"] for r in back] == [o["text"] for o in originals]
    rename = {"name": "PERSON", "address": "LOCATION"}
    for orig, rec in zip(originals, back):
        expected = sorted((s["start"], s["end"], rename.get(s["label"], s["label"])) for s in orig["spans"])
        got = [(s["start"], s["end"], s["label"]) for s in rec["spans"]]
        assert set(got) <= set(expected) and (len(got) == len(expected) or stats.dropped_overlap)


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_generate_and_convert(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "corpus"
    result = runner.invoke(app, ["generate", str(out), "--n-train", "40", "--n-dev", "10", "--n-test", "10",
                                 "--seed", "2"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["dev.spacy", "test.spacy", "train.spacy"]
    assert "PERSON" in result.output and "documents" in result.output
    train = list(DocBin().from_disk(out / "train.spacy").get_docs(blank("en").vocab))
    assert len(train) == 40
    assert not any(e.text in result.output for d in train for e in d.ents if len(e.text) > 4)  # no raw values

    records = docbin_to_jsonl(out / "dev.spacy", tmp_path / "dev.jsonl")
    result = runner.invoke(app, ["convert", str(tmp_path / "dev.jsonl"), str(tmp_path / "dev2.spacy"),
                                 "--label-map", "PERSON=NAME,DATE_TIME="])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output[result.output.index("{"):])
    assert stats["docs"] == 10 and "NAME" in stats["labels"] and "DATE_TIME" not in stats["labels"]
    assert len(docbin_to_jsonl(tmp_path / "dev2.spacy")) == len(records)
    bad = runner.invoke(app, ["convert", str(tmp_path / "missing.jsonl"), str(tmp_path / "x.spacy")])
    assert bad.exit_code == 1 and "E108" in bad.output
