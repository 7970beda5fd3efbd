"""The tokenizer's own tokenization of the rest of the source: the only copy a model was trained on.

The copy constraint lets any tokenization of the source through (``" Smith"`` or ``" S"`` +
``"mith"``). Every one of them writes the same text, but a model has only ever seen the one its
tokenizer produces; when a weak model hesitates, the constraint hands it a rare split, it goes off
the rails of its training data, and its next tag decisions suffer. Speculative copy pays too: a
split the draft did not propose ends the pass.

With ``copy_tokens="canonical"`` the automaton lets through, of the tokens that only copy, the
tokenizer's first token for the rest of the source, plus any shorter copy that ends where a tag
may go inside it (so no tag position is ever lost). Tags, and the end of the output, are not
restricted. The text written is the same by construction; only which decisions the model is asked
to make changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .vocab import Vocab


class CanonicalCopy:
    """Per document: the canonical next token at a byte position of the target (cached).

    ``at(pos)`` tokenizes a window of the target from ``pos`` and keeps the first token if its
    bytes are the target's (``None`` where that cannot be said: mid-character, or a tokenizer
    that prepends a space). The definition depends on ``pos`` only, so every decoder that asks
    gets the same answer, whatever order it asks in.
    """

    def __init__(self, target: bytes, tokenizer: Any, vocab: Vocab, window: int = 64) -> None:
        self.target = target
        self.tokenizer = tokenizer
        self.pieces = vocab.pieces
        self.window = max(window, 2 * vocab.trie.max_len)
        # At least the longest copy token and a margin (tags never copy: their length is moot).
        self.short = min(self.window, vocab.trie.max_copy_len + 8)
        self._cache: dict[int, int | None] = {}
        self._encode = fast_encoder(tokenizer)

    def at(self, pos: int) -> int | None:
        if pos not in self._cache:
            self._cache[pos] = self._first_token(pos)
        return self._cache[pos]

    def _first_token(self, pos: int) -> int | None:
        if pos >= len(self.target) or (self.target[pos] & 0xC0) == 0x80:
            return None  # the end, or the middle of a UTF-8 character
        end = min(len(self.target), pos + self.window)
        # Tokenizing costs by length and this runs once per output position: stop a little
        # after the first space that begins another word (pre-tokenizers split there, so the
        # first token is already decided), else at the full window.
        gap = self.target.find(b" ", pos + 1, end)
        while gap > 0 and gap + 1 < end and self.target[gap + 1] in b" \t\r\n":
            gap = self.target.find(b" ", gap + 1, end)
        if gap > 0 and gap + 8 < end:
            end = max(gap + 8, pos + self.short)
        chunk = self.target[pos:end]
        for cut in range(4):  # the window may end inside a character
            try:
                text = chunk[: len(chunk) - cut].decode("utf-8")
                break
            except UnicodeDecodeError:
                continue
        else:
            return None
        ids = self._encode(text)
        if not ids or (len(ids) == 1 and end < len(self.target)):
            return None  # the only token might be cut short by the window
        tid = ids[0]
        data = self.pieces[tid] if tid < len(self.pieces) else None
        if not data or not self.target.startswith(data, pos):
            return None
        return tid


_PROBE = "Dr. O'Neil-Smith, 42, e\u0301 <x> &amp; 03/14/2021\n\tCall 555-0100 ext. 12."


def fast_encoder(tokenizer: Any) -> Callable[[str], list[int]]:
    """The Rust tokenizer's ``encode`` where it gives the same ids as ``tokenizer.encode`` (a
    third of the cost: canonical copies and drafts tokenize once per output position or pass);
    else ``tokenizer.encode``."""

    def slow(text: str) -> list[int]:
        return list(tokenizer.encode(text, add_special_tokens=False))

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return slow

    def fast(text: str) -> list[int]:
        return list(backend.encode(text, add_special_tokens=False).ids)

    try:
        same = fast(_PROBE) == slow(_PROBE)
    except Exception:  # noqa: BLE001 - any backend quirk: stay on the public API
        same = False
    return fast if same else slow
