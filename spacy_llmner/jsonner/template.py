"""The prompt of the JSON answer format (template ``"json1"``, used by ``spacy_llmner.JSONNER.v1``).

One system message, like template v2 (the fine-tuned model learns the task from its data):
the rule, the answer's shape, and the label list with descriptions. The seed asked in Chinese
with the ten keys spelled as questions (``'属于人名类实体有?'``); here the keys are the label
names and the descriptions carry the Chinese, so the XML and JSON formats see the same label
information and differ only in the answer.
"""

from __future__ import annotations

from collections.abc import Mapping

JSON_TEMPLATES = ("json1",)

_SYSTEM_JSON1 = (
    "Find the entities in the user's text. Answer with one JSON object that maps each type to "
    "the list of its entities, each copied exactly as it is written in the text, e.g. "
    '{{"{first}": ["..."]}}. Leave out types with no entity; answer {{}} if there is none.'
    "\n\nTypes:\n{label_list}"
)


def is_json_template(version: str | None) -> bool:
    """Whether prompts of this template version are answered with JSON (not tagged text)."""
    return version in JSON_TEMPLATES


def build_json_messages(labels: Mapping[str, str]) -> list[dict[str, str]]:
    """The fixed conversation before the document."""
    label_list = "\n".join(f"{label}: {description}" for label, description in labels.items())
    return [{"role": "system", "content": _SYSTEM_JSON1.format(first=next(iter(labels)), label_list=label_list)}]
