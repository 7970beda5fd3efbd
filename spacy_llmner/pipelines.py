"""Load a spaCy pipeline from a path, a package, a released model's name or an ``nlp`` object,
never from a hub, and never one whose LLM sends the text to a remote API unless told to.

Every entry point that takes a pipeline (Presidio analyzer and recognizer, the CLI commands, the
Ray workers) loads it here, so the released-model default and the remote-API guard hold for all.
"""

from __future__ import annotations

from pathlib import Path

import spacy
from spacy.language import Language

from .errors import Errors, LLMNERError

PipelineLike = str | Path | Language


def load_pipeline(pipeline: PipelineLike | None = None, allow_remote: bool = False) -> Language:
    """Return a ready ``Language``; a missing path is an error, not a download. ``None`` is the
    released model (``spacy_llmner.load()``), and so is a released model's name. A pipeline
    whose LLM is a remote API is refused (E033) unless ``allow_remote``."""
    from .models.remote import check_local

    if pipeline is None:
        from .released import load

        return load()
    if isinstance(pipeline, Language):
        return check_local(pipeline, allow_remote)
    return check_local(_load_named(str(pipeline)), allow_remote)


def _load_named(name: str) -> Language:
    if not Path(name).exists() and not spacy.util.is_package(name):
        from .released import available, load

        if name in available():  # a released model's name, e.g. "phi-smollm2"
            return load(name)
        raise LLMNERError(Errors.E202.format(path=name))
    try:
        return spacy.load(name)
    except Exception as err:  # noqa: BLE001 - wrapped with the fix in the message
        raise LLMNERError(
            Errors.E203.format(path=name, reason=f"{type(err).__name__}: {err}")
        ) from err
