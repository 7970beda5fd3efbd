"""The training target for a template version: tagged text (v1, v2) or a JSON answer (json1).

The one place that pairs a prompt template with its answer format, so training renders what
the task of that template parses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..jsonner import render_answer
from ..jsonner.template import is_json_template
from ..tagging import CharSpan, render


def render_completion(
    text: str, spans: Sequence[CharSpan], labels: Mapping[str, str] | Sequence[str], template_version: str
) -> str:
    """What the model should answer for ``text`` with gold ``spans`` under this template."""
    if is_json_template(template_version):
        return render_answer(text, spans, list(labels))
    return render(text, spans)
