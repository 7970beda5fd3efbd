"""The read side of spacy-llm's ``LabeledTask`` protocol, shared by the tasks that hold a
label → description dict in ``self._labels``; each task adds labels its own way."""

from __future__ import annotations


class LabelsView:
    _labels: dict[str, str]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self._labels)

    @property
    def label_dict(self) -> dict[str, str]:
        return dict(self._labels)
