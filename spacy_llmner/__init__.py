"""spacy_llmner: a (LoRA-tuned) generative LLM as a copy-constrained spaCy NER for personal data.

Use it through spacy-llm's ``llm_ner`` factory::

    nlp.add_pipe("llm_ner", config={
        "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": "hipaa"},
        "model": {"@llm_models": "spacy_llmner.HF.v1", "name": "Qwen/Qwen2.5-1.5B-Instruct",
                  "adapter": "path/to/adapter"},
    })

Importing this package is light (no torch); registered names resolve through entry points.
"""

from __future__ import annotations

import spacy_llm  # noqa: F401  - registers spacy-llm's factories, including "llm_ner"

from .scores import get_entity_score, set_entity_scores
from .tasks import jsonner as _jsonner  # noqa: F401 - registers spacy_llmner.JSONNER.v1 (also an entry point)

__version__ = "0.1.0"

__all__ = ["__version__", "get_entity_score", "set_entity_scores"]
