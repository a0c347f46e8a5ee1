"""Measurements behind the preset lessons: steps to a target, gradient ratios, dead units.

Everything here drives a ``Trainer`` through its synchronous interface (``step`` and
``evaluate``), so the numbers are deterministic for a given preset and seed.
``app_run`` trains a preset exactly as the app does when space is pressed (its own seed,
its epochs, its target checked at every epoch's end), so a lesson can quote what the
screen shows; ``steps_to_target`` checks a target after a fixed number of steps instead.

Lessons quote the figures these functions measure as ``≈ <number>`` (``≈ 3e-5``,
``≈ 98%``, ``≈ 120 steps``); ``figures(lesson)`` reads them back so a test can hold the
text and the code together.

Its length is one measurement per kind of claim a lesson makes; each is a few lines.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from ..config import Config
from ..errors import EngineError
from ..presets import Preset, load_preset
from ..training.build import targets
from ..training.trainer import Trainer

#: a small boundary grid: measurements never look at it
_GRID = (2, 2)


# ----- building ------------------------------------------------------------------------
def as_config(preset: Preset | Config | str) -> Config:
    """The config of a preset (by name or object) or a config itself."""
    if isinstance(preset, str):
        preset = load_preset(preset)
    if isinstance(preset, Preset):
        return preset.config
    if isinstance(preset, Config):
        return preset
    raise EngineError(f"expected a preset or a config, got {type(preset).__name__}")


def with_values(config: Config, values: dict | None) -> Config:
    """``config`` with several key paths changed; ``model.layers[*].x`` sets every hidden layer."""
    for key, value in (values or {}).items():
        if "[*]" in key:
            head, _, tail = key.partition("[*]")
            n = len(config.get(head))
            for i in range(n):
                config = config.with_value(f"{head}[{i}]{tail}", value)
        else:
            config = config.with_value(key, value)
    return config


def make_trainer(preset: Preset | Config | str, *, seed: int | None = None,
                 values: dict | None = None) -> Trainer:
    """A trainer for measuring: one setting per ``values`` key changed, weights from ``seed``
    (default: the config's training seed). The data set stays the preset's own."""
    config = with_values(as_config(preset), values)
    if seed is not None:
        config = config.with_value("training.seed", int(seed))
    return Trainer(config, grid=_GRID)


# ----- the run the app shows --------------------------------------------------------
def as_preset(preset: Preset | str) -> Preset:
    return load_preset(preset) if isinstance(preset, str) else preset


def app_trainer(preset: Preset | str, values: dict | None = None) -> Trainer:
    """The trainer the app opens for a preset: ``Trainer(preset)``, weights from the preset's
    own seed. ``values`` are settings changed in the configuration pane before pressing r
    (r builds fresh weights from the same seed)."""
    preset = as_preset(preset)
    if values:
        preset = replace(preset, config=with_values(preset.config, values))
    return Trainer(preset)


@dataclass(frozen=True)
class AppRun:
    """A preset trained the way the app trains it when space is pressed.

    ``snapshots[0]`` is the fresh network; then one snapshot per epoch (or per step, for a
    run recorded step by step). The layer statistics of a snapshot are those of the last
    step before it, as in the app's layer bars."""

    trainer: Trainer
    snapshots: tuple
    stopped: str  #: "target", "epochs" or "diverged"

    @property
    def final(self):
        return self.snapshots[-1]

    @property
    def steps(self) -> int:
        return self.final.step

    def at_step(self, step: int):
        """The snapshot taken at ``step`` (it must have been recorded)."""
        for snap in self.snapshots:
            if snap.step == step:
                return snap
        raise EngineError(f"no snapshot at step {step}")

    def series(self, key: str) -> np.ndarray:
        """One figure (``train_loss``, ``test_accuracy``...) over the recorded snapshots."""
        return np.array([np.nan if getattr(s, key) is None else getattr(s, key)
                         for s in self.snapshots], dtype=np.float64)

    def first_step(self, key: str, at_least: float) -> int | None:
        """The first recorded step at which ``key`` is at least ``at_least``."""
        for snap in self.snapshots:
            value = getattr(snap, key)
            if value is not None and value >= at_least:
                return snap.step
        return None


def app_run(preset: Preset | str, values: dict | None = None, *, epochs: int | None = None,
            stop_at_target: bool = True, every_step: bool = False) -> AppRun:
    """Train like the app after space: from a fresh ``app_trainer``, until the preset's
    epochs are done (or ``epochs``), its target is met (checked at the end of every epoch,
    as ``Trainer.run`` checks it; not with ``stop_at_target=False``), or the run diverges.
    ``every_step`` records a snapshot after every step instead of every epoch (the same
    run: only what is recorded differs)."""
    trainer = app_trainer(preset, values)
    t = trainer.config.training
    epochs = t.epochs if epochs is None else epochs
    target_loss, target_accuracy = (t.target_loss, t.target_accuracy) if stop_at_target \
        else (None, None)
    spe = trainer.steps_per_epoch
    snaps = [trainer.snapshot()]
    stopped = "epochs"
    while trainer.epoch < epochs:
        if every_step:
            for _ in range(spe):
                snap = trainer.step(1)
                snaps.append(snap)
                if snap.diverged:
                    break
        else:
            snap = trainer.step(spe)
            snaps.append(snap)
        if snap.diverged:
            stopped = "diverged"
            break
        if reached(figures_of(snap), target_loss, target_accuracy):
            stopped = "target"
            break
    return AppRun(trainer, tuple(snaps), stopped)


def bar_ratio(snap) -> float:
    """The first layer's |grad W| over the last layer's, as the gradient bars show them
    (measured on the last step before ``snap``)."""
    first, last = snap.layers[0].grad_norm, snap.layers[-1].grad_norm
    return first / last if last else math.inf


# ----- targets -------------------------------------------------------------------------
def reached(ev: dict, target_loss: float | None = None,
            target_accuracy: float | None = None) -> bool:
    """Whether an ``evaluate()`` result meets a target, by the trainer's own rule:
    the training loss for ``target_loss``; test accuracy (train accuracy without a
    test split) for ``target_accuracy``."""
    if target_loss is not None and math.isfinite(ev["train_loss"]) and ev["train_loss"] <= target_loss:
        return True
    acc = ev["test_accuracy"] if ev["test_accuracy"] is not None else ev["train_accuracy"]
    return target_accuracy is not None and acc is not None and acc >= target_accuracy


def diverged(trainer: Trainer) -> bool:
    return trainer.latest is not None and trainer.latest.diverged


def figures_of(snap) -> dict:
    """The ``evaluate()`` figures a snapshot already holds (it evaluated the whole data set
    when it was made), so a measurement need not evaluate twice."""
    return {"train_loss": snap.train_loss, "test_loss": snap.test_loss,
            "train_accuracy": snap.train_accuracy, "test_accuracy": snap.test_accuracy}


def steps_to_target(trainer: Trainer, *, target_loss: float | None = None,
                    target_accuracy: float | None = None, max_steps: int,
                    check_every: int = 1) -> int | None:
    """Train until the target is met, checking every ``check_every`` steps.

    Returns the step count at the first check that meets the target (0 when the fresh
    weights already do), or None when ``max_steps`` pass or the run diverges first.
    Without a target argument, the config's own targets are used.
    """
    t = trainer.config.training
    if target_loss is None and target_accuracy is None:
        target_loss, target_accuracy = t.target_loss, t.target_accuracy
    if target_loss is None and target_accuracy is None:
        raise EngineError("no target: give target_loss or target_accuracy")
    if check_every < 1:
        raise EngineError("check_every must be at least 1")
    start = trainer.step_count
    if reached(trainer.evaluate(), target_loss, target_accuracy):
        return 0
    while trainer.step_count - start < max_steps:
        snap = trainer.step(min(check_every, max_steps - (trainer.step_count - start)))
        if snap.diverged:
            return None
        if reached(figures_of(snap), target_loss, target_accuracy):
            return trainer.step_count - start
    return None


def median_steps(preset, seeds: Iterable[int], *, max_steps: int, check_every: int = 1,
                 values: dict | None = None, target_loss: float | None = None,
                 target_accuracy: float | None = None) -> float:
    """Median of ``steps_to_target`` over seeds; a run that never gets there counts as
    ``math.inf`` (so the median says "not reached" when most runs fail)."""
    out = []
    for seed in seeds:
        n = steps_to_target(make_trainer(preset, seed=seed, values=values),
                            target_loss=target_loss, target_accuracy=target_accuracy,
                            max_steps=max_steps, check_every=check_every)
        out.append(math.inf if n is None else n)
    return statistics.median(out)


# ----- curves --------------------------------------------------------------------------
@dataclass(frozen=True)
class Curve:
    """Losses measured every ``every`` steps: ``steps[0] == 0`` is the fresh network."""

    steps: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_accuracy: np.ndarray  #: NaN for regression
    test_accuracy: np.ndarray
    diverged_step: int | None = None

    @property
    def final(self) -> dict:
        return {"train_loss": float(self.train_loss[-1]), "test_loss": float(self.test_loss[-1]),
                "train_accuracy": float(self.train_accuracy[-1]),
                "test_accuracy": float(self.test_accuracy[-1])}


def loss_curve(trainer: Trainer, steps: int, every: int = 1) -> Curve:
    """Train ``steps`` steps and record losses and accuracies every ``every`` steps.

    After a divergence the curve holds inf from the divergence on (the trainer keeps the
    last finite weights, but the run is over)."""
    rows = []
    div = None

    def record(snap=None):
        ev = trainer.evaluate() if snap is None else figures_of(snap)
        nan = float("nan")
        rows.append((trainer.step_count, ev["train_loss"], ev["test_loss"],
                     nan if ev["train_accuracy"] is None else ev["train_accuracy"],
                     nan if ev["test_accuracy"] is None else ev["test_accuracy"]))

    start = trainer.step_count
    record()
    done = 0
    while done < steps:
        n = min(every, steps - done)
        snap = trainer.step(n)
        done += n
        if snap.diverged:
            div = snap.diverged_step
            inf = float("inf")
            rows.append((start + done, inf, inf, rows[-1][3], rows[-1][4]))
            break
        record(snap)
    arr = np.array(rows, dtype=np.float64)
    return Curve(arr[:, 0].astype(np.int64) - start, arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4],
                 div)


# ----- inside the network --------------------------------------------------------------
def _train_arrays(trainer: Trainer, test: bool = False):
    """The training (or test) split as the network reads it: inputs in its dtype, targets
    in the loss's layout."""
    d, dtype = trainer.data, trainer.network.dtype
    X, y = (d.X_test, d.y_test) if test else (d.X_train, d.y_train)
    return np.ascontiguousarray(X, dtype=dtype), targets(trainer.config, y, d.n_classes, dtype)


def gradient_norms(trainer: Trainer) -> list[float]:
    """||dL/dW|| per layer (first to last) on the whole training split, data loss only."""
    X, Y = _train_arrays(trainer)
    _, grads = trainer.network.loss_and_grads(X, Y, trainer.loss_name)
    return [float(np.linalg.norm(dW)) for dW, _ in grads]


def gradient_ratio(trainer: Trainer) -> float:
    """First layer's gradient norm over the last (output) layer's: how much of the error
    signal survives the trip back through the hidden stack (the gradient bars' spread)."""
    norms = gradient_norms(trainer)
    return norms[0] / norms[-1] if norms[-1] else math.inf


def gradient_spread(trainer: Trainer) -> float:
    """Largest over smallest per-layer gradient norm: 1 means every bar is the same height."""
    norms = gradient_norms(trainer)
    return max(norms) / min(norms) if min(norms) > 0 else math.inf


def delta_norms(trainer: Trainer) -> list[float]:
    """Mean |δ| (dL/dz per sample) per layer on the whole training split."""
    X, Y = _train_arrays(trainer)
    net = trainer.network
    net.loss_and_grads(X, Y, trainer.loss_name)
    return [float(np.abs(d).mean()) for d in net.last_batch.delta]


def dead_fraction(trainer: Trainer) -> float:
    """Share of the hidden ReLU units that output 0 on every training sample (they pass
    no gradient, so they never come back). 0 when there are no ReLU layers."""
    X, _ = _train_arrays(trainer)
    net = trainer.network
    dead = total = 0
    for layer, a in zip(net.layers[:-1], net.activations(X)[:-1]):
        if layer.activation.name == "relu":
            dead += a.shape[1] - np.count_nonzero(a.any(axis=0))
            total += a.shape[1]
    return dead / total if total else 0.0


def first_layer_change(trainer: Trainer, steps: int) -> tuple[float, float]:
    """Relative weight change ||W_after - W_before|| / ||W_before|| of the first and the
    last hidden layer over ``steps`` steps of training."""
    net = trainer.network
    last = len(net.layers) - 2 if len(net.layers) > 1 else 0
    before = (net.layers[0].W.copy(), net.layers[last].W.copy())
    trainer.step(steps)
    after = (net.layers[0].W, net.layers[last].W)
    return tuple(float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(after, before))


def output_rows(trainer: Trainer, test: bool = True) -> np.ndarray:
    """The network's outputs on the test split (or the training split)."""
    return trainer.network.forward(_train_arrays(trainer, test)[0])


# ----- seeds ---------------------------------------------------------------------------
def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def geometric_median(values: Iterable[float]) -> float:
    """The median on a log scale (for ratios that span orders of magnitude)."""
    return float(10 ** statistics.median([math.log10(v) for v in values]))


# ----- figures quoted in lessons -------------------------------------------------------
FIGURE = re.compile(r"≈\s*(?P<num>[-+]?\d+(?:\.\d+)?(?:[eE][-+−]?\d+)?)\s*(?P<unit>%)?")


@dataclass(frozen=True)
class Figure:
    """A number a lesson quotes as ``≈ value``: ``value`` is a fraction for percentages."""

    text: str
    value: float


def figures(lesson: str) -> list[Figure]:
    """Every ``≈ number`` (``≈ 3e-5``, ``≈ 97%``, ``≈ 150 steps``) in a lesson, in order."""
    out = []
    for m in FIGURE.finditer(lesson):
        value = float(m.group("num").replace("−", "-"))
        if m.group("unit") == "%":
            value /= 100.0
        out.append(Figure(m.group(0), value))
    return out


def within(measured: float, quoted: float, *, abs_tol: float | None = None,
           factor: float | None = None) -> bool:
    """Whether a measured value agrees with a quoted one: within ``abs_tol`` or within a
    multiplicative ``factor`` (for values that span orders of magnitude)."""
    if not (math.isfinite(measured) and math.isfinite(quoted)):
        return measured == quoted
    ok = False
    if abs_tol is not None:
        ok |= abs(measured - quoted) <= abs_tol
    if factor is not None and measured > 0 and quoted > 0:
        ok |= max(measured / quoted, quoted / measured) <= factor
    return ok


__all__ = [
    "AppRun", "Curve", "Figure", "app_run", "app_trainer", "as_config", "as_preset", "bar_ratio",
    "dead_fraction", "delta_norms", "diverged", "figures",
    "figures_of", "gradient_spread",
    "first_layer_change", "geometric_median", "gradient_norms", "gradient_ratio", "loss_curve",
    "make_trainer", "median", "median_steps", "output_rows", "reached",
    "steps_to_target", "with_values", "within",
]
