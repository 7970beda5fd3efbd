"""Token ids as raw bytes, and a byte trie over the vocabulary.

Constrained decoding works on bytes: byte-level BPE (GPT-2/Qwen/Llama-3), SentencePiece
(``▁`` for spaces, ``<0xNN>`` byte fallback) and WordPiece-less HF tokenizers all reduce to the
bytes each token contributes to the output. Special tokens map to ``None`` (never copyable).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..tagging.labels import LABEL_PATTERN

_SP_BYTE = re.compile(r"<0x([0-9A-Fa-f]{2})>\Z")

_WHOLE_TAG = re.compile(rb" ?</?" + LABEL_PATTERN.encode() + rb">")


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's reversible byte↔unicode table, inverted."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    bs += list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def _decoder_kind(tokenizer: Any) -> str:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        spec = json.loads(backend.to_str())
        text = json.dumps(spec.get("decoder")) + json.dumps(spec.get("pre_tokenizer"))
        if "ByteLevel" in text:
            return "bytelevel"
        if "Metaspace" in text or "▁" in text or "ByteFallback" in text:
            return "sentencepiece"
    if hasattr(tokenizer, "sp_model"):
        return "sentencepiece"
    return "decode"


def token_bytes(tokenizer: Any) -> list[bytes | None]:
    """Bytes each token id contributes to the output text; ``None`` for special tokens."""
    size = len(tokenizer)
    special = set(getattr(tokenizer, "all_special_ids", []) or [])
    for tid, added in (getattr(tokenizer, "added_tokens_decoder", {}) or {}).items():
        if getattr(added, "special", False):
            special.add(int(tid))
    kind = _decoder_kind(tokenizer)
    pieces = tokenizer.convert_ids_to_tokens(list(range(size)))
    table = _byte_decoder()
    out: list[bytes | None] = []
    for tid, piece in enumerate(pieces):
        if tid in special or piece is None:
            out.append(None)
            continue
        if kind == "bytelevel" and all(ch in table for ch in piece):
            out.append(bytes(table[ch] for ch in piece))
        elif kind == "sentencepiece":
            m = _SP_BYTE.match(piece)
            out.append(bytes([int(m.group(1), 16)]) if m else piece.replace("▁", " ").encode())
        else:
            out.append(tokenizer.decode([tid], clean_up_tokenization_spaces=False).encode())
    return [b if b else None for b in out]


def leading_bytes(tokenizer: Any, pieces: list[bytes | None]) -> bytes:
    """Bytes the tokenizer puts before text on its own (SentencePiece's dummy-prefix space)."""
    ids = tokenizer.encode("x", add_special_tokens=False)
    got = b"".join(pieces[i] or b"" for i in ids)
    return got[:-1] if got.endswith(b"x") else b""


@dataclass
class VocabTrie:
    """A byte trie of token strings: node → {byte: child}; node → token ids ending there."""

    children: list[dict[int, int]] = field(default_factory=lambda: [{}])
    tokens: dict[int, list[int]] = field(default_factory=dict)
    max_len: int = 0
    # The longest token that can copy source text: the escaped source never contains ``<``, so
    # tokens with it (tags) never copy. Bounds how far one copy token can reach.
    max_copy_len: int = 0
    # Walks through tag bytes, shared by every document with the same tags (automaton._tag_walk).
    tag_walks: dict[tuple[Any, int, bytes], Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, pieces: list[bytes | None]) -> VocabTrie:
        trie = cls()
        for tid, data in enumerate(pieces):
            if not data:
                continue
            node = 0
            for b in data:
                nxt = trie.children[node].get(b)
                if nxt is None:
                    nxt = len(trie.children)
                    trie.children.append({})
                    trie.children[node][b] = nxt
                node = nxt
            trie.tokens.setdefault(node, []).append(tid)
            trie.max_len = max(trie.max_len, len(data))
            if b"<" not in data:
                trie.max_copy_len = max(trie.max_copy_len, len(data))
        return trie


@dataclass
class Vocab:
    """Everything decoding needs from a tokenizer, computed once per model."""

    pieces: list[bytes | None]
    trie: VocabTrie
    lead: bytes
    eos_ids: tuple[int, ...]

    @functools.cached_property
    def whole_tags(self) -> list[int]:
        """Ids of tokens that are one whole tag (``<L>``, `` <L>``, ``</L>``): what a tokenizer
        with tags as added tokens writes; the fast decoder's tag hints use them."""
        return [t for t, p in enumerate(self.pieces) if p and _WHOLE_TAG.fullmatch(p)]

    @classmethod
    def from_tokenizer(cls, tokenizer: Any, eos_ids: list[int]) -> Vocab:
        pieces = token_bytes(tokenizer)
        return cls(pieces, VocabTrie.build(pieces), leading_bytes(tokenizer, pieces), tuple(eos_ids))
