"""The JSON answer's copy constraint (jsonner.constraint) and its decoder: the renderer's
training targets are in the language, nothing outside it is, no state dead-ends, the trie walk
equals a brute-force scan of the vocabulary, and random tiny models on Chinese/English text
always write strict JSON whose strings are all in the source."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
import spacy
from conftest import ARCHS, randomize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spacy_llmner.decoding import Vocab
from spacy_llmner.errors import LLMNERError
from spacy_llmner.jsonner import align_strings, parse_answer, render_answer
from spacy_llmner.jsonner.constraint import STRING, JSONAutomaton, JSONConstraint, JState
from spacy_llmner.prompting import build_messages, chat_frame, encode_segments, eos_ids, resolve_labels

LABELS = list(resolve_labels("cluener"))
NLP = spacy.blank("zh")
TEXT = '浙商银行企业信贷部叶老桂博士说："5\\6"\n叶老桂认为，\t对《活着》'

PIECES = st.sampled_from(
    list("浙商银行叶老桂北京纽约《》“”，。、；：？！")
    + ["dota2", "CSOL", " ", "\u3000", "1", "&", "<", "🎉", '"', "\\", "\n", "\t", "\x01", "\u2028", "'", "/"]
)


def _tokens(text: str) -> list[tuple[int, int]]:
    return [(t.idx, t.idx + len(t)) for t in NLP.make_doc(text) if not t.is_space]


def _constraint(text: str, lead: bytes = b"", labels: list[str] = LABELS) -> JSONConstraint:
    return JSONConstraint.build(text, labels, _tokens(text), lead)


def _accepts(auto: JSONAutomaton, data: bytes) -> bool:
    end = auto.advance(auto.initial, data)
    return end is not None and auto.can_end(end)


def _gold(text: str, rng: random.Random) -> list[tuple[int, int, str]]:
    """Random non-overlapping token-aligned spans."""
    toks = _tokens(text)
    spans, i = [], 0
    while i < len(toks):
        if rng.random() < 0.4:
            j = min(len(toks), i + rng.randint(1, 4))
            spans.append((toks[i][0], toks[j - 1][1], rng.choice(LABELS)))
            i = j
        else:
            i += 1
    return spans


# --- the language -----------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(parts=st.lists(PIECES, max_size=40), seed=st.integers(0, 2**16), lead=st.sampled_from([b"", b" "]))
def test_rendered_training_targets_are_accepted_byte_by_byte(parts: list[str], seed: int, lead: bytes) -> None:
    text = "".join(parts)
    gold = _gold(text, random.Random(seed))
    answer = render_answer(text, gold, LABELS)
    auto = JSONAutomaton(_constraint(text, lead))
    state = auto.initial
    for i, b in enumerate(lead + answer.encode("utf-8", "surrogatepass")):
        assert not auto.can_end(state)  # EOS only after the whole answer
        state = auto.step(state, b)
        assert state is not None, (answer, i)
    assert auto.can_end(state)
    # Without token spans every character is a token: any character spans are in the language.
    auto = JSONAutomaton(JSONConstraint.build(text, LABELS, None, lead))
    spans = [(s, e, lab) for s, e, lab in _gold(text, random.Random(seed + 1))]
    assert _accepts(auto, lead + render_answer(text, spans, LABELS).encode("utf-8", "surrogatepass"))


def test_keys_in_any_order_each_once() -> None:
    auto = JSONAutomaton(_constraint(TEXT))
    assert _accepts(auto, '{"company": ["浙商银行"], "name": ["叶老桂"]}'.encode())
    assert _accepts(auto, '{"name": ["叶老桂"], "company": ["浙商银行"]}'.encode())
    assert not _accepts(auto, '{"name": ["叶老桂"], "name": ["浙商银行"]}'.encode())


@pytest.mark.parametrize(
    "answer",
    [
        '{"name": ["叶老贵"]}',  # not in the source
        '{"name": ["商银"]}',  # in the source; refused only off token boundaries (below)
        '{"person": ["叶老桂"]}',  # not a label
        '{"name": []}',  # the renderer never writes an empty list
        '{"name": [""]}',  # nor an empty string
        '{"name":["叶老桂"]}',  # nor other whitespace
        '{"name": ["叶老桂"] }',
        ' {"name": ["叶老桂"]}',
        '{"name": ["叶老桂"]}\n',  # nothing after the closing brace
        '{"name": ["叶老桂",]}',
        '{"name": ["5\\6"]}',  # a backslash is escaped in JSON: "5\\\\6"
        '{"name": ["说："5"]}',  # so is a quote
        '{"name": ["认为，\t对"]}',  # a raw tab is not valid inside a JSON string: written \\t
        '{"name": ["\n叶"]}',  # a raw newline is not valid inside a JSON string
        '{"name": ["\\u53f6老桂"]}',  # the renderer keeps non-ASCII as is
        '["叶老桂"]',
        "",
    ],
)
def test_answers_outside_the_renderers_language_are_refused(answer: str) -> None:
    auto = JSONAutomaton(_constraint(TEXT))
    if answer == '{"name": ["商银"]}':
        assert _accepts(auto, answer.encode())  # every Chinese character is a token
        word = JSONAutomaton(JSONConstraint.build("浙商银行", LABELS, [(0, 4)]))
        assert not _accepts(word, answer.encode())  # not at a token start: refused
        assert not _accepts(word, '{"name": ["浙商"]}'.encode())  # nor ending inside a token
        assert _accepts(word, '{"name": ["浙商银行"]}'.encode())
        return
    assert not _accepts(auto, answer.encode())


def test_escapes_in_the_source_are_copied_as_the_renderer_writes_them() -> None:
    auto = JSONAutomaton(_constraint(TEXT))
    for value in ['说："5\\6"\n叶', '"', "\\", "6\"\n叶老桂认为，\t对", "，\t对《活着》"]:
        answer = json.dumps({"name": [value]}, ensure_ascii=False, separators=(", ", ": "))
        assert _accepts(auto, answer.encode()), answer
    # The quote inside '\"' continues the string; it closes only at a token end.
    state = auto.advance(auto.initial, '{"name": ["说：\\'.encode())
    assert state is not None and auto.step(state, ord('"')).phase == STRING  # type: ignore[union-attr]


def test_no_source_tokens_means_only_an_empty_answer() -> None:
    for text in ("", "  \n"):
        auto = JSONAutomaton(_constraint(text))
        assert _accepts(auto, b"{}") and not _accepts(auto, b'{"name": [" "]}')
        assert [b for b, _ in auto.moves(auto.advance(auto.initial, b"{"))] == [ord("}")]  # type: ignore[arg-type]
    auto = JSONAutomaton(_constraint(TEXT, labels=[]))
    assert _accepts(auto, b"{}") and not _accepts(auto, '{"name": ["叶老桂"]}'.encode())


# --- no dead ends, bounded, forced tail -----------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(parts=st.lists(PIECES, max_size=30), seed=st.integers(0, 2**16))
def test_random_walks_never_dead_end_and_always_give_strict_json_of_source_strings(parts: list[str], seed: int) -> None:
    text = "".join(parts)
    rng = random.Random(seed)
    labels = LABELS[:3]
    auto = JSONAutomaton(_constraint(text, labels=labels))
    state, out, n = auto.initial, bytearray(), 0
    while not auto.can_end(state):
        moves = auto.moves(state)
        assert moves, bytes(out)  # every reachable state goes on
        if rng.random() < 0.05:  # finish without the model from here
            tail = auto.forced_tail(state)
            out += tail
            state = auto.advance(state, tail)  # type: ignore[assignment]
            break
        # Prefer continuing strings and lists so walks get long.
        b, state = moves[-1] if rng.random() < 0.6 else rng.choice(moves)
        out.append(b)
        n += 1
        assert n <= auto.max_output_bytes()
    assert state is not None and auto.can_end(state) and auto.moves(state) == []
    answer = json.loads(out.decode("utf-8", "surrogatepass"))  # strict JSON
    assert isinstance(answer, dict) and set(answer) <= set(labels)
    starts = {s for s, _ in _tokens(text)}
    ends = {e for _, e in _tokens(text)}
    for values in answer.values():
        assert values and all(isinstance(v, str) and v for v in values)
        for v in values:  # in the source, at token boundaries
            assert any(text.startswith(v, s) and s + len(v) in ends for s in starts), v


@pytest.mark.parametrize("arch", ARCHS)
def test_trie_walk_equals_a_scan_of_the_vocabulary(tiny_models: dict[str, Any], arch: str) -> None:
    tok = tiny_models[arch][0]
    vocab = Vocab.from_tokenizer(tok, [0])
    rng = random.Random(0)
    texts = (TEXT, "patient Johnson met John Doe at 10:30 daily", "")
    for text, _ in ((t, i) for t in texts for i in range(6)):  # several random walks per text
        auto = JSONAutomaton(_constraint(text, vocab.lead, labels=["name", "company", "address"]))
        state = auto.initial
        for _ in range(60):
            expected = sorted(
                tid for tid, piece in enumerate(vocab.pieces) if piece and auto.advance(state, piece) is not None
            )
            assert auto.allowed_ids(state, vocab.trie) == expected
            assert sorted(t for t, _ in auto.allowed(state, vocab.trie)) == expected
            for tid, nxt in auto.allowed(state, vocab.trie):
                assert nxt == auto.advance(state, vocab.pieces[tid])  # type: ignore[arg-type]
            if auto.can_end(state) or not expected:
                break
            # Mostly single-byte steps, so walks stop inside words, keys and separators too.
            short = [t for t in expected if len(vocab.pieces[t]) == 1]  # type: ignore[arg-type]
            pick = rng.choice(short if short and rng.random() < 0.7 else expected)
            state = auto.advance(state, vocab.pieces[pick])  # type: ignore[arg-type,assignment]


# --- decoding with random tiny models --------------------------------------------------------
SOURCES = [
    TEXT,
    "生生不息CSOL生化狂潮让你填弹狂扫",
    "《使命召唤》和dota2，iPhone 12在北京、纽约发售；价格￥5,999。",
    'He said "no\\yes" to John Doe\nat 10:30',
    "",
    "中",
]


def _decode_setup(tiny: tuple[Any, Any, Any], seed: int, std: float = 0.3) -> tuple[Any, Any, Vocab, list[int], Any]:
    tok, model, _ = tiny
    model = randomize(copy.deepcopy(model), seed, std)
    frame = chat_frame(tok, build_messages(resolve_labels(LABELS), version="json1"))
    vocab = Vocab.from_tokenizer(tok, eos_ids(tok, frame))
    prefix, _, _ = encode_segments(tok, frame, "")
    return tok, model, vocab, prefix, frame


def _check_answer(text: str, answer: str) -> list[tuple[str, str]]:
    parsed = json.loads(answer)  # strict parser
    assert isinstance(parsed, dict) and set(parsed) <= set(LABELS)
    pairs = [(label, v) for label, values in parsed.items() for v in values]
    assert all(isinstance(v, str) and v and v in text for _, v in pairs)
    assert parse_answer(answer, LABELS) == [(lab, v) for lab, v in pairs if v.strip()]
    doc = NLP.make_doc(text)
    _, stats = align_strings(
        text, pairs, starts={t.idx for t in doc if not t.is_space}, ends={t.idx + len(t) for t in doc if not t.is_space}
    )
    assert stats.not_in_source == 0  # the align policy places every string
    return pairs


@pytest.mark.parametrize("arch", ARCHS)
def test_random_models_write_strict_json_of_source_strings(tiny_models: dict[str, Any], arch: str) -> None:
    from spacy_llmner.jsonner.decode import decode_json

    n_strings = 0
    for seed in range(3):
        tok, model, vocab, prefix, frame = _decode_setup(tiny_models[arch], seed)
        for text in SOURCES:
            doc_ids = encode_segments(tok, frame, text)[1]
            c = JSONConstraint.build(text, LABELS, _tokens(text), vocab.lead)
            result = decode_json(model, prefix + doc_ids, c, vocab)
            n_strings += len(_check_answer(text, result.text))
            assert result.n_forward == len(result.token_ids) + 1 and not result.forced
    assert n_strings > 0  # random weights do write strings, not only {}


@pytest.mark.parametrize("arch", ARCHS)
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(parts=st.lists(PIECES, max_size=25), seed=st.integers(0, 5))
def test_invariants_on_random_text(tiny_models: dict[str, Any], arch: str, parts: list[str], seed: int) -> None:
    from spacy_llmner.jsonner.decode import decode_json

    text = "".join(parts)
    tok, model, vocab, prefix, frame = _decode_setup(tiny_models[arch], seed, 0.5)
    c = JSONConstraint.build(text, LABELS, _tokens(text), vocab.lead)
    result = decode_json(model, prefix + encode_segments(tok, frame, text)[1], c, vocab)
    _check_answer(text, result.text)


def test_a_vocabulary_without_byte_coverage_still_finishes(tiny_models: dict[str, Any]) -> None:
    from spacy_llmner.jsonner.decode import decode_json

    tok, model, vocab, prefix, frame = _decode_setup(tiny_models["qwen2"], 1)
    # Drop every token that holds a closing brace: the model cannot finish on its own.
    pieces = [p if p is None or b"}" not in p else None for p in vocab.pieces]
    from spacy_llmner.decoding.vocab import VocabTrie

    holed = Vocab(pieces, VocabTrie.build(pieces), vocab.lead, vocab.eos_ids)
    c = JSONConstraint.build(TEXT, LABELS, _tokens(TEXT), vocab.lead)
    result = decode_json(model, prefix + encode_segments(tok, frame, TEXT)[1], c, holed)
    assert result.forced and result.text.endswith("}")
    _check_answer(TEXT, result.text)


# --- the pipeline -------------------------------------------------------------------------
def test_pipeline_decodes_json_under_the_constraint(tiny_models: dict[str, Any], tmp_path: Any) -> None:
    from spacy_llmner.tinybase.tiny import save

    tok, model, _ = tiny_models["qwen2"]
    path = save(randomize(copy.deepcopy(model), 1), tok, tmp_path / "m")
    for decoding in ("constrained", "reference"):
        nlp = spacy.blank("zh")
        nlp.add_pipe("llm_ner", config={
            "task": {"@llm_tasks": "spacy_llmner.JSONNER.v1", "labels": "cluener"},
            "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(path), "decoding": decoding},
        })
        n_ents = 0
        for text, doc in zip(SOURCES, nlp.pipe(SOURCES)):
            assert doc.text == text
            n_ents += len(doc.ents)
            assert all(e.label_ in LABELS for e in doc.ents)
        stats = nlp.get_pipe("llm_ner").task.align_stats
        assert stats.strings > 0 and stats.not_in_source == 0 and n_ents > 0
    nlp = spacy.blank("zh")
    nlp.add_pipe("llm_ner", config={
        "task": {"@llm_tasks": "spacy_llmner.JSONNER.v1", "labels": "cluener"},
        "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(path), "copy_tokens": "canonical"},
    })
    with pytest.raises(LLMNERError, match=r"\[E680\]"):
        nlp(TEXT)


def test_states_are_hashable_and_small() -> None:
    auto = JSONAutomaton(_constraint(TEXT))
    state = auto.advance(auto.initial, '{"name": ["叶'.encode())
    assert isinstance(state, JState) and len(state.pos) == 2 and hash(state)  # two 叶 at token starts
