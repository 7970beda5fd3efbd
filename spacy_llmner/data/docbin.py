"""Generated documents -> spaCy ``DocBin`` corpora (``train.spacy``, ``dev.spacy``, ``test.spacy``).

Corpora are spaCy's own format so that ``spacy evaluate``, ``spacy debug data`` and the training
code read them directly. Splits come from different seeds, and dev/test skip any text already in
an earlier split, so no document leaks from train into evaluation.

With ``heldout=True`` (the default) the test split also measures generalisation: train and dev
draw only train-side templates and kinds, and every test document contains at least one
template (clause, opener or closer) that training never saw (see ``heldout.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import DocBin

from ..errors import Errors, LLMNERError
from .blank import blank
from .generator import DEFAULT_LOCALES, GeneratedDoc, iter_docs
from .heldout import TemplateSide

SPLITS: tuple[str, ...] = ("train", "dev", "test")


def _text_and_spans(item: GeneratedDoc | Mapping[str, Any]) -> tuple[str, list[tuple[int, int, str]]]:
    if isinstance(item, GeneratedDoc):
        return item.text, list(item.spans)
    spans = []
    for span in item.get("spans", ()):
        if isinstance(span, Mapping):
            spans.append((span["start"], span["end"], span["label"]))
        else:
            start, end, label = span
            spans.append((start, end, label))
    return item["text"], spans


def to_docbin(docs: Iterable[GeneratedDoc | Mapping[str, Any]], nlp: Language | None = None) -> DocBin:
    """A ``DocBin`` with ``doc.ents`` set from each document's spans (blank English by default).

    Accepts :class:`GeneratedDoc` or dicts ``{"text", "spans": [{"start", "end", "label"}]}``
    (spans may also be ``(start, end, label)`` tuples). Spans must align to tokens and must not
    overlap; use :func:`spacy_llmner.data.jsonl.jsonl_to_docbin` to convert messy data leniently.
    """
    nlp = nlp if nlp is not None else blank("en")
    db = DocBin(store_user_data=False)
    for index, item in enumerate(docs):
        text, spans = _text_and_spans(item)
        doc = nlp.make_doc(text)
        ents = []
        for start, end, label in sorted(spans):
            ent = doc.char_span(start, end, label=label, alignment_mode="strict")
            if ent is None:
                raise LLMNERError(Errors.E110.format(index=index, start=start, end=end))
            ents.append(ent)
        try:
            doc.ents = ents
        except ValueError as err:
            raise LLMNERError(Errors.E110.format(index=index, start=-1, end=-1)) from err
        db.add(doc)
    return db


def split_seed(seed: int, split: str) -> int:
    """A distinct, stable seed per split (hash-derived, so ``seed + 1`` cannot collide with dev)."""
    digest = hashlib.sha256(f"spacy_llmner.data/{seed}/{split}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


SPLIT_TEMPLATES: dict[str, TemplateSide] = {"train": "train", "dev": "train", "test": "heldout"}


def corpus_docs(
    n_train: int,
    n_dev: int,
    n_test: int,
    seed: int = 0,
    locales: Sequence[str] = DEFAULT_LOCALES,
    *,
    heldout: bool = True,
) -> dict[str, list[GeneratedDoc]]:
    """Documents per split; a text that already occurs in an earlier split is skipped.

    ``heldout`` keeps held-out templates out of train and dev and puts one in every test
    document; ``False`` draws every split from all templates (e.g. for a final model).
    """
    sizes = dict(zip(SPLITS, (n_train, n_dev, n_test)))
    for n in sizes.values():
        if n < 0:
            raise LLMNERError(Errors.E102.format(n=n))
    seen: set[str] = set()
    out: dict[str, list[GeneratedDoc]] = {}
    for split, n in sizes.items():
        docs: list[GeneratedDoc] = []
        stream = iter_docs(split_seed(seed, split), locales, SPLIT_TEMPLATES[split] if heldout else "all")
        while len(docs) < n:
            doc = next(stream)
            if doc.text not in seen:
                docs.append(doc)
        seen.update(d.text for d in docs)
        out[split] = docs
    return out


def write_corpus(
    out_dir: str | Path,
    n_train: int,
    n_dev: int,
    n_test: int,
    seed: int = 0,
    locales: Sequence[str] = DEFAULT_LOCALES,
    *,
    heldout: bool = True,
) -> dict[str, Path]:
    """Write ``train.spacy``, ``dev.spacy`` and ``test.spacy`` to ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for split, docs in corpus_docs(n_train, n_dev, n_test, seed, locales, heldout=heldout).items():
        path = out / f"{split}.spacy"
        to_docbin(docs).to_disk(path)
        paths[split] = path
    return paths
