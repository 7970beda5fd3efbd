"""What the XML and JSON NER tasks share: labels, prompts per shard, span filters, scores, scoring,
initialization and serialization. A subclass says which templates it accepts and how it reads an
answer into character spans (``_answer_spans``); everything else is here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

# spacy-llm validates these signatures with typing.get_type_hints and expects typing.Iterable
# and typing.Tuple (not the collections.abc generics).
from typing import Any, Iterable, Tuple  # noqa: UP035

from spacy.language import Language
from spacy.scorer import get_ner_prf
from spacy.tokens import Doc, Span
from spacy.training import Example
from spacy.util import filter_spans

from ..errors import Errors, LLMNERError
from ..policy import apply_policy, clean_span, get_policy
from ..prompting import (
    TEMPLATE_VERSION,
    LabelsArg,
    PromptExample,
    XMLPrompt,
    build_messages,
    flatten,
    resolve_labels,
)
from ..scores import set_entity_scores
from ..tagging import CharSpan
from .labeled import LabelsView
from .serialize import ConfigSerialized
from .sharding import MAX_SHARD_BYTES, doc_budget_bytes, shard_budget, shard_doc

Scores = dict[CharSpan, float]


class SpanTask(LabelsView, ConfigSerialized):
    """An NER task whose model answers with spans of the source, in some answer format."""

    # Carried by every prompt, so the model picks the decoder for it (``HFModel``'s routing table).
    ANSWER_FORMAT = "tagged"
    # How spans snap to tokens when a doc's entities are set.
    _alignment_mode = "strict"

    def __init__(
        self,
        labels: LabelsArg | None = None,
        *,
        label_definitions: Mapping[str, str] | None = None,
        example: Mapping[str, Any] | None = None,
        bytes_per_token: float = 1.0,
        template_version: str = TEMPLATE_VERSION,
        policy: str | None = None,
        drop_nonsense: bool = True,
        max_shard_bytes: int | None = MAX_SHARD_BYTES,
    ) -> None:
        self.max_shard_bytes = max_shard_bytes
        self._template_version = self._check_template(template_version)
        get_policy(policy)  # E030 now, not at the first document
        self._policy = policy
        self._drop_nonsense = bool(drop_nonsense)
        self._labels: dict[str, str] = resolve_labels(labels) if labels else {}
        for label, description in (label_definitions or {}).items():
            if label in self._labels:
                self._labels[label] = description
        self._example = PromptExample.from_dict(example) if example else None
        self._bytes_per_token = bytes_per_token
        self._messages: list[dict[str, str]] | None = None

    # --- what a subclass says ------------------------------------------------------------
    def _check_template(self, version: str) -> str:
        """``version`` if this task's answer format uses it; E011 otherwise."""
        raise NotImplementedError

    def _answer_spans(self, shard: Doc, response: str) -> tuple[list[CharSpan], Scores]:
        """The character spans (and any scores) an answer gives for ``shard``."""
        raise NotImplementedError

    # --- labels (spacy-llm's LabeledTask) ------------------------------------------------
    def add_label(self, label: str, label_definition: str | None = None) -> int:
        if label in self._labels:
            return 0
        self._labels.update(resolve_labels({label: label_definition}))
        self._messages = None
        return 1

    def clear(self) -> None:
        self._labels = {}
        self._messages = None

    @property
    def template_version(self) -> str:
        return self._template_version

    @property
    def max_shard_bytes(self) -> int | None:
        """Longest text one prompt tags (0 or None: the context alone limits a shard)."""
        return self._max_shard_bytes

    @max_shard_bytes.setter
    def max_shard_bytes(self, value: int | None) -> None:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise LLMNERError(Errors.E011.format(
                name="max_shard_bytes", value=value,
                hint="Use an int >= 0 (0 or null: the context alone limits a shard)."))
        self._max_shard_bytes = value

    @property
    def messages(self) -> list[dict[str, str]]:
        """The fixed conversation (instruction, scripted exchange, worked example)."""
        if not self._labels:
            raise LLMNERError(Errors.E003)
        if self._messages is None:
            self._messages = build_messages(self._labels, self._example, self._template_version)
        return self._messages

    # --- prompts and responses (spacy-llm's ShardingLLMTask) ------------------------------
    def generate_prompts(
        self, docs: Iterable[Doc], context_length: int | None = None
    ) -> Iterable[Tuple[Iterable[XMLPrompt], Iterable[Doc]]]:  # noqa: UP006
        messages = self.messages
        budget = shard_budget(
            doc_budget_bytes(context_length, len(flatten(messages).encode()), self._bytes_per_token),
            self._max_shard_bytes,
        )
        for doc in docs:
            shards = shard_doc(doc, budget)
            prompts = [
                XMLPrompt(
                    messages,
                    shard.text,
                    self.labels,
                    [(t.idx, t.idx + len(t)) for t in shard if not t.is_space],
                    self._template_version,
                    self.ANSWER_FORMAT,
                )
                for shard in shards
            ]
            yield prompts, shards

    def _shard_ents(self, shard: Doc, response: str) -> tuple[list[Span], Scores]:
        """The shard's entities: the answer's spans, filtered, snapped to tokens, without overlaps."""
        spans, scores = self._answer_spans(shard, response)
        spans = self._filter(shard.text, spans, scores)
        ents: list[Span] = []
        for start, end, label in spans:
            ent = shard.char_span(start, end, label=label, alignment_mode=self._alignment_mode)
            if ent is not None and len(ent) > 0:
                ents.append(ent)
        return filter_spans(ents), scores

    def _filter(self, text: str, spans: list[CharSpan], scores: Scores) -> list[CharSpan]:
        """Nonsense spans dropped or cut (``policy.sanity``), then the de-identification policy;
        a cut span keeps its score."""
        if self._drop_nonsense:
            kept = []
            for span in spans:
                cleaned = clean_span(text, span)
                if cleaned is not None:
                    if cleaned != span and span in scores:
                        scores[cleaned] = scores[span]
                    kept.append(cleaned)
            spans = kept
        return apply_policy(text, spans, self._policy)

    @property
    def policy(self) -> str | None:
        return self._policy

    def parse_responses(
        self, shards: Iterable[Iterable[Doc]], responses: Iterable[Iterable[str]]
    ) -> Iterable[Doc]:
        for doc_shards, doc_responses in zip(shards, responses):
            doc_shards = list(doc_shards)
            scored: list[tuple[int, int, str, float]] = []
            offset = 0
            for shard, response in zip(doc_shards, doc_responses):
                ents, scores = self._shard_ents(shard, response)
                shard.ents = ents
                for ent in ents:
                    score = scores.get((ent.start_char, ent.end_char, ent.label_))
                    if score is not None:
                        scored.append((ent.start_char + offset, ent.end_char + offset, ent.label_, score))
                offset += len(shard.text)
            fused = doc_shards[0] if len(doc_shards) == 1 else Doc.from_docs(doc_shards, ensure_whitespace=False)
            set_entity_scores(fused, scored)
            yield fused

    # --- evaluation and initialization ---------------------------------------------------
    def scorer(self, examples: Iterable[Example]) -> dict[str, Any]:
        """spaCy's NER precision/recall/F1, overall and per label."""
        return get_ner_prf(examples)

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        nlp: Language | None = None,
        labels: LabelsArg | None = None,
        **kwargs: Any,
    ) -> None:
        """Labels from the argument, else keep configured ones, else collect them from data."""
        if labels:
            self._labels = resolve_labels(labels)
        elif not self._labels:
            found = sorted({ent.label_ for eg in get_examples() for ent in eg.reference.ents})
            if found:
                self._labels = resolve_labels(found)
        self._messages = None

    # --- serialization -------------------------------------------------------------------
    def _cfg(self) -> dict[str, Any]:
        return {
            "labels": self._labels,
            "template_version": self._template_version,
            "example": None if self._example is None else self._example.to_dict(),
            "bytes_per_token": self._bytes_per_token,
            "policy": self._policy,
            "drop_nonsense": self._drop_nonsense,
            "max_shard_bytes": self._max_shard_bytes,
        }

    def _set_cfg(self, cfg: Mapping[str, Any]) -> None:
        # Pipelines saved before template versions were configurable carry v1.
        self._template_version = self._check_template(cfg.get("template_version", TEMPLATE_VERSION))
        self._labels = dict(cfg.get("labels") or {})
        ex = cfg.get("example")
        self._example = PromptExample.from_dict(ex) if ex else None
        self._bytes_per_token = cfg.get("bytes_per_token", self._bytes_per_token)
        self._policy = cfg.get("policy", self._policy)
        get_policy(self._policy)
        self._drop_nonsense = bool(cfg.get("drop_nonsense", self._drop_nonsense))
        self.max_shard_bytes = cfg.get("max_shard_bytes", self._max_shard_bytes)
        self._messages = None
