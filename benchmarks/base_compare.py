"""Which base to release: the same data and training budget on each base, scored side by side.

    python benchmarks/base_compare.py --base smollm2=assets/base --base gemma3=assets/gemma3-270m \
        --train corpus/release/train.spacy --dev corpus/release/dev.spacy --max-steps 200 \
        --json benchmarks/results/base_compare.json

For each base: LoRA with configs/release.cfg (resumable checkpoints under --work), a pipeline
with the Safe Harbor policy, then ``benchmarks/span_filters.py`` on the held-out test split,
WNUT-17 dev (person, location, corporation) and the hand-written clinical-style notes
(benchmarks/data/clinical_style.jsonl). Each step runs as its own process, so a crash or an
interruption loses one step; a rerun skips what is done. Heavy: about 1 h per base per 100
steps on a 2-core CPU (Gemma 3 270M ~3x SmolLM2); minutes on a GPU where the base can be installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import typer

ROOT = Path(__file__).resolve().parents[1]
WNUT_MAP = "person=PERSON,location=LOCATION,corporation=ORGANIZATION,group=,creative-work=,product="


def _run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, cwd=ROOT)
    return round(time.perf_counter() - start, 1)


def main(
    base: list[str] = typer.Option(..., help="NAME=DIR of a base (repeatable)"),
    train: Path = typer.Option(Path("corpus/release/train.spacy")),
    dev: Path = typer.Option(Path("corpus/release/dev.spacy")),
    test: Path = typer.Option(Path("corpus/release/test.spacy")),
    wnut: Path = typer.Option(Path("../shared/data/wnut17/dev.jsonl")),
    clinical: Path = typer.Option(Path("benchmarks/data/clinical_style.jsonl")),
    config: Path = typer.Option(Path("configs/release.cfg")),
    max_steps: int = typer.Option(200, help="Training steps for every base (the shared budget)"),
    limit: int = typer.Option(0, help="Score the first N documents of each corpus (0: all)"),
    work: Path = typer.Option(Path("training/base_compare")),
    json_path: Optional[Path] = typer.Option(None, "--json"),
) -> None:
    results: dict[str, dict] = {}
    for item in base:
        name, _, path = item.partition("=")
        out = work / name
        adapter, pipeline, scores = out / "adapter", out / "pipeline", out / "scores.json"
        row: dict = {"base": path, "max_steps": max_steps}
        if not (adapter / "spacy_llmner.json").exists():
            row["train_s"] = _run([
                "-m", "spacy_llmner", "train", path, str(train), str(dev), str(config), str(adapter),
                "--checkpoints", str(out / "checkpoints"), "--loss-log", str(out / "loss.jsonl"),
                "--metrics", str(out / "train.json"), "--training.max_steps", str(max_steps),
            ])
        if not pipeline.exists():
            _run(["-m", "spacy_llmner", "assemble", path, str(adapter), "--output", str(pipeline), "--policy", "safe_harbor"])
        if not scores.exists():
            args = ["benchmarks/span_filters.py", str(pipeline), str(test), str(wnut), str(clinical),
                    "--label-map", WNUT_MAP, "--corpus-labels", f"{wnut.name}=PERSON,LOCATION,ORGANIZATION",
                    "--json", str(scores)]
            row["eval_s"] = _run(args + (["--limit", str(limit)] if limit else []))
        row["train"] = json.loads((out / "train.json").read_text())
        row["scores"] = json.loads(scores.read_text())
        results[name] = row
    typer.echo(f"{'base':<10}{'corpus':<28}{'typed F1':>9}{'chars P':>9}{'chars R':>9}{'docs/s':>8}")
    for name, row in results.items():
        for corpus, rep in row["scores"]["corpora"].items():
            r = rep["rows"]["safe_harbor"]
            typer.echo(f"{name:<10}{corpus[:27]:<28}{r['typed']['f']:>9.3f}{r['chars']['p']:>9.3f}"
                       f"{r['chars']['r']:>9.3f}{rep['docs_per_s']:>8.2f}")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf8")


if __name__ == "__main__":
    typer.run(main)
