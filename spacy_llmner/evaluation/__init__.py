"""Scoring a pipeline against gold data: ``ner.py`` (exact typed spans, characters, error kinds,
plots; the one P/R/F1 formula, ``prf``), shared by the ``evaluate`` command, the Ray engine and
the benchmarks; ``cluener.py`` (CLUENER2020: exact spans beside the seed's string measure).
Text classification's scorers live with their feature (``textcat/scoring.py``)."""
