"""Let Presidio's YAML recognizer registry declare ``LLMNERRecognizer`` with its settings.

Presidio validates each ``type: predefined`` entry with a pydantic model that *ignores* unknown
keys, so ``pipeline:`` would silently vanish and the recognizer would load the wrong model.
Presidio keeps a per-class model map (``CONFIG_MODEL_MAP``, how GLiNER's ``entity_mapping``
gets through); importing ``spacy_llmner.presidio`` adds ours, which accepts our constructor's
settings and rejects typos.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, model_validator

from ..errors import Errors

try:  # the YAML models moved between Presidio releases; without them there is no YAML route
    from presidio_analyzer.input_validation import yaml_recognizer_models as _models
except ImportError:  # pragma: no cover - older presidio-analyzer
    _models = None  # type: ignore[assignment]

#: The class name a YAML entry uses (``name:`` or ``class_name:``).
RECOGNIZER_CLASS = "LLMNERRecognizer"

if _models is not None:

    class LLMNERRecognizerConfig(_models.PredefinedRecognizerConfig):  # type: ignore[name-defined,misc]
        """YAML settings for ``LLMNERRecognizer``: the constructor's keyword arguments."""

        model_config = ConfigDict(extra="forbid")

        pipeline: str | None = None
        entity_mapping: dict[str, str] | None = None
        labels_to_ignore: list[str] | None = None
        component: str | None = None
        default_score: float | None = None
        batch_size: int | None = None
        max_prefetch: int | None = None
        allow_remote: bool | None = None
        version: str | None = None

        @model_validator(mode="before")
        @classmethod
        def _no_supported_entities(cls, data: Any) -> Any:
            """Entities come from the pipeline; Presidio would drop these keys silently."""
            if isinstance(data, dict):
                for field in ("supported_entity", "supported_entities"):
                    if data.get(field) is not None:
                        raise ValueError(Errors.E229.format(field=field))
            return data

    _models.CONFIG_MODEL_MAP.setdefault(RECOGNIZER_CLASS, LLMNERRecognizerConfig)
