"""Real corpora through the local engine: one bad record costs one record, resume after a kill,
the surrogate store (consistent across files and runs, encrypted, reversible) and `deanonymize`.

The pipeline is the scripted NER (regexes, no model); analyzer and anonymizer are the real ones.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("presidio_anonymizer")

import _ray_components as components  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import spacy_llmner  # noqa: E402
from spacy_llmner.cli import app  # noqa: E402
from spacy_llmner.errors import LLMNERError  # noqa: E402
from spacy_llmner.presidio import build_analyzer, hipaa_operators  # noqa: E402
from spacy_llmner.presidio.files import anonymize_file  # noqa: E402
from spacy_llmner.presidio.store import SurrogateStore  # noqa: E402

CODE = str(Path(components.__file__))
ROOT = Path(spacy_llmner.__file__).parent.parent
KEY = "0123456789abcdef0123456789abcdef"  # 32 bytes


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pipe") / "scripted"
    components.make_nlp().to_disk(path)
    return path


def _anon(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["anonymize", *args, "--quiet"], env=env)


def _errors(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _no_work_left(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".")]


BAD_JSONL = [
    b'{"id": "a", "text": "John Doe in Boston"}',
    b'{"id": "b", "text": "secret \xff bytes"}',  # not UTF-8
    b'{"id": "c", "text": ["secret John Doe"]}',  # not a string
    b'{"id": "d", "text": "secret unclosed',  # not JSON (a malformed line in the middle)
    b'{"id": "e", "body": "secret elsewhere"}',  # no text field
    b'["secret", "a list"]',  # not an object
    b"",  # blank: copied
    b'{"id": "f", "text": "secret BOOM for the pipeline"}',  # the pipeline raises on it
    b'{"id": "g", "text": "Jane Roe, fine"}',
]


def test_bad_jsonl_records_cost_one_record_each(pipeline, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(BAD_JSONL) + b"\n")
    dst = tmp_path / "out.jsonl"
    result = _anon(str(pipeline), str(src), str(dst), "--id-field", "id", "--shard-size", "3",
                   "--batch-size", "4", "--code", CODE)
    assert result.exit_code == 0, result.output
    assert "9 records: 3 written" in result.output and "6 errors" in result.output
    assert dst.read_text(encoding="utf-8").split("\n") == [
        '{"id": "a", "text": "<PERSON_1> in <LOCATION_1>"}', "",
        '{"id": "g", "text": "<PERSON_1>, fine"}', "",
    ]
    raw = (tmp_path / "out.errors.jsonl").read_text(encoding="utf-8")
    assert [(e["record"], e.get("id"), e["reason"][:6]) for e in _errors(tmp_path / "out.errors.jsonl")] == [
        (2, None, "[E510]"), (3, "c", "[E210]"), (4, None, "[E208]"), (5, "e", "[E209]"),
        (6, None, "[E208]"), (8, "f", "[E509]"),
    ]
    assert "secret" not in raw and "Jane" not in raw and "John" not in raw  # ids and reasons only
    assert "secret" not in result.output
    assert _no_work_left(tmp_path)
    # a clean rerun removes the stale error file: its presence always means this run's errors
    src.write_bytes(BAD_JSONL[0] + b"\n")
    assert _anon(str(pipeline), str(src), str(dst), "--code", CODE).exit_code == 0
    assert not (tmp_path / "out.errors.jsonl").exists()


def test_cheap_checks_fail_before_the_model(pipeline, tmp_path, monkeypatch):
    lines = [b'{"text": "John Doe %d"}' % i for i in range(50)] + [b'{"text": "secret \xfe"}']
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    analyzer = build_analyzer(str(pipeline))
    calls: list[int] = []
    original = analyzer.analyze_batch

    def counting(texts, *args, **kwargs):
        texts = list(texts)
        calls.append(len(texts))
        return original(texts, *args, **kwargs)

    monkeypatch.setattr(analyzer, "analyze_batch", counting)
    with pytest.raises(LLMNERError, match=r"\[E510\] Record 51"):
        anonymize_file(analyzer, src, tmp_path / "out.jsonl", hipaa_operators(), on_error="stop",
                       progress=False)
    assert calls == []  # the bad last line was found before any model work
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]
    stats = anonymize_file(analyzer, src, tmp_path / "out.jsonl", hipaa_operators(), progress=False)
    assert (stats.records, stats.written, stats.errors) == (51, 50, 1)
    assert sum(calls) == 50  # the bad record never reached the model


def test_txt_bad_bytes_and_csv_ragged_rows(pipeline, tmp_path):
    txt = tmp_path / "in.txt"
    txt.write_bytes(b"John Doe called.\r\nsecret \xc3\x28 bytes\nJane Roe\n")
    result = _anon(str(pipeline), str(txt), str(tmp_path / "out.txt"), "--code", CODE)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.txt").read_bytes() == b"<PERSON_1> called.\r\n<PERSON_1>\n"
    assert [(e["record"], e["reason"][:6]) for e in _errors(tmp_path / "out.errors.jsonl")] == [(2, "[E510]")]

    csv_src = tmp_path / "in.csv"
    csv_src.write_bytes(
        b"id,note,extra\r\n1,John Doe,keep\r\n"
        b"2,secret Jane Roe,shifted,secret tail\r\n"  # a stray delimiter: one field too many
        b"3,secret short\r\n"  # one too few
        b'4,"Boston, quoted",ok\r\n'
        b"5,bad \xff,x\r\n"
    )
    result = _anon(str(pipeline), str(csv_src), str(tmp_path / "out.csv"), "--column", "note",
                   "--id-field", "id", "--code", CODE)
    assert result.exit_code == 0, result.output
    out = (tmp_path / "out.csv").read_bytes()
    assert out == b'id,note,extra\r\n1,<PERSON_1>,keep\r\n4,"<LOCATION_1>, quoted",ok\r\n'
    assert b"secret" not in out  # a ragged row is never copied through
    errors = _errors(tmp_path / "out.errors.jsonl")
    assert [(e["record"], e.get("id"), e["reason"][:6]) for e in errors] == [
        (2, None, "[E219]"), (3, None, "[E219]"), (5, None, "[E510]"),
    ]  # no id from a shifted row: its "id" cell may hold a piece of the note
    assert "4 fields, the header has 3" in errors[0]["reason"]
    result = _anon(str(pipeline), str(csv_src), str(tmp_path / "o2.csv"), "--column", "note",
                   "--on-error", "stop", "--code", CODE)
    assert result.exit_code == 1 and "[E219] Row 2" in result.output
    assert not (tmp_path / "o2.csv").exists()


def _manifest_shards(work: Path) -> int:
    path = work / "manifest.jsonl"
    if not path.exists():
        return 0
    return sum('"shard"' in line for line in path.read_text(encoding="utf-8").splitlines())


def test_a_killed_local_run_resumes(tmp_path):
    slow = tmp_path / "slow"
    components.make_nlp(delay=0.02).to_disk(slow)
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"John Doe #{i} in Boston"}) + "\n"
                           for i in range(300)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    work = tmp_path / ".out.jsonl.spacy_llmner"
    cmd = [sys.executable, "-m", "spacy_llmner", "anonymize", str(slow), str(src), str(out),
           "--shard-size", "30", "--code", CODE, "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=log, stderr=log)
    deadline = time.time() + 120
    while _manifest_shards(work) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # a crash: no cleanup runs
    proc.wait(timeout=30)
    done = _manifest_shards(work)
    assert 2 <= done < 10, (tmp_path / "run.log").read_text()[-2000:]
    assert not out.exists()  # no partial output
    analyzer = build_analyzer(str(slow))
    stats = anonymize_file(analyzer, src, out, hipaa_operators(), shard_size=30, progress=False,
                           job={"pipeline": str(slow), "patterns": True, "threshold": 0.0,
                                "store_key": None})
    assert stats.shards_resumed >= done and stats.shards == 10
    assert (stats.records, stats.written, stats.errors) == (300, 300, 0)
    anonymize_file(analyzer, src, tmp_path / "whole.jsonl", hipaa_operators(), progress=False)
    assert out.read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    assert not work.exists()


def test_a_rerun_with_other_settings_starts_over(pipeline, tmp_path):
    analyzer = build_analyzer(str(pipeline))
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "John Doe"}\n' * 5, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    work = tmp_path / ".out.jsonl.spacy_llmner"
    from spacy_llmner.corpus.manifest import Manifest

    Manifest.open(work, {"job": "another"}, out).finish_shard("in.jsonl#0", {"records": 5, "written": 5, "errors": 0})
    stats = anonymize_file(analyzer, src, out, hipaa_operators("mask"), shard_size=2, progress=False)
    assert stats.shards_resumed == 0 and out.read_text(encoding="utf-8").count("********") == 5


# -- surrogate store ---------------------------------------------------------------------------
def test_surrogate_store_is_consistent_across_files_and_runs(pipeline, tmp_path):
    store = tmp_path / "keys" / "store.bin"
    store.parent.mkdir()
    a, b = tmp_path / "a.txt", tmp_path / "b.jsonl"
    a.write_text("Jane Roe met John Doe\nJohn Doe in Boston\n", encoding="utf-8")
    b.write_text('{"text": "John Doe and Jane Roe"}\n{"text": "Acme"}\n', encoding="utf-8")
    env = {"SPACY_LLMNER_KEY": KEY}
    for src, dst in ((a, tmp_path / "a.out.txt"), (b, tmp_path / "b.out.jsonl")):
        result = _anon(str(pipeline), str(src), str(dst), "--surrogate-store", str(store),
                       "--code", CODE, env=env)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "a.out.txt").read_text(encoding="utf-8") == (
        "<PERSON_1> met <PERSON_2>\n<PERSON_2> in <LOCATION_1>\n"
    )
    assert [json.loads(x)["text"] for x in (tmp_path / "b.out.jsonl").read_text().splitlines()] == [
        "<PERSON_2> and <PERSON_1>", "<ORGANIZATION_1>",
    ]
    # a later run (a new process would do the same: the store is on disk) keeps the numbers
    c = tmp_path / "c.txt"
    c.write_text("Boston, John Doe, Jane Roe, Acme\n", encoding="utf-8")
    assert _anon(str(pipeline), str(c), str(tmp_path / "c.out.txt"), "--surrogate-store", str(store),
                 "--code", CODE, env=env).exit_code == 0
    assert (tmp_path / "c.out.txt").read_text() == "<LOCATION_1>, <PERSON_2>, <PERSON_1>, <ORGANIZATION_1>\n"
    # encrypted at rest, owner-only, and the key is nowhere beside it
    blob = store.read_bytes()
    assert b"Jane" not in blob and b"Boston" not in blob and KEY.encode() not in blob
    assert store.stat().st_mode & 0o077 == 0
    assert sorted(p.name for p in store.parent.iterdir()) == ["store.bin"]
    assert SurrogateStore(store, KEY).original("PERSON", 1) == "Jane Roe"
    # deanonymize puts the real values back (the first spelling seen for a value)
    result = CliRunner().invoke(app, ["deanonymize", str(tmp_path / "b.out.jsonl"), str(tmp_path / "b.back.jsonl"),
                                      "--surrogate-store", str(store), "--quiet"], env=env)
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["text"] for x in (tmp_path / "b.back.jsonl").read_text().splitlines()] == [
        "John Doe and Jane Roe", "Acme",
    ]
    result = CliRunner().invoke(app, ["deanonymize", str(tmp_path / "a.out.txt"), str(tmp_path / "a.back.txt"),
                                      "--surrogate-store", str(store), "--quiet"], env=env)
    assert result.exit_code == 0 and (tmp_path / "a.back.txt").read_text() == a.read_text()


def test_surrogate_store_wrong_key_and_misuse_are_coded(pipeline, tmp_path):
    store = tmp_path / "store.bin"
    s = SurrogateStore(store, KEY)
    s.index("PERSON", "John Doe")
    s.save()
    src = tmp_path / "in.txt"
    src.write_text("John Doe\n", encoding="utf-8")
    wrong = {"SPACY_LLMNER_KEY": "f" * 32}
    result = _anon(str(pipeline), str(src), str(tmp_path / "out.txt"), "--surrogate-store", str(store),
                   "--code", CODE, env=wrong)
    assert result.exit_code == 1 and "[E220]" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out.txt").exists()
    result = CliRunner().invoke(app, ["deanonymize", str(src), str(tmp_path / "b.txt"),
                                      "--surrogate-store", str(store)], env=wrong)
    assert result.exit_code == 1 and "[E220]" in result.output
    result = _anon(str(pipeline), str(src), str(tmp_path / "out.txt"), "--surrogate-store", str(store),
                   "--code", CODE)
    assert result.exit_code == 1 and "[E205]" in result.output  # no key at all
    tampered = bytearray(store.read_bytes())
    tampered[-1] ^= 1
    (tmp_path / "t.bin").write_bytes(bytes(tampered))
    with pytest.raises(LLMNERError, match=r"\[E220\]"):
        SurrogateStore(tmp_path / "t.bin", KEY)
    with pytest.raises(LLMNERError, match=r"\[E224\]"):
        SurrogateStore(src, KEY)  # not a store
    env = {"SPACY_LLMNER_KEY": KEY}
    for args, code in (
        (["--mode", "mask"], "[E221]"),
        (["--engine", "ray"], "[E222]"),
    ):
        result = _anon(str(pipeline), str(src), str(tmp_path / "o.txt"), "--surrogate-store",
                       str(store), *args, env=env)
        assert result.exit_code == 1 and code in result.output, result.output
    # a surrogate the store never issued: the record is not half restored
    unknown = tmp_path / "u.txt"
    unknown.write_text("<PERSON_1> and <PERSON_9>\n<PERSON_1>\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["deanonymize", str(unknown), str(tmp_path / "u.back.txt"),
                                      "--surrogate-store", str(store), "--quiet"], env=env)
    assert result.exit_code == 0
    assert (tmp_path / "u.back.txt").read_text() == "John Doe\n"
    assert "[E226]" in (tmp_path / "u.back.errors.jsonl").read_text()


def test_deanonymize_reverses_encrypt_output(pipeline, tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [{"id": 1, "text": "John Doe, MRN-55 in Boston"}, {"id": 2, "text": "nothing"}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    env = {"SPACY_LLMNER_KEY": KEY}
    enc = tmp_path / "enc.jsonl"
    result = _anon(str(pipeline), str(src), str(enc), "--mode", "encrypt", "--items-field", "spans",
                   "--code", CODE, env=env)
    assert result.exit_code == 0, result.output
    assert "John" not in enc.read_text()
    back = tmp_path / "back.jsonl"
    result = CliRunner().invoke(app, ["deanonymize", str(enc), str(back), "--items-field", "spans",
                                      "--quiet"], env=env)
    assert result.exit_code == 0, result.output
    assert [json.loads(x) for x in back.read_text().splitlines()] == rows
    result = CliRunner().invoke(app, ["deanonymize", str(enc), str(back)], env=env)
    assert result.exit_code == 1 and "[E223]" in result.output
