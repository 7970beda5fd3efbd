"""Command line: ``python -m spacy_llmner COMMAND`` (also the ``spacy-llmner`` script).

Commands live in one module per area (a feature's in its package: ``textcat/cli.py``); importing
them registers them on the shared app.
"""

from __future__ import annotations

import importlib
import os

# Before torch is imported: OpenMP threads that spin-wait make every op ~1000x slower when the
# cores are shared (a 2-core machine running anything else); sleeping waiters cost little.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ._app import app

# Modules that define commands: the shared ones here, a feature's in its own package. A module
# missing here means that area has no CLI yet.
_COMMAND_MODULES = (
    f"{__name__}.data", f"{__name__}.train", f"{__name__}.evaluate", f"{__name__}.anonymize",
    f"{__name__}.cluener", "spacy_llmner.textcat.cli",
)

for _name in _COMMAND_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as err:  # pragma: no cover - only while an area is absent
        if err.name != _name:
            raise


def main() -> None:
    """Entry point for ``python -m spacy_llmner`` and the ``spacy-llmner`` script."""
    app()


__all__ = ["app", "main"]
