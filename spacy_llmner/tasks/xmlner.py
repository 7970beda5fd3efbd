"""``spacy_llmner.XMLNER.v1``: the XML-tagging NER task for spacy-llm's ``llm_ner`` factory.

Builds one prompt per shard (a ``str`` carrying the conversation, the source and the allowed tag
boundaries), and sets ``doc.ents`` from the answers: exact spans from constrained decoding, or the
tolerant parser for any other model's free text. Implements spacy-llm's ``ShardingLLMTask``,
``scorer``, ``initialize`` and serialization.
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
from ..prompting import (
    TEMPLATE_VERSION,
    LabelsArg,
    PromptExample,
    XMLPrompt,
    build_messages,
    check_template_version,
    flatten,
    resolve_labels,
)
from ..jsonner.template import is_json_template
from ..policy import apply_policy, clean_span, get_policy
from ..scores import set_entity_scores
from ..tagging import parse
from ..ty import TaggedAnswer
from .labeled import LabelsView
from .serialize import ConfigSerialized
from .sharding import doc_budget_bytes, shard_doc

ALIGNMENT_MODES = ("strict", "contract", "expand")


class XMLNERTask(LabelsView, ConfigSerialized):
    """Tag entities by having the model rewrite the text with ``<LABEL>…</LABEL>`` tags."""

    # Carried by every prompt, so the model picks the decoder for it (``HFModel``'s routing table).
    ANSWER_FORMAT = "tagged"

    def __init__(
        self,
        labels: LabelsArg | None = None,
        *,
        label_definitions: Mapping[str, str] | None = None,
        example: Mapping[str, Any] | None = None,
        alignment_mode: str = "contract",
        bytes_per_token: float = 1.0,
        template_version: str = TEMPLATE_VERSION,
        policy: str | None = None,
        drop_nonsense: bool = True,
    ) -> None:
        self._template_version = self._check_template(template_version)
        get_policy(policy)  # E030 now, not at the first document
        self._policy = policy
        self._drop_nonsense = bool(drop_nonsense)
        if alignment_mode not in ALIGNMENT_MODES:
            raise LLMNERError(
                Errors.E011.format(name="alignment_mode", value=alignment_mode, hint=f"Use one of {ALIGNMENT_MODES}.")
            )
        self._labels: dict[str, str] = resolve_labels(labels) if labels else {}
        for label, description in (label_definitions or {}).items():
            if label in self._labels:
                self._labels[label] = description
        self._example = PromptExample.from_dict(example) if example else None
        self._alignment_mode = alignment_mode
        self._bytes_per_token = bytes_per_token
        self._messages: list[dict[str, str]] | None = None

    def _check_template(self, version: str) -> str:
        """A known template whose answer is tagged text (JSON templates belong to JSONNER.v1)."""
        check_template_version(version)
        if is_json_template(version):
            raise LLMNERError(Errors.E011.format(
                name="template_version", value=version,
                hint="It is a JSON-answer template; use the task spacy_llmner.JSONNER.v1 with it."))
        return version

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
        budget = doc_budget_bytes(
            context_length, len(flatten(messages).encode()), self._bytes_per_token
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

    def _shard_ents(self, shard: Doc, response: str) -> tuple[list[Span], dict[tuple[int, int, str], float]]:
        scores: dict[tuple[int, int, str], float] = {}
        # Exact spans from a model that knows them (``ty.TaggedAnswer``), else parse the text.
        if isinstance(response, TaggedAnswer) and response.spans is not None and response.source == shard.text:
            spans = list(response.spans)
            for span, score in zip(spans, response.scores or ()):
                scores[span] = score
        else:
            spans = parse(str(response), shard.text, self.labels)
        spans = self._filter(shard.text, spans, scores)
        ents: list[Span] = []
        for start, end, label in spans:
            ent = shard.char_span(start, end, label=label, alignment_mode=self._alignment_mode)
            if ent is not None and len(ent) > 0:
                ents.append(ent)
        return filter_spans(ents), scores

    def _filter(
        self, text: str, spans: list[tuple[int, int, str]], scores: dict[tuple[int, int, str], float]
    ) -> list[tuple[int, int, str]]:
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
            "alignment_mode": self._alignment_mode,
            "bytes_per_token": self._bytes_per_token,
            "policy": self._policy,
            "drop_nonsense": self._drop_nonsense,
        }

    def _set_cfg(self, cfg: Mapping[str, Any]) -> None:
        # Pipelines saved before template versions were configurable carry v1.
        self._template_version = self._check_template(cfg.get("template_version", TEMPLATE_VERSION))
        self._labels = dict(cfg.get("labels") or {})
        ex = cfg.get("example")
        self._example = PromptExample.from_dict(ex) if ex else None
        self._alignment_mode = cfg.get("alignment_mode", self._alignment_mode)
        self._bytes_per_token = cfg.get("bytes_per_token", self._bytes_per_token)
        self._policy = cfg.get("policy", self._policy)
        get_policy(self._policy)
        self._drop_nonsense = bool(cfg.get("drop_nonsense", self._drop_nonsense))
        self._messages = None



def make_xmlner_task(
    labels: LabelsArg | None = "hipaa",
    label_definitions: dict[str, str] | None = None,
    example: dict[str, Any] | None = None,
    alignment_mode: str = "contract",
    bytes_per_token: float = 1.0,
    template_version: str = TEMPLATE_VERSION,
    policy: str | None = None,
    drop_nonsense: bool = True,
) -> XMLNERTask:
    """Registered as ``spacy_llmner.XMLNER.v1``. ``labels``: a preset name, list or dict.

    ``template_version``: the prompt the adapter was trained with ("v1" seed recipe, "v2" compact).
    ``policy``: ``"safe_harbor"`` leaves ages of 89 and under and times of day untagged; ``None``
    keeps every entity. ``drop_nonsense``: drop punctuation-only spans, cut spans at blank lines.
    """
    return XMLNERTask(
        labels,
        label_definitions=label_definitions,
        example=example,
        alignment_mode=alignment_mode,
        bytes_per_token=bytes_per_token,
        template_version=template_version,
        policy=policy,
        drop_nonsense=drop_nonsense,
    )
