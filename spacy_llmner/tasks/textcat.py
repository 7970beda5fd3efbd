"""``spacy_llmner.TextCat.v1``: generative text classification for spacy-llm's ``llm_textcat``.

One prompt per doc (``prompting.classify``): rules, label list, k retrieved demonstrations with
the most similar last, then the text. With ``spacy_llmner.HF.v1`` the answer carries the exact
log-probability of every label's complete answer, and ``doc.cats`` is their softmax over the
labels (exclusive classes: they sum to 1). Any other spacy-llm model's free text counts as 1.0
for the label it names exactly, 0.0 for the others. Multi-label is refused (E601), not faked.
Docs are not split (one shard each): a text that does not fit the model's context fails with
E608 instead of being cut.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
# spacy-llm validates these signatures with typing.get_type_hints and expects typing.Iterable.
from typing import Any, Iterable, Optional, Tuple, Union  # noqa: UP035

from spacy.language import Language
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example

from ..errors import Errors, LLMNERError
from ..prompting.classify import (
    CLASSIFY_TEMPLATE,
    ClassifyPrompt,
    ClassLabelsArg,
    Demonstration,
    build_classify_messages,
    resolve_classes,
)
from ..prompting.retrieval import CharNgramTfidf, Similarity, SimilarityIndex, nearest_last
from ..ty import LabelScores
from .labeled import LabelsView
from .serialize import ConfigSerialized

ExamplesArg = Union[Callable[[], Iterable[Mapping[str, Any]]], Sequence[Mapping[str, Any]], None]


def label_probabilities(logprobs: Mapping[str, float], labels: Sequence[str]) -> dict[str, float]:
    """Softmax of the labels' answer log-probabilities: P(label | the answer is one of the labels)."""
    top = max(logprobs[lab] for lab in labels)
    weights = {lab: math.exp(logprobs[lab] - top) for lab in labels}
    total = sum(weights.values())
    return {lab: w / total for lab, w in weights.items()}


class TextCatTask(LabelsView, ConfigSerialized):
    """Classify a doc by the label the model answers; ``doc.cats`` holds every label's probability."""

    def __init__(
        self,
        labels: ClassLabelsArg | None = None,
        *,
        label_definitions: Mapping[str, str] | None = None,
        examples: ExamplesArg = None,
        n_demos: int = 0,
        similarity: Similarity | None = None,
        exclusive_classes: bool = True,
        template_version: str = CLASSIFY_TEMPLATE,
    ) -> None:
        if not exclusive_classes:
            raise LLMNERError(Errors.E601)
        if n_demos < 0:
            raise LLMNERError(Errors.E607.format(value=n_demos))
        self._labels: dict[str, str] = {}
        if labels:
            self._set_labels(resolve_classes(labels))
        for label, description in (label_definitions or {}).items():
            if label in self._labels:
                self._labels[label] = " ".join(description.split())
        raw = examples() if callable(examples) else examples
        self._pool = [_demo_from_dict(eg) for eg in raw or ()]
        self._n_demos = n_demos
        self._similarity: Similarity = similarity or CharNgramTfidf()
        self._template_version = template_version
        self._index: SimilarityIndex | None = None

    def _set_labels(self, labels: dict[str, str]) -> None:
        if len(labels) == 1:
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
    def demonstrations(self) -> tuple[Demonstration, ...]:
        """The pool the k demonstrations are retrieved from."""
        return tuple(self._pool)

    # --- prompts and responses (spacy-llm's LLMTask) -------------------------------------
    def _checked_labels(self) -> dict[str, str]:
        if not self._labels:
            raise LLMNERError(Errors.E602)
        if len(self._labels) == 1:
            raise LLMNERError(Errors.E605.format(label=next(iter(self._labels))))
        for i, demo in enumerate(self._pool):
            if demo.label not in self._labels:
                raise LLMNERError(Errors.E606.format(index=i, label=demo.label, labels=list(self._labels)))
        return self._labels

    def demonstrations_for(self, text: str) -> list[Demonstration]:
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
        doc; the model refuses what does not fit, E608)."""
        labels = self._checked_labels()
        fixed = None if self._n_demos and self._pool else build_classify_messages(labels)
        for doc in docs:
            messages = fixed or build_classify_messages(labels, self.demonstrations_for(doc.text))
            yield [ClassifyPrompt(messages, doc.text, self.labels, self._template_version)], [doc]

    def cats_from(self, response: str) -> dict[str, float]:
        """Exact probabilities from a scoring model's answer, else 1.0 for the label named exactly."""
        labels = self.labels
        logprobs = response.logprobs if isinstance(response, LabelScores) else None
        if logprobs is not None and all(lab in logprobs for lab in labels):
            return label_probabilities(logprobs, labels)
        answer = str(response).strip()
        return {lab: 1.0 if lab == answer else 0.0 for lab in labels}

    def parse_responses(
        self, shards: Iterable[Iterable[Doc]], responses: Iterable[Iterable[str]]
    ) -> Iterable[Doc]:
        for doc_shards, doc_responses in zip(shards, responses):
            doc = next(iter(doc_shards))
            doc.cats = self.cats_from(next(iter(doc_responses)))
            yield doc

    # --- evaluation and initialization ---------------------------------------------------
    def scorer(self, examples: Iterable[Example]) -> dict[str, Any]:
        """spaCy's textcat scores (``cats_score``, ``cats_macro_f``, per-label P/R/F, AUC)."""
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
        ``n_prompt_examples`` (-1: all) data examples join the demonstration pool."""
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
                if len(positive) == 1:  # an example with one label: what an exclusive answer shows
                    self._pool.append(Demonstration(eg.reference.text, positive[0]))
                    added += 1
            self._index = None

    # --- serialization -------------------------------------------------------------------
    def _cfg(self) -> dict[str, Any]:
        return {
            "labels": self._labels,
            "template_version": self._template_version,
            "demonstrations": [{"text": d.text, "label": d.label} for d in self._pool],
            "n_demos": self._n_demos,
        }

    def _set_cfg(self, cfg: Mapping[str, Any]) -> None:
        self._labels = dict(cfg.get("labels") or {})
        self._template_version = cfg.get("template_version", self._template_version)
        self._pool = [_demo_from_dict(d) for d in cfg.get("demonstrations") or ()]
        self._n_demos = int(cfg.get("n_demos", self._n_demos))
        self._index = None



def _demo_from_dict(data: Mapping[str, Any]) -> Demonstration:
    """``{"text", "label"}``, or spacy-llm's textcat example form ``{"text", "answer"}``."""
    return Demonstration(str(data["text"]), str(data.get("label", data.get("answer", ""))))


def make_textcat_task(
    labels: Union[str, list[str], dict[str, Optional[str]], None] = None,
    label_definitions: Optional[dict[str, str]] = None,
    examples: ExamplesArg = None,
    n_demos: int = 0,
    similarity: Optional[Similarity] = None,
    exclusive_classes: bool = True,
    template_version: str = CLASSIFY_TEMPLATE,
) -> TextCatTask:
    """Registered as ``spacy_llmner.TextCat.v1``. ``labels``: a list, comma-separated string or
    dict label → description; ``examples``: the demonstration pool (``{"text", "label"}`` dicts,
    or a reader such as ``spacy.FewShotReader.v1``); ``n_demos``: how many are retrieved per doc;
    ``similarity``: e.g. ``spacy_llmner.CharNgramTfidf.v1`` (the default)."""
    return TextCatTask(
        labels,
        label_definitions=label_definitions,
        examples=examples,
        n_demos=n_demos,
        similarity=similarity,
        exclusive_classes=exclusive_classes,
        template_version=template_version,
    )


__all__ = ["TextCatTask", "label_probabilities", "make_textcat_task"]
