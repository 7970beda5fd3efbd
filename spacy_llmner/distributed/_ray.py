"""Import Ray only where a run needs it: the package works (and imports) without the extra."""

from __future__ import annotations

from types import ModuleType

from ..errors import Errors, LLMNERError


def require_ray() -> ModuleType:
    """The ``ray`` module with Ray Data loaded, or a coded error naming the extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data is part of the extra, not of plain `ray`
    except ImportError as err:
        raise LLMNERError(Errors.E501.format(reason=f"{type(err).__name__}: {err}")) from None
    return ray
