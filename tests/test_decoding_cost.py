"""Decoding cost does not depend on what the text is: hostile input (markup, control bytes, tags as
text, scripts, emoji) costs the fast decoder about the passes of plain text of its length.

Passes are deterministic, so these tests count them (no timing)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import spacy
from conftest import randomize

from spacy_llmner.data.hostile import HOSTILE_SET, plain_like, plain_with
from spacy_llmner.decoding import Constraint, FastDecoder, FastOptions, Vocab
from spacy_llmner.prompting import build_messages, chat_frame, encode_segments, eos_ids, resolve_labels
from spacy_llmner.tagging import escape

LABELS = resolve_labels(["PERSON", "PHONE_NUMBER", "LOCATION", "DATE_TIME"])
NLP = spacy.blank("en")


def _passes(tiny: tuple[Any, Any, Any], texts: list[str], options: FastOptions, spans: bool = True,
            seed: int | None = None) -> list[tuple[int, int]]:
    """(passes, entities) per text, decoded one at a time; ``spans=False``: no tag positions, so
    every pass is copy (what the draft alone costs)."""
    tok, model, _ = tiny
    if seed is not None:
        model = randomize(copy.deepcopy(model), seed)
    frame = chat_frame(tok, build_messages(LABELS))
    vocab = Vocab.from_tokenizer(tok, eos_ids(tok, frame))
    prefix, _, _ = encode_segments(tok, frame, "")
    dec = FastDecoder(model, vocab, tok, options=options)
    out = []
    for text in texts:
        tokens = [(t.idx, t.idx + len(t)) for t in NLP(text) if not t.is_space] if spans else []
        cons = Constraint.build(text, list(LABELS), tokens, vocab.lead)
        doc = encode_segments(tok, frame, escape(text))[1]
        res = dec.decode(prefix, [doc], [cons], batch_size=1)[0]
        out.append((res.n_forward, len(res.spans)))
    return out


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_hostile_copy_costs_within_twice_plain_text(tiny_models: dict[str, Any], arch: str) -> None:
    """Copying alone (no tag positions, so the model has no decision to make): every hostile input
    within 2x the passes of prose of its length. Escaped markup, control bytes, CJK and emoji
    are 1-3 bytes a token; with drafts of ``max_draft`` tokens only (``draft_bytes=0``) the worst
    (``angles``: ``<<<>>>`` escaped) took 8 passes against 3."""
    names = list(HOSTILE_SET)
    texts = [HOSTILE_SET[n] for n in names] + [plain_like(HOSTILE_SET[n]) for n in names]
    got = _passes(tiny_models[arch], texts, FastOptions(copy_tokens="canonical"), spans=False)
    hostile, plain = got[: len(names)], got[len(names) :]
    ratios = {n: h[0] / p[0] for n, h, p in zip(names, hostile, plain)}
    worst = max(ratios, key=ratios.__getitem__)
    assert ratios[worst] <= 2.0, (worst, ratios[worst])
    per_char = sum(h[0] for h in hostile) / sum(len(t) for t in texts[: len(names)])
    assert per_char <= 0.06, per_char  # 24 inputs, ~1,300 characters: 2-4 passes each


def test_label_tree_drafts_keep_output_and_save_passes(tiny_models: dict[str, Any]) -> None:
    """Tree drafts of labels (``tree_labels``) write exactly what linear drafts and the
    step-by-step reference write, token for token, with fewer passes ending on a label piece and
    no more passes in all. Random models tag often, in tags the tiny tokenizers split in pieces;
    they also pick splits of the tag bytes that no tokenizer makes (the constraint lets every
    split through), which no draft proposes: so the saving is summed over both architectures."""
    from spacy_llmner.decoding import decode_reference

    texts = [HOSTILE_SET[n] for n in ("literal_tags", "json", "ansi", "rtl")] + [plain_like("x" * 60)]
    passes: dict[tuple[int, int], list[int]] = {}
    n_spans = 0
    for arch in ("llama", "qwen2"):
        tok, model, _ = tiny_models[arch]
        model = randomize(copy.deepcopy(model), 1)
        frame = chat_frame(tok, build_messages(LABELS))
        vocab = Vocab.from_tokenizer(tok, eos_ids(tok, frame))
        prefix, _, _ = encode_segments(tok, frame, "")
        docs = [encode_segments(tok, frame, escape(t))[1] for t in texts]
        cons = [Constraint.build(t, list(LABELS), [(x.idx, x.idx + len(x)) for x in NLP(t) if not x.is_space],
                                 vocab.lead) for t in texts]
        ref = [decode_reference(model, prefix + d, c, vocab, tokenizer=tok, copy_tokens="canonical")
               for d, c in zip(docs, cons)]
        n_spans += sum(len(r.spans) for r in ref)
        for tree_labels, batch_size in ((0, 1), (3, 1), (3, 4), (len(LABELS), 2)):
            options = FastOptions(copy_tokens="canonical", tree_labels=tree_labels)
            dec = FastDecoder(model, vocab, tok, options=options)
            got = dec.decode(prefix, docs, cons, batch_size=batch_size)
            for r, g in zip(ref, got):
                assert g.tagged == r.tagged and g.token_ids == r.token_ids
                assert g.scores == pytest.approx(r.scores, rel=1e-3)
            assert (dec.stats.tree_drafts > 0) == (tree_labels > 0)
            total = passes.setdefault((tree_labels, batch_size), [0, 0])
            total[0] += sum(g.n_forward for g in got)
            total[1] += dec.stats.pass_ends["label"]
    assert n_spans >= 10
    for key in ((3, 1), (len(LABELS), 2)):
        assert passes[key][1] < passes[(0, 1)][1], passes
        assert passes[key][0] < passes[(0, 1)][0], passes


@pytest.mark.parametrize("name", ["nested_tags", "literal_tags", "json", "emoji", "cjk"])
def test_entity_matched_twin_is_prose_of_the_length_holding_the_entities(name: str) -> None:
    """The twin that isolates markup cost: each entity once, as a whole token run between words of
    plain prose, and the length within a word of the input's (passes follow length)."""
    text = HOSTILE_SET[name]
    values = [v for v in ("Alan Turing", "12/06/1954", "555-0100", "Ann Lee", "John Doe", "张三") if v in text]
    twin = plain_with(text, values)
    words = twin.split(" ")
    for value in values:
        assert twin.count(value) == 1
        assert value.split(" ")[0] in words  # between spaces, never glued to prose
    assert abs(len(twin) - len(text)) <= max(len(w) for w in plain_like("x" * 300).split()) + 1
    assert "<" not in twin and "&" not in twin
    assert plain_with(text, []) == plain_like(text)
