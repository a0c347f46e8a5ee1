"""Open whatever a user names: a bundled preset, a preset file, or a checkpoint."""

from __future__ import annotations

import os
from dataclasses import dataclass

from .checkpoint import Checkpoint, load_checkpoint, restore
from .presets import DEFAULT_PRESET, Preset, load_preset
from .training.trainer import Trainer


@dataclass(frozen=True)
class Opened:
    """A preset, and the checkpoint to restore into its trainer if one was opened."""

    preset: Preset
    checkpoint: Checkpoint | None = None
    source: str = ""

    def trainer(self, **kwargs) -> Trainer:
        """A trainer for this preset, with the checkpoint's state restored."""
        trainer = Trainer(self.preset, **kwargs)
        if self.checkpoint is not None:
            restore(trainer, self.checkpoint, self.source)
        return trainer


def open_run(ref: str | os.PathLike | None = None) -> Opened:
    """``None`` opens the default preset; ``.npz`` files open as checkpoints; anything else
    as a preset name or file. Raises EngineError with one clear line."""
    if ref is None:
        return Opened(load_preset(DEFAULT_PRESET), source=DEFAULT_PRESET)
    ref = os.fspath(ref)
    if ref.endswith(".npz"):
        ckpt = load_checkpoint(ref)
        return Opened(ckpt.preset, ckpt, ref)
    return Opened(load_preset(ref), source=ref)
