"""``llm_textcat_head``: documents classified by a decoder LLM's last hidden state and a linear
head, with a LoRA adapter on the LLM (the text-classification study's best method; `train-textcat`).

    nlp.add_pipe("llm_textcat_head", config={"base": "<hub id or local dir>",
                                             "adapter": "<train-textcat output dir>"})
    doc.cats  # exclusive classes: softmax, sums to 1; else one sigmoid per label

Weights load on the first document (or after ``from_disk``), never at config resolution.
``to_disk`` writes the head directory (head + peft adapter + ``head.json``) and a small local base
inside the pipeline, as ``spacy_llmner.HF.v1`` does, so ``spacy.load`` works elsewhere. Texts
longer than ``max_length`` tokens are refused (E625), never truncated. ``score`` is spaCy's
textcat scorer, so ``nlp.evaluate`` / ``spacy evaluate`` report ``cats_score`` and friends.

``share_base = true`` (default false: a private copy of the base, LoRA merged in) takes the LLM
from the process-wide registry of loaded bases (``models/shared.py``), loaded and saved through
``models/weights.py`` as ``HF.v1`` is: with
``llm_ner`` / ``llm_textcat`` models on the same base and ``share_base = true``, the base is held
once. The head's LoRA adapter is added to it unmerged under its own name and switched on for
each forward (a head trained without LoRA runs on the base alone); the linear head stays the
component's own. A non-LoRA adapter is refused (E640), as is a base whose tokenizer differs from
the shared one's (E642). Sharing is a load-time setting saved in the config: the component still
saves its own adapter and base copy, and ``spacy.load`` still shares (a local base is known by
its content, not its path).
"""

# No `from __future__ import annotations`: spaCy validates `initialize`'s signature with pydantic,
# which cannot resolve string annotations from this module.
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Optional

from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.scorer import Scorer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import minibatch
from spacy.vocab import Vocab

from ..errors import Errors, LLMNERError
from ..models.files import EMBED_BASE_MAX_MB
from ..models.meta import HeadMeta, has_lora
from ..models.weights import ADAPTER_DIR, BASE_DIR, CFG_FILE, HoldsWeights
from .head import check_head_dir

FACTORY = "llm_textcat_head"


def _bad(name: str, value: Any, hint: str) -> LLMNERError:
    return LLMNERError(Errors.E011.format(name=name, value=value, hint=hint))


class TextCatHead(HoldsWeights, Pipe):
    """Sets ``doc.cats`` from ``head(last hidden state)`` of the base LLM (+ LoRA)."""

    # What ``to_disk`` writes in the component's directory (``from_disk`` reads the same;
    # ``models/weights.py``).
    CFG_FILE, BASE_DIR, ADAPTER_DIR = CFG_FILE, BASE_DIR, ADAPTER_DIR

    def __init__(
        self,
        vocab: Vocab,
        name: str = FACTORY,
        *,
        base: str,
        adapter: Optional[str] = None,
        labels: Sequence[str] = (),
        exclusive_classes: bool = True,
        threshold: float = 0.5,
        batch_size: int = 8,
        max_length: int = 512,
        device: Optional[str] = None,
        dtype: Optional[str] = None,
        trust_remote_code: bool = False,
        temperature: Optional[float] = None,
        embed_base_max_mb: int = EMBED_BASE_MAX_MB,
        padding_side: str = "right",
        share_base: bool = False,
    ) -> None:
        for key, value in (("batch_size", batch_size), ("max_length", max_length)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise _bad(key, value, "It must be an integer >= 1.")
        if not 0.0 < float(threshold) < 1.0:
            raise _bad("threshold", threshold, "A multi-label threshold is a probability in (0, 1).")
        if temperature is not None and not float(temperature) > 0:
            raise _bad("temperature", temperature, "Use a positive number, or null for the adapter's fitted one.")
        if padding_side not in ("left", "right"):
            raise _bad("padding_side", padding_side, "Use 'left' or 'right'.")
        labels = [labels] if isinstance(labels, str) else list(labels)
        if len(set(labels)) != len(labels):
            dup = next(lab for lab in labels if labels.count(lab) > 1)
            raise LLMNERError(Errors.E603.format(label=dup))
        self.vocab = vocab
        self.name = name
        self.base = str(base)
        self.adapter = str(adapter) if adapter else None
        self._labels = labels
        self.exclusive_classes = bool(exclusive_classes)
        self.threshold = float(threshold)
        self.batch_size = batch_size
        self.max_length = max_length
        self.device_arg, self.dtype_arg = device, dtype
        self.trust_remote_code = trust_remote_code
        self.temperature_arg = None if temperature is None else float(temperature)
        self.embed_base_max_mb = embed_base_max_mb
        self.padding_side = padding_side
        # A load-time choice (models/shared.py): the base once per process for every component
        # on it; this head's LoRA stays unmerged and is switched on around each forward.
        self.share_base = bool(share_base)
        self._shared: Any = None  # shared.SharedBase when share_base, once loaded
        self._adapter_name: Optional[str] = None  # this head's LoRA on the shared base (None: no LoRA)
        self._meta = HeadMeta()
        self._model: Any = None
        self._tokenizer: Any = None
        self._device: Any = None
        # As for HF.v1: spacy.load builds the component from the saved config (paths relative to
        # where it was made) before from_disk points it at the copy; only a dir that exists is read.
        if self.adapter and Path(self.adapter).exists():
            self._read_adapter(Path(self.adapter))

    # --- labels and settings -------------------------------------------------------------
    def _read_adapter(self, path: Path) -> None:
        meta = check_head_dir(path)
        trained = list(meta.get("labels", []))
        if self._labels and self._labels != trained:
            raise LLMNERError(Errors.E626.format(labels=self._labels, trained=trained))
        trained_exclusive = bool(meta.get("exclusive_classes", True))
        if trained_exclusive != self.exclusive_classes:
            raise LLMNERError(Errors.E627.format(trained=trained_exclusive, configured=self.exclusive_classes))
        self._labels = trained
        self._meta = meta

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self._labels)

    @property
    def temperature(self) -> float:
        """The configured temperature, else the one training fitted, else 1."""
        if self.temperature_arg is not None:
            return self.temperature_arg
        return float(self._meta.get("temperature", 1.0))

    def initialize(
        self, get_examples: Callable[[], Iterable[Example]], *, nlp: Optional[Language] = None,
        labels: Optional[Sequence[str]] = None,
    ) -> None:
        """Labels for an untrained head (no adapter): given, or from the examples' ``cats``."""
        if self.adapter or self._labels:
            return
        if labels is None:
            labels = sorted({lab for eg in get_examples() for lab in eg.reference.cats})
        self._labels = list(labels)

    # --- loading -------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Tokenizer, backbone (+ LoRA: merged into a private copy, or unmerged on the shared
        base) and head (idempotent)."""
        if self.loaded:
            return
        from ..models.precision import pick_device_dtype
        from ..models.weights import load_weights
        from .classifier import SequenceClassifier, hidden_size_of
        from .head import load_head, new_head

        if self.adapter:
            self._read_adapter(Path(self.adapter))
        if len(self._labels) < (2 if self.exclusive_classes else 1):
            raise LLMNERError(Errors.E628)
        device, _ = pick_device_dtype(self.device_arg, self.dtype_arg)
        lora = self.adapter if self.adapter and has_lora(self.adapter) else None
        # A private copy has its LoRA merged; on the shared base it stays unmerged, switched on
        # around each forward (models/weights.py, as for HF.v1).
        loaded = load_weights(
            self.base, lora, device=self.device_arg, dtype=self.dtype_arg,
            trust_remote_code=self.trust_remote_code, merge=True, share_base=self.share_base,
        )
        self._shared, self._adapter_name = loaded.shared, loaded.adapter_name
        backbone = loaded.model
        hidden = hidden_size_of(backbone)
        if self.adapter:
            head = load_head(self.adapter, list(self._labels), hidden)
        else:  # untrained: the same small random head for the same labels
            head = new_head(hidden, len(self._labels))
        self._model = SequenceClassifier(backbone, head.to(device)).eval()
        self._tokenizer, self._device = loaded.tokenizer, device

    @property
    def context_length(self) -> int:
        self.load()
        config = self._model.backbone.config
        return int(getattr(config, "max_position_embeddings", 0) or self.max_length)

    # --- inference -----------------------------------------------------------------------
    def predict(self, docs: Sequence[Doc]) -> Any:
        """Probabilities, one row per doc (a float32 numpy array, labels in ``self.labels`` order)."""
        import numpy

        from .classifier import batched_logits, encode, probabilities

        if not docs:
            return numpy.zeros((0, len(self._labels)), dtype="float32")
        self.load()
        rows = encode(self._tokenizer, [doc.text for doc in docs])
        for ids in rows:
            if len(ids) > self.max_length:
                raise LLMNERError(
                    Errors.E625.format(n_tokens=len(ids), limit=self.max_length, context=self.context_length)
                )
        pad = self._tokenizer.pad_token_id if self._tokenizer.pad_token_id is not None else 0
        with self._activated():  # the whole forward, so no other component switches adapters
            logits = batched_logits(self._model, rows, pad, self.batch_size, self.padding_side)
        return probabilities(logits, self.exclusive_classes, self.temperature).numpy()

    def set_annotations(self, docs: Sequence[Doc], scores: Any) -> None:
        for doc, row in zip(docs, scores):
            doc.cats = {label: float(p) for label, p in zip(self._labels, row)}

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for batch in minibatch(stream, size=batch_size):
            docs = list(batch)
            self.set_annotations(docs, self.predict(docs))
            yield from docs

    def score(self, examples: Iterable[Example], **kwargs: Any) -> dict[str, Any]:
        """spaCy's textcat scorer (``cats_score``, ``cats_macro_f``, ``cats_f_per_type`` …)."""
        kwargs.setdefault("threshold", self.threshold)
        return Scorer.score_cats(
            examples, "cats", labels=self.labels, multi_label=not self.exclusive_classes, **kwargs
        )

    # --- serialization -------------------------------------------------------------------
    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """The head directory and (small, local) base inside the pipeline, plus a small cfg."""
        from ..models.weights import save_weights, write_cfg

        path = Path(path)
        saved = save_weights(path, self.base, self.adapter, self.embed_base_max_mb, self._save_untrained)
        write_cfg(path, {"base": saved["base"], "name": self.base, "adapter": self.ADAPTER_DIR})

    def _save_untrained(self, adapter_dir: Path) -> None:
        """An untrained head: save the one in use, so the loaded pipeline gives the same cats."""
        from .head import save_head

        self.load()
        if adapter_dir.exists():
            shutil.rmtree(adapter_dir)
        meta = HeadMeta(
            kind="textcat_head", base_model=self.base, labels=list(self._labels),
            exclusive_classes=self.exclusive_classes, pooling="last", temperature=1.0,
        )
        save_head(self._model.head, adapter_dir, meta)

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> "TextCatHead":
        """Point at the saved base and head directory; weights still load lazily."""
        from ..models.weights import read_weights

        cfg, base, _ = read_weights(Path(path))
        if base:
            self.base = base
        self.adapter = str(Path(path) / cfg["adapter"])
        self._read_adapter(Path(self.adapter))
        self._model = self._tokenizer = None
        self._shared, self._adapter_name = None, None
        return self

    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        from ..models.weights import dir_to_bytes

        return dir_to_bytes(lambda tmp: self.to_disk(tmp, exclude=exclude))

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = ()) -> "TextCatHead":
        from ..models.weights import dir_from_bytes

        self._tmp = str(dir_from_bytes(bytes_data))  # weights must outlive this call
        return self.from_disk(self._tmp, exclude=exclude)


@Language.factory(
    FACTORY,
    default_config={
        "adapter": None,
        "labels": [],
        "exclusive_classes": True,
        "threshold": 0.5,
        "batch_size": 8,
        "max_length": 512,
        "device": None,
        "dtype": None,
        "trust_remote_code": False,
        "temperature": None,
        "embed_base_max_mb": EMBED_BASE_MAX_MB,
        "padding_side": "right",
        "share_base": False,
    },
    assigns=["doc.cats"],
    default_score_weights={
        "cats_score": 1.0,
        "cats_score_desc": None,
        "cats_micro_p": None,
        "cats_micro_r": None,
        "cats_micro_f": None,
        "cats_macro_p": None,
        "cats_macro_r": None,
        "cats_macro_f": None,
        "cats_macro_auc": None,
        "cats_f_per_type": None,
    },
)
def make_textcat_head(
    nlp: Language,
    name: str,
    base: str,
    adapter: Optional[str],
    labels: list[str],
    exclusive_classes: bool,
    threshold: float,
    batch_size: int,
    max_length: int,
    device: Optional[str],
    dtype: Optional[str],
    trust_remote_code: bool,
    temperature: Optional[float],
    embed_base_max_mb: int,
    padding_side: str,
    share_base: bool,
) -> TextCatHead:
    return TextCatHead(
        nlp.vocab, name, base=base, adapter=adapter, labels=labels, exclusive_classes=exclusive_classes,
        threshold=threshold, batch_size=batch_size, max_length=max_length, device=device, dtype=dtype,
        trust_remote_code=trust_remote_code, temperature=temperature, embed_base_max_mb=embed_base_max_mb,
        padding_side=padding_side, share_base=share_base,
    )


__all__ = ["FACTORY", "TextCatHead", "make_textcat_head"]
