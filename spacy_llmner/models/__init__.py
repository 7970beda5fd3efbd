"""spacy-llm models."""

from .hf import HFModel, make_hf_model

__all__ = ["HFModel", "make_hf_model"]
