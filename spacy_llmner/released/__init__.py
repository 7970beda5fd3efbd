"""Models that ship inside the package: ``spacy_llmner.load()`` gives a ready pipeline, offline.

Each released model is a LoRA adapter in ``released/<name>/`` (package data, a few MB) with
``RELEASE.json``: the base it was trained on, the prompt, the policy, and the record of its
training run (inputs, seed, steps, wall time, CPU flags, loss curve, scores). The base itself
comes from its PyPI wheels (``phi-gemma3``, the default: Gemma 3 270M, Gemma Terms of Use;
``phi-smollm2``: SmolLM2-135M-Instruct, Apache-2.0), materialized once into a cache directory on
first use. Nothing is downloaded from a model hub.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .catalog import DEFAULT_RELEASE, Release, available, get_release

if TYPE_CHECKING:
    from spacy.language import Language


def config(name: str = DEFAULT_RELEASE, *, policy: str | None = "safe_harbor", **model: Any) -> dict[str, Any]:
    """The ``llm_ner`` config that builds release ``name`` (``nlp.add_pipe("llm_ner", config=...)``).

    ``policy``: ``"safe_harbor"`` (the default: ages of 89 and under and times of day stay
    untagged) or ``None`` for every entity with Presidio's general meaning. ``model``: settings
    of ``spacy_llmner.Released.v1`` (``device``, ``batch_size`` …).
    """
    release = get_release(name)
    return {
        "task": {
            "@llm_tasks": "spacy_llmner.XMLNER.v1",
            "labels": release.labels,
            "template_version": release.template_version,
            "policy": policy,
        },
        "model": {"@llm_models": "spacy_llmner.Released.v1", "name": name, **model},
        "save_io": False,
    }


def load(name: str = DEFAULT_RELEASE, *, policy: str | None = "safe_harbor", **model: Any) -> Language:
    """A ready spaCy pipeline with released model ``name``; weights load on the first document.

    >>> nlp = spacy_llmner.load()
    >>> [(e.text, e.label_) for e in nlp("Pt John Doe, seen 03/14/2021.").ents]
    """
    import spacy

    release = get_release(name)
    nlp = spacy.blank(release.lang)
    nlp.add_pipe("llm_ner", config=config(name, policy=policy, **model))
    nlp.meta.update(name=f"llmner_{name.replace('-', '_')}", version=release.version,
                    description=f"spacy_llmner released model {name!r} ({release.base_hub_id} + LoRA)")
    return nlp


__all__ = ["DEFAULT_RELEASE", "Release", "available", "config", "get_release", "load"]
