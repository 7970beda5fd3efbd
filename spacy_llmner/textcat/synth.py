"""In-domain classification corpora from the synthetic PII generator (``generator.py``).

Two tasks, each written as train/dev/test ``DocBin``s with one-hot ``doc.cats`` (and the NER
``doc.ents`` kept, so one corpus serves a PHI gate and the NER behind it):

- ``kind``: the document kind (clinical note, referral letter, chat, device log, ...). The
  labels are the kinds training may see; kinds marked held-out (``Kind.heldout``) cannot be a
  label a model never saw, so they are left out of this task. The natural kind weights are
  kept, so some kinds are rare (e.g. ``device_log`` about 3 % of documents).
- ``phi``: ``PHI`` (the document contains at least one personal-data entity) or ``NO_PHI``,
  balanced 50/50 per split. ``NO_PHI`` documents are the generator's own entity-free documents
  (``iter_docs(entities=False)``): the same kinds and layouts, composed only of clauses without
  entity slots, which is where the hard negatives live (doses, codes, eponyms, vitals, room
  numbers, titles without names). The label is read off the generated spans, never assumed.
  Caveat, measured and printed by the CLI: entity-free documents are shorter on average (no
  clauses added to guarantee a label), so length alone carries some signal; the summary
  reports the test accuracy of a length threshold fitted on train, the bar to clear.

Held-out generalisation follows the NER corpus (``heldout.py``): train and dev draw only
train-side templates and kinds; every test document contains at least one template training
never saw, and for ``phi`` the held-out kinds appear in test only. Splits never share a text.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Iterator
from typing import Any

from spacy.tokens import DocBin

from ..data.blank import blank
from ..data.docbin import SPLIT_TEMPLATES, split_seed, to_docbin
from ..data.generator import GeneratedDoc, iter_docs
from ..data.heldout import HELDOUT_KINDS
from ..data.templates import KINDS
from ..errors import Errors, LLMNERError

TASKS: tuple[str, ...] = ("kind", "phi")
PHI, NO_PHI = "PHI", "NO_PHI"
SPLITS: tuple[str, ...] = ("train", "dev", "test")


def task_labels(task: str) -> list[str]:
    """The label set of a task: train-side kinds (in ``KINDS`` order) or ``[PHI, NO_PHI]``."""
    if task == "kind":
        return [k.name for k in KINDS if not k.heldout]
    if task == "phi":
        return [PHI, NO_PHI]
    raise LLMNERError(Errors.E665.format(task=task, tasks=list(TASKS)))


def label_of(task: str, doc: GeneratedDoc) -> str:
    return doc.kind if task == "kind" else PHI if doc.spans else NO_PHI


def _stream(task: str, seed: int, split: str, entities: bool | None) -> Iterator[GeneratedDoc]:
    return iter_docs(split_seed(seed, f"textcat-{task}/{split}/{entities}"), templates=SPLIT_TEMPLATES[split],
                     entities=entities)


def _split(task: str, n: int, seed: int, split: str, seen: set[str]) -> list[GeneratedDoc]:
    """``n`` documents of one split, none whose text is in ``seen`` (nor twice in the split)."""
    wanted: list[tuple[bool | None, int]]
    wanted = [(None, n)] if task == "kind" else [(True, n - n // 2), (False, n // 2)]
    docs: list[GeneratedDoc] = []
    for entities, k in wanted:
        stream, got = _stream(task, seed, split, entities), 0
        while got < k:
            doc = next(stream)
            if doc.text in seen or (task == "kind" and doc.kind in HELDOUT_KINDS):
                continue
            seen.add(doc.text)
            docs.append(doc)
            got += 1
    random.Random(split_seed(seed, f"textcat-{task}/{split}/order")).shuffle(docs)
    return docs


def corpus(task: str, n_train: int, n_dev: int, n_test: int, seed: int = 0) -> dict[str, list[GeneratedDoc]]:
    """Documents per split for ``task`` (see the module docstring)."""
    task_labels(task)  # validates the task
    for n in (n_train, n_dev, n_test):
        if n < 0:
            raise LLMNERError(Errors.E102.format(n=n))
    seen: set[str] = set()
    return {split: _split(task, n, seed, split, seen)
            for split, n in zip(SPLITS, (n_train, n_dev, n_test))}


def to_textcat_docbin(task: str, docs: list[GeneratedDoc]) -> DocBin:
    """Docs on blank English tokens with their entities and one-hot ``doc.cats``."""
    labels = task_labels(task)
    nlp = blank("en")
    out = DocBin(store_user_data=False)
    for gen, doc in zip(docs, to_docbin(docs, nlp).get_docs(nlp.vocab), strict=True):
        gold = label_of(task, gen)
        doc.cats = {label: 1.0 if label == gold else 0.0 for label in labels}
        out.add(doc)
    return out


def summary(task: str, splits: dict[str, list[GeneratedDoc]], seed: int) -> dict[str, Any]:
    """Counts per split and label, held-out kinds per split, mean characters per label (no text)."""
    out: dict[str, Any] = {"task": task, "seed": seed, "labels": task_labels(task),
                           "docs": {s: len(d) for s, d in splits.items()}}
    out["per_label"] = {s: dict(sorted(Counter(label_of(task, d) for d in docs).items()))
                        for s, docs in splits.items()}
    out["heldout_kind_docs"] = {s: sum(d.kind in HELDOUT_KINDS for d in docs) for s, docs in splits.items()}
    chars: dict[str, list[int]] = {}
    for docs in splits.values():
        for d in docs:
            chars.setdefault(label_of(task, d), []).append(len(d.text))
    out["mean_chars_per_label"] = {lab: round(statistics.mean(v), 1) for lab, v in sorted(chars.items())}
    if task == "phi" and splits.get("train") and splits.get("test"):
        out["length_only_baseline"] = length_baseline(splits["train"], splits["test"])
    return out


def length_baseline(train: list[GeneratedDoc], test: list[GeneratedDoc]) -> dict[str, Any]:
    """How far length alone goes for PHI / NO_PHI: "PHI if at least T characters", T fitted on
    train. Any classifier should beat its test accuracy to show it reads more than length."""
    def accuracy(docs: list[GeneratedDoc], t: int) -> float:
        return sum((len(d.text) >= t) == bool(d.spans) for d in docs) / len(docs)

    candidates = sorted({len(d.text) for d in train})
    best = max(candidates, key=lambda t: (accuracy(train, t), -t))
    return {"threshold_chars": best, "train_accuracy": round(accuracy(train, best), 4),
            "test_accuracy": round(accuracy(test, best), 4)}
