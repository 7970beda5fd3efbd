"""Kept where it was: ``spacy_llmner.EmbeddingSimilarity.v1`` now lives in ``spacy_llmner/textcat/embedding.py``.

The target of a ``spacy_misc`` entry point in installs made before the move
(catalogue imports it even to check a name), so it stays as a re-export until every install is refreshed.
"""

from ..textcat.embedding import make_embedding_similarity

__all__ = ["make_embedding_similarity"]
