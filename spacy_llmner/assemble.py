"""Base + adapter + labels → a saved spaCy pipeline (``training/pipeline`` in the project).

The pipeline is spacy-llm's ``llm_ner`` factory with this package's task and model;
the model's ``to_disk`` copies the adapter (and a small local base) into the pipeline directory,
so ``spacy package`` ships them. ``save_io`` stays off: it would store raw text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import Errors, LLMNERError
from .jsonner.template import is_json_template
from .prompting import PRESETS, resolve_labels
from .training.lora import read_meta

_package = "spacy_llmner"


def _labels_arg(labels: dict[str, str]) -> Any:
    """A preset's name when the labels are exactly a preset (readable config), else the dict."""
    for name, preset in PRESETS.items():
        if preset == labels:
            return name
    return labels


def pipeline_config(
    base: str, adapter: str | None, labels: Any, copy_tokens: str = "canonical", template_version: str = "v1",
    peft_method: str = "lora",
    decoding: str = "auto",
    policy: str | None = None,
) -> dict[str, Any]:
    """The ``llm_ner`` component config.

    ``policy``: the task's de-identification policy (``"safe_harbor"``; ``None`` keeps every entity).

    ``copy_tokens="canonical"``: the model copies the source only as its tokenizer splits it, as
    in training (``decoding/canonical.py``): same text, fewer forward passes.
    ``decoding="auto"``: copy-constrained for tagged text; free for the seed's JSON answer (as the
    seed decoded it) and for prefix tuning (only peft's generate keeps the prefix, E020).
    ``"constrained"`` / ``"free"`` choose; a constrained JSON answer copies any token split
    (``copy_tokens = "any"``, E680)."""
    json_answer = is_json_template(template_version)
    if decoding not in ("auto", "constrained", "reference", "free"):
        raise LLMNERError(Errors.E005.format(mode=decoding))
    if decoding == "auto":
        decoding = "free" if json_answer or peft_method != "lora" else "constrained"
    if json_answer and decoding == "constrained":
        copy_tokens = "any"
    free = decoding == "free"
    return {
        "task": {
            "@llm_tasks": "spacy_llmner.JSONNER.v1" if json_answer else "spacy_llmner.XMLNER.v1",
            "labels": labels,
            "template_version": template_version,
            **({"policy": policy} if policy and not json_answer else {}),
        },
        "model": {
            "@llm_models": "spacy_llmner.HF.v1",
            "name": base,
            "adapter": adapter,
            "copy_tokens": copy_tokens,
            **({"decoding": "free"} if free else {}),
        },
        "save_io": False,
    }


def assemble(
    base: str,
    adapter: str | Path | None,
    output: str | Path,
    labels: str | None = None,
    name: str = "llmner_hipaa",
    version: str = "0.1.0",
    lang: str = "en",
    copy_tokens: str = "canonical",
    decoding: str = "auto",
    policy: str | None = None,
) -> Path:
    """Build the pipeline and save it; labels default to those the adapter was trained with."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    import spacy

    meta = read_meta(adapter) if adapter else {}
    trained = meta.get("labels")
    label_set = resolve_labels(labels) if labels else (dict(trained) if trained else resolve_labels("hipaa"))
    nlp = spacy.blank(lang)
    nlp.add_pipe(
        "llm_ner",
        config=pipeline_config(
            str(base), str(adapter) if adapter else None, _labels_arg(label_set), copy_tokens,
            # the prompt the adapter was trained with
            meta.get("template_version", "v1"),
            meta.get("peft_method", "lora"),
            decoding,
            policy,
        ),
    )
    try:
        own_version = dist_version(_package)
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        own_version = "0.1.0"
    nlp.meta.update(
        name=name,
        version=version,
        description="LoRA-tuned LLM as a copy-constrained NER for personal data (spacy_llmner)",
        requirements=[f"{_package}>={own_version}"],
    )
    output = Path(output)
    nlp.to_disk(output)
    return output
