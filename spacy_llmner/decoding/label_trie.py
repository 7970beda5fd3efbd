"""The label-answer constraint: a trie over the labels' token sequences, each ending with the end
token, so an answer is one complete label and nothing else.

``allowed(prefix)`` is the set of next tokens a constrained decoder may take; ``label_of(ids)``
maps a complete answer back to its label. Label scoring (``models/label_scoring.py``) walks every
path of this trie exactly, which is the exhaustive search over the constrained answers: the
highest-scoring label is the best answer the constraint allows, not a greedy approximation.
Pure: needs a tokenizer's ``encode``, no torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import Errors, LLMNERError
from ..prompting.frame import ChatFrame, encode_segments, eos_ids


def answer_ids(tokenizer: Any, frame: ChatFrame, label: str) -> list[int]:
    """Token ids of the answer ``label``: tokenized with the template's end marker exactly as a
    training completion is (``encode_segments``), cut after the first end token; the tokenizer's
    EOS is appended when the template writes none."""
    ends = eos_ids(tokenizer, frame)
    ids = encode_segments(tokenizer, frame, "", label)[2]
    for i, tid in enumerate(ids):
        if tid in ends:
            return ids[: i + 1]
    return ids + ends[:1]


@dataclass
class LabelTrie:
    """node → {token id: child}; a node reached by a complete answer (end token included) → label."""

    children: list[dict[int, int]] = field(default_factory=lambda: [{}])
    terminal: dict[int, str] = field(default_factory=dict)
    sequences: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def build(cls, sequences: Mapping[str, Sequence[int]]) -> LabelTrie:
        """E609 when two labels share one token sequence (the model could not tell them apart)."""
        trie = cls()
        for label, ids in sequences.items():
            node = 0
            for tid in ids:
                nxt = trie.children[node].get(tid)
                if nxt is None:
                    nxt = len(trie.children)
                    trie.children.append({})
                    trie.children[node][tid] = nxt
                node = nxt
            if node in trie.terminal:
                raise LLMNERError(Errors.E609.format(first=trie.terminal[node], second=label))
            trie.terminal[node] = label
            trie.sequences[label] = tuple(ids)
        return trie

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, frame: ChatFrame, labels: Sequence[str]) -> LabelTrie:
        return cls.build({label: answer_ids(tokenizer, frame, label) for label in labels})

    def _walk(self, ids: Sequence[int]) -> int | None:
        node = 0
        for tid in ids:
            nxt = self.children[node].get(tid)
            if nxt is None:
                return None
            node = nxt
        return node

    def allowed(self, prefix: Sequence[int]) -> frozenset[int]:
        """Tokens that may follow ``prefix`` (empty when the prefix is complete or off the trie)."""
        node = self._walk(prefix)
        return frozenset() if node is None else frozenset(self.children[node])

    def label_of(self, ids: Sequence[int]) -> str | None:
        """The label whose complete answer is ``ids``, else ``None``."""
        node = self._walk(ids)
        return None if node is None else self.terminal.get(node)


__all__ = ["LabelTrie", "answer_ids"]
