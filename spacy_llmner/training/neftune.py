"""NEFTune (arXiv 2310.05914): uniform noise on the input embeddings while training.

Each embedding output gets ``Uniform(-m, m)`` noise with ``m = alpha / sqrt(seq_len * dim)``
when the embedding module is in training mode; evaluation and inference see clean embeddings.
The hook is removed when the context ends, so a saved or reused model carries no trace of it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any


def _noise_hook(alpha: float) -> Any:
    def hook(module: Any, _inputs: Any, output: Any) -> Any:
        if not module.training:
            return output
        magnitude = alpha / math.sqrt(output.size(-2) * output.size(-1))
        return output + output.new_empty(output.shape).uniform_(-magnitude, magnitude)

    return hook


@contextlib.contextmanager
def neftune(embeddings: Any, alpha: float) -> Iterator[None]:
    """Noise on ``embeddings``' outputs in training mode while the context is open (alpha 0: none)."""
    handle = embeddings.register_forward_hook(_noise_hook(alpha)) if alpha > 0 else None
    try:
        yield
    finally:
        if handle is not None:
            handle.remove()


__all__ = ["neftune"]
