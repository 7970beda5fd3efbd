"""``release-publish``: copy a trained adapter into the package as a released model, with its record.

The record (``RELEASE.json``) is what a user and the next engineer need to trust and reproduce
the model: the base and its provenance, the prompt and policy the pipeline uses, the corpus
(generator seed and size), the training run (steps planned and done, every run segment with its
wall time and machine), the loss curve and the scores. It holds no document text.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .catalog import RELEASE_FILE, REQUIRED

ADAPTER_FILES = REQUIRED[1:]
_SCORE_KEYS = ("overall", "chars", "errors", "policy", "docs", "docs_per_s", "chars_per_s", "data")


def _labels_arg(labels: dict[str, str]) -> str | list[str]:
    from ..prompting import PRESETS

    for name, preset in PRESETS.items():
        if preset == labels:
            return name
    return sorted(labels)


def _loss_curve(path: Path | None) -> list[dict[str, float]]:
    """Step, training loss, learning rate and dev loss: no more than the curve needs."""
    if path is None or not path.exists():
        return []
    keep = ("step", "loss", "eval_loss", "learning_rate", "grad_norm")
    rows = [json.loads(line) for line in path.read_text(encoding="utf8").splitlines() if line.strip()]
    return [{k: r[k] for k in keep if k in r} for r in rows]


def _scores(paths: Sequence[Path]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in paths:
        report = json.loads(path.read_text(encoding="utf8"))
        summary = {k: report[k] for k in _SCORE_KEYS if k in report}
        summary["per_label_f1"] = {lab: v["f"] for lab, v in report.get("per_label", {}).items()}
        out[path.stem] = summary
    return out


def publish(
    adapter: str | Path,
    output: str | Path,
    *,
    version: str,
    loss_log: str | Path | None = None,
    scores: Sequence[str | Path] = (),
    corpus: dict[str, Any] | None = None,
    context_length: int = 4096,
    span_filters: str | Path | None = None,
) -> dict[str, Any]:
    """Copy ``adapter``'s files into ``output`` and write ``RELEASE.json`` there; return the record."""
    from ..models.bases import read_provenance
    from ..training.lora import read_meta

    adapter, output = Path(adapter), Path(output)
    meta = read_meta(adapter)
    provenance: dict[str, Any] = read_provenance(meta["base_model"]) or {"base": meta["base_model"]}
    training: dict[str, Any] = dict(meta.get("training") or {})
    kept = ("steps", "planned_steps", "complete", "train_loss", "eval_loss", "seconds_per_step", "tokens_per_s",
            "bf16", "trainable_params", "top_layers", "peft_method", "train_stats", "segments")
    run: dict[str, Any] = {k: training[k] for k in kept if k in training}
    segments = run.get("segments") or []
    run["wall_seconds"] = round(sum(s.get("seconds", 0) for s in segments), 1) or training.get("seconds")
    record: dict[str, Any] = {
        "version": version,
        "base": {
            "hub_id": provenance.get("hub_id") or provenance.get("base"),
            **{k: provenance[k] for k in ("source", "distribution", "sha256", "license", "license_url", "note")
               if k in provenance},
        },
        "pipeline": {
            "labels": _labels_arg(dict(meta["labels"])),
            "template_version": meta["template_version"],
            "lang": "en",
            "copy_tokens": "canonical",
            "context_length": context_length,
            "policy_default": "safe_harbor",
        },
        "corpus": dict(corpus or {}),
        "training": run,
        "loss_curve": _loss_curve(Path(loss_log) if loss_log else None),
        "scores": _scores([Path(p) for p in scores]),
    }
    if span_filters is not None:
        report = json.loads(Path(span_filters).read_text(encoding="utf8"))
        record["span_filters"] = {
            name: {"docs": c["docs"], "docs_per_s": c["docs_per_s"],
                   "rows": {row: {"typed": v["typed"], "chars": v["chars"]} for row, v in c["rows"].items()}}
            for name, c in report["corpora"].items()
        }
    output.mkdir(parents=True, exist_ok=True)
    for name in ADAPTER_FILES:
        shutil.copyfile(adapter / name, output / name)
    (output / RELEASE_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf8")
    return record
