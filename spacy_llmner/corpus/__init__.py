"""Corpus files through both engines: formats, shards, error records, manifest, the local runner.

One home for what the local engine and the Ray engine share, so the two write the same records.
Nothing here imports torch, Ray or Presidio at import time.
"""
