"""Open whatever a user names: a bundled preset, a preset file, or a checkpoint.

Opening may only fail with EngineError (one line): a caller such as the app keeps its
current run on a refusal. What numpy, zipfile, the parsers or the allocator raise on bad
input is turned into one here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .checkpoint import Checkpoint, load_checkpoint, restore
from .errors import CheckpointError, ConfigError, EngineError
from .errors import cut
from .presets import DEFAULT_PRESET, Preset, load_preset
from .training.trainer import Trainer

#: what bad input can raise below us, besides EngineError
_INPUT_ERRORS = (OSError, ValueError, OverflowError, MemoryError, RecursionError)


@contextmanager
def _one_line(source: str, error: type[EngineError]) -> Iterator[None]:
    try:
        yield
    except EngineError:
        raise
    except MemoryError:
        raise error(f"{cut(source, 120)}: not enough memory to open it") from None
    except _INPUT_ERRORS as exc:
        raise error(f"{cut(source, 120)}: cannot be opened ({exc.__class__.__name__}: "
                    f"{cut(exc, 80)})") from None


@dataclass(frozen=True)
class Opened:
    """A preset, and the checkpoint to restore into its trainer if one was opened."""

    preset: Preset
    checkpoint: Checkpoint | None = None
    source: str = ""

    def trainer(self, **kwargs) -> Trainer:
        """A trainer for this preset, with the checkpoint's state restored; raises only
        EngineError."""
        with _one_line(self.source or self.preset.name, EngineError):
            trainer = Trainer(self.preset, **kwargs)
            if self.checkpoint is not None:
                restore(trainer, self.checkpoint, self.source)
            return trainer


def is_checkpoint(ref: str | os.PathLike) -> bool:
    """Whether ``ref`` names a checkpoint (a ``.npz`` file) rather than a preset."""
    return os.fspath(ref).lower().endswith(".npz")


def open_run(ref: str | os.PathLike | None = None) -> Opened:
    """``None`` opens the default preset; ``.npz`` files open as checkpoints; anything else
    as a preset name or file. Raises EngineError with one clear line, nothing else."""
    if ref is None:
        return Opened(load_preset(DEFAULT_PRESET), source=DEFAULT_PRESET)
    ref = os.fspath(ref)
    if is_checkpoint(ref):
        with _one_line(ref, CheckpointError):
            ckpt = load_checkpoint(ref)
        return Opened(ckpt.preset, ckpt, ref)
    with _one_line(ref, ConfigError):
        return Opened(load_preset(ref), source=ref)
