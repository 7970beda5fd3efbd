"""spaCy pipeline components of our own (as opposed to the task and model plugged into
spacy-llm's factories). Each module registers its factory when imported; spaCy imports them
through the ``spacy_factories`` entry points, so a config that names a factory resolves
without importing anything first."""
