"""Immutable pictures of a training run, handed from the trainer to whoever displays it.

A snapshot never changes after it is made and shares no mutable state with the trainer,
so a display thread can read it while training goes on. Arrays inside are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .path import WeightPath

#: run states a snapshot can report
STATES = ("idle", "running", "paused", "finished", "diverged")


def frozen_array(values, dtype=None) -> np.ndarray:
    """A read-only copy of ``values``."""
    arr = np.array(values, dtype=dtype, copy=True)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class LayerStats:
    """Health of one layer, measured on one training step (``Snapshot.stats_step``).

    Every figure comes from that step: the gradient backward computed, the update the
    optimizer made, and the activations of that step's mini-batch. None: not measured
    (no step taken yet, or, for ``update_ratio``, a step whose update was not applied).
    """

    index: int
    fan_in: int
    fan_out: int
    activation: str
    grad_norm: float | None  #: L2 norm of dL/dW (the penalty's gradient included)
    grad_mean_abs: float | None  #: mean |dL/dW|
    weight_norm: float  #: L2 norm of W now
    update_ratio: float | None  #: ||W after - W before|| / ||W after|| of that step
    #: ReLU units that are 0 on every sample of the step's batch (0 for other activations)
    dead_fraction: float | None
    #: sigmoid/tanh activations within 1% of a bound on that batch (0 for others)
    saturated_fraction: float | None

    @property
    def measured(self) -> bool:
        return self.grad_norm is not None


@dataclass(frozen=True)
class BatchHistory:
    """The loss of every step's mini-batch, in min/max buckets (see ``engine.training.history``)."""

    steps: np.ndarray  #: (buckets,) int, the step of each bucket's last point
    epochs: np.ndarray  #: (buckets,) float, fractional epochs
    loss: np.ndarray  #: (buckets,) the last batch loss in each bucket
    low: np.ndarray  #: (buckets,) the lowest batch loss in each bucket
    high: np.ndarray  #: (buckets,) the highest
    bucket: int = 1  #: steps per full bucket
    points: int = 0  #: steps recorded

    def __len__(self) -> int:
        return int(self.steps.shape[0])


def _empty() -> np.ndarray:
    return frozen_array(np.empty(0))


@dataclass(frozen=True)
class History:
    """Every epoch end of the run (and step 0), in at most a fixed number of buckets.

    Each bucket holds ``bucket`` consecutive epoch ends: its last values (``train_loss``...)
    and the lowest and highest loss among them (``train_low``, ``train_high``...), so a
    spike between two kept points is never lost. NaN where there is no value (no test
    split; accuracy for regression).
    """

    steps: np.ndarray  #: (buckets,) int, the step of each bucket's last epoch end
    epochs: np.ndarray  #: (buckets,) float
    train_loss: np.ndarray  #: (buckets,)
    test_loss: np.ndarray  #: (buckets,)
    train_low: np.ndarray = field(default_factory=_empty)  #: (buckets,)
    train_high: np.ndarray = field(default_factory=_empty)  #: (buckets,)
    test_low: np.ndarray = field(default_factory=_empty)  #: (buckets,)
    test_high: np.ndarray = field(default_factory=_empty)  #: (buckets,)
    train_accuracy: np.ndarray = field(default_factory=_empty)  #: (buckets,)
    test_accuracy: np.ndarray = field(default_factory=_empty)  #: (buckets,)
    bucket: int = 1  #: epoch ends per full bucket
    points: int = 0  #: epoch ends recorded (step 0 included)
    batch: BatchHistory | None = None

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
class Samples:
    """A fixed set of images of one split and the class the network predicts for each.

    The set is the split's first ``k`` rows (a split is already shuffled); ``images``
    are those rows' features, the network's inputs, each ``shape[0] * shape[1]`` pixels
    row by row."""

    split: str  #: "test" (or "train" when there is no test split)
    rows: np.ndarray  #: (k,) int, the rows of the split shown
    images: np.ndarray  #: (k, pixels) float64
    true: np.ndarray  #: (k,) int, each image's class
    predicted: np.ndarray  #: (k,) int, the class the network predicts at ``step``
    shape: tuple[int, int]  #: (rows, cols) of one image
    class_names: tuple[str, ...]  #: (n_classes,) the names of the classes, () if unnamed
    step: int  #: the step whose weights predicted


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
    #: why training cannot start on the data (drawn data without a point of each class)
    not_ready: str | None = None
    loss_includes_penalty: bool = False
    seed: int = 0
    #: the losses and accuracies are of fixed subsamples of large splits (a snapshot made
    #: while a run goes, mid-epoch; ``Trainer.LIVE_EVAL_ROWS``), not of the whole splits
    sampled: bool = False
    #: the step whose figures ``layers`` holds (None: no step measured yet)
    stats_step: int | None = None
    #: per layer: "ok", "vanishing" or "exploding" (``engine.training.health``); () before any step
    flags: tuple[str, ...] = ()
    #: every layer's W (fan_in, fan_out), read-only float64 copies, when the trainer was
    #: asked for them (``Trainer.weights_interval``); None otherwise
    weights: tuple[np.ndarray, ...] | None = None
    weights_step: int | None = None  #: the step whose weights ``weights`` holds
    extra: dict = field(default_factory=dict)
    #: classification only: (k, k) int counts, rows the true class and columns the
    #: predicted one, of the same rows and outputs as ``train_accuracy`` / ``test_accuracy``
    #: (so a sampled snapshot's are of the subsamples too); None for regression
    confusion_train: np.ndarray | None = None
    confusion_test: np.ndarray | None = None
    #: image data only (``Dataset.image_shape``): fixed test images and what the network
    #: predicts for them at this step
    samples: Samples | None = None
    #: the network view's ``engine.training.neuron_maps.NetworkState`` (weights, biases,
    #: last gradients, per-unit maps) when the trainer was asked for it
    #: (``Trainer.network_interval``); None otherwise
    network: object | None = None
    #: the weights at the run's recorded steps and now (``engine.training.path``)
    path: WeightPath | None = None

    def __post_init__(self) -> None:
        # an accuracy from ``probe.evaluate`` carries the matrix it was counted from: the
        # snapshot keeps the matrix here and the accuracy as a plain float
        for split in ("train", "test"):
            acc = getattr(self, f"{split}_accuracy")
            carried = getattr(acc, "confusion", None)
            if getattr(self, f"confusion_{split}") is None and carried is not None:
                object.__setattr__(self, f"confusion_{split}", frozen_array(carried, np.int64))
            if acc is not None and type(acc) is not float:
                object.__setattr__(self, f"{split}_accuracy", float(acc))

    @property
    def diverged(self) -> bool:
        return self.state == "diverged"
