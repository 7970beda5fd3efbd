"""``spacy_llmner.TextCat.v1``: generative text classification for spacy-llm's ``llm_textcat``.

Exclusive classes (the default): one prompt per doc (``textcat.prompts``, template
``textcat1``): rules, label list, k retrieved demonstrations with the most similar last, then
the text. With ``spacy_llmner.HF.v1`` the answer carries the exact log-probability of every
label's complete answer, and ``doc.cats`` is their softmax over the labels (they sum to 1). Any
other spacy-llm model's free text counts as 1.0 for the label it names exactly, 0.0 for the
others.

Multi-label (``exclusive_classes = false``, template ``textcat-multi1``): one yes/no question per
label, so one prompt per label per doc, sent as that doc's shards (spacy-llm's sharding
protocol) and combined back into the one doc by ``parse_responses``. The doc's k demonstrations
are retrieved once and shown in every question, each answered ``yes`` or ``no`` for that label.
With ``HF.v1`` the two answers ``yes`` and ``no`` are scored exactly and ``doc.cats[label] =
P(yes) / (P(yes) + P(no))``: independent probabilities, not summing to 1; the scorer counts a
label as predicted from ``threshold`` on. Free text counts 1.0 when it is exactly ``yes``.

Docs are not split: a prompt that does not fit the model's context fails with E608 instead of
being cut.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

# spacy-llm validates these signatures with typing.get_type_hints and expects typing.Iterable.
from typing import Any, Iterable, Optional, Tuple, Union, cast  # noqa: UP035

from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example

from ..errors import Errors, LLMNERError
from ..prompting.template import Message
from ..tasks.labeled import LabelsView
from ..tasks.serialize import ConfigSerialized
from ..ty import LabelScores
from .prompts import (
    CLASSIFY_TEMPLATE,
    MULTI_LABEL_TEMPLATE,
    NO,
    YES,
    ClassifyPrompt,
    ClassLabelsArg,
    Demonstration,
    LabelQuestionPrompt,
    MultiDemonstration,
    build_classify_messages,
    build_question_messages,
    resolve_classes,
)
from .retrieval import CharNgramTfidf, Similarity, SimilarityIndex, nearest_last

ExamplesArg = Union[Callable[[], Iterable[Mapping[str, Any]]], Sequence[Mapping[str, Any]], None]


def label_probabilities(logprobs: Mapping[str, float], labels: Sequence[str]) -> dict[str, float]:
    """Softmax of the labels' answer log-probabilities: P(label | the answer is one of the labels)."""
    top = max(logprobs[lab] for lab in labels)
    weights = {lab: math.exp(logprobs[lab] - top) for lab in labels}
    total = sum(weights.values())
    return {lab: w / total for lab, w in weights.items()}


def yes_probability(response: str) -> float:
    """A label question's answer as a probability: ``P(yes) / (P(yes) + P(no))`` from a scoring
    model's exact log-probabilities, else 1.0 for a free-text answer that is exactly ``yes``."""
    logprobs = response.logprobs if isinstance(response, LabelScores) else None
    if logprobs is not None and YES in logprobs and NO in logprobs:
        return label_probabilities(logprobs, (YES, NO))[YES]
    return 1.0 if str(response).strip() == YES else 0.0


class TextCatTask(LabelsView, ConfigSerialized):
    """Classify a doc by the label the model answers (or, multi-label, by its yes/no answer for each
    label); ``doc.cats`` holds every label's probability."""

    def __init__(
        self,
        labels: ClassLabelsArg | None = None,
        *,
        label_definitions: Mapping[str, str] | None = None,
        examples: ExamplesArg = None,
        n_demos: int = 0,
        similarity: Similarity | None = None,
        exclusive_classes: bool = True,
        template_version: str | None = None,
        threshold: float = 0.5,
    ) -> None:
        if n_demos < 0:
            raise LLMNERError(Errors.E607.format(value=n_demos))
        self._exclusive = bool(exclusive_classes)
        self._threshold = _checked_threshold(threshold)
        self._template_version = _checked_template(template_version, self._exclusive)
        self._labels: dict[str, str] = {}
        if labels:
            self._set_labels(resolve_classes(labels))
        for label, description in (label_definitions or {}).items():
            if label in self._labels:
                self._labels[label] = " ".join(description.split())
        raw = examples() if callable(examples) else examples
        self._pool = [self._demo_from_dict(eg) for eg in raw or ()]
        self._n_demos = n_demos
        self._similarity: Similarity = similarity or CharNgramTfidf()
        self._index: SimilarityIndex | None = None

    def _demo_from_dict(self, data: Mapping[str, Any]) -> Demo:
        return _demo_from_dict(data) if self._exclusive else _multi_demo_from_dict(data)

    def _set_labels(self, labels: dict[str, str]) -> None:
        if len(labels) == 1 and self._exclusive:  # one yes/no question is a valid multi-label task
            raise LLMNERError(Errors.E605.format(label=next(iter(labels))))
        self._labels = labels

    # --- labels (spacy-llm's LabeledTask) ------------------------------------------------
    def add_label(self, label: str, label_definition: str | None = None) -> int:
        if label in self._labels:
            return 0
        self._labels.update(resolve_classes({label: label_definition}))
        return 1

    def clear(self) -> None:
        self._labels = {}

    @property
    def template_version(self) -> str:
        return self._template_version

    @property
    def exclusive_classes(self) -> bool:
        return self._exclusive

    @property
    def threshold(self) -> float:
        """Multi-label: the probability from which the scorer counts a label as predicted."""
        return self._threshold

    @property
    def demonstrations(self) -> tuple[Demo, ...]:
        """The pool the k demonstrations are retrieved from."""
        return tuple(self._pool)

    # --- prompts and responses (spacy-llm's LLMTask) -------------------------------------
    def _checked_labels(self) -> dict[str, str]:
        if not self._labels:
            raise LLMNERError(Errors.E602)
        if len(self._labels) == 1 and self._exclusive:
            raise LLMNERError(Errors.E605.format(label=next(iter(self._labels))))
        for i, demo in enumerate(self._pool):
            for label in demo.labels if isinstance(demo, MultiDemonstration) else (demo.label,):
                if label not in self._labels:
                    raise LLMNERError(Errors.E606.format(index=i, label=label, labels=list(self._labels)))
        return self._labels

    def demonstrations_for(self, text: str) -> list[Demo]:
        """The ``n_demos`` pool items most similar to ``text``, the most similar last."""
        if not self._n_demos or not self._pool:
            return []
        if self._index is None:
            self._index = self._similarity.index([d.text for d in self._pool])
        return [self._pool[i] for i in nearest_last(self._index.scores(text), self._n_demos)]

    def generate_prompts(
        self, docs: Iterable[Doc], context_length: int | None = None
    ) -> Iterable[Tuple[Iterable[ClassifyPrompt], Iterable[Doc]]]:  # noqa: UP006
        """One prompt per doc, as spacy-llm's sharding protocol spells it (one shard: the whole
        doc; the model refuses what does not fit, E608). Multi-label: one yes/no question per
        label, in label order, each paired with the same (whole) doc."""
        labels = self._checked_labels()
        if not self._exclusive:
            yield from self._question_prompts(docs, labels)
            return
        fixed = None if self._n_demos and self._pool else build_classify_messages(labels)
        for doc in docs:
            demos = cast("list[Demonstration]", self.demonstrations_for(doc.text))  # exclusive: single-label
            messages = fixed or build_classify_messages(labels, demos)
            yield [ClassifyPrompt(messages, doc.text, self.labels, self._template_version)], [doc]

    def _question_prompts(
        self, docs: Iterable[Doc], labels: Mapping[str, str]
    ) -> Iterable[tuple[list[ClassifyPrompt], list[Doc]]]:
        retrieve = bool(self._n_demos and self._pool)
        fixed: dict[str, list[Message]] = {} if retrieve else {
            lab: build_question_messages(lab, desc) for lab, desc in labels.items()
        }
        for doc in docs:
            demos = cast(list[MultiDemonstration], self.demonstrations_for(doc.text)) if retrieve else []
            prompts: list[ClassifyPrompt] = [
                LabelQuestionPrompt(
                    fixed[lab] if not retrieve else build_question_messages(lab, desc, demos),
                    doc.text,
                    lab,
                    self._template_version,
                )
                for lab, desc in labels.items()
            ]
            yield prompts, [doc] * len(prompts)

    def cats_from(self, response: str) -> dict[str, float]:
        """Exact probabilities from a scoring model's answer, else 1.0 for the label named exactly."""
        labels = self.labels
        logprobs = response.logprobs if isinstance(response, LabelScores) else None
        if logprobs is not None and all(lab in logprobs for lab in labels):
            return label_probabilities(logprobs, labels)
        answer = str(response).strip()
        return {lab: 1.0 if lab == answer else 0.0 for lab in labels}

    def multi_cats_from(self, responses: Iterable[str]) -> dict[str, float]:
        """Multi-label: each label's probability from the answer to its question (label order)."""
        answers = list(responses)
        if len(answers) != len(self.labels):
            raise LLMNERError(Errors.E613.format(n_answers=len(answers), n_labels=len(self.labels)))
        return {lab: yes_probability(answer) for lab, answer in zip(self.labels, answers)}

    def parse_responses(
        self, shards: Iterable[Iterable[Doc]], responses: Iterable[Iterable[str]]
    ) -> Iterable[Doc]:
        """One doc back per doc in: its shards are the same doc (once per label question when
        multi-label), its responses combined into ``doc.cats``."""
        for doc_shards, doc_responses in zip(shards, responses):
            doc = next(iter(doc_shards))
            if self._exclusive:
                doc.cats = self.cats_from(next(iter(doc_responses)))
            else:
                doc.cats = self.multi_cats_from(doc_responses)
            yield doc

    # --- evaluation and initialization ---------------------------------------------------
    def scorer(self, examples: Iterable[Example]) -> dict[str, Any]:
        """spaCy's textcat scores (``cats_score``, ``cats_macro_f``, per-label P/R/F, AUC);
        multi-label: a label counts as predicted from ``threshold`` on."""
        if not self._exclusive:
            return Scorer.score_cats(
                examples, "cats", labels=self.labels, multi_label=True, threshold=self._threshold
            )
        return Scorer.score_cats(examples, "cats", labels=self.labels, multi_label=False)

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        nlp: Language | None = None,
        labels: ClassLabelsArg | None = None,
        n_prompt_examples: int = 0,
        **kwargs: Any,
    ) -> None:
        """Labels from the argument, else keep configured ones, else the data's ``doc.cats`` keys.
        ``n_prompt_examples`` (-1: all) data examples join the demonstration pool: those with one
        label, or, multi-label, every example with its labels (>= 0.5) among the task's."""
        if labels:
            self._set_labels(resolve_classes(labels))
        elif not self._labels:
            found = list(dict.fromkeys(cat for eg in get_examples() for cat in eg.reference.cats))
            if found:
                self._set_labels(resolve_classes(found))
        if n_prompt_examples:
            added = 0
            for eg in get_examples():
                if 0 <= n_prompt_examples <= added:
                    break
                positive = [cat for cat, value in eg.reference.cats.items() if value >= 0.5]
                if not self._exclusive:  # any set of labels, none included, is an example
                    known = tuple(cat for cat in positive if cat in self._labels)
                    self._pool.append(MultiDemonstration(eg.reference.text, known))
                    added += 1
                elif len(positive) == 1:  # an example with one label: what an exclusive answer shows
                    self._pool.append(Demonstration(eg.reference.text, positive[0]))
                    added += 1
            self._index = None

    # --- serialization -------------------------------------------------------------------
    def _cfg(self) -> dict[str, Any]:
        if not self._exclusive:
            return {
                "labels": self._labels,
                "template_version": self._template_version,
                "demonstrations": [
                    {"text": d.text, "labels": list(cast(MultiDemonstration, d).labels)} for d in self._pool
                ],
                "n_demos": self._n_demos,
                "exclusive_classes": False,  # the demonstrations' form depends on it
            }  # `threshold` stays in the config only (srsly's JSON reads 0.3 back as 0.30000000000000004)
        return {  # exclusive classes: the same file as before multi-label existed
            "labels": self._labels,
            "template_version": self._template_version,
            "demonstrations": [{"text": d.text, "label": cast(Demonstration, d).label} for d in self._pool],
            "n_demos": self._n_demos,
        }

    def _set_cfg(self, cfg: Mapping[str, Any]) -> None:
        self._exclusive = bool(cfg.get("exclusive_classes", self._exclusive))
        self._labels = dict(cfg.get("labels") or {})
        self._template_version = cfg.get("template_version", self._template_version)
        self._pool = [self._demo_from_dict(d) for d in cfg.get("demonstrations") or ()]
        self._n_demos = int(cfg.get("n_demos", self._n_demos))
        self._index = None

def _checked_threshold(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise LLMNERError(Errors.E611.format(value=value))
    return float(value)


def _checked_template(version: str | None, exclusive: bool) -> str:
    """``None``: the current template of the mode. Multi-label refuses the exclusive template
    (its tag would let an adapter trained on that wording answer yes/no questions)."""
    if version is None:
        return CLASSIFY_TEMPLATE if exclusive else MULTI_LABEL_TEMPLATE
    if not exclusive and version == CLASSIFY_TEMPLATE:
        raise LLMNERError(Errors.E612.format(version=version, multi=MULTI_LABEL_TEMPLATE))
    return version


def _demo_from_dict(data: Mapping[str, Any]) -> Demonstration:
    """``{"text", "label"}``, or spacy-llm's textcat example form ``{"text", "answer"}``."""
    return Demonstration(str(data["text"]), str(data.get("label", data.get("answer", ""))))


def _multi_demo_from_dict(data: Mapping[str, Any]) -> MultiDemonstration:
    """``{"text", "labels": [...]}``, ``{"text", "label"}`` (one label), or spacy-llm's
    multi-label example form ``{"text", "answer": "A,B"}`` (comma-separated, as spacy-llm writes
    it; an empty answer: no label)."""
    if "labels" in data:
        raw = data["labels"]
        labels = [raw] if isinstance(raw, str) else list(raw or ())
    elif "label" in data:
        labels = [data["label"]]
    else:
        answer = data.get("answer", "")
        labels = answer.split(",") if isinstance(answer, str) else list(answer or ())
    cleaned = (str(lab).strip() for lab in labels)
    return MultiDemonstration(str(data["text"]), tuple(dict.fromkeys(lab for lab in cleaned if lab)))


Demo = Union[Demonstration, MultiDemonstration]


def make_textcat_task(
    labels: Union[str, list[str], dict[str, Optional[str]], None] = None,
    label_definitions: Optional[dict[str, str]] = None,
    examples: ExamplesArg = None,
    n_demos: int = 0,
    similarity: Optional[Similarity] = None,
    exclusive_classes: bool = True,
    template_version: Optional[str] = None,
    threshold: float = 0.5,
) -> TextCatTask:
    """Registered as ``spacy_llmner.TextCat.v1``. ``labels``: a list, comma-separated string or
    dict label → description; ``examples``: the demonstration pool (``{"text", "label"}`` dicts,
    multi-label also ``{"text", "labels": [...]}``, or a reader such as ``spacy.FewShotReader.v1``);
    ``n_demos``: how many are retrieved per doc; ``similarity``: e.g.
    ``spacy_llmner.CharNgramTfidf.v1`` (the default); ``exclusive_classes = false``: multi-label,
    one yes/no question per label; ``template_version``: null for the mode's current template
    (``textcat1``, multi-label ``textcat-multi1``); ``threshold``: multi-label, the probability
    from which the scorer counts a label as predicted."""
    return TextCatTask(
        labels,
        label_definitions=label_definitions,
        examples=examples,
        n_demos=n_demos,
        similarity=similarity,
        exclusive_classes=exclusive_classes,
        template_version=template_version,
        threshold=threshold,
    )


__all__ = ["TextCatTask", "label_probabilities", "make_textcat_task", "yes_probability"]
