"""Scoring a pipeline against gold data: ``ner.py`` (exact typed spans, characters, error kinds,
plots), shared by the ``evaluate`` command, the Ray engine and the benchmarks. Text
classification's scorers live with their feature (``textcat/scoring.py``)."""
