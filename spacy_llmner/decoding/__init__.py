"""Copy-constrained decoding: vocabulary bytes + trie, the constraint automaton, two decoders.

``decode_reference`` (one pass per token) is the correctness reference; ``decode_batch`` (the
fast path: speculative copy, shared prefix cache, batched rows, restricted logits) must produce
identical output.

The core (automaton, vocabulary trie, canonical copies, results, the fast decoder's options and
drafting) is pure Python and imports neither torch nor spaCy; the decoders, which run a model,
are imported on first use. The JSON answer (template ``json1``) has its own automaton and
step-by-step decoder, built on this core, in ``spacy_llmner.jsonner``.
"""

from typing import Any

from .automaton import Automaton, Constraint, Event, State
from .options import SHARED_PREFIX, FastOptions
from .result import DecodeResult, DecodeStats, Tracker
from .vocab import Vocab, VocabTrie, token_bytes

_LAZY = {
    "FastDecoder": ".fast",
    "decode_batch": ".fast",
    "decode_reference": ".reference",
}


def __getattr__(name: str) -> Any:
    """The torch-backed decoders, imported when first asked for."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "SHARED_PREFIX",
    "Automaton",
    "Constraint",
    "DecodeResult",
    "DecodeStats",
    "FastOptions",
    "Event",
    "FastDecoder",
    "State",
    "Tracker",
    "Vocab",
    "VocabTrie",
    "decode_batch",
    "decode_reference",
    "token_bytes",
]
