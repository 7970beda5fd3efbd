"""The Ray Data actor that anonymizes shards: one loaded pipeline (one GPU), many shards.

``map_batches`` hands each actor one shard at a time. The actor runs the shard through
:class:`~spacy_llmner.corpus.shards.ShardRunner`, the same code as the local engine, so both
engines write the same records. The rename of the output part is the commit: a worker that dies
before it leaves nothing behind, and the retried task writes the same part again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..corpus.inputs import Shard
from ..corpus.shards import AnonymizeSettings, ShardRunner, import_code, replace_batch
from ..errors import Errors, LLMNERError

#: Columns of the rows an actor returns per shard.
STATS = ("shard", "records", "written", "errors", "seconds")

__all__ = ["STATS", "AnonymizeSettings", "AnonymizeWorker", "check_settings", "import_code"]


class AnonymizeWorker:
    """Ray Data UDF (class-based, so an actor pool): the pipeline and Presidio load once."""

    def __init__(
        self,
        pipeline: str,
        settings: dict[str, Any],
        work: str,
        code: str | None = None,
        key: str | None = None,
        salt: str | None = None,
    ) -> None:
        import_code(code)
        from ..presidio import SurrogateTable, build_analyzer, hipaa_operators

        s = AnonymizeSettings(**settings)
        analyzer = build_analyzer(
            pipeline, with_patterns=s.with_patterns, score_threshold=s.threshold, language=s.language
        )
        operators = hipaa_operators(s.mode, key=key, salt=salt)

        def transform(records: list[Any], table: Any) -> list[Any]:
            return replace_batch(analyzer, records, operators, table, s.batch_size, s.language)

        new_table = SurrogateTable if s.surrogate_scope == "file" else None
        self.run = ShardRunner(transform, s, Path(work), new_table=new_table)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        """One row per shard in, one row of counts per shard out."""
        n = len(batch["path"])
        shards = [Shard.from_row({k: batch[k][i] for k in batch}) for i in range(n)]
        stats = [self.run(shard) for shard in shards]
        return {key: [s[key] for s in stats] for key in STATS}


def check_settings(settings: AnonymizeSettings, salt: str | None) -> None:
    """Reject settings that shards cannot honour (before any work starts)."""
    if settings.mode == "hash" and not salt:
        raise LLMNERError(Errors.E505)
