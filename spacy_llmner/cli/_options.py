"""What several commands share: the Ray engine's options, config overrides and the summary report.

One definition each, so ``anonymize`` and ``evaluate`` (and the training commands of every
feature) cannot drift apart in names, defaults or help.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any, Optional

import typer


class Engine(Enum):
    """Where documents are processed: this process, or Ray Data actors (docs/scale.md)."""

    local = "local"
    ray = "ray"


# The Ray option group: used as parameter defaults by every command that can run on Ray.
ENGINE = typer.Option(Engine.local, "--engine", help="local: this process; ray: Ray Data actors (docs/scale.md).")
ADDRESS = typer.Option(None, "--address", help="ray: cluster address (auto, ray://host:10001); default: local Ray.")
ACTORS = typer.Option(1, "--actors", min=1, help="ray: actors, each with one pipeline.")
GPUS_PER_ACTOR = typer.Option(0.0, "--gpus-per-actor", min=0.0, help="ray: GPUs per actor.")


def shard_size_option(default: int, unit: str) -> Any:
    """``--shard-size``: ``unit`` per shard, the unit of work (and of resume) on Ray."""
    return typer.Option(
        default, "--shard-size", min=0, help=f"{unit} per shard, the unit of work and of resume (0: one per file)."
    )


# Config overrides as in ``spacy train``: ``--training.epochs 3 --lora.r 8``.
OVERRIDES = {"allow_extra_args": True, "ignore_unknown_options": True}


def overrides(ctx: typer.Context) -> dict[str, Any]:
    """The ``--section.key value`` pairs left over on the command line."""
    from spacy.cli._util import parse_config_overrides

    return parse_config_overrides(list(ctx.args))


def report(summary: dict[str, Any], metrics: Optional[Path]) -> None:
    """Print a command's summary JSON (counts, losses, timings: never text), and write it to
    ``metrics`` too when given."""
    text = json.dumps(summary, indent=2, default=str)
    if metrics is not None:
        metrics.parent.mkdir(parents=True, exist_ok=True)
        metrics.write_text(text, encoding="utf8")
    typer.echo(text)


__all__ = ["ACTORS", "ADDRESS", "ENGINE", "GPUS_PER_ACTOR", "OVERRIDES", "Engine", "overrides", "report", "shard_size_option"]
