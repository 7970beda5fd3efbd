"""``build_analyzer``: our LLM recognizer + Presidio's validated pattern recognizers, offline.

No network at run time: the NLP engine is our own pipeline (never Presidio's default
``en_core_web_lg`` download), and the e-mail recognizer validates domains against
``tldextract``'s bundled public-suffix snapshot instead of fetching the list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import tldextract
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NerModelConfiguration
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

from ._pipeline import PipelineLike, load_pipeline
from .nlp_engine import LLMNERNlpEngine
from .overlaps import resolve_overlaps
from .recognizer import DEFAULT_SCORE, LLMNERRecognizer

#: Offline public-suffix lookups: no cache directory, no suffix-list URLs → bundled snapshot.
_OFFLINE_TLD = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, validating domains without fetching the suffix list."""

    def validate_result(self, pattern_text: str) -> bool:  # noqa: D102
        return _OFFLINE_TLD(pattern_text).fqdn != ""


def default_pattern_recognizers(language: str = "en") -> list[EntityRecognizer]:
    """Presidio recognizers for the HIPAA labels with a fixed format, most with validation."""
    return [
        CreditCardRecognizer(supported_language=language),  # Luhn checksum
        IbanRecognizer(supported_language=language),  # mod-97 checksum
        UsSsnRecognizer(supported_language=language),  # invalid-group pruning
        IpRecognizer(supported_language=language),  # ipaddress validation
        OfflineEmailRecognizer(supported_language=language),  # public-suffix validation
        UrlRecognizer(supported_language=language),
        PhoneRecognizer(supported_language=language),  # libphonenumber
    ]


class LLMNERAnalyzerEngine(AnalyzerEngine):
    """``AnalyzerEngine`` that applies the overlap policy and analyzes batches via ``nlp.pipe``."""

    #: Apply :func:`~.overlaps.resolve_overlaps` to every result list (``build_analyzer`` sets it).
    overlap_policy: bool = True

    def analyze(  # type: ignore[override]
        self,
        text: str,
        language: str,
        entities: list[str] | None = None,
        *,
        return_decision_process: bool | None = False,
        **kwargs: Any,
    ) -> list[RecognizerResult]:
        """Presidio's ``analyze``, then :func:`~.overlaps.resolve_overlaps` across types."""
        results = super().analyze(
            text, language, entities=entities, return_decision_process=True, **kwargs
        )
        if self.overlap_policy:
            results = resolve_overlaps(results, text=text)
        if not return_decision_process:
            for result in results:
                result.analysis_explanation = None  # type: ignore[assignment]
        return results

    def analyze_batch(
        self,
        texts: Iterable[str],
        language: str = "en",
        *,
        batch_size: int = 8,
        **kwargs: Any,
    ) -> Iterator[list[RecognizerResult]]:
        """Stream results; the pipeline (and so the LLM) sees ``batch_size`` texts at a time."""
        batches = self.nlp_engine.process_batch(texts, language, batch_size=batch_size)
        for text, artifacts in batches:
            yield self.analyze(text, language, nlp_artifacts=artifacts, **kwargs)


def build_analyzer(
    pipeline: PipelineLike | None = None,
    *,
    entity_mapping: Mapping[str, str] | None = None,
    labels_to_ignore: Iterable[str] = (),
    with_patterns: bool = True,
    pattern_recognizers: Sequence[EntityRecognizer] | None = None,
    score_threshold: float = 0.0,
    language: str = "en",
    default_score: float = DEFAULT_SCORE,
    overlap_policy: bool = True,
    allow_remote: bool = False,
) -> LLMNERAnalyzerEngine:
    """An ``AnalyzerEngine`` whose NER is our pipeline, plus validated pattern recognizers.

    :param pipeline: pipeline directory, package name or ``nlp`` object (loaded once, shared by
        the NLP engine and the recognizer, so the LLM runs once per text); ``None``: the
        released model (``spacy_llmner.load()``).
    :param allow_remote: accept a pipeline whose LLM is a remote API (refused by default, E033).
    :param entity_mapping: our label → Presidio entity name (identity by default).
    :param with_patterns: add :func:`default_pattern_recognizers` (or ``pattern_recognizers``).
    :param score_threshold: drop results scoring below this (``AnalyzerEngine`` default).
    :param overlap_policy: apply the overlap policy of :mod:`spacy_llmner.presidio.overlaps`.
    """
    nlp = load_pipeline(pipeline, allow_remote=allow_remote)
    recognizer = LLMNERRecognizer(
        nlp,
        entity_mapping=entity_mapping,
        labels_to_ignore=labels_to_ignore,
        default_score=default_score,
        supported_language=language,
        allow_remote=allow_remote,
    )
    ner_config = NerModelConfiguration(
        model_to_presidio_entity_mapping=recognizer.model_to_presidio_entity_mapping,
        labels_to_ignore=list(labels_to_ignore),
        default_score=default_score,
    )
    nlp_engine = LLMNERNlpEngine(ner_model_configuration=ner_config, pipelines={language: nlp})
    nlp_engine.load()
    recognizers: list[EntityRecognizer] = [recognizer]
    if with_patterns:
        recognizers += list(pattern_recognizers or default_pattern_recognizers(language))
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[language])
    engine = LLMNERAnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        default_score_threshold=score_threshold,
        supported_languages=[language],
    )
    engine.overlap_policy = overlap_policy
    return engine
