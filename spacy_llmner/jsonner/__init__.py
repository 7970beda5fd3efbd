"""The seed's answer format: a JSON object label -> list of entity strings. Pure Python.

``render_answer(text, spans, labels)`` writes the training target from gold spans;
``parse_answer(raw, labels)`` reads model output tolerantly (never raises);
``align_strings(source, pairs)`` maps the strings back to character offsets (every occurrence,
overlaps resolved longest-first). Used by ``spacy_llmner.JSONNER.v1``.
"""

from .align import OCCURRENCE_POLICIES, AlignStats, align_strings
from .parse import parse_answer
from .render import render_answer

__all__ = ["OCCURRENCE_POLICIES", "AlignStats", "align_strings", "parse_answer", "render_answer"]
