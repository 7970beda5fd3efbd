"""Kept where it was: ``llm_textcat_head`` now lives in ``spacy_llmner/textcat/component.py``.

This path is documented (importing it registers the factory) and is the target of the
``spacy_factories`` entry point of installs made before the move, which spaCy imports for every
``Language``; so it stays, as a re-export.
"""

from ..textcat.component import FACTORY, TextCatHead, make_textcat_head

__all__ = ["FACTORY", "TextCatHead", "make_textcat_head"]
