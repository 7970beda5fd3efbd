"""spacy-llm models.

``HFModel`` is imported on first use: spaCy imports every ``spacy_factories`` entry point when a
``Language`` is created, and the factories of this package reach ``models`` (for file helpers),
so importing ``hf`` (torch, transformers) here would load them into every spaCy process.
"""

from typing import Any

__all__ = ["HFModel", "make_hf_model"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import hf

        return getattr(hf, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
