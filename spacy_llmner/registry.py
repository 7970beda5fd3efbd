"""Registered names (versioned: never change what a ``vN`` does, add ``vN+1``).

Entry points in pyproject.toml make each resolvable from a config without importing this
package; importing it registers them too (useful when running from a source checkout).
"""

from __future__ import annotations

from spacy.util import registry as spacy_registry
from spacy_llm.registry import registry as llm_registry

from .jsonner.task import TASK_JSON_V1, make_jsonner_task
from .models.hf import make_hf_model
from .prompting.labels import make_labels
from .released.model import make_released_model
from .tasks.xmlner import make_xmlner_task
from .textcat import component, gate  # noqa: F401 - register the llm_textcat_head and llmner_phi_gate factories
from .textcat.embedding import make_embedding_similarity  # torch loads on first use, not here
from .textcat.retrieval import make_char_ngram_tfidf
from .textcat.task import make_textcat_task

TASK_V1 = "spacy_llmner.XMLNER.v1"
MODEL_V1 = "spacy_llmner.HF.v1"
RELEASED_V1 = "spacy_llmner.Released.v1"
LABELS_V1 = "spacy_llmner.labels.v1"
TEXTCAT_V1 = "spacy_llmner.TextCat.v1"
CHAR_NGRAM_TFIDF_V1 = "spacy_llmner.CharNgramTfidf.v1"
EMBEDDING_SIMILARITY_V1 = "spacy_llmner.EmbeddingSimilarity.v1"


def register() -> None:
    """Idempotent: re-registering the same function is a no-op for catalogue."""
    llm_registry.llm_tasks.register(TASK_V1, func=make_xmlner_task)
    llm_registry.llm_tasks.register(TASK_JSON_V1, func=make_jsonner_task)
    llm_registry.llm_models.register(MODEL_V1, func=make_hf_model)
    llm_registry.llm_models.register(RELEASED_V1, func=make_released_model)
    spacy_registry.misc.register(LABELS_V1, func=make_labels)
    llm_registry.llm_tasks.register(TEXTCAT_V1, func=make_textcat_task)
    spacy_registry.misc.register(CHAR_NGRAM_TFIDF_V1, func=make_char_ngram_tfidf)
    spacy_registry.misc.register(EMBEDDING_SIMILARITY_V1, func=make_embedding_similarity)


register()
