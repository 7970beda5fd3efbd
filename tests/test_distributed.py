"""The Ray runner's parts that need no Ray: imports, shard plans, manifest, score merging."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spacy_llmner.cli import app
from spacy_llmner.corpus.inputs import discover, plan
from spacy_llmner.corpus.manifest import Manifest
from spacy_llmner.errors import LLMNERError
from spacy_llmner.evaluation.ner import error_kinds, merge_scores, score_chars, score_spans


def test_package_and_cli_import_without_ray():
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "import spacy_llmner, spacy_llmner.cli, spacy_llmner.distributed\n"
        "assert 'ray.data' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_ray_engine_without_ray_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "John Doe"}\n', encoding="utf-8")
    for args in (
        ["anonymize", "pipe", str(src), str(tmp_path / "out"), "--engine", "ray"],
        ["evaluate", "pipe", str(src), "--engine", "ray"],
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1, result.output
        assert "[E501]" in result.output and "pip install spacy_llmner[ray]" in result.output
    assert not (tmp_path / "out").exists()  # refused before any work


def _shard_bytes(path: Path, shards) -> list[bytes]:
    data = path.read_bytes()
    return [data[s.start : s.stop] for s in shards]


def test_jsonl_shards_cover_every_line_once(tmp_path):
    path = tmp_path / "a.jsonl"
    lines = [f'{{"text": "line {i}"}}\n'.encode() for i in range(10)] + [b"\n", b'{"text": "last"}']
    path.write_bytes(b"".join(lines))
    (file,) = discover(path)
    shards = plan(file, 5)
    assert [(s.first, s.count) for s in shards] == [(1, 5), (6, 5), (11, 2)]
    assert b"".join(_shard_bytes(path, shards)) == path.read_bytes()
    assert [s.id for s in shards] == ["a.jsonl#0", "a.jsonl#1", "a.jsonl#2"]
    assert len(plan(file, 0)) == 1 and plan(file, 0)[0].count == 12
    assert [s.count for s in plan(file, 5, limit=3)] == [3]  # non-blank lines
    empty = tmp_path / "e.jsonl"
    empty.write_bytes(b"")
    (shard,) = plan(discover(empty)[0], 5)
    assert (shard.start, shard.stop, shard.count) == (0, 0, 0)  # an empty file still gets output


def test_csv_shards_respect_quoted_newlines(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b'id,text\r\n1,"two\nlines"\r\n2,plain\r\n3,"a,b"\r\n4,x\r\n')
    shards = plan(discover(path)[0], 3)
    assert [(s.first, s.count) for s in shards] == [(1, 3), (4, 1)]
    assert _shard_bytes(path, shards) == [b'1,"two\nlines"\r\n2,plain\r\n3,"a,b"\r\n', b"4,x\r\n"]


def test_discover_folders_globs_and_refusals(tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for name in ("b.jsonl", "sub/a.csv", "_skip.jsonl", "notes.md"):
        (tmp_path / "in" / name).write_text("", encoding="utf-8")
    out = tmp_path / "in" / "out"
    out.mkdir()
    (out / "b.jsonl").write_text("", encoding="utf-8")
    assert [f.rel for f in discover(tmp_path / "in", exclude=out)] == ["b.jsonl", "sub/a.csv"]
    assert [f.rel for f in discover(f"{tmp_path}/in/**/*.csv")] == ["a.csv"]
    with pytest.raises(LLMNERError, match="E502"):
        discover(tmp_path / "nothing*.jsonl")
    (tmp_path / "in" / "c.txt").write_text("x", encoding="utf-8")  # txt: both engines read it
    assert [f.rel for f in discover(tmp_path / "in", exclude=out)] == ["b.jsonl", "c.txt", "sub/a.csv"]
    (tmp_path / "in" / "d.spacy").write_bytes(b"")
    with pytest.raises(LLMNERError, match=r"E503.*DocBin"):
        discover(tmp_path / "in")


def test_manifest_resumes_the_same_job_only(tmp_path):
    job = {"settings": {"mode": "replace"}, "files": []}
    manifest = Manifest.open(tmp_path / "w", job, tmp_path)
    manifest.finish_shard("a.jsonl#0", {"records": 3, "written": 3, "errors": 0})
    with manifest.path.open("a", encoding="utf-8") as handle:
        handle.write('{"shard": "a.jsonl#1", "cou')  # torn by a crash
    again = Manifest.open(tmp_path / "w", job, tmp_path)
    assert set(again.shards) == {"a.jsonl#0"}
    with pytest.raises(LLMNERError, match=r"E506.*settings"):
        Manifest.open(tmp_path / "w", {**job, "settings": {"mode": "mask"}}, tmp_path)


def test_merged_scores_equal_scoring_the_whole_corpus():
    texts = ["John Doe in Boston", "Jane Roe", "nothing", "Acme and John Doe"]
    gold = [[(0, 8, "PERSON"), (12, 18, "LOCATION")], [(0, 8, "PERSON")], [], [(0, 4, "ORG")]]
    pred = [[(0, 8, "PERSON")], [(0, 4, "PERSON")], [(0, 7, "PERSON")], [(0, 4, "ORG"), (9, 17, "PERSON")]]
    whole = score_spans(gold, pred)
    whole["chars"] = score_chars(texts, gold, pred)
    whole["errors"] = error_kinds(gold, pred)
    parts = []
    for lo, hi in ((0, 1), (1, 3), (3, 4)):
        part = score_spans(gold[lo:hi], pred[lo:hi])
        part["chars"] = score_chars(texts[lo:hi], gold[lo:hi], pred[lo:hi])
        part["errors"] = error_kinds(gold[lo:hi], pred[lo:hi])
        parts.append(part)
    merged = merge_scores(parts)
    assert merged == {k: whole[k] for k in ("overall", "per_label", "chars", "errors")}
    assert merged["errors"]["boundary"] == 1 and merged["errors"]["spurious"] == 2
    # averaging the parts' F1 would give another number: the merge adds counts
    assert merged["overall"]["f"] != pytest.approx(sum(p["overall"]["f"] for p in parts) / 3)
    assert json.dumps(merged)  # plain data
