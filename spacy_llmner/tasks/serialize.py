"""One JSON config file per task: how a task is saved inside a pipeline, in one place.

spacy-llm calls ``to_disk``/``from_disk`` (and the bytes pair) on the task; a task only says what
its config is (``_cfg``) and how to take one back (``_set_cfg``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, Union

import srsly

T = TypeVar("T", bound="ConfigSerialized")


class ConfigSerialized:
    """``to_disk``/``from_disk``/``to_bytes``/``from_bytes`` through a JSON config."""

    CFG_FILE = "cfg.json"

    def _cfg(self) -> dict[str, Any]:
        raise NotImplementedError

    def _set_cfg(self, cfg: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def to_bytes(self, *, exclude: Sequence[str] = ()) -> bytes:
        return srsly.json_dumps(self._cfg()).encode("utf8")

    def from_bytes(self: T, bytes_data: bytes, *, exclude: Sequence[str] = ()) -> T:
        self._set_cfg(srsly.json_loads(bytes_data))
        return self

    def to_disk(self, path: Union[str, Path], *, exclude: Sequence[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / self.CFG_FILE, self._cfg())

    def from_disk(self: T, path: Union[str, Path], *, exclude: Sequence[str] = ()) -> T:
        self._set_cfg(srsly.read_json(Path(path) / self.CFG_FILE))
        return self
