"""``LLMNERRecognizer``: a thin Presidio adapter over a spacy_llmner pipeline (cf. GLiNER's).

The pipeline sets ``doc.ents`` and one confidence per entity; the recognizer maps labels to
Presidio entity names and passes the model's confidence on as the result score.

Presidio calls ``analyze`` one text at a time, so an LLM added with ``registry.add_recognizer``
would run unbatched. :meth:`LLMNERRecognizer.prefetch` runs ``nlp.pipe`` over one batch first;
``analyze`` then finds each text's Doc by a hash of the text. The Docs live in a per-thread
frame that exists only for the ``with`` block, so nothing outlives the batch.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.language import Language
from spacy.tokens import Doc

from ..errors import Errors, LLMNERError
from ..scores import get_entity_score
from ._pipeline import PipelineLike, load_pipeline, pipeline_labels
from .mapping import HIPAA_ENTITIES, LABEL_KEY, SCORE_SOURCE_KEY, resolve_mapping
from .nlp_engine import LLMNERNlpEngine

#: Score used when the model gives none (e.g. an unconstrained REST model); Presidio's default.
DEFAULT_SCORE = 0.85

#: Most texts one :meth:`LLMNERRecognizer.prefetch` may hold (a bound on the per-batch cache).
DEFAULT_MAX_PREFETCH = 256


def _text_key(text: str) -> bytes:
    """Cache key for a text: a digest, so the cache's keys never hold the text itself."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class LLMNERRecognizer(LocalRecognizer):
    """Presidio recognizer whose results carry the LLM's per-entity confidence."""

    name: str

    def __init__(
        self,
        pipeline: PipelineLike | None = None,
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
        max_prefetch: int = DEFAULT_MAX_PREFETCH,
    ) -> None:
        """
        :param pipeline: a pipeline directory, an installed package name or an ``nlp`` object;
            loaded in :meth:`load` (Presidio calls it when the recognizer is created);
            ``None``: the released model.
        :param entity_mapping: our label → Presidio entity name; labels not listed keep their
            name (the HIPAA labels already are Presidio names).
        :param labels_to_ignore: pipeline labels never returned.
        :param component: the NER component to read labels from (default: found by factory).
        :param default_score: score for entities the model gave no confidence for.
        :param batch_size: texts per ``nlp.pipe`` batch, i.e. per LLM call, when batching.
        :param allow_remote: accept a pipeline whose LLM is a remote API (refused by default, E033).
        :param max_prefetch: most texts one :meth:`prefetch` may hold (E228 above it).
        """
        self._pipeline_spec = pipeline
        self.allow_remote = bool(allow_remote)
        self._entity_mapping = dict(entity_mapping or {})
        self.labels_to_ignore = frozenset(labels_to_ignore)
        self.component = component
        self.default_score = float(default_score)
        self.batch_size = int(batch_size)
        self.max_prefetch = int(max_prefetch)
        self._nlp: Language | None = None
        # One stack of {text digest: Doc} frames per thread: a batch never sees another's Docs.
        self._local = threading.local()
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
        """Results for one text; reuses the engine's Doc when the engine ran this pipeline, or
        the Doc from an open :meth:`prefetch`; otherwise runs the pipeline on this text alone."""
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

    @contextmanager
    def prefetch(self, texts: Sequence[str]) -> Iterator[None]:
        """Run the LLM over ``texts`` in ``nlp.pipe`` batches; ``analyze`` reuses the Docs.

        For callers that feed Presidio one text at a time (``LLMNERBatchAnalyzerEngine`` does it
        for you). The Docs are dropped when the block ends, even on error.
        """
        texts = list(texts)
        if len(texts) > self.max_prefetch:
            raise LLMNERError(Errors.E228.format(n=len(texts), limit=self.max_prefetch))
        frame: dict[bytes, Doc] = {}
        stack = self._frames()
        stack.append(frame)
        try:
            docs = self.nlp.pipe(texts, batch_size=self.batch_size)
            for text, doc in zip(texts, docs):
                frame[_text_key(text)] = doc
            yield
        finally:
            frame.clear()
            for i in range(len(stack) - 1, -1, -1):  # by identity: empty frames compare equal
                if stack[i] is frame:
                    del stack[i]
                    break

    def prefetched_count(self) -> int:
        """Docs this thread holds from open :meth:`prefetch` blocks (0 outside a batch)."""
        return sum(len(frame) for frame in self._frames())

    def _frames(self) -> list[dict[bytes, Doc]]:
        frames: list[dict[bytes, Doc]] | None = getattr(self._local, "frames", None)
        if frames is None:
            frames = self._local.frames = []
        return frames

    def _prefetched(self, text: str) -> Doc | None:
        frames = self._frames()
        if not frames:
            return None
        key = _text_key(text)
        for frame in reversed(frames):
            doc = frame.get(key)
            if doc is not None and doc.text == text:
                return doc
        return None

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
        prefetched = self._prefetched(text)
        return prefetched if prefetched is not None else self.nlp(text)
