"""Small local base models: a byte-level BPE tokenizer trained on given text + a tiny config.

No hub here, so tests and the offline workflow build their base model in-process. Two
architectures (Qwen2 with a ChatML template, Llama with a Mistral-style ``[INST]`` template), so
the code paths real hub models take (different templates, EOS handling) are exercised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import Errors, LLMNERError

Arch = Literal["qwen2", "llama"]

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
INST_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% else %}{{ message['content'] + eos_token }}{% endif %}"
    "{% endfor %}"
)

_SPECIALS: dict[str, dict[str, str]] = {
    "qwen2": {"pad": "<|endoftext|>", "eos": "<|im_end|>", "bos": "<|endoftext|>"},
    "llama": {"pad": "<unk>", "eos": "</s>", "bos": "<s>"},
}
_EXTRA: dict[str, list[str]] = {"qwen2": ["<|im_start|>"], "llama": ["[INST]", "[/INST]"]}


@dataclass(frozen=True)
class TinyConfig:
    """Sizes of a tiny decoder; validated so a bad combination fails here, not inside torch."""

    arch: Arch = "qwen2"
    hidden_size: int = 64
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 128
    max_positions: int = 4096
    seed: int = 0
    # RoPE base; a large one keeps the copy-ready induction head position-independent.
    rope_theta: float = 10000.0
    # "random" (the usual init) or "copy" (spacy_llmner.tinybase.copy_init: starts out copying).
    init: Literal["random", "copy"] = "random"

    def __post_init__(self) -> None:
        if self.arch not in _SPECIALS:
            raise LLMNERError(
                Errors.E011.format(name="arch", value=self.arch, hint="Use 'qwen2' or 'llama'.")
            )
        if self.hidden_size % self.num_heads or self.num_heads % self.num_kv_heads:
            raise LLMNERError(
                Errors.E011.format(
                    name="num_heads",
                    value=(self.hidden_size, self.num_heads, self.num_kv_heads),
                    hint="hidden_size must divide by num_heads, num_heads by num_kv_heads.",
                )
            )
        if self.init not in ("random", "copy"):
            raise LLMNERError(
                Errors.E011.format(name="init", value=self.init, hint="Use 'random' or 'copy'.")
            )
        if self.init == "copy":
            from .copy_init import check_shape

            check_shape(self.hidden_size, self.num_heads, self.num_kv_heads, self.num_layers)


def tag_tokens(labels: Iterable[str]) -> list[str]:
    """One token per tag: ``<L>``, `` <L>`` (an entity after a space) and ``</L>``.

    A hub tokenizer splits a tag into pieces (`` <``, ``PERSON``, ``>``) and fuses its ``>`` with
    the punctuation after it (``>,``); the small base learns faster when deciding on a tag is one
    choice and the text after it is tokenized as in the source.
    """
    out: list[str] = []
    for label in labels:
        out += [f" <{label}>", f"<{label}>", f"</{label}>"]
    return out


def train_tokenizer(
    texts: Iterable[str], arch: Arch = "qwen2", vocab_size: int = 1000, tags: Sequence[str] = ()
) -> Any:
    """A byte-level BPE tokenizer (every byte is a token, so any text round-trips).

    ``tags`` (see ``tag_tokens``) become added tokens: plain text, not special, matched before
    pre-tokenization, so they stay whole when ``AutoTokenizer`` reloads the tokenizer as the
    architecture's own class.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    sp = _SPECIALS[arch]
    specials = list(dict.fromkeys([sp["pad"], sp["bos"], sp["eos"], *_EXTRA[arch]]))
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=sp["bos"],
        eos_token=sp["eos"],
        pad_token=sp["pad"],
        additional_special_tokens=_EXTRA[arch],
    )
    if tags:
        fast.add_tokens([AddedToken(t, special=False, normalized=False) for t in tags])
    fast.chat_template = CHATML_TEMPLATE if arch == "qwen2" else INST_TEMPLATE
    return fast


def build_model(tokenizer: Any, config: TinyConfig | None = None) -> Any:
    """A randomly initialised causal LM of the given architecture, sized for the tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    cfg = config or TinyConfig()
    common: dict[str, Any] = dict(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads,
        max_position_embeddings=cfg.max_positions,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
        rope_theta=cfg.rope_theta,
    )
    hf_config: Qwen2Config | LlamaConfig
    if cfg.arch == "qwen2":
        hf_config = Qwen2Config(**common)
    else:  # the copy-ready init sets query/key biases, which Llama has only when asked
        hf_config = LlamaConfig(**common, attention_bias=cfg.init == "copy")
    torch.manual_seed(cfg.seed)
    model = AutoModelForCausalLM.from_config(hf_config)
    if cfg.init == "copy":
        from .copy_init import copy_ready_init

        copy_ready_init(model, tokenizer)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def save(model: Any, tokenizer: Any, path: str | Path) -> Path:
    """Save in the standard layout (safetensors), loadable with ``from_pretrained``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    return path
