"""The one typer app; each ``cli/<area>.py`` module adds its commands to it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="spacy_llmner",
    help="spacy_llmner: LLM-based NER for personal data (data, training, evaluation, anonymization).",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Keeps typer from collapsing the app into its only command when just one area is present."""
