"""Immutable pictures of a training run, handed from the trainer to whoever displays it.

A snapshot never changes after it is made and shares no mutable state with the trainer,
so a display thread can read it while training goes on. Arrays inside are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: run states a snapshot can report
STATES = ("idle", "running", "paused", "finished", "diverged")


def frozen_array(values, dtype=None) -> np.ndarray:
    """A read-only copy of ``values``."""
    arr = np.array(values, dtype=dtype, copy=True)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class LayerStats:
    """Health of one layer at the step the snapshot was taken."""

    index: int
    fan_in: int
    fan_out: int
    activation: str
    grad_norm: float  #: L2 norm of dL/dW
    grad_mean_abs: float  #: mean |dL/dW|
    weight_norm: float  #: L2 norm of W
    update_ratio: float  #: ||delta W|| / ||W|| of the last update (0 before any step)
    dead_fraction: float  #: ReLU units that are zero on every sample of the batch
    saturated_fraction: float  #: sigmoid/tanh activations within 1% of a bound


@dataclass(frozen=True)
class History:
    """Loss history, downsampled so its size stays bounded however long the run."""

    steps: np.ndarray  #: (points,) int
    epochs: np.ndarray  #: (points,) float, fractional epochs
    train_loss: np.ndarray  #: (points,)
    test_loss: np.ndarray  #: (points,) NaN where there is no test split

    def __len__(self) -> int:
        return int(self.steps.shape[0])


@dataclass(frozen=True)
class Points:
    """The data in its 2-D plotting coordinates (only for 2-D data sets)."""

    train_xy: np.ndarray  #: (n_train, 2)
    train_y: np.ndarray  #: (n_train,) class labels or regression targets
    test_xy: np.ndarray  #: (n_test, 2)
    test_y: np.ndarray  #: (n_test,)
    extent: tuple[float, float, float, float]  #: x_min, x_max, y_min, y_max


@dataclass(frozen=True)
class Boundary:
    """The model's output on a grid over the data's 2-D extent.

    ``values`` is (rows, cols) with row 0 at y_max (top of the screen):
    binary classification: P(class 1); regression: the prediction;
    multi-class: the winning class's probability, with ``classes`` the argmax.
    """

    kind: str  #: "binary", "multiclass" or "regression"
    values: np.ndarray  #: (rows, cols) float
    classes: np.ndarray | None  #: (rows, cols) int for multiclass, else None
    extent: tuple[float, float, float, float]
    step: int  #: the step whose weights drew it


@dataclass(frozen=True)
class Snapshot:
    """Everything a display needs about the run, at one step."""

    state: str  #: one of STATES
    step: int  #: optimizer steps taken since the last reset
    epoch: int  #: completed epochs
    epoch_progress: float  #: fractional epochs, e.g. 3.25
    train_loss: float  #: data loss on the whole training split (no penalty)
    test_loss: float  #: data loss on the test split (NaN when there is none)
    penalty: float  #: the L1/L2 term on weights; ``train_loss`` does not include it
    train_accuracy: float | None  #: classification only
    test_accuracy: float | None
    lr: float
    elapsed: float  #: seconds of training since the last reset
    steps_per_sec: float  #: recent training speed
    layers: tuple[LayerStats, ...]
    history: History
    task: str  #: "classification" or "regression"
    n_classes: int  #: 0 for regression
    boundary: Boundary | None = None  #: latest decision-boundary grid (2-D data only)
    points: Points | None = None  #: the data to draw on top of the boundary
    diverged_step: int | None = None  #: set when state == "diverged"
    reason: str | None = None  #: why the run stopped or diverged, one line
    loss_includes_penalty: bool = False
    seed: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def diverged(self) -> bool:
        return self.state == "diverged"
