"""``llmner_phi_gate``: run the NER component only on docs a classifier says may hold PHI.

Off unless added. The pipeline classifies first (e.g. ``llm_textcat`` with labels such as
``PHI`` / ``none``, possibly on the same shared base), then the gate runs the NER component,
added to the pipeline but *disabled*, on the docs whose ``doc.cats[label] >= threshold``; the
other docs keep no entities and cost no NER call (the expensive part: NER copies the whole text,
classification scores a few label tokens)::

    nlp.add_pipe("llm_textcat", config={...})            # labels ["PHI", "none"]
    nlp.add_pipe("llm_ner", config={...})
    nlp.add_pipe("llmner_phi_gate", config={"component": "llm_ner", "label": "PHI", "threshold": 0.2})
    nlp.disable_pipe("llm_ner")                          # the gate runs it; saved as disabled

A low threshold trades speed for recall: a doc the classifier misses is never anonymised.
``doc._.llmner_gated`` says whether the NER component ran on a doc.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from ..errors import Errors, LLMNERError

GATE_FACTORY = "llmner_phi_gate"

if not Doc.has_extension("llmner_gated"):
    Doc.set_extension("llmner_gated", default=None)


class PHIGate:
    def __init__(self, nlp: Language, name: str, component: str, label: str, threshold: float, batch_size: int) -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
            raise LLMNERError(Errors.E647.format(value=threshold, label=label))
        self.nlp, self.name = nlp, name
        self.component, self.label, self.threshold = component, label, float(threshold)
        self.batch_size = batch_size

    def _target(self) -> Any:
        if self.component not in self.nlp.component_names:
            raise LLMNERError(Errors.E648.format(name=self.name, component=self.component, problem="is not in the pipeline"))
        if self.component not in self.nlp.disabled:
            raise LLMNERError(Errors.E648.format(name=self.name, component=self.component, problem="is enabled"))
        return self.nlp.get_pipe(self.component)

    def passes(self, doc: Doc) -> bool:
        if self.label not in doc.cats:
            raise LLMNERError(Errors.E649.format(name=self.name, label=self.label, cats=sorted(doc.cats)))
        return doc.cats[self.label] >= self.threshold

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        target = self._target()
        size = batch_size or self.batch_size
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= size:
                yield from self._run(target, batch)
                batch = []
        if batch:
            yield from self._run(target, batch)

    def _run(self, target: Any, batch: list[Doc]) -> list[Doc]:
        flags = [self.passes(doc) for doc in batch]
        chosen = [doc for doc, flag in zip(batch, flags) if flag]
        done = iter(list(target.pipe(chosen)) if chosen else [])
        out = []
        for doc, flag in zip(batch, flags):
            doc = next(done) if flag else doc
            doc._.llmner_gated = flag
            out.append(doc)
        return out


@Language.factory(
    GATE_FACTORY,
    default_config={"component": "llm_ner", "label": "PHI", "threshold": 0.5, "batch_size": 16},
)
def make_phi_gate(nlp: Language, name: str, component: str, label: str, threshold: float, batch_size: int) -> PHIGate:
    """Registered as the factory ``llmner_phi_gate`` (see the module docstring)."""
    return PHIGate(nlp, name, component, label, threshold, batch_size)


__all__ = ["GATE_FACTORY", "PHIGate", "make_phi_gate"]
