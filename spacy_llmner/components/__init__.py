"""Where the pipeline components lived before each feature got its folder: ``textcat_head.py``
and ``gate.py`` re-export ``spacy_llmner.textcat.component`` and ``spacy_llmner.textcat.gate``,
for installs whose ``spacy_factories`` entry points still name these paths."""
