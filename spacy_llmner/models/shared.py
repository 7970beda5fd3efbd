"""One base model in memory, several LoRA adapters on it: a process-wide registry.

A pipeline with ``llm_ner`` (NER adapter) and ``llm_textcat`` (classification adapter) or
``llm_textcat_head`` (a linear head, LoRA on the LLM) on the same base would otherwise hold the
base twice. With ``share_base = true`` on ``spacy_llmner.HF.v1`` and on ``llm_textcat_head``, the
components get their weights from here: the base loads once, each component's adapter is
added to one peft ``PeftModel`` under its own name, and every call activates its component's
adapter for the duration of the call (the head component keeps its linear head to itself). The
components stay independent in their config and on disk (each still saves its own adapter and
small base copy); only the loaded weights are shared.

API (used by ``HF.v1`` and ``textcat/component.py``; open to other components)::

    handle = acquire_base(name, device=None, dtype=None, trust_remote_code=False)
    handle.add_adapter("ner", "/path/to/lora")        # idempotent for the same path
    with handle.activate("ner") as model:             # exclusive: holds the base's lock
        model(input_ids=...)                          # the transformers model, LoRA "ner" active
    with handle.activate(None) as model:              # the base alone (adapters disabled)
        ...
    handle.tokenizer, handle.model, handle.adapters   # the base's tokenizer, module, {name: path}

- **Key**: (base identity, device, dtype, trust_remote_code). The identity of a hub id is the id;
  of a local directory, a SHA-256 of its ``config.json`` and weight files (directories over
  ``FINGERPRINT_MAX_BYTES`` are identified by their resolved path, sizes and mtimes instead).
  Content, not path: ``spacy.load`` points each component at its own copy of a small base inside
  the pipeline directory, and those copies must still share.
- **Unmerged LoRA only**: merging would bake one adapter into the shared weights. Other adapters
  are refused with a coded error naming the fix (``share_base = false`` for a private copy):
  prefix tuning and other non-LoRA peft types (E640), tag-token adapters, which grow the
  embeddings and the tokenizer (E641), and a component whose tokenizer's vocabulary differs from
  the shared base's (E642). Refusing, not silently falling back to a private copy: a user who
  asked for sharing learns at load time that memory will not be saved, and why.
- **Locking**: ``activate`` holds the base's re-entrant lock from switching the adapter until the
  caller is done, so two components never interleave on the shared module (each component's
  call runs as a whole; calls of different components are serialised).
- **Lifetime**: the registry holds handles weakly; a handle (base and adapters) is freed when the
  last component holding it is. Adapters of freed components stay loaded while the handle lives.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError
from .loading import adapter_mismatch, check_adapter_dir, load_model, load_tokenizer
from .meta import read_peft_config
from .precision import pick_device_dtype

logger = logging.getLogger("spacy_llmner")

FINGERPRINT_MAX_BYTES = 4 * 1024**3  # hash local bases up to 4 GiB (~2 s/GiB); larger: path + stat
_WEIGHT_SUFFIXES = (".safetensors",)


@dataclass(frozen=True)
class BaseKey:
    """What must be equal for two components to share one loaded base."""

    identity: str
    device: str
    dtype: str
    trust_remote_code: bool


_fingerprints: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}
_registry: weakref.WeakValueDictionary[BaseKey, SharedBase] = weakref.WeakValueDictionary()
_registry_lock = threading.Lock()
# Bases loaded by this module, for tests and the benchmark (a shared base counts once).
load_count = 0


def base_identity(name: str) -> str:
    """A hub id as it is; a local directory by the content of its config and weights."""
    path = Path(name)
    if not path.is_dir():
        return f"hub:{name}"
    files = sorted(
        p for p in path.iterdir() if p.is_file() and (p.name == "config.json" or p.suffix in _WEIGHT_SUFFIXES)
    )
    stat = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    cache_key = (str(path.resolve()), stat)
    if cache_key in _fingerprints:
        return _fingerprints[cache_key]
    if sum(size for _, size, _ in stat) > FINGERPRINT_MAX_BYTES:
        identity = "path:" + json.dumps(cache_key)
    else:
        digest = hashlib.sha256()
        for p in files:
            digest.update(p.name.encode("utf8") + b"\0")
            with p.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        identity = "sha256:" + digest.hexdigest()
    _fingerprints[cache_key] = identity
    return identity


def adapter_name_for(path: str | Path) -> str:
    """A peft-safe adapter name for an adapter directory (module keys may not contain dots)."""
    return "a_" + hashlib.sha256(str(Path(path).resolve()).encode("utf8")).hexdigest()[:16]


def check_shareable(path: str | Path) -> None:
    """Refuse adapters that cannot share a base (E640 non-LoRA / prefix, E641 tag tokens)."""
    path = Path(path)
    meta = check_adapter_dir(path)
    method = meta.get("peft_method", "lora")
    cfg = read_peft_config(path)
    peft_type = str(cfg.get("peft_type", "LORA"))
    if method != "lora" or peft_type != "LORA":
        kind = "prefix-tuned" if method == "prefix" or peft_type == "PREFIX_TUNING" else f"a {peft_type} adapter"
        raise LLMNERError(Errors.E640.format(path=path, kind=kind))
    if meta.get("tag_tokens") or cfg.get("trainable_token_indices"):
        raise LLMNERError(Errors.E641.format(path=path))


def _vocab_fingerprint(tokenizer: Any) -> tuple[int, str]:
    vocab = sorted(tokenizer.get_vocab().items())
    return len(vocab), hashlib.sha256(json.dumps(vocab, ensure_ascii=False).encode("utf8")).hexdigest()


class SharedBase:
    """One loaded base (+ one ``PeftModel`` holding named LoRA adapters); see the module doc."""

    def __init__(self, key: BaseKey, name: str, model: Any, tokenizer: Any) -> None:
        self.key = key
        self.name = name  # where it was first loaded from
        self._base = model  # the transformers model; LoRA layers are injected into it in place
        self._peft: Any = None
        self.tokenizer = tokenizer
        self._vocab = _vocab_fingerprint(tokenizer)
        self.adapters: dict[str, str] = {}  # name -> resolved adapter directory
        self.lock = threading.RLock()

    @property
    def model(self) -> Any:
        """The transformers module every component runs (the same object before and after
        adapters are added). Only use it inside ``activate``: which adapter is on depends on it."""
        return self._base

    def check_tokenizer(self, tokenizer: Any, name: str) -> None:
        """A component's own tokenizer must map text to the same ids as the base's (E642)."""
        got = _vocab_fingerprint(tokenizer)
        if got != self._vocab:
            reason = f"{got[0]} tokens vs {self._vocab[0]}" if got[0] != self._vocab[0] else "same size, other ids"
            raise LLMNERError(Errors.E642.format(name=name, first=self.name, reason=reason))

    def add_adapter(self, name: str, path: str | Path) -> str:
        """Load the LoRA adapter at ``path`` under ``name`` (no-op if already there); returns ``name``."""
        from peft import PeftModel

        check_shareable(path)
        resolved = str(Path(path).resolve())
        with self.lock:
            if name in self.adapters:
                if self.adapters[name] != resolved:
                    raise LLMNERError(Errors.E643.format(name=name, loaded=self.adapters[name], path=path))
                return name
            try:
                if self._peft is None:
                    self._peft = PeftModel.from_pretrained(
                        self._base, str(path), adapter_name=name, is_trainable=False
                    )
                else:
                    self._peft.load_adapter(str(path), adapter_name=name, is_trainable=False)
            except Exception as err:  # noqa: BLE001 - size mismatches, missing modules
                raise adapter_mismatch(Path(path), self.name, err) from err
            self._peft.to(self._device).eval()
            self.adapters[name] = resolved
        return name

    @property
    def _device(self) -> Any:
        return next(self._base.parameters()).device

    @contextmanager
    def activate(self, name: str | None) -> Iterator[Any]:
        """Hold the base, with adapter ``name`` on (None: the base alone), and yield the module."""
        with self.lock:
            if name is not None and name not in self.adapters:
                raise LLMNERError(Errors.E644.format(name=name, names=sorted(self.adapters)))
            if self._peft is None:
                yield self._base
            elif name is None:
                with self._peft.disable_adapter():
                    yield self._base
            else:
                self._peft.set_adapter(name, inference_mode=True)
                yield self._base


def acquire_base(
    name: str, device: str | None = None, dtype: str | None = None, trust_remote_code: bool = False
) -> SharedBase:
    """The shared base for these settings, loading it if no live component holds it yet."""
    global load_count
    dev, dt = pick_device_dtype(device, dtype)
    key = BaseKey(base_identity(str(name)), str(dev), str(dt), bool(trust_remote_code))
    with _registry_lock:
        handle = _registry.get(key)
        if handle is None:
            tokenizer = load_tokenizer(str(name), trust_remote_code)
            model = load_model(str(name), None, dev, dt, trust_remote_code, merge=False)
            handle = SharedBase(key, str(name), model, tokenizer)
            _registry[key] = handle
            load_count += 1
            logger.info("Loaded shared base %s on %s (%s).", name, dev, dt)
        return handle


__all__ = [
    "BaseKey",
    "SharedBase",
    "acquire_base",
    "adapter_name_for",
    "base_identity",
    "check_shareable",
]
