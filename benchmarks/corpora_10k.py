"""10,000 records with 1% bad ones of every kind, through the local engine and Ray: same records.

    python benchmarks/corpora_10k.py [--out benchmarks/results/corpora_10k.json] [--no-ray]

Writes a JSONL file and a CSV file of 10,000 records each, 100 of them bad (JSONL: bad bytes,
malformed JSON, missing field, non-string field, not an object, a record the pipeline raises
on; CSV: too many fields, too few fields, bad bytes, pipeline failure), anonymizes both with the
scripted test pipeline (regexes, no model) on each engine, and checks: 9,900 written + 100 errors
per file, and identical output bytes and error entries between the engines.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

N, BAD_EVERY = 10_000, 100
JSONL_BAD = [
    lambda i: b'{"id": "r%d", "text": "secret \xff bytes"}' % i,
    lambda i: b'{"id": "r%d", "text": "secret unclosed' % i,
    lambda i: b'{"id": "r%d", "body": "secret elsewhere"}' % i,
    lambda i: b'{"id": "r%d", "text": ["secret"]}' % i,
    lambda i: b'["secret", %d]' % i,
    lambda i: b'{"id": "r%d", "text": "secret BOOM"}' % i,
]
CSV_BAD = [
    lambda i: b"r%d,secret Jane Roe,shifted,extra\n" % i,
    lambda i: b"r%d,secret short\n" % i,
    lambda i: b"r%d,secret \xfe,x\n" % i,
    lambda i: b"r%d,secret BOOM,x\n" % i,
]
PIECES = ["John Doe called 617-555-1234 from Boston.", "Jane Roe (MRN-4471) paid.", "Nothing here.",
          "mail john@example.com about acct 99812, Acme"]


def write_inputs(folder: Path) -> tuple[Path, Path]:
    jsonl, csv = folder / "notes.jsonl", folder / "notes.csv"
    with jsonl.open("wb") as j, csv.open("wb") as c:
        c.write(b"id,text,extra\n")
        for i in range(N):
            bad = i % BAD_EVERY == 50
            text = f"{PIECES[i % len(PIECES)]} #{i}"
            if bad:
                j.write(JSONL_BAD[(i // BAD_EVERY) % len(JSONL_BAD)](i) + b"\n")
                c.write(CSV_BAD[(i // BAD_EVERY) % len(CSV_BAD)](i))
            else:
                j.write(json.dumps({"id": f"r{i}", "text": text}).encode() + b"\n")
                c.write(f'r{i},"{text}",k\n'.encode())
    return jsonl, csv


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-ray", action="store_true")
    args = parser.parse_args()
    import _ray_components as components

    from spacy_llmner.presidio import build_analyzer, hipaa_operators
    from spacy_llmner.presidio.files import anonymize_file

    report: dict[str, dict[str, object]] = {}
    with TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pipeline = tmp / "scripted"
        components.make_nlp().to_disk(pipeline)
        inputs = tmp / "in"
        inputs.mkdir()
        files = write_inputs(inputs)
        analyzer = build_analyzer(str(pipeline), with_patterns=False)
        for src in files:
            local = tmp / f"local{src.suffix}"
            start = time.perf_counter()
            stats = anonymize_file(analyzer, src, local, hipaa_operators(), id_field="id",
                                   batch_size=64, progress=False)
            entry: dict[str, object] = {
                "records": stats.records, "written": stats.written, "errors": stats.errors,
                "local_seconds": round(time.perf_counter() - start, 1),
            }
            errors = Path(stats.error_file or "").read_text(encoding="utf-8")
            entry["error_codes"] = sorted({json.loads(x)["reason"][:6] for x in errors.splitlines()})
            entry["no_text_in_errors"] = "secret" not in errors
            entry["no_bad_text_in_output"] = b"secret" not in local.read_bytes()
            if not args.no_ray:
                from spacy_llmner.distributed import anonymize_dataset

                out = tmp / f"ray_{src.suffix[1:]}"
                start = time.perf_counter()
                rstats = anonymize_dataset(pipeline, src, out, id_field="id", with_patterns=False,
                                           batch_size=64, shard_size=2500, actors=2,
                                           code=components.__file__, progress=False)
                entry["ray"] = {"records": rstats.records, "written": rstats.written,
                                "errors": rstats.errors,
                                "seconds": round(time.perf_counter() - start, 1)}
                entry["identical_output"] = (out / src.name).read_bytes() == local.read_bytes()
                entry["identical_errors"] = (out / "_errors.jsonl").read_text(encoding="utf-8") == errors
            report[src.name] = entry
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    ok = all(e["written"] == 9_900 and e["errors"] == 100 and e.get("identical_output", True)
             and e.get("identical_errors", True) for e in report.values())
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
