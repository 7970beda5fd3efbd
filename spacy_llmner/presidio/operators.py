"""HIPAA Safe Harbor operator presets, and the consistent-surrogate operator.

Every mode covers every HIPAA label and ``DEFAULT`` (so a label outside the preset is still
anonymized, never passed through):

- ``replace``: numbered placeholders, ``<PERSON_1>`` for every occurrence of one name and
  ``<PERSON_2>`` for another (``numbered=False``: plain ``<PERSON>``);
- ``mask``: every character of the value becomes ``masking_char`` (length kept);
- ``hash``: salted SHA-256; one salt per preset, so equal values hash equally (consistent
  within and across the documents anonymized with it, unlinkable to other runs);
- ``encrypt``: AES-CBC (Presidio's ``encrypt``), reversible with the key via
  :func:`~spacy_llmner.presidio.anonymize.deanonymize`.

Per-label overrides: pass ``overrides={"CREDIT_CARD": OperatorConfig("mask", {...})}`` or edit
the returned dict.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping

from presidio_anonymizer.entities import InvalidParamError, OperatorConfig
from presidio_anonymizer.operators import Operator, OperatorType

from ..errors import Errors, LLMNERError
from .mapping import HIPAA_ENTITIES

MODES: tuple[str, ...] = ("replace", "mask", "hash", "encrypt")
#: Operator name of :class:`Surrogate` (resolved per document by ``anonymize``).
SURROGATE = "surrogate"
DEFAULT_TEMPLATE = "<{entity_type}_{index}>"
_AES_KEY_BYTES = (16, 24, 32)
_MIN_SALT_BYTES = 16


def _normalize(value: str) -> str:
    """Values that differ only in case or spacing name the same thing."""
    return re.sub(r"\s+", " ", value).strip().casefold()


class SurrogateTable:
    """Numbers values per entity type in order of first appearance: same value, same number."""

    def __init__(self) -> None:
        self._index: dict[tuple[str, str], int] = {}
        self._count: dict[str, int] = {}

    def index(self, entity_type: str, value: str) -> int:
        """The value's number, assigning the next free one on first sight."""
        key = (entity_type, _normalize(value))
        if key not in self._index:
            self._count[entity_type] = self._count.get(entity_type, 0) + 1
            self._index[key] = self._count[entity_type]
        return self._index[key]

    def __len__(self) -> int:
        return len(self._index)


class Surrogate(Operator):
    """Replace a value by a numbered placeholder from a :class:`SurrogateTable`.

    ``anonymize`` fills the table in text order before Presidio runs (Presidio operates from
    the end of the text backwards) and passes it as the ``table`` parameter; without a table
    the operator falls back to ``<LABEL>``.
    """

    def operate(self, text: str | None = None, params: dict | None = None) -> str:  # noqa: D102
        params = params or {}
        entity_type = params.get("entity_type", "PII")
        table = params.get("table")
        if table is None:
            return f"<{entity_type}>"
        template = params.get("template", DEFAULT_TEMPLATE)
        return template.format(entity_type=entity_type, index=table.index(entity_type, text or ""))

    def validate(self, params: dict | None = None) -> None:  # noqa: D102
        params = params or {}
        template = params.get("template", DEFAULT_TEMPLATE)
        if not isinstance(template, str) or "{index}" not in template:
            raise InvalidParamError("surrogate template must be a string containing '{index}'")
        table = params.get("table")
        if table is not None and not isinstance(table, SurrogateTable):
            raise InvalidParamError("surrogate table must be a SurrogateTable")

    def operator_name(self) -> str:  # noqa: D102
        return SURROGATE

    def operator_type(self) -> OperatorType:  # noqa: D102
        return OperatorType.Anonymize


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf8") if isinstance(value, str) else bytes(value)


def check_key(key: str | bytes | None) -> bytes:
    """The AES key as bytes, or a coded error saying what is wrong with it."""
    if key is None or key == "" or key == b"":
        raise LLMNERError(Errors.E205.format(problem="no key was given"))
    raw = _as_bytes(key)
    if len(raw) not in _AES_KEY_BYTES:
        raise LLMNERError(Errors.E205.format(problem=f"the key has {len(raw)} bytes"))
    return raw


def _one(
    mode: str, *, key: bytes | None, salt: bytes | None, numbered: bool, masking_char: str
) -> OperatorConfig:
    if mode == "replace":
        if numbered:
            return OperatorConfig(SURROGATE, {"template": DEFAULT_TEMPLATE})
        return OperatorConfig("replace")  # Presidio writes <ENTITY_TYPE>
    if mode == "mask":
        return OperatorConfig(
            "mask", {"masking_char": masking_char, "chars_to_mask": sys.maxsize, "from_end": False}
        )
    if mode == "hash":
        return OperatorConfig("hash", {"hash_type": "sha256", "salt": salt})
    return OperatorConfig("encrypt", {"key": key})


def hipaa_operators(
    mode: str = "replace",
    *,
    key: str | bytes | None = None,
    salt: str | bytes | None = None,
    numbered: bool = True,
    masking_char: str = "*",
    overrides: Mapping[str, OperatorConfig] | None = None,
    entities: Iterable[str] = HIPAA_ENTITIES,
) -> dict[str, OperatorConfig]:
    """Operators for every HIPAA label and ``DEFAULT`` in one mode (see the module docstring).

    :param key: AES key (16, 24 or 32 bytes) for ``encrypt``.
    :param salt: hash salt (≥ 16 bytes); ``None`` draws a random one for this preset.
    :param numbered: ``replace`` with consistent ``<LABEL_n>`` surrogates (else ``<LABEL>``).
    :param overrides: per-label operators that replace the preset's.
    """
    if mode not in MODES:
        raise LLMNERError(Errors.E204.format(mode=mode, modes=", ".join(MODES)))
    raw_key = check_key(key) if mode == "encrypt" else None
    raw_salt = None
    if mode == "hash":
        raw_salt = os.urandom(32) if salt is None else _as_bytes(salt)
        if len(raw_salt) < _MIN_SALT_BYTES:
            raise LLMNERError(Errors.E206.format(n=len(raw_salt)))
    operator = _one(mode, key=raw_key, salt=raw_salt, numbered=numbered, masking_char=masking_char)
    operators = {entity: operator for entity in (*entities, "DEFAULT")}
    operators.update(overrides or {})
    return operators
