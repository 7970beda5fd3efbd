"""Anonymize text from analyzer results (non-PII characters kept exactly), and reverse it.

``anonymize`` resolves overlaps with the documented policy, numbers surrogates in text order,
and runs Presidio's ``AnonymizerEngine`` without its whitespace merging, so every character
outside the resolved spans is copied unchanged and in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from presidio_anonymizer import AnonymizerEngine, DeanonymizeEngine
from presidio_anonymizer.entities import (
    ConflictResolutionStrategy,
    EngineResult,
    OperatorConfig,
    OperatorResult,
)

from ..errors import Errors, LLMNERError
from .operators import SURROGATE, Surrogate, SurrogateTable, check_key, hipaa_operators
from .overlaps import resolve_overlaps

_ENGINE: AnonymizerEngine | None = None


def anonymizer_engine() -> AnonymizerEngine:
    """A shared ``AnonymizerEngine`` that knows the ``surrogate`` operator."""
    global _ENGINE
    if _ENGINE is None:
        engine = AnonymizerEngine()
        engine.add_anonymizer(Surrogate)
        _ENGINE = engine
    return _ENGINE


def _check_ranges(text: str, results: Sequence[Any]) -> None:
    for i, result in enumerate(results):
        if not 0 <= result.start <= result.end <= len(text):
            raise LLMNERError(
                Errors.E207.format(
                    index=i,
                    entity_type=result.entity_type,
                    start=result.start,
                    end=result.end,
                    n=len(text),
                )
            )


def _operator_for(
    entity_type: str, operators: Mapping[str, OperatorConfig]
) -> OperatorConfig | None:
    return operators.get(entity_type) or operators.get("DEFAULT")


def anonymize(
    text: str,
    analyzer_results: Iterable[Any],
    operators: Mapping[str, OperatorConfig] | None = None,
    *,
    surrogates: SurrogateTable | None = None,
    engine: AnonymizerEngine | None = None,
) -> EngineResult:
    """Replace the detected spans; ``EngineResult.items`` say where each replacement went.

    :param analyzer_results: Presidio ``RecognizerResult`` objects (analyzer or anonymizer).
    :param operators: per entity type (and ``DEFAULT``); defaults to ``hipaa_operators()``.
    :param surrogates: share one table across calls to keep ``<PERSON_1>`` consistent across
        documents; by default numbering restarts for each text.
    """
    results = list(analyzer_results)
    _check_ranges(text, results)
    resolved = resolve_overlaps(results, text=text)
    ops = dict(operators) if operators is not None else hipaa_operators()
    table = surrogates if surrogates is not None else SurrogateTable()
    for result in resolved:  # number in order of appearance, before Presidio works backwards
        config = _operator_for(result.entity_type, ops)
        if config is not None and config.operator_name == SURROGATE:
            table.index(result.entity_type, text[result.start : result.end])
    ops = {
        name: OperatorConfig(SURROGATE, {**config.params, "table": table})
        if config.operator_name == SURROGATE
        else config
        for name, config in ops.items()
    }
    return (engine or anonymizer_engine()).anonymize(
        text,
        resolved,
        ops,
        conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
        merge_entities_with_spaces=False,
    )


def _as_operator_result(item: OperatorResult | Mapping[str, Any]) -> OperatorResult:
    if isinstance(item, OperatorResult):
        return item
    return OperatorResult(
        start=int(item["start"]),
        end=int(item["end"]),
        entity_type=str(item["entity_type"]),
        text=str(item.get("text") or ""),
        operator=str(item.get("operator") or "encrypt"),
    )


def deanonymize(
    text: str,
    items: Iterable[OperatorResult | Mapping[str, Any]],
    *,
    key: str | bytes,
    skip_other: bool = True,
) -> EngineResult:
    """Decrypt the ``encrypt``-ed spans of an anonymized text (Presidio's ``DeanonymizeEngine``).

    :param items: ``EngineResult.items`` of :func:`anonymize` (or their dicts, e.g. from a JSONL
        ``--items-field``); spans are positions in the *anonymized* text.
    :param skip_other: ignore items of other operators (placeholders cannot be reversed).
    """
    raw_key = check_key(key)
    entities = []
    for i, item in enumerate(_as_operator_result(it) for it in items):
        if item.operator not in (None, "encrypt"):
            if skip_other:
                continue
            raise LLMNERError(Errors.E217.format(index=i, operator=item.operator))
        entities.append(item)
    return DeanonymizeEngine().deanonymize(
        text, entities, {"DEFAULT": OperatorConfig("decrypt", {"key": raw_key})}
    )
