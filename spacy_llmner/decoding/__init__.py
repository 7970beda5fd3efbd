"""Copy-constrained decoding: vocabulary bytes + trie, the constraint automaton, two decoders.

``decode_reference`` (one pass per token) is the correctness reference; ``decode_batch`` (the
fast path: speculative copy, shared prefix cache, batched rows, restricted logits) must produce
identical output. Depends on torch and a tokenizer only.
"""

from .automaton import Automaton, Constraint, Event, State
from .fast import DecodeStats, FastDecoder, decode_batch
from .reference import decode_reference
from .result import DecodeResult, Tracker
from .vocab import Vocab, VocabTrie, token_bytes

__all__ = [
    "Automaton",
    "Constraint",
    "DecodeResult",
    "DecodeStats",
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
