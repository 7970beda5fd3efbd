"""The prompt conversation, versioned with the task (an adapter is trained against one template).

Version 1 follows the seed recipe: an instruction with the label list and descriptions, a
scripted exchange in which the assistant restates the task, one worked example with a short
explanation, then the document. The assistant's answer is the tagged document.

Version 2 is the compact prompt for fine-tuned models: one system message with the rule and the
label list, then the document. A fine-tuned model learns the task from its training data, not
from a scripted exchange, and every prompt token is paid for at each training step and attended
to at each decoded token (SmolLM2: 887 prompt tokens with v1, about a third of that with v2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..jsonner.template import JSON_TEMPLATES, build_json_messages, is_json_template
from ..tagging import CharSpan, escape, render
from ..tagging.labels import close_tag, open_tag

Message = dict[str, str]

TEMPLATE_VERSION = "v1"  # the task's default, so pipelines saved before v2 load unchanged
TEMPLATE_VERSIONS = ("v1", "v2", *JSON_TEMPLATES)  # json1: the JSON answer (json_template.py)

_SYSTEM_V2 = (
    "Copy the user's text exactly, and wrap each piece of personal data in an XML tag named by "
    "its type, e.g. {example}. Change nothing else.\n\nTypes:\n{label_list}"
)

_INSTRUCTION_V1 = (
    "You are given a user utterance that may contain Personal Identifiable Information (PII). "
    "You are also given a list of entity types representing Personal Identifiable Information "
    "(PII). Your task is to detect and identify all instances of the supplied PII entity types "
    "in the user utterance. The output must have the same content as the input. Only the "
    "tokens that match the PII entities in the list should be enclosed within XML tags. The XML "
    "tag comes from the PII entities described in the list below. For example, {example_hint} "
    "Ensure that all entities are identified. Do not perform false identifications.\n\n"
    "List Of Entities\n{label_list}\n\n"
    "Are the instructions clear to you?"
)
_RESTATE_V1 = (
    "Yes, the instructions are clear. I will identify and enclose within the corresponding XML "
    "tags, all instances of the specified PII entity types in the user utterance. For example, "
    "{restate_examples}, etc. leaving the rest of the user utterance unchanged."
)
_ASK_EXPLANATION_V1 = "Give a brief explanation of why your answer is correct."
_HANDOVER_V1 = (
    "Great! I am now going to give you another user utterance. Please detect PII entities in it "
    "according to the previous instructions. Do not include an explanation in your answer."
)
_READY_V1 = "Sure! Please give me the user utterance."


@dataclass(frozen=True)
class PromptExample:
    """The one worked example shown in the prompt (text + gold spans)."""

    text: str
    spans: tuple[CharSpan, ...] = field(default_factory=tuple)

    # The ``{"text", "spans"}`` form: the task's ``example`` setting and its saved cfg.
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PromptExample:
        return cls(str(data["text"]), tuple(tuple(s) for s in data.get("spans", ())))  # type: ignore[misc]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "spans": [list(s) for s in self.spans]}


# Worked examples by the labels they need; the first whose labels are all configured is used.
_EXAMPLES: tuple[PromptExample, ...] = (
    PromptExample(
        "My name is John Doe, and can be contacted at 111-222-3334",
        ((11, 19, "PERSON"), (45, 57, "PHONE_NUMBER")),
    ),
    PromptExample("My name is John Doe, and I need a refill.", ((11, 19, "PERSON"),)),
)


def default_example(labels: Mapping[str, str]) -> PromptExample:
    """Pick a built-in worked example that only uses configured labels (else an untagged one)."""
    for example in _EXAMPLES:
        if all(label in labels for _, _, label in example.spans):
            return example
    return PromptExample("Thank you, the appointment is confirmed.", ())


def _explanation(example: PromptExample, labels: Mapping[str, str]) -> str:
    if not example.spans:
        return (
            "The utterance does not contain any of the specified PII entity types, so it was "
            "left unchanged."
        )
    found = ", and ".join(
        f'{labels[label][0].lower() + labels[label][1:]} "{example.text[s:e]}" within the '
        f"{open_tag(label)}{close_tag(label)} tag"
        for s, e, label in sorted(example.spans)
    )
    return (
        "I identified and enclosed within corresponding XML tags, all instances of the specified "
        f"PII entity types in the user utterance - {found}. The rest of the user utterance was "
        "left unchanged as it did not contain any other identified PII entities."
    )


def check_template_version(version: str) -> str:
    if version not in TEMPLATE_VERSIONS:
        from ..errors import Errors, LLMNERError

        raise LLMNERError(Errors.E011.format(
            name="template_version", value=version, hint=f"Use one of {list(TEMPLATE_VERSIONS)}."))
    return version


def build_messages(
    labels: Mapping[str, str], example: PromptExample | None = None, version: str = TEMPLATE_VERSION
) -> list[Message]:
    """The fixed conversation before the document: identical for every document."""
    check_template_version(version)
    first = next(iter(labels))
    if is_json_template(version):
        return build_json_messages(labels)
    label_list = "\n".join(f"{label}: {description}" for label, description in labels.items())
    if version == "v2":
        shown = f"{open_tag(first)}...{close_tag(first)}"
        return [{"role": "system", "content": _SYSTEM_V2.format(example=shown, label_list=label_list)}]
    example = example or default_example(labels)
    hint = (
        f"a {labels[first][0].lower() + labels[first][1:]} should be enclosed within "
        f"{open_tag(first)}{close_tag(first)} tags."
    )
    restate = ", ".join(f"{open_tag(lab)}<{desc}>{close_tag(lab)}" for lab, desc in list(labels.items())[:2])
    return [
        {"role": "user", "content": _INSTRUCTION_V1.format(example_hint=hint, label_list=label_list)},
        {"role": "assistant", "content": _RESTATE_V1.format(restate_examples=restate)},
        {"role": "user", "content": escape(example.text)},
        {"role": "assistant", "content": render(example.text, example.spans)},
        {"role": "user", "content": _ASK_EXPLANATION_V1},
        {"role": "assistant", "content": _explanation(example, labels)},
        {"role": "user", "content": _HANDOVER_V1},
        {"role": "assistant", "content": _READY_V1},
    ]


def document_message(text: str) -> Message:
    """The document turn: the source, XML-escaped so a literal '<' can never look like a tag."""
    return {"role": "user", "content": escape(text)}


def flatten(messages: Sequence[Message]) -> str:
    """Plain-text conversation, for spacy-llm models that take a single string."""
    return "\n\n".join(f"{m['role'].upper()}: {m['content']}" for m in messages) + "\n\nASSISTANT:"
