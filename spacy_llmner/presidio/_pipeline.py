"""What a loaded pipeline can emit (its entity labels); loading itself lives in ``pipelines``."""

from __future__ import annotations

from spacy.language import Language

from ..pipelines import PipelineLike, load_pipeline

__all__ = ["PipelineLike", "load_pipeline", "pipeline_labels"]

#: Components whose labels are entity labels, when their meta does not say so.
_NER_FACTORIES = frozenset({"llm", "llm_ner", "ner", "beam_ner", "entity_ruler"})


def pipeline_labels(nlp: Language, component: str | None = None) -> tuple[str, ...] | None:
    """The entity labels the pipeline can emit, or ``None`` when no component tells."""
    if component is not None:
        return tuple(getattr(nlp.get_pipe(component), "labels", ()) or ()) or None
    found: list[str] = []
    for name, pipe in nlp.pipeline:
        meta = nlp.get_pipe_meta(name)
        is_ner = "doc.ents" in (meta.assigns or []) or meta.factory in _NER_FACTORIES
        labels = getattr(pipe, "labels", None) if is_ner else None
        if labels:
            found.extend(label for label in labels if label not in found)
    return tuple(found) or None
