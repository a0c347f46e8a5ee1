"""Seeded toy data sets in the style of TensorFlow Playground, plus iris and CSV files.

The 2-D sets draw raw points (n, 2) inside ``EXTENT`` and turn them into a feature matrix
with ``feature_map`` (e.g. ``("x1", "x2", "x1*x2")``). Every random draw comes from
``np.random.default_rng(seed)``, so the same arguments always give bit-identical arrays.

Classification (labels int64 in 0..k-1, balanced by construction):

- ``circle``: a disc of radius 1.5 (class 1) inside a ring of radii 2.1-3 (class 0).
- ``xor``: points away from the axes, class 1 where x1*x2 > 0, class 0 where x1*x2 < 0.
- ``gauss``: two blobs around (1.5, 1.5) (class 1) and (-1.5, -1.5) (class 0).
- ``spiral``: ``classes`` interleaved arms (radius 0.25 to 2.9), one class per arm.
- ``moons``: two interleaving half-moons like sklearn's ``make_moons``, scaled by 2 and
  centred; the upper moon is class 0 and the lower one class 1.

Classification noise (0-0.5) moves the points by Gaussian jitter, then clips them into
``EXTENT``; noise 0 leaves the classes cleanly separable and 0.5 makes them overlap
noticeably. Regression sets (targets float64, about [-1, 1]):

- ``plane``: y = (x1 + x2) / 6.
- ``multi-gauss``: a sum of six signed Gaussian bumps.

Regression noise adds N(0, noise^2) to the target.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import DataError, choices

CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSION = ("plane", "multi-gauss")
DATASETS = CLASSIFICATION + REGRESSION + ("iris", "csv")
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
EXTENT = (-3.0, 3.0, -3.0, 3.0)  # x_min, x_max, y_min, y_max
#: the only generated set whose number of classes can be chosen
MULTICLASS = ("spiral",)
MAX_NOISE = 0.5
MIN_SAMPLES = 4

# Standard deviation of the coordinate jitter at noise 1.0, per classification set
# (for spiral it is divided by the number of arms, as the arms get closer).
_JITTER = {"circle": 1.6, "xor": 1.6, "gauss": 3.0, "spiral": 1.2, "moons": 1.4}
# Signed Gaussian bumps of "multi-gauss": (centre x, centre y, sign).
_BUMPS = ((-2.0, 1.25, 1.0), (0.0, 1.25, -1.0), (2.0, 1.25, 1.0),
          (-2.0, -1.25, -1.0), (0.0, -1.25, 1.0), (2.0, -1.25, -1.0))
_BUMP_SIGMA = 0.6


@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set split into train and test parts. All arrays are read-only.

    ``X_*`` are (n, n_features) float64; ``y_*`` are (n,) int64 labels 0..k-1 for
    classification or float64 targets for regression. ``points_*`` are the raw (n, 2)
    coordinates of the 2-D sets before the feature map (None for iris and CSV files).
    """

    name: str
    task: str
    n_classes: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    points_train: np.ndarray | None
    points_test: np.ndarray | None
    extent: tuple[float, float, float, float] | None
    class_names: tuple[str, ...] = ()

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.X_test.shape[0])


# ---------------------------------------------------------------------------- features

_FEATURE_FUNCS = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1^2": lambda a, b: a * a,
    "x2^2": lambda a, b: b * b,
    "x1*x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: np.sin(a),
    "sin(x2)": lambda a, b: np.sin(b),
}


def check_features(features: Sequence[str]) -> tuple[str, ...]:
    """Return ``features`` as a tuple; DataError if empty, repeated or not in FEATURES."""
    if isinstance(features, str):
        features = (features,)
    features = tuple(features)
    if not features:
        raise DataError(f"choose at least one feature: {choices(FEATURES)}")
    for name in features:
        if name not in _FEATURE_FUNCS:
            raise DataError(f"unknown feature '{name}'; features are {choices(FEATURES)}")
    if len(set(features)) != len(features):
        repeated = next(f for f in features if features.count(f) > 1)
        raise DataError(f"feature '{repeated}' is chosen twice")
    return features


def feature_map(points: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """Map raw coordinates (n, 2) to a float64 feature matrix (n, len(features))."""
    features = check_features(features)
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise DataError(f"points must have shape (n, 2), not {points.shape}")
    a, b = points[:, 0], points[:, 1]
    X = np.empty((points.shape[0], len(features)), dtype=np.float64)
    for j, name in enumerate(features):
        X[:, j] = _FEATURE_FUNCS[name](a, b)
    return X


# ---------------------------------------------------------------------------- splitting

def check_train_ratio(train_ratio: float) -> float:
    """Return ``train_ratio`` as a float; DataError unless 0 < train_ratio <= 1."""
    try:
        ratio = float(train_ratio)
    except (TypeError, ValueError):
        raise DataError(f"train_ratio must be a number, not {train_ratio!r}") from None
    if not 0.0 < ratio <= 1.0:
        raise DataError(f"train_ratio must be above 0 and at most 1, not {train_ratio!r}")
    return ratio


def split_indices(n: int, train_ratio: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle range(n) and cut it into (train, test) index arrays.

    n_train = round(n * train_ratio), at least 1; the test part may be empty.
    """
    ratio = check_train_ratio(train_ratio)
    order = rng.permutation(n)
    n_train = min(n, max(1, round(n * ratio)))
    return order[:n_train], order[n_train:]


def split(X: np.ndarray, y: np.ndarray, train_ratio: float, rng: np.random.Generator):
    """Shuffle rows with ``rng`` and split: returns (X_train, y_train, X_test, y_test).

    ``X`` is (n, d) and ``y`` (n,); the test arrays have shape (0, d) and (0,) when
    train_ratio is 1.
    """
    X, y = np.asarray(X), np.asarray(y)
    train, test = split_indices(len(X), train_ratio, rng)
    return X[train], y[train], X[test], y[test]


def standardize(X_train: np.ndarray, X_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale both parts with the train columns' mean and std.

    A column whose train std is 0 is only centred.
    """
    mean = X_train.mean(axis=0) if len(X_train) else np.zeros(X_train.shape[1])
    std = X_train.std(axis=0) if len(X_train) else np.ones(X_train.shape[1])
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_test - mean) / std


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def build(name: str, task: str, n_classes: int, X_train, y_train, X_test, y_test,
          feature_names: Sequence[str], *, points_train=None, points_test=None,
          extent=None, class_names: Sequence[str] = ()) -> Dataset:
    """Make a Dataset with float64 features, int64/float64 targets and read-only arrays."""
    y_dtype = np.int64 if task == "classification" else np.float64
    return Dataset(
        name=name, task=task, n_classes=n_classes,
        X_train=_frozen(np.asarray(X_train, dtype=np.float64)),
        y_train=_frozen(np.asarray(y_train, dtype=y_dtype)),
        X_test=_frozen(np.asarray(X_test, dtype=np.float64)),
        y_test=_frozen(np.asarray(y_test, dtype=y_dtype)),
        feature_names=tuple(feature_names),
        points_train=_frozen(points_train), points_test=_frozen(points_test),
        extent=extent, class_names=tuple(class_names),
    )


# ---------------------------------------------------------------------------- generators

def _class_sizes(n: int, k: int) -> list[int]:
    """Split n samples into k classes whose sizes differ by at most 1."""
    return [n // k + (1 if j < n % k else 0) for j in range(k)]


def _polar(r: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return np.column_stack([r * np.cos(angle), r * np.sin(angle)])


def _circle(n, k, rng):
    n1, n0 = _class_sizes(n, 2)
    inner = _polar(rng.uniform(0.0, 1.5, n1), rng.uniform(0.0, 2 * np.pi, n1))
    ring = _polar(rng.uniform(2.1, 3.0, n0), rng.uniform(0.0, 2 * np.pi, n0))
    return np.vstack([ring, inner]), np.repeat([0, 1], [n0, n1])


def _xor(n, k, rng):
    n0, n1 = _class_sizes(n, 2)
    pts = rng.uniform(0.3, 3.0, (n, 2))  # distances from the axes
    s = rng.choice([-1.0, 1.0], n)  # sign of x1
    # class 0: x2 has the opposite sign of x1; class 1: the same sign
    signs = np.column_stack([s, np.concatenate([-s[:n0], s[n0:]])])
    return pts * signs, np.repeat([0, 1], [n0, n1])


def _gauss(n, k, rng):
    n0, n1 = _class_sizes(n, 2)
    offsets = np.clip(rng.normal(0.0, 0.45, (n, 2)), -1.0, 1.0)  # stays clear of x1 + x2 = 0
    centres = np.repeat([[-1.5, -1.5], [1.5, 1.5]], [n0, n1], axis=0)
    return centres + offsets, np.repeat([0, 1], [n0, n1])


def _spiral(n, k, rng):
    sizes = _class_sizes(n, k)
    parts = []
    for j, m in enumerate(sizes):
        t = rng.uniform(0.0, 1.0, m)
        parts.append(_polar(0.25 + 2.65 * t, 1.75 * 2 * np.pi * t + 2 * np.pi * j / k))
    return np.vstack(parts), np.repeat(np.arange(k), sizes)


def _moons(n, k, rng):
    n0, n1 = _class_sizes(n, 2)
    t0, t1 = rng.uniform(0.0, np.pi, n0), rng.uniform(0.0, np.pi, n1)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)])
    pts = (np.vstack([upper, lower]) - [0.5, 0.25]) * 2.0  # x in [-3, 3], y in [-1.5, 1.5]
    return pts, np.repeat([0, 1], [n0, n1])


def _plane(n, rng):
    pts = rng.uniform(-3.0, 3.0, (n, 2))
    return pts, (pts[:, 0] + pts[:, 1]) / 6.0


def _multi_gauss(n, rng):
    pts = rng.uniform(-3.0, 3.0, (n, 2))
    y = np.zeros(n)
    for cx, cy, sign in _BUMPS:
        d2 = (pts[:, 0] - cx) ** 2 + (pts[:, 1] - cy) ** 2
        y += sign * np.exp(-d2 / (2 * _BUMP_SIGMA**2))
    return pts, y


_CLASSIFIERS = {"circle": _circle, "xor": _xor, "gauss": _gauss, "spiral": _spiral, "moons": _moons}
_REGRESSORS = {"plane": _plane, "multi-gauss": _multi_gauss}


def _clip(points: np.ndarray) -> np.ndarray:
    x0, x1, y0, y1 = EXTENT
    return np.column_stack([np.clip(points[:, 0], x0, x1), np.clip(points[:, 1], y0, y1)])


# ---------------------------------------------------------------------------- entry points

def _check_int(value, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise DataError(f"{what} must be a whole number, not {value!r}")
    if value < minimum:
        raise DataError(f"{what} must be at least {minimum}, not {value}")
    return int(value)


def check_seed(seed) -> int:
    """Return ``seed`` as an int; DataError unless it is a whole number >= 0."""
    return _check_int(seed, "seed", 0)


def _check_noise(noise: float) -> float:
    try:
        value = float(noise)
    except (TypeError, ValueError):
        raise DataError(f"noise must be a number, not {noise!r}") from None
    if not 0.0 <= value <= MAX_NOISE:
        raise DataError(f"noise must be between 0 and {MAX_NOISE} (0-50%), not {noise!r}")
    return value


def make_dataset(name: str, *, samples: int = 400, noise: float = 0.0, train_ratio: float = 0.5,
                 seed: int = 0, classes: int = 2, features: Sequence[str] = ("x1", "x2"),
                 csv_path: str | None = None, label: str | None = None,
                 csv_task: str = "classification", standardize: bool = True) -> Dataset:
    """Build the seeded data set ``name`` (one of DATASETS).

    The 2-D sets use ``samples``, ``noise`` (0-0.5), ``seed`` and ``features``; only
    ``spiral`` takes ``classes`` other than 2. ``iris`` and ``csv`` use every numeric
    column except the label as features and ignore ``samples``, ``noise``, ``classes``
    and ``features``; ``csv`` reads ``csv_path`` with label column ``label`` and task
    ``csv_task``. ``standardize`` applies to iris and csv only (train statistics).
    """
    if name not in DATASETS:
        raise DataError(f"unknown data set '{name}'; data sets are {choices(DATASETS)}")
    noise = _check_noise(noise)
    check_train_ratio(train_ratio)
    seed = check_seed(seed)
    if name == "csv":
        if not csv_path or not label:
            raise DataError("the 'csv' data set needs a file (csv_path) and a label column")
        from .csv_data import load_csv
        return load_csv(csv_path, label=label, task=csv_task, standardize=standardize,
                        train_ratio=train_ratio, seed=seed)
    if name == "iris":
        return _iris(train_ratio, seed, standardize)

    samples = _check_int(samples, "samples", MIN_SAMPLES)
    classes = _check_int(classes, "classes", 2)
    if classes != 2 and name not in MULTICLASS:
        raise DataError(f"'{name}' has no classes setting; only {choices(MULTICLASS)} takes "
                        f"classes other than 2, not {classes}")
    if samples < classes:
        raise DataError(f"samples must be at least the number of classes ({classes}), not {samples}")
    features = check_features(features)

    rng = np.random.default_rng(seed)
    if name in _CLASSIFIERS:
        points, y = _CLASSIFIERS[name](samples, classes, rng)
        jitter = noise * _JITTER[name] / (classes if name == "spiral" else 1)
        points = points + rng.normal(0.0, jitter, points.shape)
        task, n_classes, class_names = "classification", classes, [str(c) for c in range(classes)]
    else:
        points, y = _REGRESSORS[name](samples, rng)
        y = y + rng.normal(0.0, noise, samples)
        task, n_classes, class_names = "regression", 0, []
    points = _clip(points)
    train, test = split_indices(samples, train_ratio, rng)
    X = feature_map(points, features)
    return build(name, task, n_classes, X[train], y[train], X[test], y[test], features,
                 points_train=points[train], points_test=points[test],
                 extent=EXTENT, class_names=class_names)


# ---------------------------------------------------------------------------- iris

IRIS_LABEL = "species"


def read_iris():
    """The raw iris table shipped with the package: a ``Table`` with X (150, 4) in cm,
    y (150,) int64 and class names ('setosa', 'versicolor', 'virginica')."""
    from .csv_data import parse_csv
    resource = importlib.resources.files("engine") / "data" / "iris.csv"
    with resource.open("r", encoding="utf-8", newline="") as f:
        return parse_csv(f, "iris.csv", label=IRIS_LABEL, task="classification")


def _iris(train_ratio: float, seed: int, standardize_: bool) -> Dataset:
    table = read_iris()
    rng = np.random.default_rng(seed)
    X_train, y_train, X_test, y_test = split(table.X, table.y, train_ratio, rng)
    if standardize_:
        X_train, X_test = standardize(X_train, X_test)
    return build("iris", "classification", len(table.class_names), X_train, y_train, X_test,
                 y_test, table.feature_names, class_names=table.class_names)
