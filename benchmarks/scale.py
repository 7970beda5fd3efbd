"""Records/s of the anonymizer: the local engine against the Ray engine with 1 and 2 actors.

    python benchmarks/scale.py --json benchmarks/results/scale.json
    python benchmarks/scale.py --pipeline training/pipeline --records 40 --small 10

Side by side in one run, on the same generated JSONL notes. Without ``--pipeline`` the pipeline
is the test suite's scripted NER (regexes, no model), so the figures measure everything but the
model: Presidio (patterns + anonymizer), file I/O, and Ray's overhead. Each configuration runs at
two sizes, so the fixed cost (Ray start-up, actor start, pipeline load) and the cost per record
separate: per record = (t_large - t_small) / (n_large - n_small). Ray's overhead per record is
the Ray engine's cost per record minus the local engine's with one actor. docs/scale.md turns
these into a projection for N GPUs.
"""

from __future__ import annotations

import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import typer

ROOT = Path(__file__).resolve().parent.parent
CODE = ROOT / "tests" / "_ray_components.py"
NOTES = [
    "Pt John Doe, 54 y/o, seen 03/14/2021 in Boston; call 617-555-1234.",
    "Jane Roe (MRN-4471) paid with card 4111 1111 1111 1111, acct 99812.",
    "Follow-up in two weeks. No change to medication, continue 5 mg daily.",
    "Discharged to home with Acme home care; mail john@example.com for records.",
]

cli = typer.Typer(add_completion=False)


def _notes(path: Path, n: int) -> Path:
    rng = random.Random(0)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            out.write(json.dumps({"id": i, "text": f"{rng.choice(NOTES)} ({i})"}) + "\n")
    return path


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def project(per_device: list[float], devices: list[int], corpus: int, overhead_s: float, fixed_s: float) -> dict:
    """Hours for ``corpus`` records on G devices: each actor runs at 1 / (1/r + Ray overhead).

    Assumes the model is the bottleneck (one actor per device, shards spread evenly); the
    driver's own passes over the bytes (planning, joining parts) are not included: they run at
    disk speed and only matter when G x r x record size nears it (docs/scale.md).
    """
    hours = {}
    for r in per_device:
        per_actor = 1 / (1 / r + max(overhead_s, 0.0))
        hours[str(r)] = [round((fixed_s + corpus / (g * per_actor)) / 3600, 2) for g in devices]
    return {"records": corpus, "devices": devices, "overhead_s_per_record": overhead_s,
            "fixed_s": fixed_s, "hours": hours,
            "efficiency": {str(r): round((1 / r) / (1 / r + max(overhead_s, 0.0)), 4) for r in per_device}}


@cli.command()
def main(
    pipeline: Path | None = typer.Option(None, help="A pipeline directory (default: the scripted test NER)"),
    records: int = typer.Option(10000, help="Records in the large run"),
    small: int = typer.Option(1000, help="Records in the small run (for the fixed cost)"),
    shard_size: int = typer.Option(1000, help="Records per shard (Ray)"),
    batch_size: int = typer.Option(16, help="Texts per nlp.pipe batch"),
    json_path: Path | None = typer.Option(None, "--json", help="Write the results here"),
    per_device: str = typer.Option("0.7,10,50", help="Projection: pipeline docs/s on one device (comma-separated)"),
    devices: str = typer.Option("1,8,64", help="Projection: device counts (comma-separated)"),
    corpus: int = typer.Option(1_000_000, help="Projection: corpus size in records"),
) -> None:
    """Measure and print the table; optionally write JSON."""
    import ray

    from spacy_llmner.distributed import anonymize_dataset
    from spacy_llmner.presidio import build_analyzer, hipaa_operators
    from spacy_llmner.presidio.files import anonymize_file

    sys.path.insert(0, str(CODE.parent))
    import _ray_components

    tmp = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    code = None
    if pipeline is None:
        pipeline = tmp / "scripted"
        _ray_components.make_nlp().to_disk(pipeline)
        code = CODE
    ray.init(num_cpus=os.cpu_count() or 2, include_dashboard=False, logging_level="WARNING",
             runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    inputs = {n: _notes(tmp / f"notes_{n}.jsonl", n) for n in (small, records)}

    def local(n: int) -> Callable[[], object]:
        def run() -> object:
            analyzer = build_analyzer(str(pipeline))
            return anonymize_file(analyzer, inputs[n], tmp / f"local_{n}.jsonl",
                                  hipaa_operators("replace"), batch_size=batch_size, progress=False)
        return run

    def on_ray(n: int, actors: int) -> Callable[[], object]:
        def run() -> object:
            return anonymize_dataset(pipeline, inputs[n], tmp / f"ray{actors}_{n}_{time.time_ns()}",
                                     actors=actors, shard_size=shard_size, batch_size=batch_size,
                                     code=code, progress=False)
        return run

    configs = {"local": local, "ray, 1 actor": lambda n: on_ray(n, 1), "ray, 2 actors": lambda n: on_ray(n, 2)}
    rows = []
    for name, make in configs.items():
        t_small = _timed(make(small))
        t_large = _timed(make(records))
        per_record = (t_large - t_small) / (records - small)
        rows.append({
            "engine": name,
            "records": records,
            "seconds": round(t_large, 2),
            "records_per_s": round(records / t_large, 1),
            "steady_records_per_s": round(1 / per_record, 1),
            "fixed_seconds": round(t_small - small * per_record, 2),
            "ms_per_record": round(per_record * 1000, 3),
        })
        print(f"  {name}: {rows[-1]}", file=sys.stderr)
    ray.shutdown()
    overhead_ms = rows[1]["ms_per_record"] - rows[0]["ms_per_record"]
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "pipeline": "scripted test NER (no model)" if code else str(pipeline),
        "shard_size": shard_size,
        "batch_size": batch_size,
        "rows": rows,
        "ray_overhead_ms_per_record": round(overhead_ms, 3),
        "speedup_2_vs_1_actor_steady": round(rows[2]["steady_records_per_s"] / rows[1]["steady_records_per_s"], 2),
    }
    result["projection"] = project(
        [float(x) for x in per_device.split(",")], [int(x) for x in devices.split(",")], corpus,
        overhead_ms / 1000, rows[1]["fixed_seconds"],
    )
    print(f"\n| engine | records/s ({records} records, all in) | steady records/s | fixed s | ms/record |")
    print("|---|---|---|---|---|")
    for r in rows:
        cells = (r["engine"], r["records_per_s"], r["steady_records_per_s"], r["fixed_seconds"], r["ms_per_record"])
        print("| " + " | ".join(str(c) for c in cells) + " |")
    print(f"\nRay overhead per record (1 actor vs local): {result['ray_overhead_ms_per_record']} ms")
    print(f"\nProjection for {corpus:,} records (hours):")
    print("| docs/s per device | " + " | ".join(f"{g} devices" for g in result["projection"]["devices"]) + " |")
    print("|---|" + "---|" * len(result["projection"]["devices"]))
    for r, hours in result["projection"]["hours"].items():
        print(f"| {r} | " + " | ".join(str(h) for h in hours) + " |")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    cli()
