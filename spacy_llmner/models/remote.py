"""Refuse pipelines whose LLM is a remote API, unless the caller says so.

spacy-llm's ``llm_ner`` factory defaults to an OpenAI model: a user who forgets the ``model``
block of ``nlp.add_pipe("llm_ner")`` gets a pipeline that contacts api.openai.com when it is
built and, with ``OPENAI_API_KEY`` set, sends every document there. spaCy and spacy-llm give no
hook to change that default without patching them, so every entry point of this package that
takes a pipeline (Presidio analyzer and recognizer, the anonymize and evaluate CLIs) checks it
here and refuses a remote model with E033 unless ``allow_remote`` is set.
"""

from __future__ import annotations

from typing import Any

from ..errors import Errors, LLMNERError

# spacy-llm's models that send text elsewhere: its REST clients and the LangChain wrapper.
REMOTE_MODULES = ("spacy_llm.models.rest", "spacy_llm.models.langchain")


def remote_components(nlp: Any) -> list[tuple[str, str]]:
    """``(component, model class)`` for every pipe whose LLM is a remote API."""
    found = []
    for name, pipe in getattr(nlp, "pipeline", ()):
        model = getattr(pipe, "_model", None)
        if model is None:
            continue
        cls = type(model)
        if cls.__module__.startswith(REMOTE_MODULES):
            found.append((name, f"{cls.__module__}.{cls.__qualname__}"))
    return found


def check_local(nlp: Any, allow_remote: bool = False) -> Any:
    """``nlp`` itself when no component sends text to a remote API (or ``allow_remote``); E033."""
    found = remote_components(nlp)
    if found and not allow_remote:
        names = ", ".join(f"{name} ({model})" for name, model in found)
        raise LLMNERError(Errors.E033.format(components=names))
    return nlp
