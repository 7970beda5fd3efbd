"""The prompt object passed from the task to the model through spacy-llm.

A ``str`` (the flattened conversation), so any spacy-llm model — a REST model, say — can take it,
which then goes through the tolerant parser. It also carries what the constrained decoder needs:
the fixed messages, the source text, the labels, and where tags may go (spaCy token spans).
The model's answers come back as ``TaggedResponse`` (tagged text, exact spans) or ``ScoredAnswer``
(a chosen label with every label's log-probability).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .template import Message, document_message, flatten

#: The answer formats a span prompt can ask for; a model routes each to its decoder by this name.
ANSWER_FORMATS = ("tagged", "json")


class XMLPrompt(str):
    """``str(prompt)`` is the whole conversation; attributes hold its structured parts."""

    messages: tuple[Message, ...]
    source: str
    labels: tuple[str, ...]
    token_spans: tuple[tuple[int, int], ...]
    template_version: str | None  # the prompt template the messages follow (None: unknown)
    answer_format: str  # how the answer is written: "tagged" (XML tags) or "json" (ANSWER_FORMATS)

    def __new__(
        cls,
        messages: Sequence[Message],
        source: str,
        labels: Sequence[str],
        token_spans: Sequence[tuple[int, int]],
        template_version: str | None = None,
        answer_format: str = "tagged",
    ) -> XMLPrompt:
        obj = super().__new__(cls, flatten([*messages, document_message(source)]))
        obj.messages = tuple(messages)
        obj.source = source
        obj.labels = tuple(labels)
        obj.token_spans = tuple(token_spans)
        obj.template_version = template_version
        obj.answer_format = answer_format
        return obj

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (
            XMLPrompt,
            (
                list(self.messages), self.source, list(self.labels), list(self.token_spans), self.template_version,
                self.answer_format,
            ),
        )


class TaggedResponse(str):
    """A model answer: the tagged text, plus exact spans and confidences when the model knows them."""

    spans: tuple[tuple[int, int, str], ...] | None
    scores: tuple[float, ...] | None
    source: str | None

    def __new__(
        cls,
        tagged: str,
        spans: Sequence[tuple[int, int, str]] | None = None,
        scores: Sequence[float] | None = None,
        source: str | None = None,
    ) -> TaggedResponse:
        obj = super().__new__(cls, tagged)
        obj.spans = tuple(spans) if spans is not None else None
        obj.scores = tuple(scores) if scores is not None else None
        obj.source = source
        return obj


class ScoredAnswer(str):
    """A model answer: the chosen label, plus the log-probability of every label's complete
    answer (``ty.LabelScores``) when the model scored them exactly."""

    logprobs: dict[str, float] | None

    def __new__(cls, label: str, logprobs: Mapping[str, float] | None = None) -> ScoredAnswer:
        obj = super().__new__(cls, label)
        obj.logprobs = dict(logprobs) if logprobs is not None else None
        return obj

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (ScoredAnswer, (str(self), self.logprobs))
