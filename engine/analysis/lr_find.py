"""The learning-rate range test (Leslie Smith, 2015; fastai's ``lr_find``, torch-lr-finder).

One short run from fresh weights (the config's training seed) raises the lr exponentially
from ``lr_min`` to ``lr_max`` over ``steps`` steps::

    lr_i = lr_min · (lr_max / lr_min) ** (i / (steps − 1)),   i = 0 … steps − 1

The mini-batches come in the order a run of the config visits them (its ``BatchOrder``
from the same seed), the optimizer is the config's own with its lr set before each step
(the config's lr and lr schedule play no part),
and each step records the loss of its batch as training sees it (the data loss plus any
weight penalty), measured before the update. So the loss at ``lr_i`` shows the effect of
the rates before it, as in both tools.

The smoothed loss is an exponential moving average with bias correction (β = 0.98, as
fastai's; torch-lr-finder uses β = 0.95 without the correction)::

    avg_i = β · avg_{i−1} + (1 − β) · loss_i,   avg_{−1} = 0,   smoothed_i = avg_i / (1 − β^(i+1))

The run stops early at the blow-up: the first step whose smoothed loss is above
``stop_factor`` (4, as fastai's; torch-lr-finder's is 5) times the lowest smoothed loss
so far, or whose loss is not finite. That step is recorded, and its lr is the blow-up lr.

The steepest descent is the recorded lr where d smoothed / d ln lr is most negative,
computed with ``numpy.gradient`` (central differences inside, one-sided at the two ends)
over the finite points before the blow-up, leaving out the first 10 and the last 5 of them
(fastai v1's and torch-lr-finder's ``skip_start`` and ``skip_end``: the first averages rest
on a few noisy batches, the last lead into the blow-up). The lrs are evenly spaced in
ln lr, so this is the steepest fall per step, as those tools' suggestions take it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..data import Dataset
from ..errors import EngineError
from ..presets import Preset
from ..resources import check_resources
from ..training.batches import BatchOrder
from ..training.build import build_dataset, build_network, build_optimizer, targets

BETA = 0.98  #: the smoothing of the loss, as fastai's
STOP_FACTOR = 4.0  #: the blow-up: smoothed loss above this many times its lowest
MAX_STEPS = 10_000  #: the longest range test
SKIP_START, SKIP_END = 10, 5  #: points the steepest descent leaves out at each end


@dataclass(frozen=True)
class LrFindResult:
    """A range test's record; arrays are float64, (taken,) with ``taken`` <= ``steps``."""

    lr_min: float
    lr_max: float
    steps: int  #: steps planned
    beta: float
    stop_factor: float
    lrs: np.ndarray  #: (taken,) the lr set before each step taken
    losses: np.ndarray  #: (taken,) each step's batch loss, before its update
    smoothed: np.ndarray  #: (taken,) the bias-corrected moving average of ``losses``
    stopped: str  #: "end" (every step taken), "blow-up" or "not finite"
    steepest_lr: float | None  #: most negative d smoothed / d ln lr (None: < 3 points)
    steepest_index: int | None
    blowup_lr: float | None  #: the lr of the step that stopped the run (None: it never did)
    best_lr: float | None  #: the lr of the lowest smoothed loss

    @property
    def taken(self) -> int:
        return int(self.lrs.shape[0])

    @property
    def blowup_index(self) -> int | None:
        return None if self.blowup_lr is None else self.taken - 1

    def to_dict(self) -> dict:
        """Plain values (lists for the arrays) for JSON."""
        return {"lr_min": self.lr_min, "lr_max": self.lr_max, "steps": self.steps,
                "taken": self.taken, "beta": self.beta, "stop_factor": self.stop_factor,
                "stopped": self.stopped, "steepest_lr": self.steepest_lr,
                "blowup_lr": self.blowup_lr, "best_lr": self.best_lr,
                "lrs": self.lrs.tolist(), "losses": self.losses.tolist(),
                "smoothed": self.smoothed.tolist()}


def lr_schedule(lr_min: float, lr_max: float, steps: int) -> np.ndarray:
    """The range test's rates (steps,): exponential from ``lr_min`` to ``lr_max``, both
    included; raises EngineError for a range that is not one."""
    check_range(lr_min, lr_max, steps)
    i = np.arange(steps, dtype=np.float64)
    lrs = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
    lrs[-1] = lr_max  # exactly, whatever the rounding of the power
    return lrs


def check_range(lr_min: float, lr_max: float, steps: int) -> None:
    """Refuse, in one line, a range the test cannot run."""
    for name, v in (("lr_min", lr_min), ("lr_max", lr_max)):
        if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
            raise EngineError(f"lr range test: {name} must be a number > 0, got {v!r}")
    if not lr_min < lr_max:
        raise EngineError(f"lr range test: lr_min ({lr_min:g}) must be below lr_max ({lr_max:g})")
    if not isinstance(steps, int) or not 2 <= steps <= MAX_STEPS:
        raise EngineError(f"lr range test: steps must be a whole number from 2 to {MAX_STEPS:,}, "
                          f"got {steps!r}")


def smooth(losses: np.ndarray, beta: float = BETA) -> np.ndarray:
    """The bias-corrected exponential moving average of ``losses`` (n,) -> (n,)."""
    out = np.empty(len(losses), dtype=np.float64)
    avg = 0.0
    for i, loss in enumerate(np.asarray(losses, dtype=np.float64).tolist()):
        avg = beta * avg + (1.0 - beta) * loss
        out[i] = avg / (1.0 - beta ** (i + 1))
    return out


def steepest(lrs: np.ndarray, smoothed: np.ndarray, skip_start: int = SKIP_START,
             skip_end: int = SKIP_END) -> int | None:
    """The index of the most negative d smoothed / d ln lr (``numpy.gradient``) over the
    finite points (n,) less ``skip_start`` and ``skip_end`` at the ends; None when fewer
    than 3 remain."""
    idx = np.flatnonzero(np.isfinite(smoothed))
    idx = idx[skip_start:len(idx) - skip_end]
    if len(idx) < 3:
        return None
    slope = np.gradient(smoothed[idx], np.log(lrs[idx]))
    return int(idx[int(np.argmin(slope))])


def lr_find(source: Preset | Config, *, lr_min: float = 1e-5, lr_max: float = 10.0,
            steps: int = 100, beta: float = BETA, stop_factor: float = STOP_FACTOR,
            data: Dataset | None = None, should_stop=None) -> LrFindResult:
    """Run the range test on a preset's or config's run (see the module docstring).

    ``data``: the config's data set when it is already loaded (it is not changed).
    ``should_stop()``, asked between steps, ends the test early (a closed screen): what was
    recorded so far is returned as ``stopped == "cancelled"``."""
    config = source.config if isinstance(source, Preset) else source
    if not isinstance(config, Config):
        raise EngineError("lr range test needs a Config or a Preset")
    if not 0.0 <= beta < 1.0:
        raise EngineError(f"lr range test: beta must be in [0, 1), got {beta!r}")
    if not stop_factor > 1.0:
        raise EngineError(f"lr range test: stop_factor must be above 1, got {stop_factor!r}")
    schedule = lr_schedule(lr_min, lr_max, steps)
    if data is None:
        check_resources(config)
        data = build_dataset(config)
        config.check(n_classes=data.n_classes)
    t = config.training
    net = build_network(config, data, t.seed)
    optimizer = build_optimizer(config)
    X = np.ascontiguousarray(data.X_train, dtype=net.dtype)
    Y = targets(config, data.y_train, data.n_classes, net.dtype)
    batches = BatchOrder(X, Y, t.batch_size, t.seed)
    loss_name = config.loss_name(data.n_classes)
    losses: list[float] = []
    smoothed: list[float] = []
    avg, best, stopped = 0.0, math.inf, "end"
    with np.errstate(all="ignore"):
        for i, lr in enumerate(schedule.tolist()):
            if should_stop is not None and should_stop():
                stopped = "cancelled"
                break
            Xb, Yb, _ = batches.next()
            loss, grads = net.loss_and_grads(Xb, Yb, loss_name, regularization=t.regularization,
                                             reg_rate=t.reg_rate)
            loss = float(loss)
            avg = beta * avg + (1.0 - beta) * loss
            smooth_i = avg / (1.0 - beta ** (i + 1))
            losses.append(loss)
            smoothed.append(smooth_i)
            if not (math.isfinite(loss) and math.isfinite(smooth_i)):
                stopped = "not finite"
                break
            if smooth_i > stop_factor * best:
                stopped = "blow-up"
                break
            best = min(best, smooth_i)
            optimizer.lr = lr
            optimizer.step(net, grads)
    taken = len(losses)
    lrs = schedule[:taken].copy()
    loss_arr = np.array(losses, dtype=np.float64)
    smooth_arr = np.array(smoothed, dtype=np.float64)
    blown = stopped in ("blow-up", "not finite")
    before = taken - 1 if blown else taken  # the points before the blow-up
    index = steepest(lrs[:before], smooth_arr[:before])
    finite = np.isfinite(smooth_arr[:before])
    best_lr = (float(lrs[:before][finite][int(np.argmin(smooth_arr[:before][finite]))])
               if finite.any() else None)
    return LrFindResult(
        lr_min=float(lr_min), lr_max=float(lr_max), steps=steps, beta=beta,
        stop_factor=stop_factor, lrs=lrs, losses=loss_arr, smoothed=smooth_arr,
        stopped=stopped, steepest_lr=None if index is None else float(lrs[index]),
        steepest_index=index, blowup_lr=float(lrs[-1]) if blown else None, best_lr=best_lr)
