"""Import guard: Presidio is an integration, so say how to get it when it is missing."""

from __future__ import annotations

from ..errors import Errors, LLMNERError


def require_presidio(what: str = "spacy_llmner.presidio") -> None:
    """Fail early with a coded error that names the install line."""
    try:
        import presidio_analyzer  # noqa: F401
        import presidio_anonymizer  # noqa: F401
    except ImportError as err:  # pragma: no cover - exercised only without presidio
        raise LLMNERError(Errors.E201.format(what=what, reason=err.name or err)) from err
