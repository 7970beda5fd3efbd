"""Scale-out runners on Ray Data (the optional ``ray`` extra): anonymize and evaluate corpora.

Importing this package does not import Ray; a run without it raises ``[E501]`` naming
``pip install spacy_llmner[ray]``. See docs/scale.md.
"""

from __future__ import annotations

from .anonymize import RunStats, anonymize_dataset
from .evaluate import evaluate_dataset

__all__ = ["RunStats", "anonymize_dataset", "evaluate_dataset"]
