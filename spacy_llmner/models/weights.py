"""A base with its adapter, in memory and on disk: the one way every component does it.

``HF.v1`` (``models/hf.py``), the ``llm_textcat_head`` component (``textcat/component.py``) and
any later component hold their weights the same way:

- **load**: ``load_weights`` gives the tokenizer and the model, either a private copy (the
  adapter merged when asked) or the process-wide shared base (``models/shared.py``) with the
  adapter added unmerged under its own name and switched on by ``activated`` (``HoldsWeights`` gives a component both);
- **save**: ``save_weights`` copies a small local base (``files.base_is_embeddable``) and the
  adapter directory into the component's directory and writes ``cfg.json`` naming them, so
  ``spacy.load`` works on another machine; ``read_weights`` points back at those copies;
- **bytes**: ``dir_to_bytes`` / ``dir_from_bytes`` carry such a directory through
  ``to_bytes`` / ``from_bytes``.

Weights load lazily: nothing here runs at config resolution.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import srsly

from .files import base_is_embeddable, copy_dir

# What a component writes in its directory (``read_weights`` reads the same).
CFG_FILE = "cfg.json"
BASE_DIR = "base"
ADAPTER_DIR = "adapter"


@dataclass
class LoadedWeights:
    """A loaded base (+ adapter): its tokenizer and module, and, on a shared base, the handle
    and this component's adapter name (``None``: the base alone)."""

    tokenizer: Any
    model: Any
    shared: Any = None  # shared.SharedBase when loaded with share_base
    adapter_name: str | None = None


def activated(shared: Any, adapter_name: str | None) -> AbstractContextManager[Any]:
    """For one whole call: hold a shared base (``LoadedWeights.shared``) with the component's
    adapter on (``None``: the base alone); a private copy (``shared`` None) needs nothing."""
    if shared is None:
        return nullcontext()
    return cast(AbstractContextManager[Any], shared.activate(adapter_name))


class HoldsWeights:
    """What every component that loads through ``load_weights`` does with what it loaded: its
    ``load`` sets ``_shared`` and ``_adapter_name`` from ``LoadedWeights``; this class gives the
    context that runs a call on them and the shared base (None unless ``share_base``)."""

    _shared: Any = None  # shared.SharedBase when loaded with share_base
    _adapter_name: str | None = None

    def load(self) -> None:
        raise NotImplementedError

    def _activated(self) -> AbstractContextManager[Any]:
        """With a shared base: hold it, with this component's adapter on, for the whole call."""
        return activated(self._shared, self._adapter_name)

    @property
    def shared_base(self) -> Any:
        """The ``shared.SharedBase`` this component runs on (None unless ``share_base``)."""
        self.load()
        return self._shared


def load_weights(
    name: str,
    adapter: str | None,
    *,
    device: str | None,
    dtype: str | None,
    trust_remote_code: bool,
    merge: bool,
    share_base: bool,
    quantize: str | None = None,
) -> LoadedWeights:
    """The base at ``name`` with ``adapter`` (or none): a private copy on ``device``/``dtype``
    (merged when ``merge``), or, with ``share_base``, the process-wide base with the adapter
    added unmerged (coded errors for adapters that cannot share: E640, E641, E642). ``quantize``
    ("int8") applies to the private copy only, after the adapter is merged."""
    from .loading import load_model, load_tokenizer
    from .precision import pick_device_dtype

    if share_base:
        from .shared import acquire_base, adapter_name_for, check_shareable

        if adapter:
            check_shareable(adapter)  # before the base loads: refuse early
        tokenizer = load_tokenizer(name, trust_remote_code)
        handle = acquire_base(name, device, dtype, trust_remote_code)
        handle.check_tokenizer(tokenizer, name)
        adapter_name = handle.add_adapter(adapter_name_for(adapter), adapter) if adapter else None
        # The component holds the handle: the registry only holds it weakly.
        return LoadedWeights(tokenizer, handle.model, handle, adapter_name)
    dev, dt = pick_device_dtype(device, dtype)
    tokenizer = load_tokenizer(name, trust_remote_code)
    model = load_model(name, adapter, dev, dt, trust_remote_code, merge, tokenizer=tokenizer)
    if quantize == "int8":
        from .precision import quantize_int8

        model = quantize_int8(model)
    return LoadedWeights(tokenizer, model)


def save_weights(
    path: Path, name: str, adapter: str | None, embed_base_max_mb: int, save_adapter: Callable[[Path], None] | None = None
) -> dict[str, str | None]:
    """Copy the base (when small and local) and the adapter into ``path``; returns the cfg
    entries ``base`` and ``adapter`` (directory names inside ``path``, or None). Saving over the
    component's own directory keeps what is there. ``save_adapter`` writes an adapter that has no
    directory yet (an untrained head) into the one it is given."""
    path.mkdir(parents=True, exist_ok=True)
    base_dir, adapter_dir = path / BASE_DIR, path / ADAPTER_DIR
    base_is_here = base_dir.resolve() == Path(name).resolve()  # saved over its own dir
    base: str | None = None
    if base_is_embeddable(name, embed_base_max_mb) and not base_is_here:
        copy_dir(Path(name), base_dir)
        base = BASE_DIR
    elif base_dir.is_dir() and base_is_here:
        base = BASE_DIR
    saved: str | None = None
    if adapter:
        if adapter_dir.resolve() != Path(adapter).resolve():
            copy_dir(Path(adapter), adapter_dir)
        saved = ADAPTER_DIR
    elif save_adapter is not None:
        save_adapter(adapter_dir)
        saved = ADAPTER_DIR
    return {"base": base, "adapter": saved}


def write_cfg(path: Path, cfg: dict[str, Any]) -> None:
    srsly.write_json(path / CFG_FILE, cfg)


def read_weights(path: Path) -> tuple[dict[str, Any], str | None, str | None]:
    """``(cfg, base, adapter)`` of a saved component: the base and adapter as paths inside
    ``path``, or None where the component saved none (a hub base, no adapter)."""
    cfg = srsly.read_json(path / CFG_FILE)
    base = str(path / cfg["base"]) if cfg.get("base") else None
    adapter = str(path / cfg["adapter"]) if cfg.get("adapter") else None
    return cfg, base, adapter


def dir_to_bytes(write: Callable[[Path], None]) -> bytes:
    """Every file that ``write`` puts in a fresh directory, as msgpack bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp))
        files = {str(f.relative_to(tmp)): f.read_bytes() for f in Path(tmp).rglob("*") if f.is_file()}
    return cast(bytes, srsly.msgpack_dumps(files))


def dir_from_bytes(data: bytes) -> Path:
    """Unpack ``dir_to_bytes`` output into a new directory that outlives the call (weights load
    from it lazily); the caller keeps the path."""
    target_dir = Path(tempfile.mkdtemp(prefix="spacy_llmner_"))
    for rel, content in srsly.msgpack_loads(data).items():
        target = target_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return target_dir


__all__ = [
    "ADAPTER_DIR", "BASE_DIR", "CFG_FILE", "LoadedWeights", "activated", "dir_from_bytes", "dir_to_bytes", "load_weights",
    "read_weights", "save_weights", "write_cfg",
]
