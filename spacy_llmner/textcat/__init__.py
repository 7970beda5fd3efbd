"""Text classification: everything the feature owns, in one folder.

- ``task.py``: ``spacy_llmner.TextCat.v1`` (the LLM answers with a label; ``prompts.py`` builds its
  prompts, ``retrieval.py`` and ``embedding.py`` pick its demonstrations);
- ``component.py``: ``llm_textcat_head`` (a linear head on the LLM's last hidden state:
  ``head.py``, ``classifier.py``, ``pooling.py``); ``gate.py``: ``llmner_phi_gate``;
- training: ``sft.py`` (generative), ``train_head.py`` and ``calibration.py`` (the head);
- data: ``thucnews.py`` and ``synth.py``; the commands: ``cli.py``; the workflow's scorers:
  ``scoring.py``.

It builds on the shared core (``prompting``, ``decoding``, ``models``, ``training``); nothing in
the core imports it. Importing this package imports nothing heavy.
"""
