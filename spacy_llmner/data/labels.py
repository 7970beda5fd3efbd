"""Label names of the ``hipaa`` preset (HIPAA Safe Harbor, Presidio names where they exist).

Only the names live here; ``spacy_llmner.prompting`` owns the one-line descriptions used in prompts.
"""

from __future__ import annotations

HIPAA_LABELS: tuple[str, ...] = (
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
