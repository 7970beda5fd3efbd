"""THUCNews titles (``{"text", "label"}`` JSONL) -> train/dev/test ``DocBin``s with one-hot cats.

Splits are disjoint, seeded and stratified, and built so that comparisons across runs stay fair:

- Each label's documents are put in one seeded order (a permutation that depends only on the
  seed and the label). Test takes the first documents of every label, dev the next ones, train
  the ones after that. So the test split depends only on ``(seed, n_test)``: changing the training
  size (a learning curve) or making classes rare never changes it, and a smaller training split
  is a subset of a larger one.
- Per-split quotas follow the labels' shares in the input (largest remainder), so each split has
  the input's label distribution.
- ``rare`` labels keep only ``rare_frac`` of their normal *training* quota (at least one
  document when the fraction is above 0); dev and test stay stratified, so rare-class F1 is
  measured on as many test documents as any other class. The other labels keep their normal
  quota, so the training split shrinks rather than reweighting every class.
- Texts that occur more than once are kept once (the first record), so no test title also
  appears in training under any label.

Tokens are ``spacy.blank("zh")``'s characters (no pkuseg or jieba needed). Pure: no torch.
Statistics are counts only, never text.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import DocBin

from ..data.blank import blank
from ..errors import Errors, LLMNERError

SPLITS: tuple[str, ...] = ("train", "dev", "test")
LANG = "zh"


@dataclass(frozen=True)
class Record:
    text: str
    label: str


def read_records(path: str | Path) -> tuple[list[Record], int]:
    """Records of a ``{"text", "label"}`` JSONL file, duplicates of a text dropped; and how many
    duplicates were dropped. Malformed lines raise a coded error naming the line."""
    path = Path(path)
    if not path.is_file():
        raise LLMNERError(Errors.E108.format(path=path))
    records: list[Record] = []
    seen: set[str] = set()
    duplicates = 0
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                raise LLMNERError(Errors.E660.format(line=line_no, path=path)) from None
            if not (isinstance(obj, dict) and isinstance(obj.get("text"), str)
                    and isinstance(obj.get("label"), str) and obj["label"]):
                raise LLMNERError(Errors.E660.format(line=line_no, path=path))
            if obj["text"] in seen:
                duplicates += 1
                continue
            seen.add(obj["text"])
            records.append(Record(obj["text"], obj["label"]))
    return records, duplicates


def _label_seed(seed: int, label: str) -> int:
    digest = hashlib.sha256(f"spacy_llmner.thucnews/{seed}/{label}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def quotas(counts: Mapping[str, int], n: int) -> dict[str, int]:
    """``n`` spread over labels in proportion to ``counts`` (largest remainder; ties by label)."""
    total = sum(counts.values())
    if total == 0:
        return {label: 0 for label in counts}
    exact = {label: n * c / total for label, c in counts.items()}
    out = {label: int(v) for label, v in exact.items()}
    rest = n - sum(out.values())
    for label in sorted(counts, key=lambda lab: (-(exact[lab] - out[lab]), lab))[:rest]:
        out[label] += 1
    return out


def rare_quota(normal: int, frac: float) -> int:
    """A rare label's training quota: ``frac`` of its normal one, at least 1 if ``frac`` > 0."""
    if frac <= 0 or normal == 0:
        return 0
    return max(1, round(normal * frac))


def split_indices(
    labels: Sequence[str],
    n_train: int,
    n_dev: int,
    n_test: int,
    seed: int = 0,
    rare: Iterable[str] = (),
    rare_frac: float = 1.0,
) -> dict[str, list[int]]:
    """Indices into ``labels`` per split (see the module docstring); each split in seeded order.

    ``n_train = 0`` takes every document left after test and dev (rare labels still reduced).
    """
    rare = tuple(rare)
    counts = Counter(labels)
    for n in (n_train, n_dev, n_test):
        if n < 0:
            raise LLMNERError(Errors.E102.format(n=n))
    if not 0.0 <= rare_frac <= 1.0:
        raise LLMNERError(Errors.E661.format(frac=rare_frac))
    unknown = [lab for lab in rare if lab not in counts]
    if unknown:
        raise LLMNERError(Errors.E662.format(labels=unknown, known=sorted(counts)))
    by_label: dict[str, list[int]] = {label: [] for label in sorted(counts)}
    for i, label in enumerate(labels):
        by_label[label].append(i)
    for label, idx in by_label.items():
        random.Random(_label_seed(seed, label)).shuffle(idx)
    q_test, q_dev = quotas(counts, n_test), quotas(counts, n_dev)
    left = {lab: counts[lab] - q_test[lab] - q_dev[lab] for lab in counts}
    q_train = dict(left) if n_train == 0 else quotas(counts, n_train)
    q_train = {lab: rare_quota(q, rare_frac) if lab in rare else q for lab, q in q_train.items()}
    short = {lab: (q_test[lab] + q_dev[lab] + q_train[lab], counts[lab])
             for lab in counts if q_test[lab] + q_dev[lab] + q_train[lab] > counts[lab]}
    if short:
        raise LLMNERError(Errors.E663.format(short=short, n=len(labels)))
    out: dict[str, list[int]] = {s: [] for s in SPLITS}
    for label, idx in by_label.items():
        a, b = q_test[label], q_test[label] + q_dev[label]
        out["test"] += idx[:a]
        out["dev"] += idx[a:b]
        out["train"] += idx[b:b + q_train[label]]
    for split, idx in out.items():
        idx.sort()
        random.Random(_label_seed(seed, f"order/{split}")).shuffle(idx)
    return out


def to_docbin(records: Sequence[Record], all_labels: Sequence[str], nlp: Language | None = None) -> DocBin:
    """One doc per record on character tokens, ``doc.cats`` one-hot over ``all_labels``."""
    nlp = nlp if nlp is not None else blank(LANG)
    db = DocBin(store_user_data=False)
    for r in records:
        doc = nlp.make_doc(r.text)
        doc.cats = {label: 1.0 if label == r.label else 0.0 for label in all_labels}
        db.add(doc)
    return db


def convert(
    path: str | Path,
    n_train: int,
    n_dev: int,
    n_test: int,
    seed: int = 0,
    rare: Iterable[str] = (),
    rare_frac: float = 1.0,
) -> tuple[dict[str, DocBin], list[str], dict[str, Any]]:
    """DocBins per split, the label list, and a summary of counts (no text)."""
    from ..data.cluener import check_char_segmenter

    check_char_segmenter(LANG)
    records, duplicates = read_records(path)
    labels = sorted({r.label for r in records})
    if len(labels) < 2:
        raise LLMNERError(Errors.E664.format(path=path, labels=labels))
    rare = tuple(rare)
    idx = split_indices([r.label for r in records], n_train, n_dev, n_test, seed, rare, rare_frac)
    bins = {s: to_docbin([records[i] for i in idx[s]], labels) for s in SPLITS}
    summary: dict[str, Any] = {
        "source_documents": len(records) + duplicates,
        "duplicate_texts_dropped": duplicates,
        "seed": seed,
        "labels": labels,
        "rare": list(rare),
        "rare_frac": rare_frac if rare else None,
        "docs": {s: len(idx[s]) for s in SPLITS},
        "per_label": {s: dict(sorted(Counter(records[i].label for i in idx[s]).items())) for s in SPLITS},
        "segmenter": "char",
    }
    return bins, labels, summary
