"""Label ↔ Presidio entity names. Our HIPAA labels already use Presidio's names where they exist."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

#: The HIPAA Safe Harbor label set (DESIGN §7); the prompting presets are the source of truth
#: for descriptions, this tuple only lists names so the Presidio layer needs no model code.
HIPAA_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "LOCATION",
    "DATE_TIME",
    "AGE",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "URL",
    "IP_ADDRESS",
    "US_SSN",
    "MEDICAL_RECORD_NUMBER",
    "HEALTH_PLAN_ID",
    "ACCOUNT_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_DRIVER_LICENSE",
    "LICENSE_NUMBER",
    "VEHICLE_ID",
    "DEVICE_ID",
    "Rx_NUMBER",
    "ORDER_NUMBER",
    "ORGANIZATION",
)

#: Presidio's built-in entity names → ours, for comparing Presidio's default analyzer with a
#: pipeline (benchmarks). Names absent here (NRP, US_PASSPORT, CRYPTO, ...) have no HIPAA label.
PRESIDIO_TO_HIPAA: dict[str, str] = {
    **{name: name for name in HIPAA_ENTITIES},
    "US_BANK_NUMBER": "ACCOUNT_NUMBER",
    "MEDICAL_LICENSE": "LICENSE_NUMBER",
}


def resolve_mapping(
    labels: Iterable[str] | None, entity_mapping: Mapping[str, str] | None
) -> dict[str, str]:
    """Our label → Presidio name: identity unless ``entity_mapping`` says otherwise."""
    mapping = {label: label for label in labels or ()}
    mapping.update(entity_mapping or {})
    return mapping
