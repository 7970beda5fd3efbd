"""``LLMNERRecognizer``: a thin Presidio adapter over a spacy_llmner pipeline (cf. GLiNER's).

The pipeline sets ``doc.ents`` and one confidence per entity; the recognizer maps labels to
Presidio entity names and passes the model's confidence on as the result score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.language import Language
from spacy.tokens import Doc

from ..scores import get_entity_score
from ._pipeline import PipelineLike, load_pipeline, pipeline_labels
from .mapping import HIPAA_ENTITIES, LABEL_KEY, SCORE_SOURCE_KEY, resolve_mapping
from .nlp_engine import LLMNERNlpEngine

#: Score used when the model gives none (e.g. an unconstrained REST model); Presidio's default.
DEFAULT_SCORE = 0.85


class LLMNERRecognizer(LocalRecognizer):
    """Presidio recognizer whose results carry the LLM's per-entity confidence."""

    name: str

    def __init__(
        self,
        pipeline: PipelineLike,
        *,
        entity_mapping: Mapping[str, str] | None = None,
        labels_to_ignore: Iterable[str] = (),
        component: str | None = None,
        default_score: float = DEFAULT_SCORE,
        batch_size: int = 8,
        supported_language: str = "en",
        name: str = "LLMNERRecognizer",
        version: str = "0.1.0",
        context: list[str] | None = None,
        allow_remote: bool = False,
    ) -> None:
        """
        :param pipeline: a pipeline directory, an installed package name or an ``nlp`` object;
            loaded in :meth:`load` (Presidio calls it when the recognizer is created).
        :param entity_mapping: our label → Presidio entity name; labels not listed keep their
            name (the HIPAA labels already are Presidio names).
        :param labels_to_ignore: pipeline labels never returned.
        :param component: the NER component to read labels from (default: found by factory).
        :param default_score: score for entities the model gave no confidence for.
        :param allow_remote: accept a pipeline whose LLM is a remote API (refused by default, E033).
        """
        self._pipeline_spec = pipeline
        self.allow_remote = bool(allow_remote)
        self._entity_mapping = dict(entity_mapping or {})
        self.labels_to_ignore = frozenset(labels_to_ignore)
        self.component = component
        self.default_score = float(default_score)
        self.batch_size = int(batch_size)
        self._nlp: Language | None = None
        self.model_to_presidio_entity_mapping: dict[str, str] = resolve_mapping(
            None, self._entity_mapping
        )
        super().__init__(
            supported_entities=self._supported(None),
            name=name,
            supported_language=supported_language,
            version=version,
            context=context,
        )

    # -- loading -------------------------------------------------------------------------
    def load(self) -> None:
        """Load the pipeline and derive the supported entities from its labels."""
        if self._nlp is None:
            self._nlp = load_pipeline(self._pipeline_spec, allow_remote=self.allow_remote)
        labels = pipeline_labels(self._nlp, self.component)
        self.model_to_presidio_entity_mapping = resolve_mapping(labels, self._entity_mapping)
        self.supported_entities = self._supported(labels)

    @property
    def nlp(self) -> Language:
        """The wrapped pipeline (loaded on first use if :meth:`load` has not run)."""
        if self._nlp is None:
            self.load()
        assert self._nlp is not None
        return self._nlp

    def _supported(self, labels: Sequence[str] | None) -> list[str]:
        source = labels or list(self._entity_mapping) or list(HIPAA_ENTITIES)
        names = {
            self.model_to_presidio_entity_mapping.get(label, label)
            for label in source
            if label not in self.labels_to_ignore
        }
        return sorted(names)

    # -- analysis ------------------------------------------------------------------------
    def analyze(
        self,
        text: str,
        entities: list[str] | None,
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        """Results for one text; reuses the engine's Doc when the engine ran this pipeline."""
        return self.results_from_doc(self._doc_for(text, nlp_artifacts), entities)

    def analyze_batch(
        self,
        texts: Iterable[str],
        entities: list[str] | None = None,
        batch_size: int | None = None,
    ) -> list[list[RecognizerResult]]:
        """Results for many texts, batched through ``nlp.pipe`` (the LLM batches documents)."""
        docs = self.nlp.pipe(texts, batch_size=batch_size or self.batch_size)
        return [self.results_from_doc(doc, entities) for doc in docs]

    def results_from_doc(self, doc: Doc, entities: list[str] | None) -> list[RecognizerResult]:
        """Map ``doc.ents`` to Presidio results with the model's confidence as the score."""
        wanted = set(entities) if entities else None
        results = []
        for ent in doc.ents:
            label = ent.label_
            if label in self.labels_to_ignore:
                continue
            entity = self.model_to_presidio_entity_mapping.get(label, label)
            if wanted is not None and entity not in wanted:
                continue
            model_score = get_entity_score(ent)
            source = "model" if model_score is not None else "default"
            score = self.default_score if model_score is None else model_score
            score = min(max(score, self.MIN_SCORE), self.MAX_SCORE)
            explanation = AnalysisExplanation(
                recognizer=self.name,
                original_score=score,
                textual_explanation=(
                    f"Identified as {entity} (model label {label}) by spacy_llmner; "
                    f"score from the {source}"
                ),
            )
            results.append(
                RecognizerResult(
                    entity_type=entity,
                    start=ent.start_char,
                    end=ent.end_char,
                    score=score,
                    analysis_explanation=explanation,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        LABEL_KEY: label,
                        SCORE_SOURCE_KEY: source,
                    },
                )
            )
        return results

    def _doc_for(self, text: str, nlp_artifacts: NlpArtifacts | None) -> Doc:
        if nlp_artifacts is not None:
            engine = getattr(nlp_artifacts, "nlp_engine", None)
            doc = getattr(nlp_artifacts, "tokens", None)
            if (
                isinstance(engine, LLMNERNlpEngine)
                and engine.uses(self.nlp)
                and isinstance(doc, Doc)
                and doc.text == text
            ):
                return doc
        return self.nlp(text)
