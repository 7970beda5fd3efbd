"""The text-classification prompts of the LLM text-classification study, versioned with ``spacy_llmner.TextCat.v1``.

Exclusive classes (template ``textcat1``): the model sees the label list (with one-line
descriptions) and the rules (answer with exactly one label, nothing else), then k demonstrations
as user/assistant turns (text → label) ordered by similarity, the most similar last, nearest the
text; then the text. Its answer is the label text
itself, followed by the chat template's end marker: what an SFT adapter would be trained to write.

Labels here are free text (e.g. Chinese event types such as ``公司权益分派``), not XML names: the
answer is never parsed as tags.

Multi-label (template ``textcat-multi1``): one question per label. The system message gives the
rules (answer ``yes`` or ``no``, that word only), the one label with its description and the
question "Does the text belong to this label? Answer yes or no."; then the demonstrations as
user/assistant turns (text → ``yes`` if the question's label is among the demonstration's labels,
else ``no``); then the text. The allowed answers are exactly ``yes`` and ``no``. Pure: no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Union, cast

from ..errors import Errors, LLMNERError
from ..prompting.prompt import ScoredAnswer
from ..prompting.template import Message, document_message, flatten

CLASSIFY_TEMPLATE = "textcat1"  # bump (add a new one) when the wording changes: adapters are trained on one
MULTI_LABEL_TEMPLATE = "textcat-multi1"  # the yes/no question per label; versioned the same way
YES, NO = "yes", "no"  # the only answers to a label question, in this order

ClassLabelsArg = Union[str, Sequence[str], Mapping[str, Union[str, None]]]

_SYSTEM = (
    "You classify texts. Read the text, understand its topic, and answer with the one label from "
    "the list below that fits it best.\n\n"
    "Rules:\n"
    "1. Answer with exactly one label, written exactly as in the list.\n"
    "2. Answer with the label only: no explanation, no other text.\n\n"
    "Labels:\n{label_list}"
)
_DEMOS_INTRO = "\n\nThe conversation shows labelled examples before the text to classify."

_QUESTION_SYSTEM = (
    "You classify texts. Read the text, understand its topic, and decide whether it belongs to "
    "the label below.\n\n"
    "Rules:\n"
    "1. Answer with exactly one word: yes or no.\n"
    "2. Answer with that word only: no explanation, no other text.\n\n"
    "Label: {label}{description}\n\n"
    "Does the text belong to this label? Answer yes or no."
)
_QUESTION_DEMOS_INTRO = "\n\nThe conversation shows examples answered for this label before the text."


def resolve_classes(labels: ClassLabelsArg | None) -> dict[str, str]:
    """Labels → one-line descriptions (``""`` when none), in the given order; coded errors for an
    empty set (E602), a duplicate (E603) or a label the answer could not be (E604)."""
    items: list[tuple[object, str | None]]
    if labels is None:
        items = []
    elif isinstance(labels, str):
        items = [(lab.strip(), None) for lab in labels.split(",") if lab.strip()]
    elif isinstance(labels, Mapping):
        items = list(labels.items())
    else:
        items = [(lab, None) for lab in labels]
    out: dict[str, str] = {}
    for label, description in items:
        if not isinstance(label, str) or not label or label != label.strip() or "\n" in label or "\r" in label:
            raise LLMNERError(Errors.E604.format(label=label))
        if label in out:
            raise LLMNERError(Errors.E603.format(label=label))
        out[label] = " ".join((description or "").split())  # one line, as the prompt lists it
    if not out:
        raise LLMNERError(Errors.E602)
    return out


@dataclass(frozen=True)
class Demonstration:
    """One labelled example shown before the text (``label`` is one of the task's labels)."""

    text: str
    label: str


@dataclass(frozen=True)
class MultiDemonstration:
    """One example shown before the text of a label question: ``labels`` are all its labels (none
    at all is a valid example: the answer is ``no`` for every question)."""

    text: str
    labels: tuple[str, ...]

    def answer(self, label: str) -> str:
        """The demonstration's answer to the question about ``label``."""
        return YES if label in self.labels else NO


def build_question_messages(
    label: str, description: str = "", demos: Sequence[MultiDemonstration] = ()
) -> list[Message]:
    """The conversation before the text for the question "does the text belong to ``label``?":
    system rules + the label (and its description), then each demonstration as a user turn (the
    text) and an assistant turn (``yes`` or ``no`` for this label), in the given order."""
    desc = f"\nDescription: {description}" if description else ""
    system = _QUESTION_SYSTEM.format(label=label, description=desc) + (_QUESTION_DEMOS_INTRO if demos else "")
    messages: list[Message] = [{"role": "system", "content": system}]
    for demo in demos:
        messages.append(document_message(demo.text))
        messages.append({"role": "assistant", "content": demo.answer(label)})
    return messages


def build_classify_messages(labels: Mapping[str, str], demos: Sequence[Demonstration] = ()) -> list[Message]:
    """The conversation before the text: system rules + label list, then each demonstration as a
    user turn (the text) and an assistant turn (its label), in the given order."""
    label_list = "\n".join(f"- {lab}: {desc}" if desc else f"- {lab}" for lab, desc in labels.items())
    system = _SYSTEM.format(label_list=label_list) + (_DEMOS_INTRO if demos else "")
    messages: list[Message] = [{"role": "system", "content": system}]
    for demo in demos:
        messages.append(document_message(demo.text))
        messages.append({"role": "assistant", "content": demo.label})
    return messages


class ClassifyPrompt(str):
    """``str(prompt)`` is the whole conversation (for any spacy-llm model); the attributes are what
    a label-scoring model needs (``ty.LabelScoringPrompt``)."""

    messages: tuple[Message, ...]
    source: str
    answers: tuple[str, ...]
    template_version: str | None

    def __new__(
        cls, messages: Sequence[Message], source: str, answers: Sequence[str], template_version: str | None = None
    ) -> ClassifyPrompt:
        obj = super().__new__(cls, flatten([*messages, document_message(source)]))
        obj.messages = tuple(messages)
        obj.source = source
        obj.answers = tuple(answers)
        obj.template_version = template_version
        return obj

    @property
    def labels(self) -> tuple[str, ...]:
        """The same as ``answers`` (what the adapter-label check reads)."""
        return self.answers

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (ClassifyPrompt, (list(self.messages), self.source, list(self.answers), self.template_version))


class LabelQuestionPrompt(ClassifyPrompt):
    """The yes/no question about one label (multi-label): ``answers`` are ``("yes", "no")``, so a
    label-scoring model scores exactly those two; ``labels`` is the label asked about (what an
    adapter's label check reads)."""

    label: str

    def __new__(
        cls, messages: Sequence[Message], source: str, label: str, template_version: str | None = None
    ) -> LabelQuestionPrompt:
        obj = cast("LabelQuestionPrompt", super().__new__(cls, messages, source, (YES, NO), template_version))
        obj.label = label
        return obj

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.label,)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (LabelQuestionPrompt, (list(self.messages), self.source, self.label, self.template_version))


__all__ = [
    "CLASSIFY_TEMPLATE",
    "ClassLabelsArg",
    "ClassifyPrompt",
    "Demonstration",
    "LabelQuestionPrompt",
    "MULTI_LABEL_TEMPLATE",
    "MultiDemonstration",
    "NO",
    "ScoredAnswer",
    "YES",
    "build_classify_messages",
    "build_question_messages",
    "resolve_classes",
]
