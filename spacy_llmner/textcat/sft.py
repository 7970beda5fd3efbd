"""LoRA SFT for generative classification: the adapter learns to answer with the label, on
exactly the prompt ``spacy_llmner.TextCat.v1`` builds (template ``textcat1``).

Each single-label doc (``doc.cats``: one category >= 0.5) becomes::

    prompt (system rules + labels [+ k demonstrations] + the text)  | label + end marker
    labels: -100                                                     | the answer's token ids

The prompt goes through the same functions as inference (``build_classify_messages``,
``prompt_frame``, ``document_ids``) and the answer is ``label_trie.answer_ids``, the sequence
inference scores: so the tokens trained are the tokens scored, by construction, and the loss
covers the answer only (the end marker included).

Without demonstrations (``n_demos = 0``, the default) every prompt shares one prefix, which a
batch runs once (``training.step``). With k demonstrations, each doc's k nearest *other*
training docs (the task's similarity, most similar last, as at inference) are its
demonstrations; every prompt is then its own, so it is carried whole in the row (prompt tokens
get -100). At inference, give the task the training data as its pool (``initialize(...,
n_prompt_examples=-1)``) so it retrieves the same kind of demonstrations.

Labels and template version go to the adapter's metadata (``AdapterMeta``), which ``HF.v1``
checks against the task's prompt (E010, E017).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from spacy.tokens import Doc

from ..decoding.label_trie import answer_ids
from ..errors import Errors, LLMNERError
from ..prompting.frame import document_ids, prompt_frame
from ..training.config import LoraSettings, TrainSettings, _bad, from_section, load_config
from ..training.sft import IGNORE, NO_PREFIX, SFTDataset, SFTExample
from .prompts import CLASSIFY_TEMPLATE, Demonstration, build_classify_messages, resolve_classes
from .retrieval import CharNgramTfidf, Similarity, nearest_last

logger = logging.getLogger("spacy_llmner")

LabelsArg = Union[str, Sequence[str], Mapping[str, Optional[str]], None]


def single_label(doc: Doc) -> str | None:
    """The one positive category of ``doc`` (value >= 0.5, as ``TextCat.v1.initialize`` reads
    demonstrations), else None."""
    positive = [cat for cat, value in doc.cats.items() if value >= 0.5]
    return positive[0] if len(positive) == 1 else None


def labels_from_data(docs: Sequence[Doc], labels: LabelsArg = None) -> dict[str, str]:
    """The configured labels, else every ``doc.cats`` key in order of first appearance (the order
    ``TextCat.v1.initialize`` takes them in, so the prompt lists them the same way); E646 for a
    category outside the configured labels."""
    found = list(dict.fromkeys(cat for doc in docs for cat in doc.cats))
    if not labels:
        return resolve_classes(found)
    resolved = resolve_classes(labels)
    unknown = [cat for cat in found if cat not in resolved]
    if unknown:
        raise LLMNERError(Errors.E646.format(unknown=unknown, labels=list(resolved)))
    return resolved


def build_classify_dataset(
    docs: Sequence[Doc],
    tokenizer: Any,
    labels: Mapping[str, str],
    max_length: int,
    name: str = "corpus",
    n_demos: int = 0,
    similarity: Similarity | None = None,
) -> SFTDataset:
    """Tokenize single-label docs into SFT examples (the TextCat.v1 prompt, the label as answer).

    Docs with no or several positive categories are skipped and counted (E645 if none is left);
    examples longer than ``max_length`` are skipped and counted, never truncated."""
    items = [(doc.text, single_label(doc)) for doc in docs]
    usable = [(text, label) for text, label in items if label is not None]
    n_multi = sum(1 for doc in docs if sum(v >= 0.5 for v in doc.cats.values()) > 1)
    if not usable:
        raise LLMNERError(
            Errors.E645.format(name=name, n_total=len(docs), n_multi=n_multi, n_none=len(docs) - n_multi)
        )
    unknown = sorted({label for _, label in usable if label not in labels})
    if unknown:
        raise LLMNERError(Errors.E646.format(unknown=unknown, labels=list(labels)))
    index = (similarity or CharNgramTfidf()).index([t for t, _ in usable]) if n_demos else None
    fixed = prompt_frame(tokenizer, build_classify_messages(labels)) if not n_demos else None
    answers: dict[tuple[str, str], list[int]] = {}
    examples: list[SFTExample] = []
    n_long = 0
    for i, (text, label) in enumerate(usable):
        if fixed is not None:
            framed, prefix_in_row = fixed, False
        else:
            assert index is not None
            scores = index.scores(text)
            others = [j for j in range(len(usable)) if j != i]  # never the doc itself
            picked = nearest_last([scores[j] for j in others], n_demos)
            demos = [Demonstration(*usable[others[j]]) for j in picked]
            framed, prefix_in_row = prompt_frame(tokenizer, build_classify_messages(labels, demos)), True
        key = (framed.frame.end, label)
        if key not in answers:
            answers[key] = answer_ids(tokenizer, framed.frame, label)
        answer = answers[key]
        prompt = document_ids(tokenizer, framed.frame, text)
        if prefix_in_row:
            prompt = framed.prefix_ids + prompt
        if len(prompt) + len(answer) + (0 if prefix_in_row else len(framed.prefix_ids)) > max_length:
            n_long += 1
            continue
        examples.append(
            SFTExample(
                tuple(prompt + answer),
                tuple([IGNORE] * len(prompt) + answer),
                prefix=NO_PREFIX if prefix_in_row else 0,
            )
        )
    if not examples:
        raise LLMNERError(Errors.E304.format(n_total=len(usable), name=name, max_length=max_length))
    n_skipped = len(docs) - len(usable)
    if n_skipped or n_long:
        # Counts only: the documents themselves may hold personal data.
        logger.warning(
            "%s: skipped %d of %d documents without exactly one positive category and %d longer "
            "than max_length=%d tokens.", name, n_skipped, len(docs), n_long, max_length,
        )
    data = SFTDataset(prefixes=[fixed.prefix_ids] if fixed else [], examples=examples, n_skipped=n_skipped + n_long)
    data.stats = {
        "documents": len(docs),
        "examples": len(examples),
        "skipped_not_single_label": n_skipped,
        "skipped_too_long": n_long,
        "prefix_tokens": len(fixed.prefix_ids) if fixed else 0,
        "tokens": data.n_tokens(),
        "label_tokens": data.n_label_tokens(),
    }
    return data


@dataclass
class ClassifyConfigFile:
    """What ``train-textcat`` reads: ``[lora]``, ``[training]`` and ``[task]`` (``labels``:
    list, comma-separated string or label → description, empty: from the data; ``n_demos``;
    ``template_version``: ``textcat1``, the only one)."""

    lora: LoraSettings
    training: TrainSettings
    labels: LabelsArg = None
    n_demos: int = 0
    template_version: str = CLASSIFY_TEMPLATE
    similarity: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.template_version != CLASSIFY_TEMPLATE:
            raise _bad("task.template_version", self.template_version, f"Use {CLASSIFY_TEMPLATE!r}.")
        if not isinstance(self.n_demos, int) or isinstance(self.n_demos, bool) or self.n_demos < 0:
            raise _bad("task.n_demos", self.n_demos, "Use 0 (no demonstrations) or the number per prompt.")
        if self.lora.tag_tokens:
            raise _bad("lora.tag_tokens", True, "Tag tokens are for NER; set it false for classification.")

    @classmethod
    def load(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> ClassifyConfigFile:
        cfg = load_config(path, overrides, required=("lora", "training"))
        task = dict(cfg.get("task", {}))
        known = ["labels", "n_demos", "template_version"]
        unknown = sorted(set(task) - set(known))
        if unknown:
            raise LLMNERError(Errors.E302.format(names=unknown, section="task", known=known))
        return cls(
            lora=from_section(LoraSettings, cfg["lora"], "lora"),
            training=from_section(TrainSettings, cfg["training"], "training"),
            labels=task.get("labels") or None,
            n_demos=task.get("n_demos", 0),
            template_version=task.get("template_version", CLASSIFY_TEMPLATE),
        )


def train_classifier(
    base: str | Path,
    train_path: str | Path,
    dev_path: str | Path | None,
    config: ClassifyConfigFile,
    output_dir: str | Path,
    loss_log: str | Path,
) -> dict[str, Any]:
    """Fine-tune ``base`` to answer with the label of each ``train_path`` doc; save the adapter."""
    from ..training.lora import load_base, save_adapter, with_precision, wrap
    from ..training.sft import read_docbin
    from ..training.trainer import run

    settings = with_precision(config.training)
    tokenizer, model = load_base(base, bf16=bool(settings.bf16))
    train_docs = read_docbin(train_path)
    labels = labels_from_data(train_docs, config.labels)
    build = dict(tokenizer=tokenizer, labels=labels, max_length=settings.max_length, n_demos=config.n_demos,
                 similarity=config.similarity)
    train = build_classify_dataset(train_docs, name="train", **build)  # type: ignore[arg-type]
    dev = build_classify_dataset(read_docbin(dev_path), name="dev", **build) if dev_path else None  # type: ignore[arg-type]
    model = wrap(model, config.lora)
    trainable, total = model.get_nb_trainable_parameters()
    output_dir = Path(output_dir)
    summary = run(model, train, dev, settings, tokenizer.pad_token_id, output_dir / "_work", loss_log)
    summary.update(
        task="textcat",
        n_demos=config.n_demos,
        trainable_params=int(trainable),
        total_params=int(total),
        peft_method="lora",
        template_version=config.template_version,
        train_stats=train.stats,
        dev_stats=dev.stats if dev is not None else None,
    )
    save_adapter(model, output_dir, base=str(base), labels=labels, summary=summary,
                 template_version=config.template_version, peft_method="lora")
    return summary


def textcat_pipeline_config(base: str, adapter: str | None, labels: Mapping[str, str], n_demos: int = 0) -> dict[str, Any]:
    """The ``llm_textcat`` component config for an adapter from ``train_classifier``: its labels,
    in its order (the prompt lists them so), and its template."""
    return {
        "task": {
            "@llm_tasks": "spacy_llmner.TextCat.v1",
            "labels": dict(labels),
            "n_demos": n_demos,
            "template_version": CLASSIFY_TEMPLATE,
        },
        "model": {"@llm_models": "spacy_llmner.HF.v1", "name": base, "adapter": adapter},
        "save_io": False,
    }


def assemble_textcat(base: str, adapter: str | Path, output: str | Path, lang: str = "en") -> Path:
    """Base + classification adapter → a saved ``llm_textcat`` pipeline (labels from the adapter).
    With demonstrations, initialize the task's pool from the training data before saving."""
    import spacy

    from ..training.lora import read_meta

    meta = read_meta(adapter)
    nlp = spacy.blank(lang)
    n_demos = int((meta.get("training") or {}).get("n_demos", 0))
    nlp.add_pipe("llm_textcat", config=textcat_pipeline_config(str(base), str(adapter), meta.get("labels") or {}, n_demos))
    output = Path(output)
    nlp.to_disk(output)
    return output


__all__ = [
    "ClassifyConfigFile",
    "assemble_textcat",
    "build_classify_dataset",
    "labels_from_data",
    "single_label",
    "textcat_pipeline_config",
    "train_classifier",
]
