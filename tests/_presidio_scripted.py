"""A scripted stand-in for the LLM pipeline: regex rules → ``doc.ents`` + per-entity scores.

Importing this module registers the factory, so pipelines saved with it load with
``spacy.load`` (CLI: ``--code tests/_presidio_scripted.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans, minibatch

from spacy_llmner.scores import set_entity_scores

FACTORY = "llmner_test_scripted_ner"

#: [regex, label, score or None]; scores differ per entity, one label has none.
RULES: list[list[Any]] = [
    [r"\bJohn Doe\b", "PERSON", 0.93],
    [r"\bJane Roe\b", "PERSON", 0.88],
    [r"\bBoston\b", "LOCATION", 0.71],
    [r"\b\d{3}-\d{3}-\d{4}\b", "PHONE_NUMBER", 0.66],
    [r"\bMRN-\d+\b", "MEDICAL_RECORD_NUMBER", 0.97],
    [r"\bacct \d+\b", "ACCOUNT_NUMBER", 0.55],
    [r"\b4111 1111 1111 1111\b", "ACCOUNT_NUMBER", 0.8],
    [r"\bAcme\b", "ORGANIZATION", None],
]


@Language.factory(FACTORY, assigns=["doc.ents"], default_config={"rules": RULES})
def make_scripted_ner(nlp: Language, name: str, rules: list[list[Any]]) -> ScriptedNER:
    return ScriptedNER(rules)


class ScriptedNER:
    """Deterministic NER for tests; counts calls so tests can check the LLM runs once.

    ``model_calls`` stands for the LLM's forward passes: one entry per call, holding how many
    documents it saw (1 for ``nlp(text)``, the batch size for each ``nlp.pipe`` batch).
    """

    calls = 0

    def __init__(self, rules: list[list[Any]]) -> None:
        self.rules = [(re.compile(p), label, score) for p, label, score in rules]
        self.model_calls: list[int] = []

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(label for _, label, _ in self.rules))

    def __call__(self, doc: Doc) -> Doc:
        type(self).calls += 1
        self.model_calls.append(1)
        return self._tag(doc)

    def pipe(self, docs: Iterable[Doc], batch_size: int = 128) -> Iterator[Doc]:
        """What ``nlp.pipe`` calls: one model call per batch of ``batch_size`` documents."""
        for batch in minibatch(docs, size=batch_size):
            self.model_calls.append(len(batch))
            yield from (self._tag(doc) for doc in batch)

    def _tag(self, doc: Doc) -> Doc:
        spans, scores = [], {}
        for pattern, label, score in self.rules:
            for match in pattern.finditer(doc.text):
                span = doc.char_span(*match.span(), label=label, alignment_mode="expand")
                if span is not None:
                    spans.append(span)
                    scores[(span.start_char, span.end_char, label)] = score
        doc.ents = filter_spans(spans)
        set_entity_scores(
            doc,
            [
                (e.start_char, e.end_char, e.label_, scores[(e.start_char, e.end_char, e.label_)])
                for e in doc.ents
                if scores.get((e.start_char, e.end_char, e.label_)) is not None
            ],
        )
        return doc


def make_nlp() -> Language:
    """A blank English pipeline with the scripted NER."""
    nlp = spacy.blank("en")
    nlp.add_pipe(FACTORY)
    return nlp
