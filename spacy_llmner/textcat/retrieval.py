"""Demonstration retrieval for the classification prompt: a pluggable similarity, and the order.

The text-classification study retrieves the k labelled examples most similar to the text and puts the most similar
last, nearest the text. ``Similarity`` is the plug: ``index(pool)`` once, then ``scores(text)``
per document. ``CharNgramTfidf`` is the dependency-free default (character n-grams work for
Chinese, which has no spaces). Embedding retrieval, the seed's, implements the same protocol in
``textcat/embedding.py`` (``spacy_llmner.EmbeddingSimilarity.v1``: cosine of the mean-pooled last
hidden states of the base model or of a small local encoder; the pool is embedded once), since
it needs torch. This module stays pure: no torch.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class SimilarityIndex(Protocol):
    """A pool of texts, indexed once; ``scores(text)`` has one similarity per pool text."""

    def scores(self, text: str) -> list[float]: ...


@runtime_checkable
class Similarity(Protocol):
    """Builds an index over the demonstration pool (the task calls it when the pool changes)."""

    def index(self, texts: Sequence[str]) -> SimilarityIndex: ...


def _ngrams(text: str, sizes: tuple[int, ...]) -> Counter[str]:
    text = " ".join(text.lower().split())
    return Counter(text[i : i + n] for n in sizes for i in range(len(text) - n + 1))


class _TfidfIndex:
    def __init__(self, texts: Sequence[str], sizes: tuple[int, ...]) -> None:
        self._sizes = sizes
        grams = [_ngrams(t, sizes) for t in texts]
        df: Counter[str] = Counter(g for doc in grams for g in doc)
        n = len(texts)
        # Smoothed idf (as scikit-learn's): every term keeps a positive weight.
        self._idf = {g: math.log((1 + n) / (1 + c)) + 1.0 for g, c in df.items()}
        self._vectors = [self._vector(doc) for doc in grams]

    def _vector(self, grams: Counter[str]) -> dict[str, float]:
        # Unseen n-grams get the largest idf, but cannot match any pool vector anyway.
        vec = {g: (1.0 + math.log(c)) * self._idf.get(g, 0.0) for g, c in grams.items()}
        norm = math.sqrt(sum(v * v for v in vec.values()))
        return {g: v / norm for g, v in vec.items()} if norm else {}

    def scores(self, text: str) -> list[float]:
        query = self._vector(_ngrams(text, self._sizes))
        return [sum(w * vec.get(g, 0.0) for g, w in query.items()) for vec in self._vectors]


class CharNgramTfidf:
    """Cosine of sublinear TF-IDF vectors over character n-grams (default 1- to 3-grams)."""

    def __init__(self, sizes: Sequence[int] = (1, 2, 3)) -> None:
        self.sizes = tuple(int(n) for n in sizes if int(n) > 0) or (1,)

    def index(self, texts: Sequence[str]) -> SimilarityIndex:
        return _TfidfIndex(texts, self.sizes)


def make_char_ngram_tfidf(sizes: list[int] = [1, 2, 3]) -> Similarity:  # noqa: B006 - config default
    """Registered as ``spacy_llmner.CharNgramTfidf.v1`` (the task's ``similarity`` setting)."""
    return CharNgramTfidf(sizes)


def nearest_last(scores: Sequence[float], k: int) -> list[int]:
    """Indices of the ``k`` highest scores, ordered by ascending score: the most similar last.

    Ties keep pool order among themselves (the earlier pool item counts as more similar), so the
    prompt is deterministic."""
    if k <= 0:
        return []
    best = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
    return best[::-1]


__all__ = ["CharNgramTfidf", "Similarity", "SimilarityIndex", "make_char_ngram_tfidf", "nearest_last"]
