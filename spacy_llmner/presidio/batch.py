"""``LLMNERBatchAnalyzerEngine``: Presidio's ``BatchAnalyzerEngine`` that batches the LLM.

Presidio's batch engine batches only its NLP engine, then calls ``analyzer.analyze`` per text,
so an ``LLMNERRecognizer`` added with ``registry.add_recognizer`` or declared in a YAML registry
would run the LLM once per text. This drop-in subclass cuts the texts into batches of the
recognizer's ``batch_size``, opens :meth:`LLMNERRecognizer.prefetch` for each batch (one
``nlp.pipe`` call), and lets Presidio's own loop run inside it. Nothing outlives a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from itertools import islice
from typing import Any, TypeVar

from presidio_analyzer import (
    AnalyzerEngine,
    BatchAnalyzerEngine,
    DictAnalyzerResult,
    RecognizerResult,
)

from ..errors import Errors, LLMNERError
from .nlp_engine import LLMNERNlpEngine
from .recognizer import LLMNERRecognizer

_T = TypeVar("_T")
#: Value types Presidio analyzes as one text (everything else is a container or an error).
_SCALARS = (str, int, bool, float)


def _chunks(items: Iterable[_T], size: int) -> Iterator[list[_T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class LLMNERBatchAnalyzerEngine(BatchAnalyzerEngine):
    """``BatchAnalyzerEngine`` whose LLM recognizers see ``batch_size`` texts per model call."""

    analyzer_engine: AnalyzerEngine

    def __init__(self, analyzer_engine: AnalyzerEngine | None = None) -> None:
        if analyzer_engine is None:
            raise LLMNERError(Errors.E227)
        super().__init__(analyzer_engine=analyzer_engine)

    # -- which recognizers batch, and how many texts at a time ---------------------------
    def _llm_recognizers(self, language: str, kwargs: dict[str, Any]) -> list[LLMNERRecognizer]:
        """The LLM recognizers ``analyze`` will call for these arguments (same registry query)."""
        entities = kwargs.get("entities")
        try:
            recognizers = self.analyzer_engine.registry.get_recognizers(
                language=language,
                entities=entities,
                all_fields=not entities,
                ad_hoc_recognizers=kwargs.get("ad_hoc_recognizers"),
            )
        except ValueError:
            return []  # ``analyze`` raises Presidio's own error for the same request
        found: list[LLMNERRecognizer] = []
        for rec in recognizers:
            if isinstance(rec, LLMNERRecognizer) and all(rec is not seen for seen in found):
                found.append(rec)
        return found

    def _shares_engine(self, rec: LLMNERRecognizer) -> bool:
        """True when the NLP engine already runs this pipeline (``build_analyzer``)."""
        engine = self.analyzer_engine.nlp_engine
        return isinstance(engine, LLMNERNlpEngine) and engine.uses(rec.nlp)

    def _plan(
        self, language: str, batch_size: int, kwargs: dict[str, Any]
    ) -> tuple[list[LLMNERRecognizer], int, int]:
        """(recognizers to prefetch, texts per prefetch, NLP engine batch size)."""
        recognizers = self._llm_recognizers(language, kwargs)
        shared = [rec for rec in recognizers if self._shares_engine(rec)]
        own = [rec for rec in recognizers if not self._shares_engine(rec)]
        engine_batch = max([batch_size, *(rec.batch_size for rec in shared)])
        chunk = 0
        if own:
            chunk = max(rec.batch_size for rec in own)
            chunk = max(1, min(chunk, *(rec.max_prefetch for rec in own)))
        return own, chunk, engine_batch

    # -- Presidio's API ------------------------------------------------------------------
    def analyze_iterator(  # type: ignore[override]
        self,
        texts: Iterable[str | bool | float | int],
        language: str,
        batch_size: int = 1,
        n_process: int = 1,
        **kwargs: Any,
    ) -> list[list[RecognizerResult]]:
        """Presidio's ``analyze_iterator``; each LLM recognizer runs once per batch of texts.

        The LLM batch is the recognizer's ``batch_size``; ``batch_size`` here is still the NLP
        engine's (raised to the recognizer's when the engine runs the LLM pipeline itself).
        """
        own, chunk, engine_batch = self._plan(language, batch_size, kwargs)
        if not own:
            return super().analyze_iterator(
                texts, language, batch_size=engine_batch, n_process=n_process, **kwargs
            )
        results: list[list[RecognizerResult]] = []
        for batch in _chunks(self._validate_types(texts), chunk):
            with self._prefetched(own, [str(text) for text in batch]):
                results.extend(
                    super().analyze_iterator(
                        batch, language, batch_size=engine_batch, n_process=n_process, **kwargs
                    )
                )
        return results

    def analyze_dict(  # type: ignore[override]
        self,
        input_dict: dict[str, Any],
        language: str,
        keys_to_skip: list[str] | None = None,
        batch_size: int = 1,
        n_process: int = 1,
        **kwargs: Any,
    ) -> Iterator[DictAnalyzerResult]:
        """Presidio's ``analyze_dict``; the scalar values of each level are batched too.

        List values go through :meth:`analyze_iterator`, nested dicts through this method, so
        every level is batched; results are yielded after each batch's Docs are dropped.
        """
        own, chunk, engine_batch = self._plan(language, batch_size, kwargs)
        if not own:
            yield from super().analyze_dict(
                input_dict, language, keys_to_skip, engine_batch, n_process, **kwargs
            )
            return
        skip = set(keys_to_skip or ())
        for group, texts in self._groups(input_dict, skip, chunk):
            with self._prefetched(own, texts):
                done = list(
                    super().analyze_dict(
                        dict(group), language, keys_to_skip, engine_batch, n_process, **kwargs
                    )
                )
            yield from done

    # -- helpers -------------------------------------------------------------------------
    @staticmethod
    def _groups(
        input_dict: dict[str, Any], skip: set[str], size: int
    ) -> Iterator[tuple[list[tuple[str, Any]], list[str]]]:
        """Consecutive items holding at most ``size`` scalar texts, with those texts."""
        group: list[tuple[str, Any]] = []
        texts: list[str] = []
        for key, value in input_dict.items():
            is_text = bool(value) and key not in skip and type(value) in _SCALARS
            if is_text and len(texts) == size:
                yield group, texts
                group, texts = [], []
            group.append((key, value))
            if is_text:
                texts.append(str(value))
        if group:
            yield group, texts

    @staticmethod
    def _prefetched(recognizers: list[LLMNERRecognizer], texts: list[str]) -> ExitStack:
        stack = ExitStack()
        with stack:
            for rec in recognizers:
                stack.enter_context(rec.prefetch(texts))
            return stack.pop_all()
