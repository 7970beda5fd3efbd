"""Label ↔ Presidio entity names. Our HIPAA labels already use Presidio's names where they exist."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..prompting.labels import HIPAA

#: Keys :class:`~spacy_llmner.presidio.recognizer.LLMNERRecognizer` adds to each result's
#: ``recognition_metadata``: the pipeline's own label (it also marks the LLM's results for the
#: overlap policy) and where the score came from ("model" or "default").
LABEL_KEY = "llmner_label"
SCORE_SOURCE_KEY = "llmner_score_source"

#: The HIPAA Safe Harbor label set; ``prompting.labels.HIPAA`` is the source.
HIPAA_ENTITIES: tuple[str, ...] = tuple(HIPAA)

#: Presidio's built-in entity names → ours, for comparing Presidio's default analyzer with a
#: pipeline (benchmarks). Names absent here (NRP, US_PASSPORT, CRYPTO, ...) have no HIPAA label.
PRESIDIO_TO_HIPAA: dict[str, str] = {
    **{name: name for name in HIPAA_ENTITIES},
    "US_BANK_NUMBER": "ACCOUNT_NUMBER",
    "MEDICAL_LICENSE": "LICENSE_NUMBER",
}


def resolve_mapping(
    labels: Iterable[str] | None, entity_mapping: Mapping[str, str] | None
) -> dict[str, str]:
    """Our label → Presidio name: identity unless ``entity_mapping`` says otherwise."""
    mapping = {label: label for label in labels or ()}
    mapping.update(entity_mapping or {})
    return mapping
