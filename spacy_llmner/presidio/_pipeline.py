"""Load a spaCy pipeline from a path, a package name or an ``nlp`` object, never from a hub."""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language

from ..errors import Errors, LLMNERError

PipelineLike = str | Path | Language

#: Components whose labels are entity labels, when their meta does not say so.
_NER_FACTORIES = frozenset({"llm", "llm_ner", "ner", "beam_ner", "entity_ruler"})


def load_pipeline(pipeline: PipelineLike | None = None, allow_remote: bool = False) -> Language:
    """Return a ready ``Language``; a missing path is an error, not a download. ``None`` is the
    released model (``spacy_llmner.load()``). A pipeline whose LLM is a remote API is refused
    (E033) unless ``allow_remote``."""
    from ..models.remote import check_local

    if pipeline is None:
        from ..released import load

        return load()
    if isinstance(pipeline, Language):
        return check_local(pipeline, allow_remote)
    return check_local(_load_named(str(pipeline)), allow_remote)


def _load_named(name: str) -> Language:
    if not Path(name).exists() and not spacy.util.is_package(name):
        raise LLMNERError(Errors.E202.format(path=name))
    try:
        return spacy.load(name)
    except Exception as err:  # noqa: BLE001 - wrapped with the fix in the message
        raise LLMNERError(
            Errors.E203.format(path=name, reason=f"{type(err).__name__}: {err}")
        ) from err


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
