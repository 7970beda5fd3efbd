"""``spacy_llmner.HF.v1``: a Hugging Face causal LM (+ optional peft adapter) as a spacy-llm model.

Implements spacy-llm's model protocol: ``__call__(Iterable[Iterable[prompt]]) ->
Iterable[Iterable[str]]``, ``context_length`` and ``to_disk/from_disk`` (+ bytes). Weights load
on first call or ``from_disk``, never at config resolution. Decoding is copy-constrained by
default, so each answer is the source plus tags by construction (a JSON answer, template
``json1``: valid JSON whose strings are all in the source; ``jsonner.constraint``). The prompt
says which answer format it wants (``answer_format``) and ``_DECODERS`` routes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Iterable, cast  # noqa: UP035 - spacy-llm validates with typing.Iterable

from ..decoding import Constraint, FastDecoder, FastOptions, Vocab, decode_reference
from ..decoding.label_trie import LabelTrie
from ..errors import Errors, LLMNERError
from ..prompting import ChatFrame, PromptFrame, document_ids, eos_ids, prompt_frame
from ..prompting.prompt import ScoredAnswer, TaggedResponse
from ..ty import LabelScoringPrompt, TaggingPrompt
from .files import EMBED_BASE_MAX_MB
from .label_scoring import score_sequences
from .loading import check_adapter_dir
from .meta import AdapterMeta
from .precision import check_quantize
from .weights import (
    ADAPTER_DIR,
    BASE_DIR,
    CFG_FILE,
    HoldsWeights,
    dir_from_bytes,
    dir_to_bytes,
    load_weights,
    read_weights,
    save_weights,
    write_cfg,
)

DECODING_MODES = ("constrained", "reference", "free")
DEFAULT_CONTEXT_LENGTH = 4096


class HFModel(HoldsWeights):
    """A causal LM that answers tagging prompts (``ty.TaggingPrompt``) with tagged text.

    Precision: ``dtype`` ("float32", "bfloat16", or "auto": bf16 where the hardware computes it,
    ``models/precision.py``; default bf16 on a GPU, fp32 on a CPU) and ``quantize = "int8"``
    (opt-in, CPU). The decoder's settings (``draft_bytes``, ``tree_labels`` …) are
    ``decoding.FastOptions``'s, checked there.

    ``share_base`` (default off: a private copy, as always): take the base from the process-wide
    registry (``models/shared.py``), so components on the same base (e.g. ``llm_ner`` and
    ``llm_textcat``) hold it once, each with its own LoRA adapter, kept unmerged and activated for
    the duration of each call. Adapters that cannot share are refused (E640-E642).
    """

    # What ``to_disk`` writes in the model's directory (``from_disk`` reads the same): the cfg
    # (``name``, and the ``base`` and ``adapter`` directories, or null), a small local base copied
    # in, and the adapter (``models/weights.py``).
    CFG_FILE, BASE_DIR, ADAPTER_DIR = CFG_FILE, BASE_DIR, ADAPTER_DIR

    def __init__(
        self,
        name: str,
        adapter: str | None = None,
        *,
        decoding: str = "constrained",
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 16,
        max_draft: int = 16,
        context_length: int | None = None,
        merge_adapter: bool = True,
        trust_remote_code: bool = False,
        embed_base_max_mb: int = EMBED_BASE_MAX_MB,
        copy_tokens: str = "any",
        shared_prefix: str = "auto",
        share_base: bool = False,
        draft_bytes: int = FastOptions.draft_bytes,
        tree_labels: int = FastOptions.tree_labels,
        quantize: str | None = None,
    ) -> None:
        if decoding not in DECODING_MODES:
            raise LLMNERError(Errors.E005.format(mode=decoding))
        # Checked here, once, so a typo fails at construction and not at the first document.
        self.options = FastOptions(
            copy_tokens=copy_tokens, shared_prefix=shared_prefix, batch_size=batch_size, max_draft=max_draft,
            draft_bytes=draft_bytes, tree_labels=tree_labels,
        )
        check_quantize(quantize, share_base, merge_adapter)
        # "int8": the decoder's linear layers dynamically quantized (CPU; models/precision.py).
        self.quantize = quantize
        self.name = str(name)
        self.adapter = str(adapter) if adapter else None
        self.decoding = decoding
        self.device_arg, self.dtype_arg = device, dtype
        self._context_length = context_length
        self.merge_adapter = merge_adapter
        self.trust_remote_code = trust_remote_code
        self.embed_base_max_mb = embed_base_max_mb
        # Load the base once per process for every component that shares it (models/shared.py);
        # the adapter then stays unmerged (merge_adapter does not apply) and is switched per call.
        self.share_base = bool(share_base)
        self._shared: Any = None  # shared.SharedBase when share_base, once loaded
        self._adapter_name: str | None = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._vocab: Vocab | None = None
        self._fast: FastDecoder | None = None
        self._frames: dict[tuple[tuple[tuple[str, str], ...], ...], PromptFrame] = {}
        self._label_tries: dict[tuple[str, tuple[str, ...]], LabelTrie] = {}
        self._adapter_meta = AdapterMeta()
        self._lock = threading.Lock()
        # A missing adapter dir is not an error yet: spacy.load constructs the model from the
        # saved config (paths relative to where it was trained) and only then from_disk points
        # it at the copy inside the pipeline. A dir that exists but lacks files fails now.
        if self.adapter and Path(self.adapter).exists():
            self._adapter_meta = check_adapter_dir(Path(self.adapter))

    # The decoder's settings, as configured (read-only: they live in ``options``).
    @property
    def copy_tokens(self) -> str:
        return self.options.copy_tokens

    @property
    def shared_prefix(self) -> str:
        return self.options.shared_prefix

    @property
    def batch_size(self) -> int:
        return self.options.batch_size

    @property
    def max_draft(self) -> int:
        return self.options.max_draft

    # --- loading -------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load tokenizer and weights (idempotent)."""
        if self.loaded:
            return
        if self.adapter:
            self._adapter_meta = check_adapter_dir(Path(self.adapter))
        loaded = load_weights(
            self.name, self.adapter, device=self.device_arg, dtype=self.dtype_arg,
            trust_remote_code=self.trust_remote_code, merge=self.merge_adapter, share_base=self.share_base,
            quantize=self.quantize,
        )
        self._shared, self._adapter_name = loaded.shared, loaded.adapter_name
        self._tokenizer, self._model = loaded.tokenizer, loaded.model

    @property
    def tokenizer(self) -> Any:
        self.load()
        return self._tokenizer

    @property
    def hf_model(self) -> Any:
        self.load()
        return self._model

    @property
    def context_length(self) -> int:
        """From the user, else the model config; readable before weights load."""
        if self._context_length:
            return self._context_length
        if self._model is not None:
            return int(getattr(self._model.config, "max_position_embeddings", DEFAULT_CONTEXT_LENGTH))
        try:
            from transformers import AutoConfig

            # Local files only: spacy-llm asks for this while the pipeline is being constructed,
            # before from_disk points `name` at the base inside the pipeline; a relative path
            # that does not resolve yet must not turn into a hub request.
            cfg = AutoConfig.from_pretrained(
                self.name, trust_remote_code=self.trust_remote_code, local_files_only=True
            )
            return int(getattr(cfg, "max_position_embeddings", DEFAULT_CONTEXT_LENGTH))
        except Exception:  # noqa: BLE001
            return DEFAULT_CONTEXT_LENGTH

    def _frame(self, messages: Sequence[Mapping[str, str]]) -> PromptFrame:
        key = tuple(tuple(sorted(m.items())) for m in messages)
        if key not in self._frames:
            self._frames[key] = prompt_frame(self.tokenizer, [dict(m) for m in messages], self.name)
        return self._frames[key]

    def _get_vocab(self, frame: ChatFrame) -> Vocab:
        if self._vocab is None:
            self._vocab = Vocab.from_tokenizer(self.tokenizer, eos_ids(self.tokenizer, frame))
        return self._vocab

    def _check_prompt(self, prompt: TaggingPrompt | LabelScoringPrompt) -> None:
        """The adapter was trained on these labels and this prompt template (E010, E017)."""
        trained = self._adapter_meta.get("labels")
        if trained:
            # A classification prompt's labels are its answers; a label question's (answers yes
            # and no) is the label it asks about.
            labels = prompt.labels if isinstance(prompt, TaggingPrompt) else getattr(prompt, "labels", prompt.answers)
            unknown = [lab for lab in labels if lab not in trained]
            if unknown:
                raise LLMNERError(Errors.E010.format(unknown=unknown, trained=list(trained)))
        template = self._adapter_meta.get("template_version")
        if template and prompt.template_version and prompt.template_version != template:
            raise LLMNERError(Errors.E017.format(task=prompt.template_version, trained=template))

    # --- inference -----------------------------------------------------------------------
    def __call__(self, prompts: Iterable[Iterable[str]]) -> Iterable[Iterable[str]]:
        """Answer every prompt (all docs' shards batched together). Typed ``str`` for spacy-llm's
        signature check; each prompt must be a ``ty.TaggingPrompt``, or all a ``ty.LabelScoringPrompt``
        (answered by ``classify``); E011 otherwise."""
        nested = [list(doc_prompts) for doc_prompts in prompts]
        flat = [p for doc_prompts in nested for p in doc_prompts]
        classify = bool(flat) and all(isinstance(p, LabelScoringPrompt) for p in flat)
        for p in flat:
            if not classify and not isinstance(p, TaggingPrompt):
                raise LLMNERError(
                    Errors.E011.format(
                        name="prompt",
                        value=type(p).__name__,
                        hint="spacy_llmner.HF.v1 answers prompts of the tasks "
                        "spacy_llmner.XMLNER.v1 and spacy_llmner.TextCat.v1; use one of them with this model.",
                    )
                )
        if not self._lock.acquire(timeout=3600):  # pragma: no cover
            raise LLMNERError(Errors.E013)
        try:
            if classify:
                self._check_classify_adapter()
            if flat:
                self.load()
            with self._activated() if flat else nullcontext():
                if classify:
                    answers: Sequence[str] = self.classify(cast(list[LabelScoringPrompt], flat))
                else:
                    answers = self._answer(cast(list[TaggingPrompt], flat)) if flat else []
        finally:
            self._lock.release()
        out: list[list[str]] = []
        i = 0
        for doc_prompts in nested:
            out.append(cast(list[str], answers[i : i + len(doc_prompts)]))
            i += len(doc_prompts)
        return out

    def classify(self, prompts: Sequence[LabelScoringPrompt]) -> list[ScoredAnswer]:
        """Score every allowed answer of each prompt exactly (``label_scoring.py``) and answer with
        the most probable label (for a multi-label question, of ``yes`` and ``no``). ``decoding``
        does not apply: the answers are the label trie's complete paths, all scored. The frame is
        not cached: retrieved demonstrations make each prompt's conversation its own. E608 when
        prompt + longest answer exceed the context."""
        self._check_classify_adapter()
        tok = self.tokenizer
        out: list[ScoredAnswer] = []
        for p in prompts:
            self._check_prompt(p)
            framed = prompt_frame(tok, [dict(m) for m in p.messages], self.name)
            key = (framed.frame.end, tuple(p.answers))
            if key not in self._label_tries:
                self._label_tries[key] = LabelTrie.from_tokenizer(tok, framed.frame, p.answers)
            sequences = [self._label_tries[key].sequences[a] for a in p.answers]
            ids = framed.prefix_ids + document_ids(tok, framed.frame, p.source)
            longest = max(len(s) for s in sequences)
            if len(ids) + longest > self.context_length:
                raise LLMNERError(Errors.E608.format(n_prompt=len(ids), n_answer=longest, limit=self.context_length))
            pad = tok.pad_token_id if isinstance(tok.pad_token_id, int) else 0
            scores = score_sequences(self.hf_model, ids, sequences, self.batch_size, pad)
            logprobs = dict(zip(p.answers, scores))
            out.append(ScoredAnswer(max(p.answers, key=logprobs.__getitem__), logprobs))
        return out

    def _check_classify_adapter(self) -> None:
        if self._adapter_meta.get("peft_method", "lora") != "lora":
            raise LLMNERError(Errors.E610.format(method=self._adapter_meta["peft_method"]))

    def _answer(self, prompts: list[TaggingPrompt]) -> list[TaggedResponse]:
        answers: list[TaggedResponse | None] = [None] * len(prompts)
        groups: dict[int, list[int]] = {}
        for i, p in enumerate(prompts):
            groups.setdefault(id(self._frame(p.messages)), []).append(i)
        for idx in groups.values():
            framed = self._frame(prompts[idx[0]].messages)
            frame, prefix_ids = framed.frame, framed.prefix_ids
            self._check_prompt(prompts[idx[0]])
            for i, ans in zip(idx, self._decode_group([prompts[i] for i in idx], frame, prefix_ids)):
                answers[i] = ans
        return cast(list[TaggedResponse], answers)

    def _decode_group(
        self, prompts: list[TaggingPrompt], frame: ChatFrame, prefix_ids: list[int]
    ) -> list[TaggedResponse]:
        if self.decoding != "free" and self._adapter_meta.get("peft_method", "lora") != "lora":
            raise LLMNERError(Errors.E020.format(method=self._adapter_meta["peft_method"], decoding=self.decoding))
        tok = self.tokenizer
        doc_ids = [document_ids(tok, frame, p.source) for p in prompts]
        if self.decoding == "free":
            from ..decoding.free import generate_free

            texts = generate_free(self.hf_model, tok, prefix_ids, doc_ids, eos_ids(tok, frame), self.batch_size)
            return [TaggedResponse(t) for t in texts]
        vocab = self._get_vocab(frame)
        answer_format = getattr(prompts[0], "answer_format", "tagged")
        if answer_format not in self._DECODERS:
            raise LLMNERError(Errors.E011.format(
                name="answer_format", value=answer_format, hint=f"This model decodes {sorted(self._DECODERS)}."))
        return cast(list[TaggedResponse], self._DECODERS[answer_format](self, prompts, prefix_ids, doc_ids, vocab))

    def _decode_tagged(
        self, prompts: list[TaggingPrompt], prefix_ids: list[int], doc_ids: list[list[int]], vocab: Vocab
    ) -> list[TaggedResponse]:
        """Tagged text under the copy constraint: the fast decoder, or the reference one."""
        tok = self.tokenizer
        constraints = [
            Constraint.build(p.source, p.labels, p.token_spans, vocab.lead) for p in prompts
        ]
        if self.decoding == "reference":
            results = [
                decode_reference(
                    self.hf_model, prefix_ids + d, c, vocab, tokenizer=tok, copy_tokens=self.copy_tokens
                )
                for d, c in zip(doc_ids, constraints)
            ]
        else:
            if self._fast is None:
                self._fast = FastDecoder(self.hf_model, vocab, tok, options=self.options)
            results = self._fast.decode(prefix_ids, doc_ids, constraints)
        return [
            TaggedResponse(r.tagged, r.spans, r.scores, p.source) for r, p in zip(results, prompts)
        ]

    def _decode_json(
        self, prompts: list[TaggingPrompt], prefix_ids: list[int], doc_ids: list[list[int]], vocab: Vocab
    ) -> list[TaggedResponse]:
        """A JSON answer (template ``json1``) under its copy constraint (``jsonner.constraint``),
        for ``decoding = "constrained"`` or ``"reference"`` alike: one step-by-step decoder, no
        fast path. The answer always parses and every string is in the source."""
        if self.copy_tokens != "any":
            raise LLMNERError(Errors.E680.format(copy_tokens=self.copy_tokens))
        from ..jsonner.constraint import JSONConstraint
        from ..jsonner.decode import decode_json

        out = []
        for p, d in zip(prompts, doc_ids):
            constraint = JSONConstraint.build(p.source, p.labels, p.token_spans, vocab.lead)
            out.append(TaggedResponse(decode_json(self.hf_model, prefix_ids + d, constraint, vocab).text))
        return out

    # The decoder for each answer format a prompt carries (``prompting.prompt.ANSWER_FORMATS``).
    _DECODERS: dict[str, Callable[..., list[TaggedResponse]]] = {
        "tagged": _decode_tagged,
        "json": _decode_json,
    }

    # --- serialization -------------------------------------------------------------------
    def to_disk(self, path: str | Path, *, exclude: Sequence[str] = ()) -> None:
        """Save the adapter and (small local) base inside the pipeline, plus a small cfg."""
        path = Path(path)
        saved = save_weights(path, self.name, self.adapter, self.embed_base_max_mb)
        write_cfg(path, {"name": self.name, "base": saved["base"], "adapter": saved["adapter"]})

    def from_disk(self, path: str | Path, *, exclude: Sequence[str] = ()) -> HFModel:
        """Point at the saved base/adapter; weights still load lazily."""
        _, base, adapter = read_weights(Path(path))
        if base:
            self.name = base
        if adapter:
            self.adapter = adapter
            self._adapter_meta = check_adapter_dir(Path(self.adapter))
        self._model = self._tokenizer = self._vocab = self._fast = None
        self._shared, self._adapter_name = None, None
        self._frames = {}
        self._label_tries = {}
        return self

    def to_bytes(self, *, exclude: Sequence[str] = ()) -> bytes:
        return dir_to_bytes(lambda tmp: self.to_disk(tmp, exclude=exclude))

    def from_bytes(self, bytes_data: bytes, *, exclude: Sequence[str] = ()) -> HFModel:
        # Weights must outlive this call, so they go to a directory owned by this object.
        self._tmp = str(dir_from_bytes(bytes_data))
        return self.from_disk(self._tmp, exclude=exclude)


# Registered as ``spacy_llmner.HF.v1``: the class itself, so the config schema is __init__'s
# signature (one parameter list, validated by confection).
make_hf_model = HFModel


__all__ = ["HFModel", "make_hf_model"]
