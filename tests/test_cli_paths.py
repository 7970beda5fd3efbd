"""Every CLI command turns a bad path into a coded error (or typer's own usage message), never a
traceback: missing inputs, and outputs under a file (what a read-only or missing folder gives)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from spacy_llmner.cli import app

ROOT = Path(__file__).parent.parent
CODED = re.compile(r"\[E\d{3}\]")


def _cases(tmp: Path) -> dict[str, list[list[str]]]:
    blocker = tmp / "a-file"
    blocker.write_text("x", encoding="utf-8")
    out = str(blocker / "sub" / "out")  # its parent is a file: no command can write there
    missing = str(tmp / "missing.jsonl")
    good = tmp / "in.jsonl"
    good.write_text('{"text": "John Doe", "spans": [{"start": 0, "end": 4, "label": "PERSON"}]}\n',
                    encoding="utf-8")
    cfg, base_cfg = str(ROOT / "configs" / "lora.cfg"), str(ROOT / "configs" / "base.cfg")
    nobase = str(tmp / "nobase")
    return {
        "generate": [["generate", out, "--n-train", "2", "--n-dev", "1", "--n-test", "1"]],
        "convert": [["convert", missing, str(tmp / "o.spacy")], ["convert", str(good), out]],
        "convert-cluener": [["convert-cluener", missing, str(tmp / "o.spacy")]],
        "convert-thucnews": [["convert-thucnews", missing, str(tmp / "th")]],
        "generate-textcat": [["generate-textcat", out, "--task", "phi"]],
        "pretrain-base": [["pretrain-base", base_cfg, out, "--training.max_steps", "1"]],
        "fetch-base": [["fetch-base", "HuggingFaceTB/SmolLM2-135M-Instruct", out]],
        "base-stamp": [["base-stamp", nobase, out]],
        "train": [["train", nobase, missing, missing, cfg, out]],
        "train-textcat": [["train-textcat", nobase, missing, missing, cfg, out]],
        "train-textcat-sft": [["train-textcat-sft", nobase, missing, missing, cfg, out]],
        "assemble": [["assemble", nobase, str(tmp / "noadapter"), "--output", out]],
        "anonymize": [["anonymize", str(tmp / "nopipe"), str(good), out],
                      ["anonymize", str(tmp / "nopipe"), missing, str(tmp / "o.jsonl")],
                      ["anonymize", missing, str(tmp / "o.jsonl")]],  # the released model
        "deanonymize": [["deanonymize", str(good), out, "--items-field", "spans"],
                        ["deanonymize", missing, str(tmp / "o.jsonl"), "--items-field", "spans"]],
        "evaluate": [["evaluate", str(tmp / "nopipe"), missing]],
        "base-wheels": [["base-wheels", "no/such-base"]],
        "release-publish": [["release-publish", str(tmp / "noadapter"), out], ["release-publish", str(tmp), out]],
    }


def test_every_command_is_walked(tmp_path: Path) -> None:
    names = {c.name for c in typer.main.get_group(app).commands.values()}
    assert names == set(_cases(tmp_path)), "a new command needs its bad-path case here"


@pytest.mark.parametrize("command", [
    "generate", "convert", "convert-cluener", "convert-thucnews", "generate-textcat", "pretrain-base",
    "fetch-base", "base-stamp", "train", "train-textcat", "train-textcat-sft", "assemble", "anonymize",
    "deanonymize", "evaluate", "release-publish", "base-wheels",
])
def test_bad_paths_are_coded_errors(command: str, tmp_path: Path) -> None:
    for args in _cases(tmp_path)[command]:
        result = CliRunner().invoke(app, args)
        assert isinstance(result.exception, SystemExit), (args, result.exception)  # no traceback
        assert result.exit_code in (1, 2), result.output
        if result.exit_code == 1:
            assert CODED.search(result.output), result.output
        else:  # typer's own check of an `exists=True` argument: a usage message naming the path
            assert "does not exist" in result.output
        assert "Traceback" not in result.output
