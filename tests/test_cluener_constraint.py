"""The copy constraint on Chinese text (CLUENER labels, spacy.blank("zh") character tokens) with
random tiny models, the hardest case: the output is the input plus tags, and tags sit only at
character-token boundaries; the fast decoder equals the reference decoder."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import spacy
from conftest import ARCHS, randomize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spacy_llmner.decoding import Constraint, FastDecoder, Vocab, decode_reference
from spacy_llmner.prompting import build_messages, chat_frame, encode_segments, eos_ids, resolve_labels
from spacy_llmner.tagging import escape, parse, unescape

LABELS = resolve_labels("cluener")
NLP = spacy.blank("zh")
TAG_RE = re.compile(r"</?(?:" + "|".join(LABELS) + r")>")

CHINESE = [
    "浙商银行企业信贷部叶老桂博士则从另一个角度对五道门槛进行了解读。",
    "生生不息CSOL生化狂潮让你填弹狂扫",
    "那不勒斯vs锡耶纳以及桑普vs热那亚之上呢？",
    "《使命召唤》和dota2，iPhone 12在北京、纽约发售；价格￥5,999。",
    "全角：ＡＢＣ１２３，半角 abc 123；　全角空格与\t制表符\n换行",
    "病人张三，电话13800138000，住在北京市朝阳区&lt;3 <name>李四</name>",
    "",
    "中",
]

CHARS = st.sampled_from(
    list("浙商银行叶老桂北京纽约故宫西湖《》“”，。、；：？！（）") + ["dota2", "CSOL", " ", "\u3000", "1", "&", "<", "🎉"]
)


def _setup(tiny: tuple[Any, Any, Any], seed: int) -> tuple[Any, Any, Vocab, list[int], Any]:
    tok, model, _ = tiny
    model = randomize(copy.deepcopy(model), seed)
    frame = chat_frame(tok, build_messages(LABELS, version="v2"))
    vocab = Vocab.from_tokenizer(tok, eos_ids(tok, frame))
    prefix, _, _ = encode_segments(tok, frame, "")
    return tok, model, vocab, prefix, frame


def _constraint(text: str, vocab: Vocab) -> Constraint:
    spans = [(t.idx, t.idx + len(t)) for t in NLP.make_doc(text) if not t.is_space]
    return Constraint.build(text, list(LABELS), spans, vocab.lead)


def _check(text: str, result: Any) -> None:
    assert unescape(TAG_RE.sub("", result.tagged)) == text  # nothing invented, dropped or rephrased
    doc = NLP.make_doc(text)
    starts = {t.idx for t in doc if not t.is_space}
    ends = {t.idx + len(t) for t in doc if not t.is_space}
    prev = 0
    for s, e, _ in result.spans:
        assert s in starts and e in ends and prev <= s < e, (s, e)
        assert doc.char_span(s, e, alignment_mode="strict") is not None
        prev = e
    assert parse(result.tagged, text, list(LABELS)) == result.spans


@pytest.mark.parametrize("arch", ARCHS)
def test_fast_equals_reference_on_chinese_text(tiny_models: dict[str, Any], arch: str) -> None:
    tok, model, vocab, prefix, frame = _setup(tiny_models[arch], 2)
    docs = [encode_segments(tok, frame, escape(t))[1] for t in CHINESE]
    cons = [_constraint(t, vocab) for t in CHINESE]
    ref = [decode_reference(model, prefix + d, c, vocab, tokenizer=tok) for d, c in zip(docs, cons)]
    fast = FastDecoder(model, vocab, tok, "any", "cascade").decode(prefix, docs, cons, batch_size=3)
    for text, r, f in zip(CHINESE, ref, fast):
        _check(text, f)
        assert f.tagged == r.tagged
    # Random weights do tag, and inside runs of Chinese characters, not only at spaces.
    inner = [(s, e) for text, r in zip(CHINESE, ref) for s, e, _ in r.spans
             if s > 0 and "\u4e00" <= text[s - 1] <= "\u9fff" and "\u4e00" <= text[s] <= "\u9fff"]
    assert inner


@pytest.mark.parametrize("arch", ARCHS)
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(parts=st.lists(CHARS, max_size=30), seed=st.integers(0, 3))
def test_invariants_on_random_chinese_text(tiny_models: dict[str, Any], arch: str, parts: list[str], seed: int) -> None:
    text = "".join(parts)
    tok, model, vocab, prefix, frame = _setup(tiny_models[arch], seed)
    doc_ids = encode_segments(tok, frame, escape(text))[1]
    for copy_tokens in ("any", "canonical"):
        result = FastDecoder(model, vocab, tok, copy_tokens).decode(prefix, [doc_ids], [_constraint(text, vocab)])[0]
        _check(text, result)


def test_pipeline_on_chinese_text_keeps_the_text_and_sets_character_aligned_ents(
    tiny_models: dict[str, Any], tmp_path: Any
) -> None:
    from spacy_llmner.tinybase.tiny import save

    tok, model, _ = tiny_models["llama"]
    path = save(randomize(copy.deepcopy(model), 7, std=0.2), tok, tmp_path / "m")
    nlp = spacy.blank("zh")
    nlp.add_pipe("llm_ner", config={
        "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": "cluener", "template_version": "v2"},
        "model": {"@llm_models": "spacy_llmner.HF.v1", "name": str(path)},
    })
    n_ents = 0
    for text, doc in zip(CHINESE, nlp.pipe(CHINESE)):
        assert doc.text == text
        for ent in doc.ents:
            assert ent.label_ in LABELS and ent.text == text[ent.start_char:ent.end_char]
            assert ent.text == ent.text.strip()
        n_ents += len(doc.ents)
    assert n_ents > 0
