"""The one typer app; each ``cli/<area>.py`` module adds its commands to it.

Every command registered here reports an ``LLMNERError`` (and an ``OSError`` on a path: missing
input, output under a file, read-only folder) as a coded message on stderr and exits with status
1: users get the fix, not a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import typer

from ..errors import Errors, LLMNERError


def path_error(err: OSError) -> str:
    """A coded message for a path the OS refused (missing, not a folder, read-only, full disk).

    Names the path and the OS reason only: an ``OSError`` never carries file content.
    """
    path = err.filename if err.filename is not None else "?"
    reason = err.strerror or type(err).__name__
    return Errors.E115.format(path=path, reason=reason)


def coded_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """``LLMNERError`` and path ``OSError`` → a coded message on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LLMNERError as err:
            typer.echo(str(err), err=True)
            raise typer.Exit(code=1) from None
        except OSError as err:  # bad paths and unwritable outputs, in every command
            if err.filename is None and err.strerror is None:
                raise
            typer.echo(path_error(err), err=True)
            raise typer.Exit(code=1) from None

    return wrapper


class _App(typer.Typer):
    def command(  # type: ignore[override]  # same call, every command wrapped in coded_errors
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register = super().command(*args, **kwargs)
        return lambda func: register(coded_errors(func))


app = _App(
    name="spacy_llmner",
    help="spacy_llmner: LLM-based NER for personal data (data, training, evaluation, anonymization).",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Keeps typer from collapsing the app into its only command when just one area is present."""
