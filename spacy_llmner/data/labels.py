"""Label names of the ``hipaa`` preset (HIPAA Safe Harbor, Presidio names where they exist).

``spacy_llmner.prompting.labels.HIPAA`` is the single source (names + prompt descriptions).
"""

from __future__ import annotations

from ..prompting.labels import HIPAA

HIPAA_LABELS: tuple[str, ...] = tuple(HIPAA)
