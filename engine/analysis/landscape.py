"""The loss over a 2-D slice of weight space, and the optimizer's path projected onto it.

A slice is an origin ``o`` (n_params,) and two directions ``D`` (2, n_params): the point
(a, b) of the slice is the weights ``o + a D[0] + b D[1]``. Three kinds:

- ``params``: a model with exactly two parameters is its own slice: ``o = 0``, ``D = I``,
  so (a, b) are the two parameters themselves (no projection).
- ``random``: filter-normalised random directions (Li et al. 2018, "Visualizing the Loss
  Landscape of Neural Nets"): Gaussian directions, each output unit's part (its column of
  W and its bias) scaled to the norm of that unit's weights, from a seeded generator; the
  origin is the weights given (usually the current ones).
- ``pca``: the top two principal directions of the path so far (the SVD of the recorded
  weights minus the last ones), origin the last weights.

Grid values are the loss a full-batch step descends: the data loss on the training split,
as ``train`` and the snapshots report it (``Snapshot.train_loss``), plus the run's weight
penalty when it has one (L1 or L2), computed by a copy of the network, never the
trainer's. Cost is bounded: grid cells x data rows stay under ``MAX_CELL_ROWS``, and cells
x rows x parameters under ``MAX_WORK`` (a larger training split is evaluated on a fixed
seeded subsample, and ``Landscape.rows`` says how many rows); the grid has at most
``MAX_RESOLUTION`` points a side.

The path (``WeightPath``) is projected by least squares onto the directions (exact for
``params`` and ``pca``, whose directions are orthonormal).

For a model with few parameters, ``hessian`` is the Hessian of the training loss from
central differences of the exact gradient, and ``lambda_max`` its largest eigenvalue:
full-batch gradient descent on a quadratic converges for lr < 2 / lambda_max.

Its length is the three kinds of slice, the grid and the curvature: each a few short
functions that share the ``Slice`` and ``Landscape`` types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..errors import EngineError
from ..nn.network import Network
from ..training.path import WeightPath
from ..training.trainer import Trainer

KINDS = ("params", "random", "pca")
MIN_RESOLUTION, MAX_RESOLUTION = 3, 101
MAX_CELL_ROWS = 2_000_000  #: grid cells x training rows evaluated, at most
MAX_WORK = 4_000_000_000  #: grid cells x training rows x parameters, at most
MAX_HESSIAN_PARAMS = 64  #: a Hessian by finite differences is for small models only
PCA_ROWS = 256  #: path rows the principal directions are computed from, at most
LOSS_NOTE = "training loss as a step descends it (data loss, plus the weight penalty if any)"


@dataclass(frozen=True)
class Slice:
    """A plane through weight space: the weights ``origin + a * directions[0] + b *
    directions[1]`` for the point (a, b)."""

    kind: str  #: one of KINDS
    origin: np.ndarray  #: (n_params,) float64
    directions: np.ndarray  #: (2, n_params) float64
    labels: tuple[str, str]  #: what the two axes are
    seed: int | None = None  #: the random directions' seed (kind "random")

    def weights_at(self, a: float, b: float) -> np.ndarray:
        """The flat weights (n_params,) float64 at the point (a, b)."""
        return self.origin + a * self.directions[0] + b * self.directions[1]

    def project(self, params: np.ndarray) -> np.ndarray:
        """Coordinates (m, 2) of the weights ``params`` (m, n_params) on the plane (least
        squares: exact for orthonormal directions and for points on the plane)."""
        rel = np.atleast_2d(np.asarray(params, np.float64)) - self.origin
        D = self.directions
        gram = D @ D.T
        return np.linalg.solve(gram, D @ rel.T).T


@dataclass(frozen=True)
class Landscape:
    """The loss on a grid over a slice, and the path on it.

    ``loss[i, j]`` is the loss at (``a[j]``, ``b[i]``): rows go along the second axis,
    ``b`` ascending (a display puts the last row on top)."""

    slice: Slice
    a: np.ndarray  #: (cols,) coordinates along directions[0], ascending
    b: np.ndarray  #: (rows,) coordinates along directions[1], ascending
    loss: np.ndarray  #: (rows, cols) float64, inf where the loss overflowed
    path: np.ndarray  #: (m, 2) the path's points on the slice, oldest first
    path_steps: np.ndarray  #: (m,) int64, the step of each point
    rows: int  #: training rows each value was computed on
    sampled: bool  #: True when ``rows`` is a fixed subsample of the training split

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """a_min, a_max, b_min, b_max."""
        return float(self.a[0]), float(self.a[-1]), float(self.b[0]), float(self.b[-1])

    def cell_of(self, point) -> tuple[int, int] | None:
        """The (row, col) of the grid point nearest to ``point`` (a, b); None outside."""
        a0, a1, b0, b1 = self.extent
        x, y = float(point[0]), float(point[1])
        if not (a0 <= x <= a1 and b0 <= y <= b1):
            return None
        col = int(round((x - a0) / (a1 - a0) * (self.a.shape[0] - 1)))
        row = int(round((y - b0) / (b1 - b0) * (self.b.shape[0] - 1)))
        return row, col


# ----- directions ------------------------------------------------------------------------
def param_labels(network: Network) -> list[str]:
    """A name for each flat parameter: ``W1[i,j]`` and ``b1[j]``, layers counted from 1."""
    index = np.arange(network.n_params)
    names = [""] * network.n_params
    for k, (W, b) in enumerate(network.layer_views(index), start=1):
        for (i, j), flat in np.ndenumerate(W):
            names[int(flat)] = f"W{k}[{i},{j}]"
        for j, flat in enumerate(b):
            names[int(flat)] = f"b{k}[{j}]"
    return names


def own_slice(network: Network) -> Slice:
    """The slice of a two-parameter model: its two parameters, unprojected."""
    if network.n_params != 2:
        raise EngineError(f"the model has {network.n_params} parameters; only a model with "
                          "exactly 2 is its own slice")
    names = param_labels(network)
    return Slice("params", np.zeros(2), np.eye(2), (names[0], names[1]))


def random_directions(network: Network, params: np.ndarray, seed: int) -> np.ndarray:
    """Two filter-normalised random directions (2, n_params) for the weights ``params``:
    Gaussian, then each output unit's part (its column of W with its bias) scaled to the
    norm of the same part of ``params``. The same seed gives the same directions."""
    rng = np.random.default_rng(seed)
    params = np.asarray(params, np.float64)
    out = rng.standard_normal((2, network.n_params))
    for d in out:
        for (dW, db), (W, b) in zip(network.layer_views(d), network.layer_views(params)):
            unit = np.sqrt((W * W).sum(axis=0) + b * b)  # (fan_out,)
            norm = np.sqrt((dW * dW).sum(axis=0) + db * db)
            scale = np.divide(unit, norm, out=np.zeros_like(unit), where=norm > 0)
            dW *= scale
            db *= scale
    return out


def random_slice(network: Network, origin: np.ndarray, seed: int = 0) -> Slice:
    """A slice through ``origin`` (n_params,) along two filter-normalised random directions."""
    origin = np.array(origin, np.float64)
    return Slice("random", origin, random_directions(network, origin, seed),
                 ("random direction 1", "random direction 2"), seed)


def pca_slice(path: WeightPath) -> Slice:
    """A slice through the path's last weights along the top two principal directions of
    the path (its weights minus the last ones; at most ``PCA_ROWS`` evenly spaced rows)."""
    params = np.asarray(path.all_params(), np.float64)
    if params.shape[0] < 3:
        raise EngineError("the principal directions need a path of at least 3 points: "
                          "take a few steps first")
    last = params[-1]
    keep = np.unique(np.linspace(0, params.shape[0] - 2, min(PCA_ROWS, params.shape[0] - 1))
                     .round().astype(np.intp))
    rel = params[keep] - last
    _, sv, vt = np.linalg.svd(rel, full_matrices=False)
    if sv.shape[0] < 2 or sv[0] == 0:
        raise EngineError("the path has not moved: no principal directions yet")
    directions = vt[:2].copy()
    if directions.shape[0] < 2:
        raise EngineError("the principal directions need a model with 2 or more parameters")
    for d in directions:  # a fixed sign: the largest component is positive
        if d[np.argmax(np.abs(d))] < 0:
            d *= -1
    share = sv[:2] ** 2 / float((sv ** 2).sum())
    labels = (f"PC1 ({share[0]:.0%} of the path)", f"PC2 ({share[1]:.0%})")
    return Slice("pca", last.copy(), directions, labels)


def choose_slice(trainer_network: Network, path: WeightPath, kind: str = "auto",
                 seed: int = 0) -> Slice:
    """The slice for a run: ``auto`` is ``params`` for a two-parameter model, else
    ``random``; ``random`` goes through the path's current weights."""
    if kind == "auto":
        kind = "params" if trainer_network.n_params == 2 else "random"
    if kind == "params":
        return own_slice(trainer_network)
    if kind == "random":
        return random_slice(trainer_network, path.current, seed)
    if kind == "pca":
        return pca_slice(path)
    raise EngineError(f"unknown directions '{kind}'; use auto, params, random or pca")


# ----- the grid --------------------------------------------------------------------------
def window(slc: Slice, points: np.ndarray, margin: float = 0.25,
           least: float = 1.0) -> tuple[float, float, float, float]:
    """A square window (a_min, a_max, b_min, b_max) that holds ``points`` (m, 2) with a
    ``margin`` of its size on each side, at least ``least`` wide from its centre each way.
    Non-finite points are left out."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if pts.shape[0] == 0:
        pts = np.zeros((1, 2))
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo + hi) / 2
    half = max(float((hi - lo).max()) / 2 * (1 + 2 * margin), least)
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def check_resolution(resolution: int) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise EngineError(f"the grid must have {MIN_RESOLUTION} to {MAX_RESOLUTION} points "
                          f"a side, not {resolution!r}")
    return int(resolution)


def training_rows(trainer: Trainer, cells: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """The training split (inputs (r, n_in), targets (r, n_out)) as the trainer reads it,
    cut to a fixed subsample when cells x rows would pass ``MAX_CELL_ROWS``."""
    X, Y = trainer.train_set
    cells = max(1, cells)
    limit = max(1, min(MAX_CELL_ROWS // cells,
                       MAX_WORK // (cells * max(1, trainer.network.n_params))))
    if X.shape[0] <= limit:
        return X, Y, False
    rows = np.sort(np.random.default_rng(0).choice(X.shape[0], limit, replace=False))
    return X[rows], Y[rows], True


class Parts(NamedTuple):
    """What ``compute`` needs of a trainer (see ``parts``)."""

    network: Network
    loss_name: str
    X: np.ndarray
    Y: np.ndarray
    sampled: bool
    penalty: tuple[str, float]  #: (regularization, rate) of the run


def penalty_of(trainer: Trainer) -> tuple[str, float]:
    """The run's weight penalty as (regularization, rate): ("none", 0.0) when it has none."""
    t = trainer.config.training
    return (t.regularization, float(t.reg_rate))


def parts(trainer: Trainer, cells: int) -> Parts:
    """What ``compute`` needs of a trainer, taken without stopping a run: a network of the
    same shape (its weights do not matter, every grid point sets them), the loss's name,
    the training rows ``training_rows`` picks (read-only arrays the trainer never
    writes), and the run's penalty."""
    network = trainer.network
    twin = Network(**network.describe())
    X, Y, sampled = training_rows(trainer, cells)
    return Parts(twin, trainer.loss_name, X, Y, sampled, penalty_of(trainer))


def grid_loss(network: Network, loss_name: str, X: np.ndarray, Y: np.ndarray, slc: Slice,
              a: np.ndarray, b: np.ndarray,
              penalty: tuple[str, float] = ("none", 0.0)) -> np.ndarray:
    """The loss (rows, cols) at every (a[j], b[i]) of the slice, the weight ``penalty``
    (regularization, rate) included, by a copy of ``network`` (the original is not
    touched)."""
    net = network.copy()
    out = np.empty((b.shape[0], a.shape[0]))
    with np.errstate(all="ignore"):
        for i, bi in enumerate(b):
            for j, aj in enumerate(a):
                net.params[...] = slc.weights_at(aj, bi)
                value = net.loss(X, Y, loss_name) + net.penalty(*penalty)
                out[i, j] = value if np.isfinite(value) else np.inf
    return out


def landscape(trainer: Trainer, path: WeightPath | None = None, *, kind: str = "auto",
              resolution: int = 41, seed: int = 0, slc: Slice | None = None,
              extent: tuple[float, float, float, float] | None = None) -> Landscape:
    """The loss over a slice and the path on it, for a still trainer.

    ``path``: the weights to project (default: the trainer's latest snapshot's); ``slc``:
    a slice to reuse (default: ``choose_slice(kind, seed)``); ``extent``: the window
    (default: one that holds the path, see ``window``). ``resolution`` points a side."""
    resolution = check_resolution(resolution)
    with trainer.still("draw its loss landscape"):
        if path is None:
            path = trainer.latest.path
        if path is None:
            raise EngineError("no path is recorded for a model this big, so there is no "
                              "landscape to draw")
        net, loss_name = trainer.network.copy(), trainer.loss_name
        X, Y, sampled = training_rows(trainer, resolution * resolution)
        penalty = penalty_of(trainer)
    return compute(net, loss_name, X, Y, path, kind=kind, resolution=resolution, seed=seed,
                   slc=slc, extent=extent, sampled=sampled, penalty=penalty)


def compute(network: Network, loss_name: str, X: np.ndarray, Y: np.ndarray,
            path: WeightPath, *, kind: str = "auto", resolution: int = 41, seed: int = 0,
            slc: Slice | None = None, extent: tuple[float, float, float, float] | None = None,
            sampled: bool = False, penalty: tuple[str, float] = ("none", 0.0)) -> Landscape:
    """``landscape`` from its parts (a network copy, the rows and the run's penalty), for
    a thread of its own."""
    resolution = check_resolution(resolution)
    if slc is None:
        slc = choose_slice(network, path, kind, seed)
    points = slc.project(path.all_params())
    if extent is None:
        extent = window(slc, points)
    a = np.linspace(extent[0], extent[1], resolution)
    b = np.linspace(extent[2], extent[3], resolution)
    loss = grid_loss(network, loss_name, X, Y, slc, a, b, penalty)
    return Landscape(slc, a, b, loss, points, np.asarray(path.all_steps(), np.int64),
                     int(X.shape[0]), sampled)


def log_bands(loss: np.ndarray, levels: int = 10) -> np.ndarray:
    """Each value's contour band 0..levels-1 (rows, cols) int: equal steps of
    log(1 + loss - min) between the grid's finite min and max; inf is in the top band."""
    loss = np.asarray(loss, np.float64)
    finite = loss[np.isfinite(loss)]
    if finite.size == 0:
        return np.full(loss.shape, levels - 1, np.intp)
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return np.zeros(loss.shape, np.intp)
    with np.errstate(all="ignore"):
        t = np.log1p(np.maximum(loss - lo, 0.0)) / np.log1p(hi - lo)
    t = np.where(np.isfinite(t), t, 1.0)
    return np.clip((t * levels).astype(np.intp), 0, levels - 1)


# ----- curvature -------------------------------------------------------------------------
def hessian(trainer: Trainer, params: np.ndarray | None = None, h: float = 1e-5) -> np.ndarray:
    """The Hessian (n_params, n_params) of the full-batch training loss (data loss plus
    the run's penalty, what a step descends) at ``params`` (default: the current
    weights), from central differences of the exact gradient; symmetrised."""
    with trainer.still("measure its curvature"):
        net = trainer.network.copy()
        X, Y = trainer.train_set
        t = trainer.config.training
        loss_name = trainer.loss_name
    n = net.n_params
    if n > MAX_HESSIAN_PARAMS:
        raise EngineError(f"the Hessian is measured for models of at most "
                          f"{MAX_HESSIAN_PARAMS} parameters, not {n}")
    base = np.array(net.params if params is None else params, np.float64)
    H = np.empty((n, n))
    for j in range(n):
        grads = []
        for sign in (1.0, -1.0):
            w = base.copy()
            w[j] += sign * h
            net.params[...] = w
            _, g = net.loss_and_grads(X, Y, loss_name, regularization=t.regularization,
                                      reg_rate=t.reg_rate)
            grads.append(np.array(g.flat, np.float64))
        H[:, j] = (grads[0] - grads[1]) / (2 * h)
    return (H + H.T) / 2


def lambda_max(trainer: Trainer, params: np.ndarray | None = None) -> float:
    """The largest eigenvalue of ``hessian``: plain gradient descent converges near a
    minimum only for lr < 2 / lambda_max."""
    return float(np.linalg.eigvalsh(hessian(trainer, params))[-1])


def critical_lr(trainer: Trainer, params: np.ndarray | None = None) -> float:
    """2 / lambda_max: the learning rate above which full-batch gradient descent overshoots
    the steepest direction by more than it started from, and so diverges."""
    return 2.0 / lambda_max(trainer, params)


__all__ = ["KINDS", "LOSS_NOTE", "Landscape", "Parts", "Slice", "choose_slice", "compute",
           "critical_lr", "hessian", "log_bands", "lambda_max", "landscape", "own_slice", "param_labels", "parts",
           "pca_slice", "random_directions", "random_slice", "window"]
