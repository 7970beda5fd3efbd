"""Presidio's own routes in: ``registry.add_recognizer`` on a stock engine, a YAML registry, and
batching the LLM through (LLMNER)BatchAnalyzerEngine. Model calls are counted on the scripted
pipeline's ``model_calls`` (one entry per forward pass, holding its batch size)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import _presidio_scripted as scripted
import pytest
import spacy
from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerResult
from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_analyzer.recognizer_registry import RecognizerRegistryProvider

from spacy_llmner.errors import LLMNERError
from spacy_llmner.presidio import (
    LLMNERBatchAnalyzerEngine,
    LLMNERRecognizer,
    build_analyzer,
)

# No e-mail or URL: Presidio's stock e-mail recognizer would fetch the public suffix list.
TEXT = "John Doe (MRN-123) called 617-555-1234 from Boston; card 4111 1111 1111 1111, Acme."
TEXTS = [
    "John Doe in Boston",
    "nothing here",
    "Jane Roe, MRN-9",
    "acct 42 for Acme",
    "",
    "John Doe again",
    "call 617-555-0000",
    "Boston",
    "Jane Roe",
    "MRN-77 seen",
]


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("network access attempted")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def pipeline_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pipe") / "pipeline"
    scripted.make_nlp().to_disk(path)
    return path


@pytest.fixture(scope="module")
def blank_dir(tmp_path_factory) -> Path:
    """A spaCy pipeline without NER: the stock engine's own NLP model, downloaded from nowhere."""
    path = tmp_path_factory.mktemp("blank") / "blank"
    spacy.blank("en").to_disk(path)
    return path


def _stock_engine(blank_dir: Path) -> AnalyzerEngine:
    """Presidio's stock AnalyzerEngine (default registry) over a local spaCy model."""
    config = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": str(blank_dir)}]}
    return AnalyzerEngine(nlp_engine=NlpEngineProvider(nlp_configuration=config).create_engine())


def _calls(rec: LLMNERRecognizer) -> list[int]:
    return rec.nlp.get_pipe(scripted.FACTORY).model_calls


def _key(results: list[RecognizerResult]) -> list[tuple[str, int, int, float]]:
    return sorted((r.entity_type, r.start, r.end, round(r.score, 6)) for r in results)


def _llm(results: list[RecognizerResult], rec: LLMNERRecognizer) -> dict[str, float]:
    name = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
    return {
        TEXT[r.start : r.end]: r.score for r in results if r.recognition_metadata.get(name) == rec.id
    }


# -- route 1: a stock AnalyzerEngine + registry.add_recognizer ----------------------------------
def test_add_recognizer_to_a_stock_engine(blank_dir, no_network):
    engine = _stock_engine(blank_dir)
    rec = LLMNERRecognizer(scripted.make_nlp(), entity_mapping={"MEDICAL_RECORD_NUMBER": "MRN"})
    engine.registry.add_recognizer(rec)
    assert {"MRN", "ORGANIZATION"} <= set(engine.get_supported_entities("en"))
    results = engine.analyze(TEXT, language="en", return_decision_process=True)
    ours = _llm(results, rec)
    assert ours["John Doe"] == pytest.approx(0.93) and ours["Boston"] == pytest.approx(0.71)
    assert ours["MRN-123"] == pytest.approx(0.97)  # the model's scores, not a constant
    assert ours["Acme"] == rec.default_score
    assert next(r for r in results if TEXT[r.start : r.end] == "MRN-123").entity_type == "MRN"
    card = [r for r in results if TEXT[r.start : r.end] == "4111 1111 1111 1111"]
    assert {r.entity_type for r in card} == {"CREDIT_CARD", "ACCOUNT_NUMBER"}  # no overlap policy
    assert _calls(rec) == [1]  # one text, one model call
    only = engine.analyze(TEXT, language="en", entities=["PERSON"])
    assert {TEXT[r.start : r.end] for r in only} == {"John Doe"}


# -- route 2: a YAML recognizer registry ------------------------------------------------------
def _registry_yaml(pipeline_dir: Path, extra: str = "") -> str:
    return f"""\
supported_languages: [en]
global_regex_flags: 26
recognizers:
  - name: clinical_llm
    class_name: LLMNERRecognizer
    type: predefined
    supported_language: en
    pipeline: {pipeline_dir}
    batch_size: 4
    entity_mapping:
      MEDICAL_RECORD_NUMBER: MRN
    labels_to_ignore: [ORGANIZATION]
{extra}  - name: CreditCardRecognizer
    type: predefined
  - name: OfflineEmailRecognizer
    type: predefined
"""


def _llm_recognizer(engine: AnalyzerEngine) -> LLMNERRecognizer:
    (rec,) = [r for r in engine.registry.recognizers if isinstance(r, LLMNERRecognizer)]
    return rec


def test_yaml_registry_declares_the_recognizer(pipeline_dir, tmp_path, no_network):
    from presidio_analyzer import AnalyzerEngineProvider

    analyzer_yaml = tmp_path / "analyzer.yaml"
    registry = _registry_yaml(pipeline_dir).replace("\n", "\n  ")
    analyzer_yaml.write_text(
        "supported_languages: [en]\n"
        "nlp_configuration:\n"
        "  nlp_engine_name: no_op\n"
        "  models: [{lang_code: en, model_name: no_op}]\n"
        f"recognizer_registry:\n  {registry}\n",
        encoding="utf-8",
    )
    engine = AnalyzerEngineProvider(analyzer_engine_conf_file=analyzer_yaml).create_engine()
    rec = _llm_recognizer(engine)
    assert (rec.name, rec.batch_size) == ("clinical_llm", 4)
    assert "MRN" in rec.supported_entities and "ORGANIZATION" not in rec.supported_entities
    results = engine.analyze(TEXT, language="en")
    ours = _llm(results, rec)
    assert ours["John Doe"] == pytest.approx(0.93) and ours["MRN-123"] == pytest.approx(0.97)
    assert "Acme" not in ours  # labels_to_ignore came through
    assert {r.entity_type for r in results if TEXT[r.start : r.end] == "MRN-123"} == {"MRN"}
    assert "CREDIT_CARD" in {r.entity_type for r in results}  # the YAML's pattern recognizer
    mail = "Write to jane.roe@hospital.co.uk"  # our offline e-mail recognizer, by name in YAML
    assert [mail[r.start : r.end] for r in engine.analyze(mail, "en", entities=["EMAIL_ADDRESS"])] == [
        "jane.roe@hospital.co.uk"
    ]

    registry_yaml = tmp_path / "registry.yaml"
    registry_yaml.write_text(_registry_yaml(pipeline_dir), encoding="utf-8")
    plain = RecognizerRegistryProvider(conf_file=registry_yaml).create_recognizer_registry()
    (from_registry,) = [r for r in plain.recognizers if isinstance(r, LLMNERRecognizer)]
    assert from_registry.model_to_presidio_entity_mapping["MEDICAL_RECORD_NUMBER"] == "MRN"


def test_yaml_registry_refuses_what_it_would_drop(pipeline_dir, tmp_path, no_network):
    bad = tmp_path / "bad.yaml"
    bad.write_text(_registry_yaml(pipeline_dir, "    supported_entities: [PERSON]\n"), encoding="utf-8")
    with pytest.raises(ValueError) as info:
        RecognizerRegistryProvider(conf_file=bad).create_recognizer_registry()
    assert "[E229]" in str(info.value.__cause__)
    typo = tmp_path / "typo.yaml"
    typo.write_text(_registry_yaml(pipeline_dir, "    pipline: elsewhere\n"), encoding="utf-8")
    with pytest.raises(ValueError) as info:
        RecognizerRegistryProvider(conf_file=typo).create_recognizer_registry()
    assert "pipline" in str(info.value.__cause__)


# -- route 3: batching -----------------------------------------------------------------------
def test_stock_batch_engine_calls_the_model_per_text(blank_dir):
    """Why LLMNERBatchAnalyzerEngine exists: Presidio's loop gives the recognizer one text."""
    engine = _stock_engine(blank_dir)
    rec = LLMNERRecognizer(scripted.make_nlp(), batch_size=4)
    engine.registry.add_recognizer(rec)
    BatchAnalyzerEngine(engine).analyze_iterator(TEXTS, "en", batch_size=4)
    assert _calls(rec) == [1] * len(TEXTS)


def test_batch_engine_batches_an_added_recognizer(blank_dir):
    engine = _stock_engine(blank_dir)
    rec = LLMNERRecognizer(scripted.make_nlp(), batch_size=4)
    engine.registry.add_recognizer(rec)
    single = [_key(engine.analyze(t, "en")) for t in TEXTS]
    _calls(rec).clear()
    held: list[int] = []
    original = rec.results_from_doc

    def spy(doc, entities):
        held.append(rec.prefetched_count())
        return original(doc, entities)

    rec.results_from_doc = spy  # type: ignore[method-assign]
    batched = LLMNERBatchAnalyzerEngine(engine).analyze_iterator(TEXTS, "en")
    assert _calls(rec) == [4, 4, 2]  # nlp.pipe batches, not one call per text
    assert [_key(r) for r in batched] == single
    assert max(held) <= 4  # never more than one batch of Docs in memory
    assert rec.prefetched_count() == 0  # and none after it


def test_batch_engine_batches_a_yaml_recognizer_and_dicts(pipeline_dir, tmp_path, no_network):
    registry_yaml = tmp_path / "registry.yaml"
    registry_yaml.write_text(_registry_yaml(pipeline_dir), encoding="utf-8")
    no_op = {"nlp_engine_name": "no_op", "models": [{"lang_code": "en", "model_name": "no_op"}]}
    nlp_engine = NlpEngineProvider(nlp_configuration=no_op).create_engine()
    registry = RecognizerRegistryProvider(
        conf_file=registry_yaml, nlp_engine=nlp_engine
    ).create_recognizer_registry()
    engine = AnalyzerEngine(nlp_engine=nlp_engine, registry=registry)
    rec = _llm_recognizer(engine)
    batch = LLMNERBatchAnalyzerEngine(engine)
    batched = batch.analyze_iterator(TEXTS, "en")
    assert _calls(rec) == [4, 4, 2]
    _calls(rec).clear()
    record = {
        "a": TEXTS[0], "b": TEXTS[2], "c": 7, "skip": "John Doe", "d": TEXTS[3], "e": TEXTS[5],
        "notes": TEXTS[:6], "nested": {"x": TEXTS[8], "y": TEXTS[9]}, "empty": "",
    }
    out = {r.key: r for r in batch.analyze_dict(record, "en", keys_to_skip=["skip"])}
    nested = {r.key: _key(r.recognizer_results) for r in out["nested"].recognizer_results}
    # [a, b, c, d] then [e] at the top level; notes in [4, 2]; nested [x, y]: 13 texts, 5 calls
    assert _calls(rec) == [4, 1, 4, 2, 2]
    assert out["skip"].recognizer_results == [] and out["empty"].recognizer_results == []
    assert [_key(r) for r in out["notes"].recognizer_results] == [_key(r) for r in batched[:6]]
    assert _key(out["a"].recognizer_results) == _key(batched[0])
    assert nested == {"x": _key(batched[8]), "y": _key(batched[9])}
    assert rec.prefetched_count() == 0


def test_batch_engine_on_build_analyzer_runs_the_llm_once(tmp_path):
    nlp = scripted.make_nlp()
    analyzer = build_analyzer(nlp, with_patterns=False)
    rec = _llm_recognizer(analyzer)
    rec.batch_size = 4
    batched = LLMNERBatchAnalyzerEngine(analyzer).analyze_iterator(TEXTS, "en")
    # the shared NLP engine runs the pipeline; the recognizer reuses its Docs, no second pass
    assert _calls(rec) == [4, 4, 2]
    assert [_key(r) for r in batched] == [_key(analyzer.analyze(t, "en")) for t in TEXTS]


def test_batches_are_per_thread_and_dropped_on_error(blank_dir):
    engine = _stock_engine(blank_dir)
    rec = LLMNERRecognizer(scripted.make_nlp(), batch_size=3)
    engine.registry.add_recognizer(rec)
    batch = LLMNERBatchAnalyzerEngine(engine)
    work = {0: TEXTS[:5] * 4, 1: TEXTS[5:] * 4}
    expected = {i: [_key(engine.analyze(t, "en")) for t in texts] for i, texts in work.items()}
    got: dict[int, list] = {}
    barrier = threading.Barrier(2)

    def run(i: int) -> None:
        barrier.wait()
        got[i] = [_key(r) for r in batch.analyze_iterator(work[i], "en")]

    threads = [threading.Thread(target=run, args=(i,)) for i in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == expected  # neither thread read the other's Docs

    seen: list[int] = []
    with rec.prefetch(TEXTS[:3]):
        other = threading.Thread(target=lambda: seen.append(rec.prefetched_count()))
        other.start()
        other.join()
        assert rec.prefetched_count() == 3
    assert seen == [0]  # another thread never sees this batch's Docs

    def boom(doc, entities):
        raise RuntimeError("recognizer failed")

    rec.results_from_doc = boom  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        batch.analyze_iterator(TEXTS, "en")
    assert rec.prefetched_count() == 0


def test_prefetch_and_batch_engine_misuse():
    rec = LLMNERRecognizer(scripted.make_nlp(), max_prefetch=3)
    with pytest.raises(LLMNERError, match=r"\[E228\]"), rec.prefetch(TEXTS):
        pass
    with rec.prefetch(TEXTS[:3]):
        assert rec.prefetched_count() == 3
        results = rec.analyze(TEXTS[0], None)
        assert _calls(rec) == [3]  # served from the batch, no call of its own
    assert {r.entity_type for r in results} == {"PERSON", "LOCATION"}
    with pytest.raises(LLMNERError, match=r"\[E227\]"):
        LLMNERBatchAnalyzerEngine()
