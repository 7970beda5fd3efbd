"""A small Qwen2 pre-trained here from scratch: the test suite's and the benchmark's fast model.

It was the offline default base before a real pretrained LLM could be had offline (see
``models/bases.py``); ``python -m spacy_llmner pretrain-base`` still builds one.

Said plainly: it is tiny (a few million parameters), it has only ever seen synthetic documents
from ``spacy_llmner.data``, and its "instruction data" is the tagging task itself —
chat-formatted tagging conversations generated with a different seed than train/dev/test, with
any document text that also occurs in the corpus removed. It is the analogue of an instruct model
that has seen instruction data before it is fine-tuned; it knows nothing else. Numbers obtained
with it say that the pipeline works end to end, not how a real LLM performs.

Steps: generate documents → train a byte-level BPE tokenizer on documents, their tagged
renderings and the prompt text → build a small Qwen2 (by default with the copy-ready init of
``copy_init``: from random weights it would not learn to copy within this budget) → train all
parameters on tagging conversations (loss on the answer) and, optionally, plain documents
(language modelling) → save (safetensors).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..prompting import TEMPLATE_VERSION, build_messages, resolve_labels
from ..tagging import CharSpan, render
from ..training.lora import with_precision
from ..training.sft import SFTDataset, build_dataset, encode_plain, read_docbin
from ..training.trainer import run
from . import tiny
from .config import BaseConfigFile

logger = logging.getLogger("spacy_llmner")

META_FILE = "spacy_llmner_base.json"


def corpus_texts(paths: Iterable[str | Path]) -> set[str]:
    """Texts of every ``.spacy`` file under ``paths`` (files or directories)."""
    texts: set[str] = set()
    for path in map(Path, paths):
        files = sorted(path.glob("**/*.spacy")) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                texts.update(doc.text for doc in read_docbin(file))
    return texts


def generate_documents(
    n: int, seed: int, locales: Sequence[str] | None, exclude: set[str]
) -> list[tuple[str, list[CharSpan]]]:
    """``n`` generated documents, none with a text in ``exclude`` or repeated."""
    from ..data import iter_docs
    from ..data.generator import DEFAULT_LOCALES

    # train-side templates only: the held-out ones are the test split's (data/heldout.py)
    stream = iter_docs(seed, tuple(locales) if locales else DEFAULT_LOCALES, templates="train")
    out: list[tuple[str, list[CharSpan]]] = []
    seen = set(exclude)
    for doc in stream:
        if len(out) == n:
            break
        if doc.text in seen:
            continue
        seen.add(doc.text)
        out.append((doc.text, [(int(s), int(e), str(lab)) for s, e, lab in doc.spans]))
    return out


def tokenizer_corpus(
    docs: Sequence[tuple[str, Sequence[CharSpan]]], labels: dict[str, str], prompt_weight: int
) -> list[str]:
    """Documents, their tagged renderings (tags become tokens) and the prompt, weighted."""
    prompt = [m["content"] for m in build_messages(labels)]
    texts = [t for t, _ in docs] + [render(t, s) for t, s in docs]
    return texts + prompt * max(1, prompt_weight)


def _reload_tokenizer(path: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path))


def pretrain_base(
    config: BaseConfigFile,
    output: str | Path,
    loss_log: str | Path,
    exclude: Iterable[str | Path] = (),
) -> dict[str, Any]:
    """Build, pre-train and save the from-scratch base; returns a summary (also saved next to it)."""
    start = time.perf_counter()
    data = config.data
    labels = resolve_labels(config.labels)
    held_out = corpus_texts(exclude)
    docs = generate_documents(data.n_docs + data.n_dev, data.seed, data.locales, held_out)
    train_docs, dev_docs = docs[: data.n_docs], docs[data.n_docs :]

    tokenizer = tiny.train_tokenizer(
        tokenizer_corpus(train_docs, labels, prompt_weight=len(train_docs) // 50),
        config.model.arch,
        config.tokenizer.vocab_size,
        tags=tiny.tag_tokens(labels) if config.tokenizer.tag_tokens else (),
    )
    model = tiny.build_model(tokenizer, config.model)
    # Save first and reload the tokenizer the way every later step loads it (AutoTokenizer picks
    # the architecture's tokenizer class, whose pre-tokenization can differ from the in-memory
    # one): pre-training must see exactly the token ids that fine-tuning and inference will.
    output = Path(output)
    tiny.save(model, tokenizer, output)
    tokenizer = _reload_tokenizer(output)
    settings = with_precision(config.training)
    train = build_dataset(train_docs, tokenizer, labels, settings.max_length, "pretrain")
    n_plain = int(round(len(train_docs) * data.plain_fraction))
    plain = [encode_plain(tokenizer, text) for text, _ in train_docs[:n_plain]]
    train = SFTDataset(
        prefixes=train.prefixes,
        examples=train.examples + [ex for ex in plain if len(ex) <= settings.max_length],
        n_skipped=train.n_skipped,
        stats={**train.stats, "plain_documents": n_plain},
    )
    dev = build_dataset(dev_docs, tokenizer, labels, settings.max_length, "pretrain-dev")
    summary = run(model, train, dev, settings, tokenizer.pad_token_id, Path(output) / "_work", loss_log)

    tiny.save(model, tokenizer, output)
    import shutil

    shutil.rmtree(output / "_work", ignore_errors=True)
    summary.update(
        params=int(sum(p.numel() for p in model.parameters())),
        vocab_size=len(tokenizer),
        prefix_tokens=len(train.prefixes[0]),
        train_stats=train.stats,
        excluded_corpus_texts=len(held_out),
        total_seconds=round(time.perf_counter() - start, 2),
    )
    meta = {
        "what": "Small offline base model pre-trained by spacy_llmner on synthetic data only; "
        "a stand-in for a hub instruct model. Not a general language model.",
        "template_version": TEMPLATE_VERSION,
        "labels": list(labels),
        "model": config.model.__dict__,
        "data": config.data.__dict__,
        "training": summary,
    }
    (output / META_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf8")
    return summary
