"""Safe loading of a base model, its tokenizer and an optional peft adapter.

safetensors only (pickle checkpoints can execute code), ``trust_remote_code`` off unless the
user turns it on, and coded errors for the mistakes users make: missing adapter files, an
adapter for another base, a pickle-only checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError
from .meta import ADAPTER_FILES, PEFT_WEIGHTS, AdapterMeta, read_adapter_meta, read_peft_config
from .tag_tokens import restore_tag_tokens

_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")


def check_local_weights(path: Path) -> None:
    """A local model dir must carry safetensors; refuse pickle-only checkpoints."""
    if not path.is_dir():
        return
    if any(path.glob("*.safetensors")):
        return
    pickles = sorted(p.name for p in path.iterdir() if p.suffix in _PICKLE_SUFFIXES)
    if pickles:
        raise LLMNERError(Errors.E007.format(path=path, files=", ".join(pickles)))


def check_adapter_dir(path: Path) -> AdapterMeta:
    """Adapter files present? Returns the adapter's spacy_llmner metadata (may be empty)."""
    if not path.is_dir():
        raise LLMNERError(Errors.E008.format(path=path, missing="the directory itself"))
    missing = [f for f in ADAPTER_FILES if not (path / f).exists()]
    if missing:
        if (path / "adapter_model.bin").exists() and PEFT_WEIGHTS in missing:
            raise LLMNERError(Errors.E007.format(path=path, files="adapter_model.bin"))
        raise LLMNERError(Errors.E008.format(path=path, missing=", ".join(missing)))
    return read_adapter_meta(path)


def load_tokenizer(name: str, trust_remote_code: bool) -> Any:
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(name, trust_remote_code=trust_remote_code)
    except Exception as err:  # noqa: BLE001 - rewrap with the fix
        raise LLMNERError(Errors.E006.format(name=name, reason=f"{type(err).__name__}: {err}")) from err
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return tok


def from_pretrained(auto_class: Any, name: str, trust_remote_code: bool, **kwargs: Any) -> Any:
    """``auto_class.from_pretrained`` the safe way, for every model this package loads: local
    pickle-only checkpoints refused (E007), safetensors only, failures rewrapped with the fix (E006)."""
    check_local_weights(Path(name))
    try:
        return auto_class.from_pretrained(name, use_safetensors=True, trust_remote_code=trust_remote_code, **kwargs)
    except LLMNERError:
        raise
    except Exception as err:  # noqa: BLE001 - rewrap with the fix
        raise LLMNERError(Errors.E006.format(name=name, reason=f"{type(err).__name__}: {err}")) from err


def load_model(
    name: str,
    adapter: str | None,
    device: Any,
    dtype: Any,
    trust_remote_code: bool,
    merge: bool,
    tokenizer: Any = None,
) -> Any:
    """Base (+ adapter, merged for inference when ``merge``) in eval mode on ``device``.

    An adapter trained with its tags as tokens adds them to ``tokenizer`` (the base's, loaded
    by the caller) and grows the embeddings first (``tag_tokens.py``)."""
    from transformers import AutoModelForCausalLM

    model = from_pretrained(AutoModelForCausalLM, name, trust_remote_code, dtype=dtype)
    if adapter:
        meta = check_adapter_dir(Path(adapter))
        if meta.get("tag_tokens"):
            if tokenizer is None:
                raise LLMNERError(
                    Errors.E011.format(
                        name="tokenizer", value=None, hint="This adapter adds tag tokens; pass the base's tokenizer."
                    )
                )
            restore_tag_tokens(tokenizer, model, meta, adapter)
        model = attach_adapter(model, Path(adapter), name, merge)
    return model.to(device).eval()


def adapter_mismatch(path: Path, base_name: str, err: Exception) -> LLMNERError:
    """E009: peft could not put the adapter at ``path`` on ``base_name`` (another base, another
    size); the message names the adapter's own base and type from its config."""
    cfg = read_peft_config(path)
    return LLMNERError(
        Errors.E009.format(
            path=path,
            adapter_base=cfg.get("base_model_name_or_path"),
            adapter_type=cfg.get("peft_type"),
            base=base_name,
            reason=f"{type(err).__name__}: {str(err)[:300]}",
        )
    )


def attach_adapter(model: Any, path: Path, base_name: str, merge: bool) -> Any:
    from peft import PeftModel

    check_adapter_dir(path)
    try:
        peft_model = PeftModel.from_pretrained(model, str(path), is_trainable=False)
    except Exception as err:  # noqa: BLE001 - size mismatches, missing modules
        raise adapter_mismatch(path, base_name, err) from err
    if merge and not peft_model.active_peft_config.is_prompt_learning:
        return peft_model.merge_and_unload()
    return peft_model  # prefix tuning has nothing to merge: peft prepends its keys/values
