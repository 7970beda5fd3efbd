"""Kept where it was: ``llmner_phi_gate`` now lives in ``spacy_llmner/textcat/gate.py``.

The target of the ``spacy_factories`` entry point of installs made before the move, which spaCy
imports for every ``Language``; so it stays, as a re-export.
"""

from ..textcat.gate import GATE_FACTORY, PHIGate, make_phi_gate

__all__ = ["GATE_FACTORY", "PHIGate", "make_phi_gate"]
