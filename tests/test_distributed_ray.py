"""The Ray runner end to end on a local Ray (2 CPUs): same output as the local engine, every
record exactly once through a killed actor and a killed driver, bad records in the error file.

The pipeline is the scripted NER (regexes, no model) so the runs are short; the analyzer and
anonymizer (Presidio, patterns included) are the real ones.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")  # the optional extra; scripts/setup.sh installs it, so CI runs these
pytest.importorskip("presidio_anonymizer")

import _ray_components as components  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import spacy_llmner  # noqa: E402
from spacy_llmner.cli import app  # noqa: E402
from spacy_llmner.distributed import anonymize_dataset, evaluate_dataset  # noqa: E402
from spacy_llmner.errors import LLMNERError  # noqa: E402
from spacy_llmner.evaluation.ner import evaluate, read_jsonl  # noqa: E402
from spacy_llmner.presidio import build_analyzer, hipaa_operators  # noqa: E402
from spacy_llmner.presidio.files import anonymize_file  # noqa: E402

CODE = str(Path(components.__file__))
ROOT = Path(spacy_llmner.__file__).parent.parent
PIECES = [
    "John Doe called 617-555-1234 from Boston.",
    "Jane Roe (MRN-4471) paid with card 4111 1111 1111 1111.",
    "Nothing personal in this line.",
    "mail john@example.com about acct 99812, Acme",
    "John Doe and Jane Roe met John  doe.",
    "   ",
]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray for the module; workers import this checkout, as the driver does."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level="WARNING",
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    yield
    ray.shutdown()


def _pipeline(path: Path, **faults) -> Path:
    components.make_nlp(**faults).to_disk(path)
    return path


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> Path:
    return _pipeline(tmp_path_factory.mktemp("pipe") / "scripted")


def _jsonl(path: Path, n: int, seed: int = 0) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            row = {"id": f"r{i}", "text": f"{rng.choice(PIECES)} #{i}", "meta": {"n": i}}
            out.write(json.dumps(row) + ("\n" if i % 97 else "\n\n"))
    return path


def _local(pipeline: Path, src: Path, dst: Path, **kwargs) -> bytes:
    mode = kwargs.pop("mode", "replace")
    salt = kwargs.pop("salt", None)
    analyzer = build_analyzer(str(pipeline))
    anonymize_file(analyzer, src, dst, hipaa_operators(mode, salt=salt), progress=False, **kwargs)
    return dst.read_bytes()


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_workers_import_this_checkout():
    where = ray.get(ray.remote(lambda: __import__("spacy_llmner").__file__).remote())
    assert where == spacy_llmner.__file__


def test_5000_records_two_actors_match_the_local_engine(pipeline, tmp_path):
    src = _jsonl(tmp_path / "notes.jsonl", 5000)
    expected = _local(pipeline, src, tmp_path / "local.jsonl")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["anonymize", str(pipeline), str(src), str(out), "--engine", "ray", "--actors", "2",
         "--shard-size", "1000", "--batch-size", "32", "--code", CODE, "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert "5052 records in 1 files: 5052 written, 0 errors" in result.output
    assert (out / "notes.jsonl").read_bytes() == expected
    assert (out / "_errors.jsonl").read_bytes() == b""
    assert not (out / "_spacy_llmner" / "parts" / "notes.jsonl").exists()  # parts cleaned up
    assert _no_temp_files(out)


def test_a_folder_of_formats_keeps_names_and_bytes(pipeline, tmp_path):
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    src = _jsonl(inputs / "notes.jsonl", 300, seed=5)
    csv_src = inputs / "sub" / "table.csv"
    csv_src.write_bytes(
        b'id,note,extra\r\n1,"John Doe, Boston",keep\r\n2,"two\nlines Jane Roe",ok\r\n3,,x\r\n'
    )
    expected = _local(pipeline, src, tmp_path / "local.jsonl", column="note")
    expected_csv = _local(pipeline, csv_src, tmp_path / "local.csv", column="note")
    stats = anonymize_dataset(
        pipeline, inputs, tmp_path / "out", column="note", actors=2, shard_size=100,
        code=CODE, progress=False,
    )
    assert (stats.files, stats.records, stats.errors, stats.shards) == (2, 307, 0, 5)
    assert (tmp_path / "out" / "notes.jsonl").read_bytes() == expected
    assert (tmp_path / "out" / "sub" / "table.csv").read_bytes() == expected_csv
    assert _no_temp_files(tmp_path / "out")


def test_hash_mode_with_a_fixed_salt_matches_local(pipeline, tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", 300, seed=3)
    salt = "a-salt-of-16-bytes-or-more"
    expected = _local(pipeline, src, tmp_path / "local.jsonl", mode="hash", salt=salt)
    anonymize_dataset(pipeline, src, tmp_path / "out", mode="hash", salt=salt, actors=2,
                      shard_size=100, code=CODE, progress=False)
    assert (tmp_path / "out" / "in.jsonl").read_bytes() == expected
    with pytest.raises(LLMNERError, match="E505"):  # a random salt per worker would differ
        anonymize_dataset(pipeline, src, tmp_path / "o2", mode="hash", code=CODE, progress=False)


def test_a_killed_actor_loses_and_duplicates_nothing(tmp_path):
    flag = tmp_path / "kill-once"
    flag.write_text("", encoding="utf-8")
    crashing = _pipeline(tmp_path / "crashing", flag=str(flag), after=150)
    src = _jsonl(tmp_path / "in.jsonl", 1000, seed=1)
    expected = _local(_pipeline(tmp_path / "plain"), src, tmp_path / "local.jsonl")
    stats = anonymize_dataset(crashing, src, tmp_path / "out", actors=2, shard_size=100,
                              code=CODE, progress=False)
    assert Path(f"{flag}.claimed").exists() and not flag.exists()  # an actor did die mid-run
    assert (tmp_path / "out" / "in.jsonl").read_bytes() == expected
    assert (stats.records, stats.written, stats.errors) == (1011, 1011, 0)
    assert _no_temp_files(tmp_path / "out")


def _manifest_shards(out: Path) -> int:
    path = out / "_spacy_llmner" / "manifest.jsonl"
    if not path.exists():
        return 0
    return sum('"shard"' in line for line in path.read_text(encoding="utf-8").splitlines())


def test_a_killed_driver_is_resumed_by_a_rerun(tmp_path):
    slow = _pipeline(tmp_path / "slow", delay=0.02)
    src = _jsonl(tmp_path / "in.jsonl", 400, seed=2)
    out = tmp_path / "out"
    args = ["--engine", "ray", "--shard-size", "40", "--actors", "1", "--code", CODE]
    cmd = [sys.executable, "-m", "spacy_llmner", "anonymize", str(slow), str(src), str(out),
           *args, "--address", "local", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "driver.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=log, stderr=log)
    deadline = time.time() + 150
    while _manifest_shards(out) < 2 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and everything it started: a crash
    proc.wait(timeout=30)
    done = _manifest_shards(out)
    assert 2 <= done < 11, (tmp_path / "driver.log").read_text()[-2000:]
    assert not (out / "in.jsonl").exists()  # no partial output file
    stats = anonymize_dataset(slow, src, out, shard_size=40, actors=1, code=CODE, progress=False)
    assert stats.shards_resumed >= done  # the finished shards were skipped
    assert stats.records_this_run < 405
    assert (out / "in.jsonl").read_bytes() == _local(slow, src, tmp_path / "local.jsonl")
    assert stats.records == 405 and stats.errors == 0
    assert _no_temp_files(out)
    again = anonymize_dataset(slow, src, out, shard_size=40, actors=1, code=CODE, progress=False)
    assert again.records_this_run == 0 and again.shards_resumed == again.shards


def test_bad_records_go_to_the_error_file_with_ids_not_text(pipeline, tmp_path):
    lines = [
        b'{"id": "a", "text": "John Doe in Boston"}',
        b'{"id": "b", "text": "secret \xff bytes"}',          # not UTF-8
        b'{"id": "c", "text": ["John Doe"]}',                 # not a string
        b'{"id": "d", "text": "secret unclosed',              # not JSON
        b'{"id": "e", "body": "secret elsewhere"}',           # no text field
        b'{"id": "f", "text": "' + b"secret Jane Roe " * 20 + b'"}',  # over --max-chars
        b'{"id": "g", "text": "secret BOOM for the pipeline"}',       # the pipeline raises
        b'{"id": "h", "text": "Jane Roe, fine"}',
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out"
    stats = anonymize_dataset(pipeline, src, out, id_field="id", max_chars=200, shard_size=3,
                              batch_size=4, code=CODE, progress=False)
    assert (stats.records, stats.written, stats.errors) == (8, 2, 6)
    written = [json.loads(x) for x in (out / "in.jsonl").read_text(encoding="utf-8").splitlines()]
    assert written == [{"id": "a", "text": "<PERSON_1> in <LOCATION_1>"},
                       {"id": "h", "text": "<PERSON_1>, fine"}]
    raw_errors = (out / "_errors.jsonl").read_text(encoding="utf-8")
    errors = [json.loads(x) for x in raw_errors.splitlines()]
    assert [(e["record"], e.get("id"), e["reason"][:6]) for e in errors] == [
        (2, None, "[E510]"), (3, "c", "[E210]"), (4, None, "[E208]"), (5, "e", "[E209]"),
        (6, "f", "[E508]"), (7, "g", "[E509]"),
    ]
    assert all(e["file"] == "in.jsonl" for e in errors)
    assert "ValueError" in errors[-1]["reason"]
    assert "secret" not in raw_errors and "Jane" not in raw_errors  # ids and reasons only


def test_parquet_keeps_every_column(pipeline, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = _jsonl(tmp_path / "in.jsonl", 250, seed=4)
    rows = [json.loads(x) for x in src.read_text(encoding="utf-8").splitlines() if x.strip()]
    table = pa.table({
        "id": [r["id"] for r in rows],
        "text": [r["text"] for r in rows],
        "n": [r["meta"]["n"] for r in rows],
        "tags": [[i, i + 1] for i in range(len(rows))],
    })
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=60)
    expected = [json.loads(x)["text"] for x in
                _local(pipeline, src, tmp_path / "l.jsonl").decode().splitlines() if x.strip()]
    stats = anonymize_dataset(pipeline, tmp_path / "in.parquet", tmp_path / "out", actors=2,
                              shard_size=100, code=CODE, progress=False)
    assert stats.shards == 3 and stats.written == 250
    got = pq.read_table(tmp_path / "out" / "in.parquet")
    assert got.schema == table.schema
    assert got.column("text").to_pylist() == expected
    assert got.drop_columns(["text"]).equals(table.drop_columns(["text"]))


def test_evaluate_on_ray_equals_local_evaluate(pipeline, tmp_path):
    gold = tmp_path / "gold.jsonl"
    with gold.open("w", encoding="utf-8") as out:
        for i in range(120):
            text = random.Random(i).choice(PIECES[:5])
            spans = [[0, 8, "PERSON"]] if text.startswith(("John", "Jane")) else [[0, 4, "ORG"]]
            out.write(json.dumps({"text": text, "spans": spans}) + "\n")
    import spacy

    local = evaluate(spacy.load(pipeline), read_jsonl(gold))
    report = evaluate_dataset(pipeline, gold, shard_size=25, actors=2, code=CODE)
    assert report["docs"] == local["docs"] == 120
    for key in ("overall", "per_label", "chars", "errors"):
        assert report[key] == local[key]
    assert 0 < report["overall"]["f"] < 1  # a real mix of hits and misses
    limited = evaluate_dataset(pipeline, gold, limit=30, shard_size=25, code=CODE)
    assert limited["docs"] == 30


def test_refusals_come_before_any_work(pipeline, tmp_path):
    src = _jsonl(tmp_path / "in.jsonl", 5)
    table = tmp_path / "t.csv"
    table.write_text("id,body\n1,John Doe\n", encoding="utf-8")
    cases = [
        (dict(inputs=src, surrogate_scope="file"), "E504"),
        (dict(inputs=table, column="body", items_field="spans"), "E216"),
        (dict(inputs=table), "E211"),
        (dict(inputs=src, output=src), "E511"),
    ]
    for kwargs, code in cases:
        kwargs.setdefault("output", tmp_path / "out")
        with pytest.raises(LLMNERError, match=code):
            anonymize_dataset(pipeline, progress=False, code=CODE, **kwargs)
    assert not (tmp_path / "out" / "_spacy_llmner").exists()
