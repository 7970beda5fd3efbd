"""Coded error and warning messages. Each names the fix, as spaCy's ``errors.py`` does.

Use ``raise LLMNERError(Errors.E001.format(...))``; the code travels in the message so users can
search for it. Codes are grouped by layer: E0xx core (model, task, decoding), E1xx data,
E2xx Presidio, E3xx training, E4xx tagging.
"""

from __future__ import annotations

from typing import Any


class ErrorsWithCodes(type):
    """Prefix every message with its code: ``Errors.E001 == "[E001] ..."``."""

    def __getattribute__(cls, code: str) -> Any:
        msg = super().__getattribute__(code)
        if code.startswith("__") or not isinstance(msg, str):
            return msg
        return f"[{code}] {msg}"


class LLMNERError(ValueError):
    """Raised for user-fixable problems (configuration, files, inputs)."""


class Warnings(metaclass=ErrorsWithCodes):
    W001 = (
        "The prompt tokenized on its own is not a token prefix of the full conversation "
        "({n_diff} tokens differ at the boundary). The completion mask is still exact, because "
        "spacy_llmner tokenizes prompt and completion as separate segments at training and "
        "inference alike, but the chat template may not round-trip through this tokenizer."
    )
    W002 = (
        "spacy-llm's {what} is on for component '{name}'. It stores prompts and responses, "
        "which contain the raw input text (personal data). Turn it off unless you need it."
    )


class Errors(metaclass=ErrorsWithCodes):
    # --- core (E0xx) ---
    E001 = (
        "Unknown label preset '{name}'. Available presets: {available}. Pass a preset name, a "
        "list of labels, or a dict mapping each label to a one-line description."
    )
    E002 = (
        "Invalid label '{label}'. Labels must match [A-Za-z][A-Za-z0-9_]* so that they form "
        "valid XML tag names; rename it (e.g. '{suggestion}')."
    )
    E003 = "No labels configured. Pass `labels` to the task or call `nlp.initialize(get_examples)`."
    E004 = (
        "The tokenizer of '{name}' has no chat template. Set one "
        "(`tokenizer.chat_template = ...`) or use an instruct/chat model; the prompt is built "
        "with the chat template so that training and inference see the same conversation."
    )
    E005 = (
        "Unknown decoding mode '{mode}'. Use 'constrained' (default: output is the input plus "
        "tags, by construction) or 'free' (plain generate + tolerant parsing, for comparison)."
    )
    E006 = (
        "Could not load the model '{name}': {reason}. Pass a Hugging Face hub id (with the "
        "weights in your local cache or network access) or a local directory saved with "
        "`save_pretrained`."
    )
    E007 = (
        "'{path}' holds only pickle checkpoints ({files}). spacy_llmner loads safetensors only, "
        "because pickle files can run arbitrary code. Convert them with "
        "`model.save_pretrained(dir, safe_serialization=True)` in a trusted environment."
    )
    E008 = (
        "The adapter directory '{path}' is missing {missing}. Save adapters with peft's "
        "`model.save_pretrained(dir)` (it writes adapter_config.json and "
        "adapter_model.safetensors)."
    )
    E009 = (
        "The adapter in '{path}' was trained for base model '{adapter_base}' "
        "({adapter_type}), which does not fit the loaded base '{base}': {reason}. Load the base "
        "model the adapter was trained on."
    )
    E010 = (
        "The task's labels {unknown} were not in the label set the adapter was trained with "
        "({trained}). The model has never seen these tags; retrain the adapter with them or "
        "remove them from the task."
    )
    E011 = (
        "Invalid value for `{name}`: {value!r}. {hint}"
    )
    E012 = (
        "The prompt for a single token does not fit into the model's context length "
        "({context_length}). Increase `context_length` or use a model with a longer context."
    )
    E013 = (
        "This pipeline component is already running in another thread. The HF model holds "
        "one KV cache and is not re-entrant; use one pipeline per thread, or call it from a "
        "single worker."
    )
    # --- data (E1xx) ---
    # --- presidio (E2xx) ---
    # --- training (E3xx) ---
    # --- tagging (E4xx) ---
