"""prompting/ (labels, templates, chat frame) and tasks/sharding.py, each on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import spacy
from conftest import ARCHS

from spacy_llmner.errors import LLMNERError
from spacy_llmner.prompting import (
    HIPAA,
    build_messages,
    chat_frame,
    encode_segments,
    eos_ids,
    resolve_labels,
)
from spacy_llmner.tasks.sharding import doc_budget_bytes, shard_budget, shard_doc

# --- labels -------------------------------------------------------------------------------------


def test_resolve_labels_forms() -> None:
    assert resolve_labels("hipaa") == HIPAA
    assert list(resolve_labels("PERSON, AGE")) == ["PERSON", "AGE"]
    assert resolve_labels("PERSON,AGE")["AGE"] == HIPAA["AGE"]  # preset descriptions are reused
    assert resolve_labels({"DRUG": "A medication name"}) == {"DRUG": "A medication name"}
    assert resolve_labels(["ward-number"]) == {"ward-number": "Ward number"}
    with pytest.raises(LLMNERError, match=r"\[E001\]"):
        resolve_labels("no such preset")  # a single word would be one custom label
    with pytest.raises(LLMNERError, match=r"\[E003\]"):
        resolve_labels([])


# --- the chat frame -----------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_frame_puts_the_document_between_prefix_and_suffix(tiny_models: dict[str, Any], arch: str, version: str) -> None:
    tok = tiny_models[arch][0]
    messages = build_messages(resolve_labels("PERSON,AGE"), version=version)
    frame = chat_frame(tok, messages)
    whole = tok.apply_chat_template(
        [*messages, {"role": "user", "content": "DOC"}, {"role": "assistant", "content": "ANS"}],
        tokenize=False,
    )
    assert whole.startswith(frame.prefix)
    assert frame.prefix + "DOC" + frame.suffix + "ANS" + frame.end == whole
    prefix, doc, answer = encode_segments(tok, frame, "DOC", "ANS")
    assert prefix == tok.encode(frame.prefix, add_special_tokens=False)
    assert doc == tok.encode("DOC" + frame.suffix, add_special_tokens=False)
    assert answer == tok.encode("ANS" + frame.end, add_special_tokens=False)
    assert encode_segments(tok, frame, "DOC")[2] == []
    ends = eos_ids(tok, frame)
    assert ends and ends[0] == tok.encode(frame.end, add_special_tokens=False)[0]


def test_frame_without_a_chat_template_is_a_coded_error(tiny_models: dict[str, Any]) -> None:
    class NoTemplate:
        chat_template = None

    with pytest.raises(LLMNERError, match=r"\[E004\]"):
        chat_frame(NoTemplate(), build_messages(HIPAA))  # type: ignore[arg-type]


# --- sharding -----------------------------------------------------------------------------------


def test_budget_shrinks_with_the_prompt_and_none_means_no_limit() -> None:
    assert doc_budget_bytes(None, 1000, 1.0) is None
    small, large = doc_budget_bytes(4096, 3000, 1.0), doc_budget_bytes(4096, 300, 1.0)
    assert small is not None and large is not None and 0 < small < large
    assert doc_budget_bytes(100, 3000, 1.0) == 0


def test_shards_cover_the_text_at_token_boundaries_preferring_sentence_ends() -> None:
    nlp = spacy.blank("en")
    text = "First sentence here. Second one follows!\nThird line is a little longer than the others. End"
    doc = nlp(text)
    shards = shard_doc(doc, 45)
    assert len(shards) > 1
    assert "".join(s.text for s in shards) == text
    assert all(len(s.text.encode()) <= 45 for s in shards)
    # the first cut falls after a sentence end, not mid-sentence
    assert shards[0].text.rstrip()[-1] in ".!?"
    assert shard_doc(doc, None) == [doc] and shard_doc(doc, 10_000) == [doc]


def test_an_oversized_token_is_a_shard_of_its_own_never_split() -> None:
    nlp = spacy.blank("en")
    text = "a " + "x" * 80 + " b"
    shards = shard_doc(nlp(text), 20)
    assert "".join(s.text for s in shards) == text
    assert any(s.text.strip() == "x" * 80 for s in shards)


def test_a_line_or_paragraph_break_wins_over_a_fuller_shard() -> None:
    """A cut between lines of a note, not inside the name on the next line."""
    nlp = spacy.blank("en")
    text = "Vitals stable overnight.\n\nCalled daughter Mary Ellen Smith at home about discharge plans today."
    shards = shard_doc(nlp(text), 60)
    assert "".join(s.text for s in shards) == text
    assert shards[0].text == "Vitals stable overnight.\n\n"
    assert shards[1].text.startswith("Called daughter Mary Ellen Smith")


def test_shard_budget_is_the_smaller_limit_and_zero_or_none_is_no_limit() -> None:
    assert shard_budget(5000, 1024) == 1024 and shard_budget(500, 1024) == 500
    assert shard_budget(None, 1024) == 1024 and shard_budget(5000, 0) == 5000 and shard_budget(5000, None) == 5000
    assert shard_budget(None, None) is None


def test_the_task_cuts_a_long_note_into_shards_of_max_shard_bytes() -> None:
    """A long note goes to the model as several prompts (rows of one batch), each no longer than
    ``max_shard_bytes``; ``max_shard_bytes=0`` leaves only the context to limit it."""
    from spacy_llmner.tasks.xmlner import XMLNERTask

    nlp = spacy.blank("en")
    line = "0400 pt resting, called wife Jane Doe at 555-201-3344 re: plan.\n"
    doc = nlp(line * 60)  # ~3,900 bytes
    [(prompts, shards)] = list(XMLNERTask(labels="hipaa", max_shard_bytes=1024).generate_prompts([doc], 8192))
    prompts = list(prompts)
    assert len(prompts) > 3 and all(len(p.source.encode()) <= 1024 for p in prompts)
    assert all(p.source.endswith("\n") for p in prompts)  # cut at line ends
    assert "".join(s.text for s in shards) == doc.text
    [(whole, _)] = list(XMLNERTask(labels="hipaa", max_shard_bytes=0).generate_prompts([doc], 32768))
    assert len(list(whole)) == 1
    with pytest.raises(LLMNERError, match="E011"):
        XMLNERTask(labels="hipaa", max_shard_bytes=-1)
    # the setting is public and checked the same way when set on a built pipeline's task
    task = XMLNERTask(labels="hipaa")
    task.max_shard_bytes = 0
    [(whole, _)] = list(task.generate_prompts([doc], 32768))
    assert len(list(whole)) == 1 and task.max_shard_bytes == 0
    for bad in (-1, True, "1024"):
        with pytest.raises(LLMNERError, match="E011"):
            task.max_shard_bytes = bad  # type: ignore[assignment]


def test_tasks_restore_their_settings_from_disk(tmp_path: Path) -> None:
    """What a task saves inside a pipeline comes back (tasks/serialize.py), bytes and files alike."""
    from spacy_llmner.tasks.xmlner import XMLNERTask
    from spacy_llmner.textcat.task import TextCatTask

    ner = XMLNERTask(labels=["PERSON", "creative-work"], template_version="v2", max_shard_bytes=300)
    ner.to_disk(tmp_path / "ner")
    assert XMLNERTask().from_disk(tmp_path / "ner")._cfg() == ner._cfg()
    assert XMLNERTask().from_bytes(ner.to_bytes())._cfg() == ner._cfg()

    cat = TextCatTask(labels=["a", "b"], examples=[{"text": "seen", "label": "a"}], n_demos=1)
    cat.to_disk(tmp_path / "cat")
    again = TextCatTask(labels=["x", "y"]).from_disk(tmp_path / "cat")
    assert again._cfg() == cat._cfg() and again.demonstrations == cat.demonstrations
    assert TextCatTask(labels=["x", "y"]).from_bytes(cat.to_bytes())._cfg() == cat._cfg()
