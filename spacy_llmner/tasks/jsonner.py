"""Kept where it was: ``spacy_llmner.JSONNER.v1`` now lives in ``spacy_llmner/jsonner/task.py``.

The target of a ``thinc_llm_tasks`` entry point in installs made before the move
(catalogue imports it even to check a name), so it stays as a re-export until every install is refreshed.
"""

from ..jsonner.task import TASK_JSON_V1, JSONNERTask, make_jsonner_task

__all__ = ["TASK_JSON_V1", "JSONNERTask", "make_jsonner_task"]
