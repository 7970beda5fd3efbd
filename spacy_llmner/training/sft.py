"""Corpus → supervised fine-tuning examples, tokenized exactly as inference tokenizes.

Each conversation is three segments (``prompting.frame``)::

    prefix (shared by every document) | escaped document + suffix | tagged answer + end marker
    labels: -100                        | -100                      | the answer's token ids

so the loss covers the answer only (the end marker included: the model learns to stop), and the
mask is exact by construction rather than found by searching decoded text. The prefix is stored
once (``prefixes``), not per example, so a batch can run it once (``training.step``).
Too-long examples are skipped and counted, never silently truncated.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from spacy.tokens import Doc

from ..errors import Errors, LLMNERError
from ..prompting import TEMPLATE_VERSION, build_messages, check_prefix_consistency, encode_segments
from ..prompting.answer import render_completion
from ..prompting.frame import PromptFrame, prompt_frame
from ..tagging import CharSpan, escape, render

logger = logging.getLogger("spacy_llmner")

IGNORE = -100
NO_PREFIX = -1

Item = Union[Doc, tuple[str, Sequence[CharSpan]]]


@dataclass(frozen=True)
class SFTExample:
    """Token ids after the shared prefix, their labels, and which prefix they follow."""

    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    prefix: int = 0  # index into SFTDataset.prefixes, or NO_PREFIX

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass
class SFTDataset:
    """A map-style dataset (``__getitem__``/``__len__``) the Trainer's DataLoader can index."""

    prefixes: list[list[int]]
    examples: list[SFTExample]
    n_skipped: int = 0
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> SFTExample:
        return self.examples[index]

    def full_length(self, example: SFTExample) -> int:
        """Length of the whole conversation (prefix included)."""
        prefix = self.prefixes[example.prefix] if example.prefix != NO_PREFIX else []
        return len(prefix) + len(example)

    def n_tokens(self) -> int:
        return sum(self.full_length(ex) for ex in self.examples)

    def n_label_tokens(self) -> int:
        return sum(sum(1 for lab in ex.labels if lab != IGNORE) for ex in self.examples)


def doc_spans(doc: Doc) -> list[CharSpan]:
    """Gold entities as character spans."""
    return [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]


def _as_pair(item: Item) -> tuple[str, list[CharSpan]]:
    if isinstance(item, Doc):
        return item.text, doc_spans(item)
    text, spans = item
    return text, [(int(s), int(e), str(lab)) for s, e, lab in spans]


def encode_conversation(
    tokenizer: Any, frame: PromptFrame, text: str, spans: Sequence[CharSpan], doc_loss: bool = False,
    completion: str | None = None,
) -> SFTExample:
    """One document as (document + suffix | answer + end) ids after the prefix, with labels.

    ``doc_loss`` also puts the document tokens into the loss (used only for pre-training the
    from-scratch base, where the document text doubles as language-modelling data).
    """
    completion = render(text, spans) if completion is None else completion  # the answer, else tags
    _, doc_ids, answer_ids = encode_segments(tokenizer, frame.frame, escape(text), completion)
    doc_labels = list(doc_ids) if doc_loss else [IGNORE] * len(doc_ids)
    return SFTExample(tuple(doc_ids + answer_ids), tuple(doc_labels + answer_ids), prefix=0)


def encode_plain(tokenizer: Any, text: str) -> SFTExample:
    """A plain document for language modelling: bos? + text + eos, every token in the loss."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    ids = ([bos] if bos is not None else []) + list(ids) + ([eos] if eos is not None else [])
    return SFTExample(tuple(ids), tuple(ids), prefix=NO_PREFIX)


def build_dataset(
    items: Iterable[Item],
    tokenizer: Any,
    labels: Mapping[str, str],
    max_length: int,
    name: str = "corpus",
    doc_loss: bool = False,
    template_version: str = TEMPLATE_VERSION,
) -> SFTDataset:
    """Tokenize a corpus into SFT examples; skip (and count) those longer than ``max_length``."""
    frame = prompt_frame(tokenizer, build_messages(labels, version=template_version))
    examples: list[SFTExample] = []
    n_total = n_skipped = 0
    unknown: set[str] = set()
    checked = False
    for item in items:
        text, spans = _as_pair(item)
        n_total += 1
        unknown.update(lab for _, _, lab in spans if lab not in labels)
        if unknown:
            continue
        completion = render_completion(text, spans, labels, template_version)
        if not checked:
            check_prefix_consistency(tokenizer, frame.frame, escape(text), completion)
            checked = True
        example = encode_conversation(tokenizer, frame, text, spans, doc_loss=doc_loss, completion=completion)
        if len(frame.prefix_ids) + len(example) > max_length:
            n_skipped += 1
            continue
        examples.append(example)
    if unknown:
        raise LLMNERError(Errors.E306.format(unknown=sorted(unknown), labels=list(labels)))
    if n_total and not examples:
        raise LLMNERError(
            Errors.E304.format(n_total=n_total, name=name, max_length=max_length)
        )
    if n_skipped:
        # Counts only: the documents themselves may hold personal data.
        logger.warning(
            "%s: skipped %d of %d documents longer than max_length=%d tokens "
            "(prompt + document + answer); raise training.max_length to keep them.",
            name, n_skipped, n_total, max_length,
        )
    data = SFTDataset(prefixes=[frame.prefix_ids], examples=examples, n_skipped=n_skipped)
    data.stats = {
        "documents": n_total,
        "examples": len(examples),
        "skipped": n_skipped,
        "prefix_tokens": len(frame.prefix_ids),
        "tokens": data.n_tokens(),
        "label_tokens": data.n_label_tokens(),
    }
    return data


def read_docbin(path: str | Path, vocab: Any = None) -> list[Doc]:
    """Docs of a ``.spacy`` file (a blank English vocab is enough: only text and ents matter)."""
    import spacy
    from spacy.tokens import DocBin

    path = Path(path)
    try:
        doc_bin = DocBin().from_disk(path)
    except (OSError, ValueError) as err:
        raise LLMNERError(Errors.E305.format(path=path, reason=type(err).__name__)) from err
    return list(doc_bin.get_docs(vocab if vocab is not None else spacy.blank("en").vocab))


@dataclass
class Collator:
    """Pads a batch (labels with -100) and, with ``shared_prefix``, keeps the prefix apart.

    With ``shared_prefix`` the batch is ``prefix_ids`` (1, P) + right-padded rows after it;
    otherwise the prefix is prepended to every row (the plain path, for comparison and for
    models whose cache cannot be shared). All examples of a batch must follow the same prefix
    (``LengthGroupedBatches`` guarantees that).
    """

    prefixes: Sequence[Sequence[int]]
    pad_id: int
    shared_prefix: bool = True

    def __call__(self, features: Sequence[SFTExample]) -> dict[str, Any]:
        import torch

        groups = {ex.prefix for ex in features}
        if len(groups) != 1:
            raise LLMNERError(
                Errors.E011.format(
                    name="batch",
                    value=sorted(groups),
                    hint="A batch must not mix prefixes; use LengthGroupedBatches as batch sampler.",
                )
            )
        group = groups.pop()
        prefix = list(self.prefixes[group]) if group != NO_PREFIX else []
        rows = [list(ex.input_ids) for ex in features]
        labels = [list(ex.labels) for ex in features]
        batch: dict[str, Any] = {}
        if self.shared_prefix and prefix:
            batch["prefix_ids"] = torch.tensor([prefix], dtype=torch.long)
        elif prefix:
            rows = [prefix + r for r in rows]
            labels = [[IGNORE] * len(prefix) + lab for lab in labels]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        target = torch.full((len(rows), width), IGNORE, dtype=torch.long)
        for i, (row, lab) in enumerate(zip(rows, labels)):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
            target[i, : len(lab)] = torch.tensor(lab)
        batch.update(input_ids=ids, attention_mask=mask, labels=target)
        return batch


class LengthGroupedBatches:
    """Batches of similar length and one prefix group, reshuffled every epoch (seeded)."""

    def __init__(
        self, dataset: SFTDataset, batch_size: int, seed: int = 0, shuffle: bool = True,
        group_by_length: bool = True, pool: int = 50, max_tokens: int = 0,
    ) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.group_by_length = group_by_length
        self.pool = pool
        # Rows x longest row per batch, at most (0: no cap). Long documents then come in smaller
        # batches, which bounds a step's activation memory.
        self.max_tokens = max_tokens
        self.epoch = 0
        self._len = len(self._batches(self.epoch))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self._len

    def _split(self, indices: list[int]) -> list[list[int]]:
        """Consecutive batches of ``batch_size`` rows, cut earlier where ``max_tokens`` says."""
        batches: list[list[int]] = []
        current: list[int] = []
        longest = 0
        for i in indices:
            n = len(self.dataset.examples[i])
            full = len(current) == self.batch_size
            too_big = self.max_tokens and current and max(longest, n) * (len(current) + 1) > self.max_tokens
            if full or too_big:
                batches.append(current)
                current, longest = [], 0
            current.append(i)
            longest = max(longest, n)
        if current:
            batches.append(current)
        return batches

    def __iter__(self):  # type: ignore[no-untyped-def]
        batches = self._batches(self.epoch)
        self.epoch += 1
        yield from batches

    def _batches(self, epoch: int) -> list[list[int]]:
        import random

        rng = random.Random(self.seed * 1_000_003 + epoch)
        by_group: dict[int, list[int]] = {}
        for i, ex in enumerate(self.dataset.examples):
            by_group.setdefault(ex.prefix, []).append(i)
        batches: list[list[int]] = []
        for indices in by_group.values():
            if self.shuffle:
                rng.shuffle(indices)
            if self.group_by_length:
                # Sort within pools of `pool` batches: similar lengths, still random overall.
                span = self.pool * self.batch_size
                pools = [indices[k : k + span] for k in range(0, len(indices), span)]
                indices = [
                    i for p in pools for i in sorted(p, key=lambda j: len(self.dataset.examples[j]))
                ]
            batches.extend(self._split(indices))
        if self.shuffle:
            rng.shuffle(batches)
        return batches
