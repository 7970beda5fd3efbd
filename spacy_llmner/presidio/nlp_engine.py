"""A Presidio ``NlpEngine`` over our pipeline: real per-entity scores, no model download.

Presidio's ``SpacyNlpEngine`` gives every entity the constant ``default_score`` and downloads
any model name it cannot find. This subclass reads each entity's confidence with
:func:`~spacy_llmner.scores.get_entity_score`, loads only local pipelines (or takes ``nlp``
objects), and fills missing lemmas with lower-cased tokens so Presidio's context words still
work on pipelines without a lemmatizer. It is also registered under the engine name
``spacy_llmner`` for ``NlpEngineProvider(nlp_engines=(LLMNERNlpEngine,), ...)``.
"""

from __future__ import annotations

from collections.abc import Mapping

from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

from ..scores import get_entity_score
from ._pipeline import load_pipeline, pipeline_labels
from .mapping import resolve_mapping


class LLMNERNlpEngine(SpacyNlpEngine):
    """Run the LLM pipeline once per text (batched through ``nlp.pipe``) for all recognizers."""

    engine_name = "spacy_llmner"
    is_available = True

    def __init__(
        self,
        models: list[dict[str, str]] | None = None,
        ner_model_configuration: NerModelConfiguration | None = None,
        *,
        pipelines: Mapping[str, Language] | None = None,
    ) -> None:
        self._given = dict(pipelines or {})
        if models is None:
            models = [{"lang_code": lang, "model_name": "<object>"} for lang in self._given]
        self._custom_mapping = ner_model_configuration is not None
        super().__init__(models=models, ner_model_configuration=ner_model_configuration)

    def load(self) -> None:
        """Use the given ``nlp`` objects, load the rest from local paths (never a download)."""
        loaded: dict[str, Language] = {}
        for model in self.models:
            self._validate_model_params(model)
            lang = model["lang_code"]
            given = self._given.get(lang)
            loaded[lang] = given if given is not None else load_pipeline(model["model_name"])
        self.nlp = loaded  # type: ignore[assignment]  # Presidio declares it as None
        if not self._custom_mapping:
            labels: list[str] = []
            for nlp in loaded.values():
                labels.extend(pipeline_labels(nlp) or ())
            self.ner_model_configuration.model_to_presidio_entity_mapping = resolve_mapping(
                labels, None
            )

    def uses(self, nlp: Language) -> bool:
        """True when this engine runs exactly this pipeline (so its Docs can be reused)."""
        pipelines: dict[str, Language] = self.nlp or {}
        return any(loaded is nlp for loaded in pipelines.values())

    def _get_scores_for_entities(self, doc: Doc) -> list[float]:
        default = float(self.ner_model_configuration.default_score or 0.0)
        scores = []
        for ent in doc.ents:
            score = get_entity_score(ent)
            scores.append(default if score is None else score)
        return scores

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(
            list(self._get_entities(doc)), self._get_scores_for_entities(doc)
        )
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[token.lemma_ or token.lower_ for token in doc],
            nlp_engine=self,
            language=language,
            scores=scores,
        )
