"""Kept where it was: ``spacy_llmner.CharNgramTfidf.v1`` now lives in ``spacy_llmner/textcat/retrieval.py``.

The target of a ``spacy_misc`` entry point in installs made before the move
(catalogue imports it even to check a name), so it stays as a re-export until every install is refreshed.
"""

from ..textcat.retrieval import make_char_ngram_tfidf

__all__ = ["make_char_ngram_tfidf"]
