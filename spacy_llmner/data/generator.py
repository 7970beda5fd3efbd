"""Synthetic PII documents for training and evaluation, with exact character spans.

``generate(n, seed)`` is deterministic and independent of global random state: document ``i``
gets its own seed from a ``random.Random(seed)`` stream, its own ``random.Random`` and a
``Faker`` reseeded with ``seed_instance``. So ``generate(10, s)`` is a prefix of
``generate(1000, s)``, and a corpus can be regenerated from its seed alone.

Every span is checked against spaCy's English tokenizer: a document whose spans do not fall on
token boundaries (a key glued to its value, a URL swallowing a full stop) is redrawn, so that
``doc.char_span(..., alignment_mode="strict")`` succeeds for every span.

``templates`` picks the side of the held-out partition (see ``heldout.py``): ``"all"`` ignores
it, ``"train"`` draws only train-side templates and kinds, ``"heldout"`` makes every document
contain at least one held-out template. Casing (all lower, ALL CAPS) and OCR-like noise are
applied after composition; noise touches only text outside entities, so spans stay exact.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from faker import Faker

from ..errors import Errors, LLMNERError
from ..tagging.labels import CharSpan
from .blank import blank
from .heldout import HELDOUT_TEMPLATES, TEMPLATE_SIDES, TemplateSide, template_id
from .labels import HIPAA_LABELS
from .slots import Context, Piece, expand, template_labels
from .templates import FOCUS, KINDS, Kind

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
P_NOISE = 0.08  # share of documents with OCR-like noise (doubled spaces, l/1 swaps, broken lines)
Case = Literal["lower", "upper"] | None


@dataclass(frozen=True)
class GeneratedDoc:
    """A synthetic document: text, sorted non-overlapping ``(start, end, label)`` spans, kind."""

    text: str
    spans: tuple[CharSpan, ...]
    kind: str
    template_ids: tuple[str, ...] = ()  # ``heldout.template_id`` of every clause used, in order


@functools.cache
def _faker(locale: str) -> Faker:
    """One Faker per locale; reseeded for every document, so sharing it keeps determinism."""
    return Faker(locale)


@functools.cache
def _labels_of(template: str) -> frozenset[str]:
    return template_labels(template)


@functools.cache
def _pool(
    templates: tuple[str, ...], no_entities: bool, side: Literal["all", "train", "held"] = "all"
) -> tuple[str, ...]:
    """The templates of a pool a document may draw: entity-free ones only if it has no entities;
    side ``"train"`` drops held-out templates, side ``"held"`` keeps only them."""
    return tuple(t for t in templates if not (no_entities and _labels_of(t))
                 and (side == "all" or (t in HELDOUT_TEMPLATES) == (side == "held")))


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


def _choose(kind: Kind, ctx: Context, side: TemplateSide) -> tuple[str | None, list[str], str | None] | None:
    """Opener, body and focus clauses, and closer of one document, as templates.

    On side ``"heldout"``, a document that drew no held-out template gets one: a random clause,
    or a missing opener or closer, is swapped for a held-out template of the same pool (so a
    focus clause still guarantees its label). ``None`` when no pool offers one (then redraw).
    """
    rng, free = ctx.rng, ctx.no_entities
    draw = "train" if side == "train" else "all"
    body_pool = _pool(kind.body, free, draw)
    n_body = rng.choices(range(len(kind.body_weights)), weights=kind.body_weights)[0]
    body = rng.sample(body_pool, k=min(n_body, len(body_pool)))
    pools = [kind.body] * len(body)
    if not free:
        k = rng.choices(FOCUS_COUNTS, weights=FOCUS_WEIGHTS)[0]
        del body[max(0, MAX_CLAUSES - k):], pools[max(0, MAX_CLAUSES - k):]
        for label in _focus_labels(rng, k, kind):
            focus = FOCUS[kind.register][label]
            at = rng.randint(0, len(body))
            body.insert(at, rng.choice(_pool(focus, False, draw)))
            pools.insert(at, focus)
    opener = rng.choice(_pool(kind.openers, free, draw)) if rng.random() < kind.p_opener else None
    closer = rng.choice(_pool(kind.closers, free, draw)) if rng.random() < kind.p_closer else None
    if not body and opener is None and closer is None:
        body, pools = [rng.choice(body_pool)], [kind.body]
    if side != "heldout" or any(t in HELDOUT_TEMPLATES for t in (opener, closer, *body)):
        return opener, body, closer
    options: list[tuple[int | str, list[str]]] = [(i, held) for i, pool in enumerate(pools)
               if (held := [t for t in _pool(pool, free, "held") if t not in body])]
    options += [(where, list(_pool(pool, free, "held"))) for where, pool in (("opener", kind.openers),
                                                                            ("closer", kind.closers))
                if _pool(pool, free, "held")]
    if not options:
        return None
    where, held = rng.choice(options)
    if where == "opener":
        opener = rng.choice(held)
    elif where == "closer":
        closer = rng.choice(held)
    else:
        body[int(where)] = rng.choice(held)
    return opener, body, closer


def _compose(kind: Kind, ctx: Context, opener: str | None, body: list[str], closer: str | None) -> list[list[Piece]]:
    """The chosen templates expanded to pieces, with the kind's separators between them."""
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


def _noisy(pieces: Sequence[Piece], rng: random.Random) -> list[Piece]:
    """OCR-like noise in text outside entities: doubled spaces, broken line wraps, ``l``/``1`` swaps.

    Entities are never touched and every change keeps the piece's word boundaries, so the spans
    still fall on token boundaries (the generator re-checks that anyway).
    """
    out: list[Piece] = []
    for text, label in pieces:
        if label is None and text:
            chars = list(text)
            for i, ch in enumerate(chars):
                inner = 0 < i < len(chars) - 1
                if ch == " " and inner and chars[i - 1] not in " \n" and chars[i + 1] not in " \n":
                    r = rng.random()
                    chars[i] = "  " if r < 0.06 else "\n" if r < 0.09 else " "
                elif ch == "l" and inner and chars[i - 1].isalpha() and rng.random() < 0.15:
                    chars[i] = "1"
                elif ch == "1" and inner and chars[i - 1].isalpha() and rng.random() < 0.3:
                    chars[i] = "l"
            text = "".join(chars)
        out.append((text, label))
    return out


def _cased(text: str, case: Case) -> str:
    return text.lower() if case == "lower" else text.upper() if case == "upper" else text


def _assemble(pieces: Sequence[Piece], case: Case = None) -> tuple[str, tuple[CharSpan, ...]]:
    """Join pieces into text and spans; labelled pieces are trimmed of surrounding whitespace.

    ``case`` lower- or upper-cases every piece before positions are counted, so spans stay exact
    even where casing changes a string's length (``"ß".upper() == "SS"``).
    """
    chunks: list[str] = []
    spans: list[CharSpan] = []
    pos = 0
    for text, label in pieces:
        text = _cased(text, case)
        if label is not None:
            stripped = text.strip()
            if stripped:
                start = pos + (len(text) - len(text.lstrip()))
                spans.append((start, start + len(stripped), label))
        chunks.append(text)
        pos += len(text)
    return "".join(chunks), tuple(spans)


def aligned(text: str, spans: Sequence[CharSpan]) -> bool:
    """True when every span starts and ends on a spaCy (blank English) token boundary."""
    if not spans:
        return True
    doc = blank("en").make_doc(text)
    return all(doc.char_span(s, e, alignment_mode="strict") is not None for s, e, _ in spans)


def _make_doc(
    doc_seed: int, locales: Sequence[str], templates: TemplateSide = "all", entities: bool | None = None
) -> GeneratedDoc:
    """One document from its seed; redraws (deterministically) until all spans align.

    ``entities`` forces a document with (True) or without (False) entities; None draws it
    (``P_NO_ENTITY``). The draw is made either way, so None gives exactly the documents it
    always gave."""
    kinds = [k for k in KINDS if templates != "train" or not k.heldout]
    for attempt in range(MAX_ATTEMPTS):
        rng = random.Random(doc_seed * MAX_ATTEMPTS + attempt)
        locale = rng.choice(locales)
        fake = _faker(locale)
        fake.seed_instance(rng.getrandbits(64))
        no_entities = rng.random() < P_NO_ENTITY
        if entities is not None:
            no_entities = not entities
        kind = rng.choices(kinds, weights=[k.weight for k in kinds])[0]
        ctx = Context(rng, fake, locale, no_entities=no_entities)
        ctx.memory.update(kind.presets)
        chosen = _choose(kind, ctx, templates)
        if chosen is None:
            continue
        opener, body, closer = chosen
        pieces = [p for part in _compose(kind, ctx, opener, body, closer) for p in part]
        r = rng.random()
        case: Case = "lower" if r < kind.p_lower else "upper" if r < kind.p_lower + kind.p_upper else None
        if rng.random() < P_NOISE:
            pieces = _noisy(pieces, rng)
        text, spans = _assemble(pieces, case)
        text_stripped = text.rstrip()
        if aligned(text_stripped, spans) and all(e <= len(text_stripped) for _, e, _ in spans):
            used = tuple(template_id(t) for t in (opener, *body, closer) if t is not None)
            return GeneratedDoc(text_stripped, spans, kind.name, used)
    raise AssertionError(f"no token-aligned document after {MAX_ATTEMPTS} attempts")  # pragma: no cover


def iter_docs(
    seed: int = 0, locales: Sequence[str] = DEFAULT_LOCALES, templates: TemplateSide = "all",
    entities: bool | None = None,
) -> Iterator[GeneratedDoc]:
    """An endless, deterministic stream of documents for ``seed`` (arguments checked up front).

    ``entities=False`` gives only documents without entities (entity-free clauses: the hard
    negatives), ``True`` only documents with; None the usual mix."""
    unknown = [loc for loc in locales if loc not in DEFAULT_LOCALES]
    if not locales or unknown:
        raise LLMNERError(Errors.E101.format(locales=unknown or "[]", supported=list(DEFAULT_LOCALES)))
    if templates not in TEMPLATE_SIDES:
        raise ValueError(f"templates must be one of {TEMPLATE_SIDES}, not {templates!r}")
    return _stream(random.Random(seed), tuple(locales), templates, entities)


def _stream(
    seeds: random.Random, locales: tuple[str, ...], templates: TemplateSide, entities: bool | None = None
) -> Iterator[GeneratedDoc]:
    while True:
        yield _make_doc(seeds.getrandbits(63), locales, templates, entities)


def generate(
    n: int, seed: int = 0, locales: Sequence[str] = DEFAULT_LOCALES, templates: TemplateSide = "all"
) -> list[GeneratedDoc]:
    """``n`` synthetic documents; the same ``(n, seed, locales, templates)`` always gives the same list."""
    if n < 0:
        raise LLMNERError(Errors.E102.format(n=n))
    return list(itertools.islice(iter_docs(seed, locales, templates), n))
