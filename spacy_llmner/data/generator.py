"""Synthetic PII documents for training and evaluation, with exact character spans.

``generate(n, seed)`` is deterministic and independent of global random state: document ``i``
gets its own seed from a ``random.Random(seed)`` stream, its own ``random.Random`` and a
``Faker`` reseeded with ``seed_instance``. So ``generate(10, s)`` is a prefix of
``generate(1000, s)``, and a corpus can be regenerated from its seed alone.

Every span is checked against spaCy's English tokenizer: a document whose spans do not fall on
token boundaries (a key glued to its value, a URL swallowing a full stop) is redrawn, so that
``doc.char_span(..., alignment_mode="strict")`` succeeds for every span.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from faker import Faker

from ..errors import Errors, LLMNERError
from .blank import blank
from .labels import HIPAA_LABELS
from .slots import Context, Piece, expand, template_labels
from .templates import FOCUS, KINDS, Kind

Span = tuple[int, int, str]
DEFAULT_LOCALES: tuple[str, ...] = ("en_US", "en_GB", "en_CA", "en_AU")
P_NO_ENTITY = 0.1  # share of documents without any entity
FOCUS_COUNTS = (1, 2, 3)  # labels a document is guaranteed to contain ...
FOCUS_WEIGHTS = (5, 4, 1)  # ... and how often each count is drawn
# Common identifiers (addresses, ages, phones) are drawn more often than rare IDs, as in real text;
# PERSON and DATE_TIME need no boost, body clauses produce them anyway.
FOCUS_LABEL_WEIGHTS: dict[str, float] = {
    **{label: 1.0 for label in HIPAA_LABELS},
    "LOCATION": 3.0, "AGE": 2.0, "PHONE_NUMBER": 2.0, "EMAIL_ADDRESS": 1.5, "ORGANIZATION": 1.5,
    # fit few document kinds, so they are boosted where they do fit
    "IBAN_CODE": 3.0, "VEHICLE_ID": 1.6, "ACCOUNT_NUMBER": 1.6, "CREDIT_CARD": 1.6,
    "IP_ADDRESS": 1.5, "URL": 1.3,
}
P_OFF_KIND = 0.15  # chance that a focus label ignores the kind's natural labels
MAX_CLAUSES = 7  # body plus focus clauses; with opener and closer at most ~8 sentences
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class GeneratedDoc:
    """A synthetic document: text, sorted non-overlapping ``(start, end, label)`` spans, kind."""

    text: str
    spans: tuple[Span, ...]
    kind: str


@functools.lru_cache(maxsize=None)
def _faker(locale: str) -> Faker:
    """One Faker per locale; reseeded for every document, so sharing it keeps determinism."""
    return Faker(locale)


@functools.lru_cache(maxsize=None)
def _labels_of(template: str) -> frozenset[str]:
    return template_labels(template)


def _pool(templates: Sequence[str], no_entities: bool) -> list[str]:
    return [t for t in templates if not (no_entities and _labels_of(t))]


def _focus_labels(rng: random.Random, k: int, kind: Kind) -> list[str]:
    """``k`` distinct labels, drawn by ``FOCUS_LABEL_WEIGHTS``; mostly ones natural to ``kind``.

    Out-of-place labels still appear now and then (an IBAN in a device log), so that a model
    learns the values themselves, not only which document kind they usually live in.
    """
    labels = list(HIPAA_LABELS)
    chosen: list[str] = []
    for _ in range(k):
        natural = kind.natural if kind.natural is not None and rng.random() >= P_OFF_KIND else None
        pool = [lab for lab in labels if natural is None or lab in natural] or labels
        label = rng.choices(pool, weights=[FOCUS_LABEL_WEIGHTS[lab] for lab in pool])[0]
        chosen.append(label)
        labels.remove(label)
    return chosen


def _compose(kind: Kind, ctx: Context) -> list[list[Piece]]:
    """Opener, body and focus clauses of one document, each expanded to pieces."""
    rng = ctx.rng
    n_body = rng.choices(range(len(kind.body_weights)), weights=kind.body_weights)[0]
    body = rng.sample(_pool(kind.body, ctx.no_entities), k=n_body)
    if not ctx.no_entities:
        k = rng.choices(FOCUS_COUNTS, weights=FOCUS_WEIGHTS)[0]
        del body[max(0, MAX_CLAUSES - k):]
        for label in _focus_labels(rng, k, kind):
            clause = rng.choice(FOCUS[kind.register][label])
            body.insert(rng.randint(0, len(body)), clause)
    opener = rng.choice(_pool(kind.openers, ctx.no_entities)) if rng.random() < kind.p_opener else None
    closer = rng.choice(_pool(kind.closers, ctx.no_entities)) if rng.random() < kind.p_closer else None
    if not body and opener is None and closer is None:
        body = [rng.choice(_pool(kind.body, ctx.no_entities))]

    parts: list[list[Piece]] = []
    if opener is not None:
        parts.append(_capitalised(expand(opener, ctx), kind))
        if body or closer:
            parts.append([(kind.head_sep, None)])
    for i, clause in enumerate(body):
        if i:
            parts.append([(_sep_after(parts, kind.sep), None)])
        parts.append(_capitalised(expand(clause, ctx), kind))
    if closer is not None:
        if body:
            parts.append([(_sep_after(parts, kind.tail_sep), None)])
        parts.append(_capitalised(expand(closer, ctx), kind))
    return parts


def _sep_after(parts: list[list[Piece]], sep: str) -> str:
    """No extra space after a clause that already ends its line (e.g. a multi-line address)."""
    last = next((text for part in reversed(parts) for text, _ in reversed(part) if text), "")
    if not last.endswith("\n"):
        return sep
    return sep[1:] if sep.startswith("\n") else sep.lstrip(" ")


def _capitalised(pieces: list[Piece], kind: Kind) -> list[Piece]:
    """Sentence-initial capital for formal text; unlabelled text only, entities keep their case."""
    if kind.register in ("formal", "form") and pieces and pieces[0][1] is None and pieces[0][0]:
        text = pieces[0][0]
        return [(text[0].upper() + text[1:], None), *pieces[1:]]
    return pieces


def _assemble(pieces: Sequence[Piece], lowercase: bool) -> tuple[str, tuple[Span, ...]]:
    """Join pieces into text and spans; labelled pieces are trimmed of surrounding whitespace."""
    chunks: list[str] = []
    spans: list[Span] = []
    pos = 0
    for text, label in pieces:
        if lowercase:
            text = text.lower()
        if label is not None:
            stripped = text.strip()
            if stripped:
                start = pos + (len(text) - len(text.lstrip()))
                spans.append((start, start + len(stripped), label))
        chunks.append(text)
        pos += len(text)
    return "".join(chunks), tuple(spans)


def aligned(text: str, spans: Sequence[Span]) -> bool:
    """True when every span starts and ends on a spaCy (blank English) token boundary."""
    if not spans:
        return True
    doc = blank("en").make_doc(text)
    return all(doc.char_span(s, e, alignment_mode="strict") is not None for s, e, _ in spans)


def _make_doc(doc_seed: int, locales: Sequence[str]) -> GeneratedDoc:
    """One document from its seed; redraws (deterministically) until all spans align."""
    for attempt in range(MAX_ATTEMPTS):
        rng = random.Random(doc_seed * MAX_ATTEMPTS + attempt)
        locale = rng.choice(locales)
        fake = _faker(locale)
        fake.seed_instance(rng.getrandbits(64))
        no_entities = rng.random() < P_NO_ENTITY
        kind = rng.choices(KINDS, weights=[k.weight for k in KINDS])[0]
        ctx = Context(rng, fake, locale, no_entities=no_entities)
        ctx.memory.update(kind.presets)
        pieces = [p for part in _compose(kind, ctx) for p in part]
        lowercase = kind.register in ("casual", "dialogue") and rng.random() < 0.12
        text, spans = _assemble(pieces, lowercase)
        text_stripped = text.rstrip()
        if aligned(text_stripped, spans) and all(e <= len(text_stripped) for _, e, _ in spans):
            return GeneratedDoc(text_stripped, spans, kind.name)
    raise AssertionError(f"no token-aligned document after {MAX_ATTEMPTS} attempts")  # pragma: no cover


def iter_docs(seed: int = 0, locales: Sequence[str] = DEFAULT_LOCALES) -> Iterator[GeneratedDoc]:
    """An endless, deterministic stream of documents for ``seed`` (locales checked up front)."""
    unknown = [loc for loc in locales if loc not in DEFAULT_LOCALES]
    if not locales or unknown:
        raise LLMNERError(Errors.E101.format(locales=unknown or "[]", supported=list(DEFAULT_LOCALES)))
    return _stream(random.Random(seed), tuple(locales))


def _stream(seeds: random.Random, locales: tuple[str, ...]) -> Iterator[GeneratedDoc]:
    while True:
        yield _make_doc(seeds.getrandbits(63), locales)


def generate(
    n: int, seed: int = 0, locales: Sequence[str] = DEFAULT_LOCALES
) -> list[GeneratedDoc]:
    """``n`` synthetic documents; the same ``(n, seed, locales)`` always gives the same list."""
    if n < 0:
        raise LLMNERError(Errors.E102.format(n=n))
    return list(itertools.islice(iter_docs(seed, locales), n))
