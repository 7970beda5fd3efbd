"""Kept where it was: ``spacy_llmner.TextCat.v1`` now lives in ``spacy_llmner/textcat/task.py``.

The target of a ``thinc_llm_tasks`` entry point in installs made before the move
(catalogue imports it even to check a name), so it stays as a re-export until every install is refreshed.
"""

from ..textcat.task import TextCatTask, make_textcat_task

__all__ = ["TextCatTask", "make_textcat_task"]
