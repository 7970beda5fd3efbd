"""``spacy_llmner.XMLNER.v1``: the XML-tagging NER task for spacy-llm's ``llm_ner`` factory.

Builds one prompt per shard (a ``str`` carrying the conversation, the source and the allowed tag
boundaries), and sets ``doc.ents`` from the answers: exact spans from constrained decoding, or the
tolerant parser for any other model's free text. Implements spacy-llm's ``ShardingLLMTask``,
``scorer``, ``initialize`` and serialization (in ``span_task.SpanTask``, shared with JSONNER.v1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spacy.tokens import Doc

from ..errors import Errors, LLMNERError
from ..jsonner.template import is_json_template
from ..prompting import TEMPLATE_VERSION, LabelsArg, check_template_version
from ..tagging import CharSpan, parse
from ..ty import TaggedAnswer
from .sharding import MAX_SHARD_BYTES
from .span_task import Scores, SpanTask

ALIGNMENT_MODES = ("strict", "contract", "expand")


class XMLNERTask(SpanTask):
    """Tag entities by having the model rewrite the text with ``<LABEL>…</LABEL>`` tags."""

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
        max_shard_bytes: int | None = MAX_SHARD_BYTES,
    ) -> None:
        if alignment_mode not in ALIGNMENT_MODES:
            raise LLMNERError(
                Errors.E011.format(name="alignment_mode", value=alignment_mode, hint=f"Use one of {ALIGNMENT_MODES}.")
            )
        self._alignment_mode = alignment_mode
        super().__init__(
            labels, label_definitions=label_definitions, example=example, bytes_per_token=bytes_per_token,
            template_version=template_version, policy=policy, drop_nonsense=drop_nonsense,
            max_shard_bytes=max_shard_bytes,
        )

    def _check_template(self, version: str) -> str:
        """A known template whose answer is tagged text (JSON templates belong to JSONNER.v1)."""
        check_template_version(version)
        if is_json_template(version):
            raise LLMNERError(Errors.E011.format(
                name="template_version", value=version,
                hint="It is a JSON-answer template; use the task spacy_llmner.JSONNER.v1 with it."))
        return version

    def _answer_spans(self, shard: Doc, response: str) -> tuple[list[CharSpan], Scores]:
        """Exact spans from a model that knows them (``ty.TaggedAnswer``), else the parsed text."""
        scores: Scores = {}
        if isinstance(response, TaggedAnswer) and response.spans is not None and response.source == shard.text:
            spans = list(response.spans)
            for span, score in zip(spans, response.scores or ()):
                scores[span] = score
            return spans, scores
        return parse(str(response), shard.text, self.labels), scores

    def _cfg(self) -> dict[str, Any]:
        return {**super()._cfg(), "alignment_mode": self._alignment_mode}

    def _set_cfg(self, cfg: Mapping[str, Any]) -> None:
        self._alignment_mode = cfg.get("alignment_mode", self._alignment_mode)
        super()._set_cfg(cfg)



def make_xmlner_task(
    labels: LabelsArg | None = "hipaa",
    label_definitions: dict[str, str] | None = None,
    example: dict[str, Any] | None = None,
    alignment_mode: str = "contract",
    bytes_per_token: float = 1.0,
    template_version: str = TEMPLATE_VERSION,
    policy: str | None = None,
    drop_nonsense: bool = True,
    max_shard_bytes: int | None = MAX_SHARD_BYTES,
) -> XMLNERTask:
    """Registered as ``spacy_llmner.XMLNER.v1``. ``labels``: a preset name, list or dict.

    ``template_version``: the prompt the adapter was trained with ("v1" seed recipe, "v2" compact).
    ``policy``: ``"safe_harbor"`` leaves ages of 89 and under and times of day untagged; ``None``
    keeps every entity. ``drop_nonsense``: drop punctuation-only spans, cut spans at blank lines.
    ``max_shard_bytes``: a longer doc is cut at paragraph, line or sentence ends into shards that
    decode side by side (``tasks/sharding.py``); 0 or null: only the context limits a shard.
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
        max_shard_bytes=max_shard_bytes,
    )
