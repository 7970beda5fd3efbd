"""What a tagged span may be, after the model has spoken (pure: no torch, no spaCy).

Two filters, applied by the task to every answer (constrained or parsed):

- ``sanity``: spans that no label can mean (punctuation or whitespace only) are dropped, and a
  span that runs across a blank line is cut at it. On by default (``drop_nonsense``).
- ``policy``: which entities a de-identification rule wants removed. ``"safe_harbor"`` keeps
  what the HIPAA Safe Harbor rule lists and leaves the rest untagged: ages of 89 and under and
  times of day are not identifiers under it. ``None`` keeps Presidio's general meaning of every
  label (every age, every time).
"""

from .policies import POLICIES, SpanPolicy, apply_policy, get_policy
from .sanity import clean_span, clean_spans

__all__ = ["POLICIES", "SpanPolicy", "apply_policy", "clean_span", "clean_spans", "get_policy"]
