"""``spacy_llmner.JSONNER.v1``: the seed's answer format, label -> list of entity strings.

Same prompts, sharding, labels, scorer and serialization as ``XMLNERTask`` (both are
``tasks.span_task.SpanTask``); only the answer differs: a JSON object read by the tolerant parser (``jsonner.parse``), its
strings put back on every occurrence in the source (``jsonner.align``). A string that is not in
the source is dropped and counted: the JSON format's copy constraint, applied after decoding
when the model decodes freely (``spacy_llmner.HF.v1`` with ``decoding = "free"``). With
``decoding = "constrained"`` the model can only write valid JSON whose strings are in the source
(``jsonner.constraint``), so nothing is dropped. XML with copy-constrained decoding stays the
default task.

Running totals of strings read / not in the source / overlapping occurrences dropped are kept
on the task (``align_stats``): counts only, never text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from spacy.tokens import Doc
from spacy_llm.registry import registry as llm_registry

from ..errors import Errors, LLMNERError
from ..prompting import LabelsArg, check_template_version
from ..tagging import CharSpan
from ..tasks.sharding import MAX_SHARD_BYTES
from ..tasks.span_task import Scores, SpanTask
from . import OCCURRENCE_POLICIES, AlignStats, align_strings, parse_answer
from .template import JSON_TEMPLATES, is_json_template

TASK_JSON_V1 = "spacy_llmner.JSONNER.v1"
JSON_TEMPLATE = JSON_TEMPLATES[0]


class JSONNERTask(SpanTask):
    """Entities from a JSON answer ``{"label": ["string", ...]}`` (see module docstring)."""

    ANSWER_FORMAT = "json"

    def __init__(
        self,
        labels: LabelsArg | None = None,
        *,
        label_definitions: Mapping[str, str] | None = None,
        occurrences: str = "all",
        key_aliases: Mapping[str, str] | None = None,
        bytes_per_token: float = 1.0,
        template_version: str = JSON_TEMPLATE,
        max_shard_bytes: int | None = MAX_SHARD_BYTES,
    ) -> None:
        if occurrences not in OCCURRENCE_POLICIES:
            raise LLMNERError(Errors.E011.format(
                name="occurrences", value=occurrences, hint=f"Use one of {list(OCCURRENCE_POLICIES)}."))
        self._occurrences = occurrences
        self._aliases = dict(key_aliases or {})
        self.align_stats = AlignStats()
        # Strings are matched at token boundaries already; no sanity filter (nothing to cut).
        super().__init__(
            labels, label_definitions=label_definitions, bytes_per_token=bytes_per_token,
            template_version=template_version, drop_nonsense=False, max_shard_bytes=max_shard_bytes,
        )

    def _check_template(self, version: str) -> str:
        check_template_version(version)
        if not is_json_template(version):
            raise LLMNERError(Errors.E011.format(
                name="template_version", value=version,
                hint=f"JSONNER.v1 answers in JSON: use one of {list(JSON_TEMPLATES)} "
                "(tagged-text templates belong to spacy_llmner.XMLNER.v1)."))
        return version

    def _answer_spans(self, shard: Doc, response: str) -> tuple[list[CharSpan], Scores]:
        """Every listed string's occurrences in the shard, at token boundaries (no scores)."""
        pairs = parse_answer(str(response), self.labels, self._aliases)
        tokens = [t for t in shard if not t.is_space]
        spans, stats = align_strings(
            shard.text, pairs, self._occurrences,
            starts={t.idx for t in tokens}, ends={t.idx + len(t) for t in tokens},
        )
        self.align_stats.add(stats)
        return list(spans), {}

    def _cfg(self) -> dict[str, Any]:
        cfg = super()._cfg()
        cfg.update(occurrences=self._occurrences, key_aliases=self._aliases)
        return cfg

    def _set_cfg(self, cfg: Mapping[str, Any]) -> None:
        super()._set_cfg(cfg)
        self._occurrences = cfg.get("occurrences", self._occurrences)
        self._aliases = dict(cfg.get("key_aliases") or {})


@llm_registry.llm_tasks(TASK_JSON_V1)
def make_jsonner_task(
    labels: LabelsArg | None = "cluener",
    label_definitions: dict[str, str] | None = None,
    occurrences: str = "all",
    key_aliases: dict[str, str] | None = None,
    bytes_per_token: float = 1.0,
    template_version: str = JSON_TEMPLATE,
    max_shard_bytes: int | None = MAX_SHARD_BYTES,
) -> JSONNERTask:
    """Registered as ``spacy_llmner.JSONNER.v1``. ``occurrences``: "all" (every occurrence of a
    listed string; the default) or "first". ``key_aliases``: other spellings of the JSON keys
    (e.g. the seed's ``{"属于人名类实体有?": "name"}``)."""
    return JSONNERTask(
        labels, label_definitions=label_definitions, occurrences=occurrences, key_aliases=key_aliases,
        bytes_per_token=bytes_per_token, template_version=template_version, max_shard_bytes=max_shard_bytes,
    )
