"""Label sets: presets shipped with the package and normalisation of user-given labels.

A label set is an ordered ``dict`` label → one-line description; the descriptions go into the
prompt, so the model learns what each tag means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Union

from ..errors import Errors, LLMNERError
from ..tagging.labels import is_valid_label, suggest_label
from .presets_zh import CLUENER

# HIPAA Safe Harbor identifiers, with Presidio's entity names where Presidio has one.
HIPAA: dict[str, str] = {
    "PERSON": "Name of a person (patient, relative, clinician or any other individual)",
    "LOCATION": "Street address, city, county, zip code or any geographic unit smaller than a state",
    "DATE_TIME": "Dates and times related to an individual (birth, admission, discharge, death, visits)",
    "AGE": "Age of a person",
    "PHONE_NUMBER": "Telephone, mobile or fax number",
    "EMAIL_ADDRESS": "Email address",
    "URL": "Web address (URL)",
    "IP_ADDRESS": "Internet protocol (IP) address",
    "US_SSN": "Social Security Number in the United States",
    "MEDICAL_RECORD_NUMBER": "Medical record number (MRN) or patient identifier",
    "HEALTH_PLAN_ID": "Health plan beneficiary or insurance member number",
    "ACCOUNT_NUMBER": "Bank or billing account number",
    "CREDIT_CARD": "Credit or debit card number",
    "IBAN_CODE": "International bank account number (IBAN)",
    "US_DRIVER_LICENSE": "Driver's license number in the United States",
    "LICENSE_NUMBER": "Certificate or license number (professional, DEA, other)",
    "VEHICLE_ID": "Vehicle identifier: VIN or license plate",
    "DEVICE_ID": "Device identifier or serial number (medical devices, implants, phones)",
    "Rx_NUMBER": "Number identifying a medical prescription",
    "ORDER_NUMBER": "Number identifying a retail or lab order",
    "ORGANIZATION": "Name of an organization (hospital, clinic, employer, insurer, company)",
}

PRESETS: dict[str, dict[str, str]] = {"hipaa": HIPAA, "cluener": CLUENER}

LabelsArg = Union[str, Sequence[str], Mapping[str, Union[str, None]]]


def _default_description(label: str) -> str:
    for preset in PRESETS.values():
        if label in preset:
            return preset[label]
    return label.replace("_", " ").replace("-", " ").replace(".", " ").strip().capitalize() or label


def resolve_labels(labels: LabelsArg) -> dict[str, str]:
    """Normalise a preset name, a comma-separated string, a list, or a label→description dict."""
    if isinstance(labels, str):
        if labels in PRESETS:
            return dict(PRESETS[labels])
        if "," not in labels and not is_valid_label(labels.strip()):
            raise LLMNERError(Errors.E001.format(name=labels, available=sorted(PRESETS)))
        items: dict[str, str | None] = {lab.strip(): None for lab in labels.split(",") if lab.strip()}
    elif isinstance(labels, Mapping):
        items = dict(labels)
    else:
        items = {lab: None for lab in labels}
    out: dict[str, str] = {}
    for label, description in items.items():
        if not isinstance(label, str) or not is_valid_label(label):
            raise LLMNERError(Errors.E002.format(label=label, suggestion=suggest_label(str(label))))
        out[label] = (description or "").strip() or _default_description(label)
    if not out:
        raise LLMNERError(Errors.E003)
    return out


def make_labels(preset: str = "hipaa") -> dict[str, str]:
    """Registered as ``spacy_llmner.labels.v1``: a preset as a config value."""
    return resolve_labels(preset)
