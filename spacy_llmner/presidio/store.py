"""A surrogate store: the same real value gets the same ``<LABEL_n>`` across records, files and runs.

It is a :class:`~.operators.SurrogateTable` kept on disk, so ``anonymize --surrogate-store``
numbers as a file-scope table would, but the numbering carries over to the next file and the
next run, and ``deanonymize --surrogate-store`` can put the real values back.

The store holds personal data (every real value it has seen), so it is encrypted at rest:
AES-256-GCM under a key derived (HKDF-SHA256) from the user's key (``SPACY_LLMNER_KEY``), with a
fresh nonce per save. The key is never written anywhere. GCM authenticates the file, so a wrong
key or a changed file is a coded error (E220), never a silently empty or wrong mapping. Saves are
atomic (temp file + rename), so a crash leaves the previous store. docs/presidio.md says what
this protects against and what it does not.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..errors import Errors, LLMNERError
from .operators import DEFAULT_TEMPLATE, SurrogateTable, _normalize, check_key

#: File header: names the format, so another file is E224 rather than a decryption failure.
MAGIC = b"SPACY-LLMNER-SURROGATES-1\n"
_NONCE = 12
_INFO = b"spacy_llmner surrogate store v1"
#: ``<LABEL_n>`` as ``DEFAULT_TEMPLATE`` writes it (labels are XML names, see the tagging spec).
SURROGATE_RE = re.compile(r"<([A-Za-z_][\w.\-]*)_(\d+)>")


def _derive(key: str | bytes | None) -> bytes:
    """A 256-bit store key from the user's AES key (so the raw key is not reused as is)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = check_key(key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(raw)


class SurrogateStore(SurrogateTable):
    """A persistent, encrypted :class:`SurrogateTable` that can also map surrogates back.

    :param path: the store file (created on the first :meth:`save` if it does not exist).
    :param key: the AES key (16, 24 or 32 bytes), e.g. from ``SPACY_LLMNER_KEY``.
    """

    def __init__(self, path: str | Path, key: str | bytes | None) -> None:
        super().__init__()
        self.path = Path(path)
        self._key = _derive(key)
        self._original: dict[tuple[str, int], str] = {}
        self._dirty = False
        if self.path.exists():
            self._load()

    # -- the table ------------------------------------------------------------------------
    def index(self, entity_type: str, value: str) -> int:
        """The value's number (assigned on first sight, then kept for good)."""
        before = len(self._index)
        number = super().index(entity_type, value)
        if len(self._index) != before:
            self._original[(entity_type, number)] = value
            self._dirty = True
        return number

    def original(self, entity_type: str, number: int) -> str | None:
        """The real value behind ``<entity_type_number>`` (its first spelling), if known."""
        return self._original.get((entity_type, number))

    def reverse(self, text: str) -> tuple[str, int, int]:
        """``text`` with every known ``<LABEL_n>`` put back; (text, replaced, unknown)."""
        replaced = unknown = 0

        def swap(match: re.Match[str]) -> str:
            nonlocal replaced, unknown
            value = self.original(match.group(1), int(match.group(2)))
            if value is None:
                unknown += 1
                return match.group(0)
            replaced += 1
            return value

        return SURROGATE_RE.sub(swap, text), replaced, unknown

    # -- disk -----------------------------------------------------------------------------
    def _load(self) -> None:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            blob = self.path.read_bytes()
        except OSError as err:
            raise LLMNERError(Errors.E224.format(path=self.path, reason=type(err).__name__)) from None
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + _NONCE + 16:
            raise LLMNERError(Errors.E224.format(path=self.path, reason="no store header"))
        nonce = blob[len(MAGIC) : len(MAGIC) + _NONCE]
        try:
            plain = AESGCM(self._key).decrypt(nonce, blob[len(MAGIC) + _NONCE :], MAGIC)
        except InvalidTag:
            reason = "wrong key, or the file was changed"
            raise LLMNERError(Errors.E220.format(path=self.path, reason=reason)) from None
        data = json.loads(plain.decode("utf-8"))
        for entity_type, number, value in data["entries"]:
            self._index[(entity_type, _normalize(value))] = number
            self._count[entity_type] = max(self._count.get(entity_type, 0), number)
            self._original[(entity_type, number)] = value

    def save(self) -> None:
        """Write the store (atomically) if it changed since it was loaded or last saved."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        from ..corpus.formats import atomic_output

        if not self._dirty and self.path.exists():
            return
        entries = [[t, n, v] for (t, n), v in sorted(self._original.items())]
        plain = json.dumps({"entries": entries, "template": DEFAULT_TEMPLATE}, ensure_ascii=False)
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(self._key).encrypt(nonce, plain.encode("utf-8"), MAGIC)
        with atomic_output(self.path, binary=True, mode=0o600) as out:  # personal data: owner only
            out.write(MAGIC + nonce + sealed)
        self._dirty = False

    def stats(self) -> dict[str, Any]:
        """Counts per label (no values): what a CLI may print."""
        out: dict[str, int] = {}
        for entity_type, _ in self._original:
            out[entity_type] = out.get(entity_type, 0) + 1
        return out
