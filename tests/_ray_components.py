"""Test components for the Ray runner, importable in Ray workers with ``code=`` / ``--code``.

Registers the scripted NER (``_presidio_scripted``) and a fault injector: after ``after`` docs in
one process it claims ``flag`` (an atomic rename, so exactly one process wins) and kills its
process with ``os._exit``; a doc containing ``BOOM`` raises (with the text in the message, which
must not reach the error file); ``delay`` slows each doc down.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import _presidio_scripted  # noqa: E402,F401 - registers the scripted NER factory
from spacy.language import Language  # noqa: E402
from spacy.tokens import Doc  # noqa: E402

FAULTS = "llmner_test_faults"


@Language.factory(FAULTS, default_config={"flag": "", "after": 0, "delay": 0.0})
def make_faults(nlp: Language, name: str, flag: str, after: int, delay: float) -> Faults:
    return Faults(flag, after, delay)


class Faults:
    """Kill this process once (flag file), raise on BOOM, sleep per doc."""

    def __init__(self, flag: str, after: int, delay: float) -> None:
        self.flag, self.after, self.delay, self.seen = flag, after, delay, 0

    def __call__(self, doc: Doc) -> Doc:
        self.seen += 1
        if self.delay:
            time.sleep(self.delay)
        if "BOOM" in doc.text:
            raise ValueError(f"cannot handle {doc.text!r}")
        if self.flag and self.seen > self.after and os.path.exists(self.flag):
            try:
                os.rename(self.flag, self.flag + ".claimed")
            except FileNotFoundError:
                return doc
            os._exit(1)
        return doc


def make_nlp(flag: str = "", after: int = 0, delay: float = 0.0) -> Language:
    """The scripted NER followed by the fault injector."""
    nlp = _presidio_scripted.make_nlp()
    nlp.add_pipe(FAULTS, config={"flag": flag, "after": after, "delay": delay})
    return nlp
