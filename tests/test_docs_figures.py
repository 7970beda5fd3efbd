"""The figures tables in README.md and docs/results.md are what benchmarks/report.py renders
from benchmarks/results (and the released model's record): a table cannot drift from its source."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_figures_match_their_results_files() -> None:
    run = subprocess.run([sys.executable, "benchmarks/report.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_check_catches_a_drifted_table(tmp_path: Path) -> None:
    """A hand edit inside a generated block is found (the check is not vacuous)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import report
    finally:
        sys.path.pop(0)
    text = (ROOT / "docs" / "results.md").read_text(encoding="utf8")
    start = text.index("<!-- figures:presidio -->")
    end = text.index("<!-- /figures -->", start)
    block = text[start:end]
    assert "**0.81**" in block
    drifted = text[:start] + block.replace("**0.81**", "**0.91**") + text[end:]
    assert report.render(drifted) == report.render(text) == text != drifted
