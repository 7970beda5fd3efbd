"""spacy_llmner: a (LoRA-tuned) generative LLM as a copy-constrained spaCy NER for personal data.

The released model, ready to use offline: ``nlp = spacy_llmner.load()``.

Or build one through spacy-llm's ``llm_ner`` factory::

    nlp.add_pipe("llm_ner", config={
        "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": "hipaa"},
        "model": {"@llm_models": "spacy_llmner.HF.v1", "name": "Qwen/Qwen2.5-1.5B-Instruct",
                  "adapter": "path/to/adapter"},
    })

Importing this package imports nothing heavy: not spaCy (whose thinc imports torch), not
spacy-llm, not torch, so the pure parts (``tagging``, ``prompting``, ``decoding``'s core) stay
light. Nothing here is needed for the above to work: every ``Language`` loads spaCy's
``spacy_factories`` entry points, spacy-llm's among them, which registers ``llm_ner``; and our
task and model resolve through their own entry points. Our own component, ``llm_textcat_head``
(a classification head on the LLM's last hidden state), registers the same way, or on first
access to ``spacy_llmner.TextCatHead``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .released import load
    from .scores import get_entity_score, set_entity_scores
    from .textcat.component import TextCatHead

__version__ = "0.1.0"

# Importing ``.textcat.component`` also registers its factory (``llm_textcat_head``).
_LAZY = {
    "get_entity_score": ".scores", "set_entity_scores": ".scores", "TextCatHead": ".textcat.component",
    "load": ".released",
}


def __getattr__(name: str) -> Any:
    """The spaCy-backed helpers, imported when first asked for."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["TextCatHead", "__version__", "get_entity_score", "load", "set_entity_scores"]
