"""Gold spans -> the JSON answer a model is trained to write.

Only labels that have an entity are keys, in label-set order, and ``{}`` means none. The
seed's answer lists all ten keys every time; here that skeleton would be ~40 tokens decoded per
document for nothing (the parser reads both forms). A label's strings are listed once each, in
order of first appearance: the answer names strings, not occurrences; ``align.align_strings``
puts every occurrence back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from ..tagging import CharSpan


def render_answer(text: str, spans: Iterable[CharSpan], labels: Sequence[str]) -> str:
    """``{"label": ["string", ...], ...}`` as one-line JSON, non-ASCII kept as is."""
    found: dict[str, list[str]] = {}
    for start, end, label in sorted(spans):
        bucket = found.setdefault(label, [])
        if text[start:end] not in bucket:
            bucket.append(text[start:end])
    order = [label for label in labels if label in found] + [lab for lab in found if lab not in labels]
    return json.dumps({label: found[label] for label in order}, ensure_ascii=False, separators=(", ", ": "))
