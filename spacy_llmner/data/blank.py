"""Cached blank spaCy pipelines: the tokenizers that spans are aligned to.

``spacy.blank`` takes seconds to build (registry lookups), and every module here needs the same
tokenizer, so each language is built once per process.
"""

from __future__ import annotations

import functools

from spacy.language import Language


@functools.cache
def blank(lang: str = "en") -> Language:
    """``spacy.blank(lang)``, built once; only its tokenizer and vocab are used."""
    import spacy

    return spacy.blank(lang)
