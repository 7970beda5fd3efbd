"""Held-out templates: a fixed share of clause templates that only the test split may use.

A model that scores well on documents built from the templates it was trained on may only have
memorised those templates. So every template gets a stable identity (a hash of its text) and
about ``HELDOUT_SHARE`` of them, chosen by that hash, are held out: train and dev never draw
them, and every test document contains at least one. Kinds marked ``Kind.heldout`` (a layout
training never sees) are test-only as a whole, and so is every template only they use.

The choice depends only on the template text, so editing one template moves only that template,
and adding templates never reshuffles the others. Two rules keep training complete: a pool that
training draws from never loses its last template (nor its last entity-free one, which documents
without entities need); the template with the lowest hash stays train-side. Per-label focus pools
are such pools, so every label keeps train-side clauses in every register.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from typing import Literal

from .slots import template_labels
from .templates import FOCUS, KINDS, Kind

HELDOUT_SHARE = 0.2
TemplateSide = Literal["all", "train", "heldout"]  # no partition / train-side only / >= 1 held out
TEMPLATE_SIDES: tuple[str, ...] = ("all", "train", "heldout")


@functools.cache
def template_id(template: str) -> str:
    """A stable 12-hex-digit identity of a template (its text, hashed; never the text itself)."""
    return hashlib.sha256(f"spacy_llmner.template/{template}".encode()).hexdigest()[:12]


def _hash_share(template: str) -> float:
    return int(template_id(template), 16) / 16**12


def _kind_pools(kind: Kind) -> Iterator[tuple[str, ...]]:
    yield kind.openers
    yield kind.body
    yield kind.closers


def _train_pools() -> Iterator[tuple[str, ...]]:
    """Every pool train and dev documents draw from, with its entity-free subset."""
    pools: list[tuple[str, ...]] = [p for kind in KINDS if not kind.heldout for p in _kind_pools(kind)]
    pools += [pool for register in FOCUS.values() for pool in register.values()]
    for pool in pools:
        yield pool
        yield tuple(t for t in pool if not template_labels(t))


def _partition() -> frozenset[str]:
    train_pools = list(_train_pools())
    trained = {t for pool in train_pools for t in pool}
    out = {t for pool in train_pools for t in pool if _hash_share(t) < HELDOUT_SHARE}
    out |= {t for kind in KINDS if kind.heldout for pool in _kind_pools(kind) for t in pool} - trained
    for pool in train_pools:
        if pool and all(t in out for t in pool):
            out.discard(min(pool, key=_hash_share))
    return frozenset(out)


HELDOUT_TEMPLATES: frozenset[str] = _partition()
HELDOUT_IDS: frozenset[str] = frozenset(map(template_id, HELDOUT_TEMPLATES))
HELDOUT_KINDS: frozenset[str] = frozenset(kind.name for kind in KINDS if kind.heldout)


def is_heldout(template: str) -> bool:
    return template in HELDOUT_TEMPLATES


def all_templates() -> frozenset[str]:
    """Every distinct template of every kind and focus pool."""
    kinds = {t for kind in KINDS for pool in _kind_pools(kind) for t in pool}
    return frozenset(kinds | {t for register in FOCUS.values() for pool in register.values() for t in pool})
