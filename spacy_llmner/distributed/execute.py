"""Run a class-based UDF over shards on Ray Data: one actor pool, results streamed back.

The one place that talks to Ray, shared by the anonymizer and the evaluator: connect (or start
a local Ray), build the dataset of shards (one block per shard, so a retry redoes one shard),
``map_batches`` with an actor pool, and stream one result row per finished shard back to the
driver. Ray restarts a dead actor (``max_restarts``) and retries its task
(``max_task_retries``); a job that still fails is E507, and a rerun resumes.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..corpus.inputs import Shard
from ..errors import Errors, LLMNERError
from ._ray import require_ray

_CODED = re.compile(r"\[E\d{3}\][^\n]*")


@dataclass(frozen=True)
class Cluster:
    """Where and how wide to run: Ray address, actors, and resources per actor."""

    address: str | None = None
    actors: int = 1
    gpus_per_actor: float = 0.0
    cpus_per_actor: float = 1.0
    max_restarts: int = 3


@contextmanager
def connected(address: str | None) -> Iterator[Any]:
    """Ray, initialized: an existing connection is reused; one started here is shut down after."""
    ray = require_ray()
    started = False
    if not ray.is_initialized():
        ray.init(address=address, logging_level="WARNING", log_to_driver=False)
        started = True
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the driver shows its own bar, in records
    context.print_on_execution_start = False
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def run_shards(
    shards: Sequence[Shard],
    udf: type,
    constructor_kwargs: dict[str, Any],
    cluster: Cluster,
    columns: Sequence[str],
    on_result: Callable[[dict[str, Any]], None],
    already_done: int = 0,
) -> None:
    """Feed ``shards`` to actors of ``udf``; ``on_result`` gets each shard's result row.

    ``already_done``: shards finished by earlier runs (for the E507 message).
    """
    if not shards:
        return
    with connected(cluster.address) as ray:
        ds = ray.data.from_items([s.as_row() for s in shards], override_num_blocks=len(shards))
        args: dict[str, Any] = {
            "batch_size": 1,
            "compute": ray.data.ActorPoolStrategy(size=cluster.actors),
            "fn_constructor_kwargs": constructor_kwargs,
            "num_cpus": cluster.cpus_per_actor,
            "num_gpus": cluster.gpus_per_actor or None,
        }
        # Bounded restarts: Ray Data's default (-1) would retry forever a shard that kills its
        # actor every time. Ray 2.60 deprecates passing them (no named parameter yet); where a
        # later Ray refuses them, its default applies.
        bounds = {"max_restarts": cluster.max_restarts, "max_task_retries": cluster.max_restarts}
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
                ds = ds.map_batches(udf, **args, **bounds)
        except TypeError:
            ds = ds.map_batches(udf, **args)
        received = 0
        try:
            for row in ds.iter_rows():
                on_result({key: _plain(row[key]) for key in columns})
                received += 1
        except LLMNERError:
            raise
        except Exception as err:  # noqa: BLE001 - Ray wraps worker errors; keep a coded one
            coded = _CODED.search(str(err))
            if coded is not None:
                raise LLMNERError(coded.group(0)) from err
            done, total = already_done + received, already_done + len(shards)
            reason = type(err).__name__
            raise LLMNERError(Errors.E507.format(reason=reason, done=done, total=total)) from err


def _plain(value: Any) -> Any:
    """numpy scalars → Python values (for JSON and arithmetic)."""
    return value.item() if hasattr(value, "item") else value
