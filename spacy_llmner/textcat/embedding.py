"""``spacy_llmner.EmbeddingSimilarity.v1``: demonstration retrieval by embedding cosine.

The ``Similarity`` plug of ``textcat/retrieval.py`` (the text-classification study retrieves the demonstrations
most similar to the text by embedding similarity). ``index(pool)`` embeds the pool once;
``scores(text)`` embeds the text and returns its cosine with every pool text.

- **Embedding**: the mean of the model's last hidden states over the real tokens (attention
  mask, special tokens included, as sentence-transformers pools), L2-normalised; ``pooling =
  "last"`` takes the last real token instead (for a decoder, the only position that has seen the
  whole text). Texts are right-padded and batched by length, so a text's embedding does not
  depend on what it is batched with (to float rounding): under right padding a causal model's
  real positions never see the pads, and an encoder masks them.
- **Model**: ``transformers.AutoModel`` (the model without its LM head): a decoder-only LLM
  directory (the classification base itself, e.g. Gemma 3 270M) or an encoder (e.g.
  all-MiniLM-L6-v2). safetensors only, ``trust_remote_code`` off unless set, loaded on first use,
  never at config resolution. ``name`` is a local directory or a hub id (transformers takes it
  from its cache, or downloads it when the hub is reachable, as for ``spacy_llmner.HF.v1``).
- **Length**: ``max_length`` (default: the model's positions, at most 512 tokens, special
  tokens included); a text with more tokens is refused (E656), not cut. With
  ``truncation = true`` only its first ``max_length`` tokens are embedded; that changes which
  demonstrations are retrieved, never the text that is classified or the prompt's texts.
- **Privacy**: nothing here logs or stores text; errors name a pool index or "the document".

torch and transformers are imported on first use: registering the factory costs nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from ..errors import Errors, LLMNERError
from .retrieval import Similarity, SimilarityIndex

logger = logging.getLogger("spacy_llmner")

POOLINGS = ("mean", "last")
DTYPES = ("float32", "bfloat16", "float16")
DEFAULT_MAX_LENGTH = 512  # tokens, when ``max_length`` is null and the model has as many positions
_DEVICE = re.compile(r"(cpu|mps|cuda(:\d+)?)")


class EmbeddingSimilarity:
    """Cosine of mean-pooled (or last-token) hidden states of a local model; see the module doc."""

    def __init__(
        self,
        name: str,
        *,
        batch_size: int = 32,
        max_length: int | None = None,
        truncation: bool = False,
        device: str | None = None,
        dtype: str | None = None,
        pooling: str = "mean",
        trust_remote_code: bool = False,
    ) -> None:
        def bad(setting: str, value: Any, hint: str) -> LLMNERError:
            return LLMNERError(Errors.E655.format(name=setting, value=value, hint=hint))

        if not isinstance(name, (str, Path)) or not str(name).strip():
            raise bad("name", name, "give a local model directory or a hub id in the local cache.")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise bad("batch_size", batch_size, "it must be a whole number of texts, 1 or more.")
        if max_length is not None and (
            isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1
        ):
            raise bad("max_length", max_length, "it must be a whole number of tokens, 1 or more, or "
                      f"null (the model's position limit, at most {DEFAULT_MAX_LENGTH}).")
        if pooling not in POOLINGS:
            raise bad("pooling", pooling, f"use one of {list(POOLINGS)} ('mean': the mean over the "
                      "real tokens; 'last': the last real token, for decoders).")
        if dtype is not None and dtype not in DTYPES:
            raise bad("dtype", dtype, f"use one of {list(DTYPES)}, or null (bfloat16 on CUDA, "
                      "float32 on the CPU).")
        if device is not None and not (isinstance(device, str) and _DEVICE.fullmatch(device)):
            raise bad("device", device, "use 'cpu', 'cuda', 'cuda:N' or 'mps', or null (CUDA when "
                      "present, else the CPU).")
        self.name = str(name)
        self.batch_size = batch_size
        self.max_length = max_length
        self.truncation = bool(truncation)
        self.device = device
        self.dtype = dtype
        self.pooling = pooling
        self.trust_remote_code = bool(trust_remote_code)
        self._model: Any = None
        self._tokenizer: Any = None
        self._positions: int | None = None  # the model's, read at load
        self._max_tokens = 0  # max_length, or its default for the model, set at load
        self._lock = threading.Lock()

    # --- loading --------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> Any:
        return self._load()[1]

    @property
    def tokenizer(self) -> Any:
        return self._load()[0]

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                self._tokenizer, self._model = self._load_now()
        return self._tokenizer, self._model

    def _load_now(self) -> tuple[Any, Any]:
        import torch
        from transformers import AutoConfig, AutoModel

        from ..models.loading import check_local_weights, from_pretrained, load_tokenizer
        from ..models.precision import pick_device_dtype

        if self.device and self.device.startswith("cuda") and not torch.cuda.is_available():
            raise LLMNERError(Errors.E659.format(device=self.device, reason="this torch sees no CUDA device"))
        if self.device == "mps" and not torch.backends.mps.is_available():
            raise LLMNERError(Errors.E659.format(device=self.device, reason="MPS is not available"))
        device, dtype = pick_device_dtype(self.device, self.dtype)
        check_local_weights(Path(self.name))
        try:
            config = AutoConfig.from_pretrained(self.name, trust_remote_code=self.trust_remote_code)
        except Exception as err:  # noqa: BLE001 - rewrap with the fix
            raise LLMNERError(Errors.E006.format(name=self.name, reason=f"{type(err).__name__}: {err}")) from err
        if getattr(config, "is_encoder_decoder", False):
            raise LLMNERError(Errors.E658.format(name=self.name, model_type=config.model_type))
        limit = getattr(config, "max_position_embeddings", None)
        limit = limit if isinstance(limit, int) and limit > 0 else None
        if self.max_length is not None and limit is not None and self.max_length > limit:
            raise LLMNERError(Errors.E657.format(value=self.max_length, name=self.name, limit=limit))
        self._positions = limit
        self._max_tokens = self.max_length or min(DEFAULT_MAX_LENGTH, limit or DEFAULT_MAX_LENGTH)
        tokenizer = load_tokenizer(self.name, self.trust_remote_code)
        model = from_pretrained(AutoModel, self.name, self.trust_remote_code, config=config, dtype=dtype)
        if hasattr(model.config, "use_cache"):
            model.config.use_cache = False  # one forward per batch: no KV cache to keep
        logger.info("embedding similarity: loaded %s (%s, %s)", self.name, device, dtype)
        return tokenizer, model.to(device).eval()

    # --- embedding ------------------------------------------------------------------------
    def _token_ids(self, texts: Sequence[str], what: str) -> list[list[int]]:
        tok = self.tokenizer
        limit = self._max_tokens
        if self.truncation:
            enc = tok(list(texts), truncation=True, max_length=limit)
        else:
            enc = tok(list(texts), truncation=False, verbose=False)
        ids = [list(row) for row in enc["input_ids"]]
        for i, row in enumerate(ids):
            if len(row) > limit:
                raise LLMNERError(Errors.E656.format(
                    what=what.format(index=i), n_tokens=len(row), limit=limit,
                    model_limit=self._positions or "unknown",
                ))
        return ids

    def embed(self, texts: Sequence[str], what: str = "Text {index}") -> Any:
        """(len(texts), hidden) float32 tensor on the CPU, rows L2-normalised; a text with no
        tokens gets the zero vector (cosine 0 with everything). ``what`` names a text in errors
        (``{index}`` is its position), never its content."""
        import torch

        tok, model = self._load()
        ids = self._token_ids(texts, what) if len(texts) else []
        out = torch.zeros(len(ids), model.config.hidden_size, dtype=torch.float32)
        order = sorted((i for i in range(len(ids)) if ids[i]), key=lambda i: -len(ids[i]))
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        device = next(model.parameters()).device
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                width = len(ids[rows[0]])  # longest first
                input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                for r, i in enumerate(rows):  # right padding: real tokens keep positions 0..n-1
                    input_ids[r, : len(ids[i])] = torch.tensor(ids[i])
                    mask[r, : len(ids[i])] = 1
                hidden = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).last_hidden_state
                out[rows] = pool(hidden.float(), mask.to(device), self.pooling).cpu()
        return torch.nn.functional.normalize(out, dim=-1)

    def index(self, texts: Sequence[str]) -> SimilarityIndex:
        """Embeds the pool once (batched by length)."""
        return _EmbeddingIndex(self, self.embed(texts, "Demonstration {index} of the pool"))


def pool(hidden: Any, attention_mask: Any, pooling: str = "mean") -> Any:
    """(batch, seq, dim) → (batch, dim): the mean over positions whose mask is 1, or the last of them."""
    if pooling == "last":
        from .pooling import pool_last

        return pool_last(hidden, attention_mask)
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)


class _EmbeddingIndex:
    def __init__(self, owner: EmbeddingSimilarity, vectors: Any) -> None:
        self._owner = owner
        self.vectors = vectors  # (pool, hidden), rows L2-normalised

    def scores(self, text: str) -> list[float]:
        query = self._owner.embed([text], "The document")[0]
        return [float(s) for s in (self.vectors @ query).tolist()]


def make_embedding_similarity(
    name: str,
    batch_size: int = 32,
    max_length: Optional[int] = None,  # noqa: UP045 - spaCy validates the signature
    truncation: bool = False,
    device: Optional[str] = None,  # noqa: UP045
    dtype: Optional[str] = None,  # noqa: UP045
    pooling: str = "mean",
    trust_remote_code: bool = False,
) -> Similarity:
    """Registered as ``spacy_llmner.EmbeddingSimilarity.v1`` (the task's ``similarity`` setting).
    ``name``: a local model directory (or a cached hub id), e.g. the classification base or an
    encoder such as all-MiniLM-L6-v2; nothing loads until the first document."""
    return EmbeddingSimilarity(
        name,
        batch_size=batch_size,
        max_length=max_length,
        truncation=truncation,
        device=device,
        dtype=dtype,
        pooling=pooling,
        trust_remote_code=trust_remote_code,
    )


__all__ = ["DTYPES", "POOLINGS", "EmbeddingSimilarity", "make_embedding_similarity", "pool"]
