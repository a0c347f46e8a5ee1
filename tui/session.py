"""What the screens hold of a run: its snapshots and the few commands and analyses they
need, never the trainer itself.

The app owns the trainer and its training thread; a screen gets a ``Session`` and reads
immutable snapshots from it (``latest``), so no screen can read a network mid-step or
change a run behind the app's back. The inspector's analyses (one step laid open, and
applying it) go through here too, and are refused while a run goes.
"""

from __future__ import annotations

import numpy as np

from engine.analysis import explain as ex
from engine.analysis import landscape as landscape_
from engine.config import Config
from engine.data import Dataset
from engine.presets import Preset
from engine.training.snapshot import Snapshot
from engine.training.trainer import Trainer


class Session:
    """One run as the screens see it."""

    def __init__(self, trainer: Trainer):
        self._trainer = trainer

    @property
    def latest(self) -> Snapshot:
        return self._trainer.latest

    @property
    def preset(self) -> Preset | None:
        return self._trainer.preset

    @property
    def config(self) -> Config:
        return self._trainer.config

    @property
    def data(self) -> Dataset:
        """The run's data set (immutable: its arrays are read-only)."""
        return self._trainer.data

    @property
    def pace(self) -> float | None:
        return self._trainer.pace

    @property
    def running(self) -> bool:
        return self._trainer.running

    def want_weights(self, interval: float | None) -> None:
        """Ask for the weights in snapshots, copied every ``interval`` seconds while a run
        goes (None: not at all)."""
        self._trainer.weights_interval = interval

    @property
    def network_wanted(self) -> tuple[float, int] | None:
        """What ``want_network`` last asked: (interval, resolution), or None."""
        t = self._trainer
        return None if t.network_interval is None else (t.network_interval, t.map_resolution)

    def want_network(self, interval: float | None, resolution: int | None = None) -> None:
        """Ask for the network state (per-unit maps on a ``resolution``-sided grid, W, b,
        the last gradients) in snapshots, made every ``interval`` seconds while a run goes
        (None: not at all)."""
        self._trainer.network_interval = interval
        if resolution is not None:
            self._trainer.map_resolution = int(resolution)

    def set_param(self, layer: int, row: int, col: int | None, value: float | str) -> None:
        """Set one weight (or, with ``col`` None, a bias): ``Trainer.set_param``; raises
        EngineError with the reason when the value is refused."""
        self._trainer.set_param(layer, row, col, value)

    # ----- drawn data: checked now, applied between two steps (``Trainer.add_point``) -----
    @property
    def drawing(self) -> bool:
        """Whether the run's data is drawn by hand (points can be added)."""
        return self._trainer.config.data.dataset == "draw"

    def add_point(self, x: float, y: float, value: float) -> None:
        """Draw a point (a class number, or a target); raises EngineError when refused."""
        self._trainer.add_point(x, y, value)

    def undo_point(self) -> None:
        self._trainer.undo_point()

    def clear_points(self) -> None:
        self._trainer.clear_points()

    def refresh(self) -> Snapshot:
        """The latest snapshot, made afresh when no run goes (e.g. after asking for weights)."""
        return self._trainer.snapshot()

    def landscape_parts(self, cells: int):
        """What a loss landscape of ``cells`` grid points is computed from, taken without
        stopping a run (``engine.analysis.landscape.parts``): a network of the run's shape,
        the loss's name, the training rows, whether they are a sample, and the penalty."""
        return landscape_.parts(self._trainer, cells)

    def current_as_preset(self) -> Preset | Config:
        """The run's current config, as its preset when it has one (for a comparison)."""
        preset = self._trainer.preset
        if preset is None:
            return self._trainer.config
        return Preset(preset.name, preset.title, preset.lesson, self._trainer.config,
                      preset.path, preset.pace)

    # ----- the inspector's analyses (refused while a run goes) ----------------------------
    def n_samples(self) -> int:
        return ex.n_samples(self._trainer)

    def explain(self, sample: int | None) -> ex.Breakdown:
        """One step laid open: on training sample ``sample``, or the next mini-batch (None)."""
        return ex.explain_trainer(self._trainer, sample)

    def apply(self, breakdown: ex.Breakdown) -> ex.StepResult:
        """Take the step ``breakdown`` shows, exactly."""
        return ex.apply_step(self._trainer, breakdown)

    def is_current(self, breakdown: ex.Breakdown) -> bool:
        """Whether ``breakdown`` was made from the weights the network has now."""
        with self._trainer.still("compare weights"):
            return bool(np.array_equal(breakdown.params_before, self._trainer.network.params))

    def same_run(self, other: Session) -> bool:
        return other._trainer is self._trainer
