"""The task↔model contract, as protocols (the way spacy-llm's ``ty.py`` states its own).

spacy-llm passes prompts from the task to the model and answers back, and types them as ``str``
so any model can take any task's prompt. Our task and model agree on more than the text: a prompt
also carries what copy-constrained decoding needs, and an answer may carry exact spans and
confidences. These protocols say what, so each side checks the other by what it carries
(``isinstance`` works: they are runtime-checkable) instead of importing the other's class.
``prompting.XMLPrompt`` and ``prompting.TaggedResponse`` are the implementations. Pure: no torch.

Keep concrete classes in the signatures spacy-llm validates (``generate_prompts``, the model's
``__call__``, ``parse_responses``): its check calls ``issubclass``, which protocols with data
members do not support.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class TaggingPrompt(Protocol):
    """A prompt a copy-constrained model can answer; ``str(prompt)`` is the whole conversation."""

    @property
    def messages(self) -> Sequence[Mapping[str, str]]:
        """The fixed conversation before the document (instruction, scripted exchange, example)."""
        ...

    @property
    def source(self) -> str:
        """The text to copy with tags."""
        ...

    @property
    def labels(self) -> Sequence[str]:
        """The labels a tag may carry."""
        ...

    @property
    def token_spans(self) -> Sequence[tuple[int, int]]:
        """Where tags may open and close: ``(start, end)`` char offsets of spaCy tokens."""
        ...

    @property
    def template_version(self) -> str | None:
        """The prompt template the messages follow (``None``: unknown), checked against the
        adapter's."""
        ...


@runtime_checkable
class TaggedAnswer(Protocol):
    """An answer that knows its entities: ``str(answer)`` is the tagged text; ``spans`` and
    ``scores`` are exact when not ``None``, and apply only to the text ``source``."""

    @property
    def spans(self) -> Sequence[tuple[int, int, str]] | None: ...

    @property
    def scores(self) -> Sequence[float] | None: ...

    @property
    def source(self) -> str | None: ...


@runtime_checkable
class LabelScoringPrompt(Protocol):
    """A classification prompt (``prompting.ClassifyPrompt``): the answer must be one of
    ``answers``, so a model can score each complete answer instead of generating free text."""

    @property
    def messages(self) -> Sequence[Mapping[str, str]]:
        """The conversation before the text (rules, label list, demonstrations)."""
        ...

    @property
    def source(self) -> str:
        """The text to classify."""
        ...

    @property
    def answers(self) -> Sequence[str]:
        """The allowed answers (the labels), in the task's order."""
        ...

    @property
    def template_version(self) -> str | None: ...


@runtime_checkable
class LabelScores(Protocol):
    """An answer that knows every label's log-probability: ``str(answer)`` is the chosen label;
    ``logprobs`` (label → log-probability of its complete answer) is exact when not ``None``."""

    @property
    def logprobs(self) -> Mapping[str, float] | None: ...


__all__ = ["LabelScores", "LabelScoringPrompt", "TaggedAnswer", "TaggingPrompt"]
