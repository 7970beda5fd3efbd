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
    vocab,
    write_corpus,
)
from spacy_llmner.data import identifiers as ids
from spacy_llmner.data.blank import blank
from spacy_llmner.data.generator import _assemble, _noisy, _pool
from spacy_llmner.data.heldout import HELDOUT_IDS, HELDOUT_KINDS, HELDOUT_TEMPLATES, all_templates
from spacy_llmner.data.slots import TEMPLATE_SLOT, template_labels
from spacy_llmner.data.templates import FOCUS, KINDS
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


def _values(docs: list[GeneratedDoc]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for d in docs:
        for s, e, label in d.spans:
            out.setdefault(label, []).append(d.text[s:e])
    return out


def _outside(doc: GeneratedDoc) -> str:
    """The document's text with every entity blanked out (same length)."""
    chars = list(doc.text)
    for s, e, _ in doc.spans:
        chars[s:e] = " " * (e - s)
    return "".join(chars)


def test_wider_formats(docs: list[GeneratedDoc]) -> None:
    values = _values(docs)
    dates = values["DATE_TIME"]
    assert any(re.fullmatch(r"(?i)[a-z]+ \d{1,2}(st|nd|rd|th)|\d{1,2}(st|nd|rd|th) [a-z]+", v) for v in dates)
    assert any(re.fullmatch(r"(?i)\d{1,2}(st|nd|rd|th) of [a-z]+", v) for v in dates)
    assert any(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", v) for v in dates)  # database style
    assert any(re.fullmatch(r"(?i)\d{1,2}-[a-z]{3}-\d{4}", v) for v in dates)  # 04-Mar-2021
    assert any(re.fullmatch(r"\d{1,2}/\d{1,2}/\d\d", v) for v in dates)  # 3/4/21
    assert any(re.fullmatch(r"(?i)\d{1,2}(:\d\d)? ?[ap]\.?m\.?", v) for v in dates)  # times alone
    phones = values["PHONE_NUMBER"]
    assert any(re.fullmatch(r"\+?1?\.?\d{3}\.\d{3}\.\d{4}", v) for v in phones)  # dots
    assert any(re.fullmatch(r"[\d ]+", v) and " " in v for v in phones)  # spaces only
    assert any(re.fullmatch(r"\d{10,11}", v) for v in phones)  # no separators at all
    ages = values["AGE"]
    assert any(re.fullmatch(r"\d+(yo|yrs)", v) for v in ages)  # glued: the token is the span
    for pattern in (r"\b\d+ y/o\b", r"\b\d+yo\b", r"(?i)\baged \d+", r"\b\d+-year-old\b", r"\b\d+ ?M w/"):
        assert any(re.search(pattern, d.text) for d in docs), pattern
    names = values["PERSON"]
    assert any(re.fullmatch(r"[A-Z]\.? [A-Z][a-z]+", v) for v in names)  # J. Smith / J Smith
    assert any(re.fullmatch(r"[A-Z][a-z]+, [A-Z]\.", v) for v in names)  # Smith, J.
    assert any(v.isupper() and " " in v for v in names) and any(v.islower() and " " in v for v in names)
    # surname or first name alone, with no title before it
    assert any(re.fullmatch(r"[A-Z][a-z]+", d.text[s:e]) and not re.search(r"(Mr|Ms|Mrs|Miss|Mx|Dr)\.? $", d.text[:s])
               for d in docs for s, e, label in d.spans if label == "PERSON")
    assert any("\n" in v for v in values["LOCATION"]) and any("\n" not in v and "," in v for v in values["LOCATION"])
    texts = "\n".join(d.text for d in docs)
    for shorthand in ("c/o", "s/p", "F/u w/", "MRN: ", "Hx ", "PMH"):
        assert shorthand in texts, shorthand
    assert sum(d.kind == "social_post" for d in docs) > 20 and sum(d.kind == "ward_list" for d in docs) > 20


HANDLE_OR_HASHTAG = re.compile(r"(?<![\w.])@\w+|(?:" + "|".join(map(re.escape, vocab.HASHTAGS)) + r")(?!\w)", re.I)


def test_tables_lists_and_handles(docs: list[GeneratedDoc]) -> None:
    rows = 0
    for d in docs:
        for line in d.text.split("\n"):
            cells = re.split(r" \| |\t+| {2,}|; ", line.strip("| "))
            if len(cells) >= 3:
                rows += 1
        for m in HANDLE_OR_HASHTAG.finditer(d.text):  # handles and hashtags stay untagged
            assert not _covered(d, m.start(), m.end()), (d.kind, m.group()[0])
        for s, e, _ in d.spans:
            assert "|" not in d.text[s:e] and "\t" not in d.text[s:e]  # spans never cross a column
    assert rows > 100
    assert any(re.search(r"(?<![\w.])@\w+", d.text) for d in docs if d.kind == "social_post")
    assert any(re.search(r"(?m)^(- |\* |• |\d\. )", d.text) for d in docs)  # bulleted/numbered lists


def test_new_hard_negatives_untagged(docs: list[GeneratedDoc]) -> None:
    terms = [t for t in (*vocab.LAB_CODES, *vocab.PRODUCT_CODES, *vocab.VERSIONS) if len(t) > 3]
    patterns = [re.compile(r"(?<![\w-])" + re.escape(t) + r"(?![\w-])") for t in terms]
    patterns += [re.compile(r"(?i)\bthe (\d{4}) (guidelines?|consensus|revised|formulary|update|flu)"),
                 re.compile(r"\b\d+(?:\.\d+)? ?mg/dL\b"), re.compile(r"\b5 mL\b"),
                 re.compile(r"Glasgow Coma Scale|Apgar|Parkinson's disease|Crohn's")]
    seen: Counter[str] = Counter()
    for doc in docs:
        for pattern in patterns:
            for m in pattern.finditer(doc.text):
                seen[pattern.pattern] += 1
                assert not _covered(doc, m.start(), m.end()), (doc.kind, pattern.pattern)
    assert all(seen[p.pattern] > 0 for p in patterns[-4:]), seen
    assert sum(seen[p.pattern] > 0 for p in patterns[:-4]) >= 0.8 * len(terms)


def test_casing_and_noise_keep_spans_aligned(docs: list[GeneratedDoc]) -> None:
    upper = [d for d in docs if d.spans and d.text == d.text.upper() and re.search(r"[A-Z]{4}", d.text)]
    lower = [d for d in docs if d.spans and d.text == d.text.lower() and re.search(r"[a-z]{4}", d.text)]
    assert len(upper) > 40 and len(lower) > 40
    assert {"clinical_note", "nursing_handoff"} & {d.kind for d in upper}
    assert any(re.search(r"[a-z]1[a-z]", _outside(d)) for d in docs)  # l/1 swaps occur
    tokenizer = blank("en").tokenizer
    for d in upper + lower:  # aligned after casing (the generator never relaxes this)
        tokens = tokenizer(d.text)
        assert all(tokens.char_span(s, e, alignment_mode="strict") is not None for s, e, _ in d.spans)
    # noise never touches an entity, and casing keeps spans exact even where it changes length
    pieces = [("Seen by Dr. ", None), ("Jane Strauß", "PERSON"), (" at the clinic on ", None),
              ("12 Hill Road, Leeds", "LOCATION"), (" - all well; follow up later.", None)]
    for seed in range(50):
        noisy = _noisy(pieces, random.Random(seed))
        assert [t for t, lab in noisy if lab] == ["Jane Strauß", "12 Hill Road, Leeds"]
        text, spans = _assemble(noisy, "upper")
        assert [text[s:e] for s, e, _ in spans] == ["JANE STRAUSS", "12 HILL ROAD, LEEDS"]
    all_noise = "".join(t for t, _ in _noisy(pieces * 20, random.Random(0)))
    assert "  " in all_noise and "\n" in all_noise and re.search(r"[a-z]1[a-z]", all_noise)


# --- held-out templates -------------------------------------------------------------------------


def _norm(text: str) -> str:
    """Undo casing and noise so that template text can be found in documents."""
    return re.sub(r"\s+", " ", text.lower().replace("1", "l")).strip()


def _heldout_fragments() -> set[str]:
    """Literal text (between slots) of held-out templates that no train-side template contains."""
    def parts(template: str) -> set[str]:
        return {_norm(p) for p in TEMPLATE_SLOT.split(template)[::2] if len(_norm(p)) >= 18}

    held = {f for t in HELDOUT_TEMPLATES for f in parts(t)}
    train = [_norm(t) for t in all_templates() - HELDOUT_TEMPLATES]
    return {f for f in held if not any(f in t for t in train)}


@pytest.fixture(scope="module")
def heldout_corpus() -> dict[str, list[GeneratedDoc]]:
    return corpus_docs(600, 100, 150, seed=11)


def test_heldout_templates_only_in_test(heldout_corpus: dict[str, list[GeneratedDoc]]) -> None:
    share = len(HELDOUT_TEMPLATES) / len(all_templates())
    assert 0.15 <= share <= 0.3 and HELDOUT_KINDS
    for split in ("train", "dev"):
        for d in heldout_corpus[split]:
            assert d.template_ids and not set(d.template_ids) & HELDOUT_IDS, split
            assert d.kind not in HELDOUT_KINDS
    test = heldout_corpus["test"]
    assert all(set(d.template_ids) & HELDOUT_IDS for d in test)
    assert HELDOUT_KINDS <= {d.kind for d in test}
    # the same, read from the text itself: held-out wording never reaches train or dev
    held = _heldout_fragments()
    assert len(held) > 30
    for split in ("train", "dev"):
        texts = [_norm(d.text) for d in heldout_corpus[split]]
        assert not [f for f in held if any(f in t for t in texts)], split
    tests = [_norm(d.text) for d in test]
    assert sum(any(f in t for f in held) for t in tests) > 0.4 * len(tests)


def test_heldout_off_and_default_generate() -> None:
    docs = corpus_docs(300, 0, 20, seed=11, heldout=False)
    assert any(set(d.template_ids) & HELDOUT_IDS for d in docs["train"])
    assert not all(set(d.template_ids) & HELDOUT_IDS for d in docs["test"])
    assert generate(3, seed=1) == generate(3, seed=1, templates="all")
    with pytest.raises(ValueError):
        generate(1, templates="test")  # type: ignore[arg-type]


def test_every_label_trainable() -> None:
    for register, pools in FOCUS.items():
        for label, pool in pools.items():
            train = _pool(pool, False, "train")
            assert train and all(label in template_labels(t) for t in train), (register, label)
    for kind in KINDS:
        if kind.heldout:
            continue
        for pool in (kind.openers, kind.body, kind.closers):
            assert _pool(pool, False, "train") and _pool(pool, True, "train"), kind.name
    train = generate(1000, seed=12, templates="train")
    per_label = Counter(label for d in train for label in {s[2] for s in d.spans})
    assert all(per_label[label] >= 25 for label in HIPAA_LABELS), per_label
    assert not {d.kind for d in train} & HELDOUT_KINDS


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


def test_xml_name_labels_through_docbin_and_jsonl(tmp_path: Path) -> None:
    """Labels with '-' and '.' (WNUT-17's creative-work, dotted hierarchies) convert as they are:
    to a DocBin and back, from JSONL with a label map that renames into and out of them."""
    text = "Watching Rick and Morty in L.A. with Ann."
    spans = [(9, 23, "creative-work"), (27, 31, "geo.city"), (37, 40, "person")]
    (doc,) = to_docbin([{"text": text, "spans": spans}]).get_docs(blank("en").vocab)
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == spans
    records = [{"text": text, "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]}]
    db, stats = jsonl_to_docbin(_write(tmp_path / "in.jsonl", records),
                                label_map=parse_label_map("geo.city=geo.place,person=,work.of-art=x"))
    assert stats.labels == Counter({"creative-work": 1, "geo.place": 1}) and stats.dropped_label == 1
    assert docbin_to_jsonl(db) == [{"text": text, "spans": [
        {"start": 9, "end": 23, "label": "creative-work"}, {"start": 27, "end": 31, "label": "geo.place"}]}]
    assert parse_label_map("creative-work=work.of-art, geo.city=") == {"creative-work": "work.of-art", "geo.city": None}


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
    # an inline pair whose target ends in .json is a pair, not a file to open
    assert parse_label_map("doc=notes.json") == {"doc": "notes.json"}
    with pytest.raises(LLMNERError, match="E109"):
        parse_label_map(str(tmp_path / "missing.json"))


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


def test_cli_generate_heldout_flag(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["--n-train", "10", "--n-dev", "5", "--n-test", "5", "--seed", "3"]
    on = runner.invoke(app, ["generate", str(tmp_path / "on"), *args])
    off = runner.invoke(app, ["generate", str(tmp_path / "off"), *args, "--no-heldout"])
    assert on.exit_code == 0 and off.exit_code == 0, on.output + off.output
    assert f"{len(HELDOUT_TEMPLATES)} of {len(all_templates())} templates" in on.output
    assert "No held-out templates" in off.output

    def texts(path: Path) -> list[str]:
        return [d.text for d in DocBin().from_disk(path).get_docs(blank("en").vocab)]

    assert texts(tmp_path / "on" / "test.spacy") == [d.text for d in corpus_docs(10, 5, 5, seed=3)["test"]]
    assert texts(tmp_path / "off" / "test.spacy") != texts(tmp_path / "on" / "test.spacy")
