"""Looking at a network without training it: loss and accuracy on a split, the output over
the 2-D input plane, and the layer statistics of one step.

Layer statistics are the one definition behind the gradient pane, ``train``'s summary and
``train --jsonl``: each figure is measured on a single step, from that step's gradient, the
weights before and after its update, and the activations of its mini-batch.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..data import Dataset, feature_map
from ..nn.network import Gradients, Network
from .snapshot import Boundary, LayerStats, Points, Samples, frozen_array


#: rows evaluated at once: memory for evaluation stays bounded however large the split
EVAL_CHUNK = 8192


class Accuracy(float):
    """An accuracy that carries the confusion matrix it was counted from, so that every
    caller of ``evaluate`` (and the snapshot made from its figures) has both, measured on
    the same outputs of the same weights."""

    confusion: np.ndarray  #: (k, k) int, read-only: rows the true class, columns the predicted

    def __new__(cls, matrix: np.ndarray) -> Accuracy:
        n = int(matrix.sum())
        acc = super().__new__(cls, int(np.trace(matrix)) / n if n else math.nan)
        acc.confusion = frozen_array(matrix, np.int64)
        return acc

    def __reduce__(self):
        return Accuracy, (np.array(self.confusion),)


def predicted_classes(out: np.ndarray) -> np.ndarray:
    """The class each output row (n, n_out) predicts: binary, out > 0.5; else the argmax."""
    if out.shape[1] == 1:
        return (out[:, 0] > 0.5).astype(np.int64)
    return out.argmax(axis=1)


def true_classes(Y: np.ndarray) -> np.ndarray:
    """The class of each target row (n, n_out): binary, y > 0.5; else the one-hot's argmax."""
    if Y.shape[1] == 1:
        return (Y[:, 0] > 0.5).astype(np.int64)
    return Y.argmax(axis=1)


def confusion(true: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """The (k, k) int counts of (true class, predicted class) over two (n,) label arrays."""
    return np.bincount(true * k + predicted, minlength=k * k).reshape(k, k)


def class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Per-class accuracy (recall) from a confusion matrix: the diagonal over each row's
    total, (k,) float; NaN for a class with no rows in the split."""
    rows = matrix.sum(axis=1)
    with np.errstate(all="ignore"):
        return np.where(rows > 0, np.diag(matrix) / np.maximum(rows, 1), math.nan)


def evaluate(network: Network, loss_name: str, task: str, X: np.ndarray,
             Y: np.ndarray) -> tuple[float, Accuracy | None]:
    """Data loss and accuracy (classification only) on X (n, n_in), Y (n, n_out), in chunks
    of ``EVAL_CHUNK`` rows; NaN and None for an empty split. The accuracy is an
    ``Accuracy``: its ``confusion`` is the split's matrix, counted in the same pass from
    the same outputs. Touches nothing the last training step left behind."""
    n = X.shape[0]
    if n == 0:
        return math.nan, None
    fn = network.loss_function(loss_name)
    total = 0.0
    k = max(2, Y.shape[1])
    matrix = np.zeros((k, k), dtype=np.int64)
    with np.errstate(all="ignore"):
        for start in range(0, n, EVAL_CHUNK):
            x, y = X[start:start + EVAL_CHUNK], Y[start:start + EVAL_CHUNK]
            z, out = network.infer(x)
            loss = fn.value(z, out, y)
            total += loss if n <= EVAL_CHUNK else loss * x.shape[0]
            if task == "classification":
                matrix += confusion(true_classes(y), predicted_classes(out), k)
    loss = total if n <= EVAL_CHUNK else total / n
    return loss, (Accuracy(matrix) if task == "classification" else None)


def live_rows(n: int, limit: int, seed: int) -> np.ndarray | None:
    """A fixed, seeded subsample of ``limit`` of ``n`` rows (sorted), for evaluations
    that must stay cheap; None when the split is no larger than ``limit``."""
    if n <= limit:
        return None
    return np.sort(np.random.default_rng([seed, 2]).choice(n, size=limit, replace=False))


def grid_inputs(data: Dataset, shape: tuple[int, int], dtype) -> np.ndarray | None:
    """The network inputs (rows * cols, n_in) of a grid over the data's 2-D extent, row 0
    at the top; None for data that is not 2-D."""
    if data.extent is None:
        return None
    x0, x1, y0, y1 = data.extent
    rows, cols = shape
    gx, gy = np.meshgrid(np.linspace(x0, x1, cols), np.linspace(y1, y0, rows))
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    return np.ascontiguousarray(feature_map(pts, data.feature_names), dtype=dtype)


def boundary(network: Network, grid: np.ndarray, shape: tuple[int, int], task: str,
             extent: tuple[float, float, float, float], step: int) -> Boundary:
    """The network's output over ``grid`` (from ``grid_inputs``), as a Boundary."""
    with np.errstate(all="ignore"):
        out = network.infer(grid)[1]
    rows, cols = shape
    classes = None
    if task == "regression":
        kind, values = "regression", out[:, 0]
    elif out.shape[1] == 1:
        kind, values = "binary", out[:, 0]
    else:
        kind = "multiclass"
        classes = frozen_array(out.argmax(axis=1).reshape(rows, cols))
        values = out.max(axis=1)
    return Boundary(kind, frozen_array(values.reshape(rows, cols), np.float64), classes,
                    extent, step)


def plot_points(data: Dataset) -> Points | None:
    """The data in its 2-D plotting coordinates (None for data that is not 2-D)."""
    if data.points_train is None:
        return None
    return Points(frozen_array(data.points_train), frozen_array(data.y_train),
                  frozen_array(data.points_test), frozen_array(data.y_test), data.extent)


#: images a snapshot of image data carries with their predictions
SAMPLE_IMAGES = 40


def sample_images(data: Dataset, count: int = SAMPLE_IMAGES) -> Samples | None:
    """The first ``count`` test images (train images without a test split), not yet
    predicted (``predict_samples``); None for data that is not images."""
    if data.image_shape is None:
        return None
    split = "test" if data.n_test else "train"
    X, y = (data.X_test, data.y_test) if data.n_test else (data.X_train, data.y_train)
    k = min(count, X.shape[0])
    return Samples(split, frozen_array(np.arange(k)), frozen_array(X[:k], np.float64),
                   frozen_array(y[:k], np.int64), frozen_array(np.zeros(k), np.int64),
                   tuple(data.image_shape), tuple(data.class_names), -1)


def predict_samples(network: Network, samples: Samples, step: int) -> Samples:
    """``samples`` with the classes the network predicts for them now, at ``step``."""
    with np.errstate(all="ignore"):
        out = network.infer(np.asarray(samples.images, dtype=network.dtype))[1]
    return replace(samples, predicted=frozen_array(predicted_classes(out), np.int64), step=step)


def unmeasured(network: Network) -> tuple[LayerStats, ...]:
    """Statistics before any step: only the weight norms are known."""
    return tuple(LayerStats(i, layer.fan_in, layer.fan_out, layer.activation.name, None, None,
                            float(np.linalg.norm(layer.W)), None, None, None)
                 for i, layer in enumerate(network.layers))


def measure(network: Network, grads: Gradients, before: np.ndarray | None) -> tuple[LayerStats, ...]:
    """Statistics of the step that produced ``grads``.

    ``before``: the flat parameters (n_params,) before that step's update, or None when the
    update was not applied (the update ratio is then not measured). The dead and saturated
    shares read the activations of the network's last training batch
    (``Network.unit_health``), so nothing else may have trained it since."""
    health = network.unit_health()
    old = network.layer_views(before) if before is not None else [None] * len(network.layers)
    out = []
    with np.errstate(all="ignore"):  # huge but finite weights may overflow a norm
        for i, (layer, (dW, _), w_before, (dead, sat)) in enumerate(
                zip(network.layers, grads, old, health)):
            w_norm = float(np.linalg.norm(layer.W))
            ratio = None
            if w_before is not None:
                update = float(np.linalg.norm(layer.W - w_before[0]))
                ratio = update / w_norm if w_norm else (0.0 if update == 0 else float("inf"))
            out.append(LayerStats(
                i, layer.fan_in, layer.fan_out, layer.activation.name,
                grad_norm=float(np.linalg.norm(dW)), grad_mean_abs=float(np.abs(dW).mean()),
                weight_norm=w_norm, update_ratio=ratio, dead_fraction=dead,
                saturated_fraction=sat))
    return tuple(out)
