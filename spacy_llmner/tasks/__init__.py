"""spacy-llm tasks."""

from .xmlner import XMLNERTask, make_xmlner_task

__all__ = ["XMLNERTask", "make_xmlner_task"]
