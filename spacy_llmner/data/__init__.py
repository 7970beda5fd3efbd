"""Synthetic HIPAA PII data (Faker-based generator) and corpus conversion (DocBin <-> JSONL).

Attributes load lazily, so ``from spacy_llmner.data.labels import HIPAA_LABELS`` does not import
spaCy or Faker.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "HIPAA_LABELS": "labels",
    "GeneratedDoc": "generator",
    "generate": "generator",
    "iter_docs": "generator",
    "to_docbin": "docbin",
    "write_corpus": "docbin",
    "corpus_docs": "docbin",
    "ConversionStats": "jsonl",
    "jsonl_to_docbin": "jsonl",
    "docbin_to_jsonl": "jsonl",
    "parse_label_map": "jsonl",
    "read_span_records": "spans",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
