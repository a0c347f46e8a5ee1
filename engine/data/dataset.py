"""The data set type and what every data set shares: input features, the train/test split,
standardisation, and the checks on their settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, choices

TASKS = ("classification", "regression")
FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")


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
    #: (rows, cols) when each row of features is an image's pixels, row by row (digits)
    image_shape: tuple[int, int] | None = None

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


def split_sizes(n: int, train_ratio: float) -> tuple[int, int]:
    """(n_train, n_test) for n rows: n_train = round(n * train_ratio), at least 1."""
    n_train = min(n, max(1, round(n * check_train_ratio(train_ratio))))
    return n_train, n - n_train


def split_indices(n: int, train_ratio: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle range(n) and cut it into (train, test) index arrays (``split_sizes``);
    the test part may be empty."""
    n_train, _ = split_sizes(n, train_ratio)
    order = rng.permutation(n)
    return order[:n_train], order[n_train:]


def split(X: np.ndarray, y: np.ndarray, train_ratio: float, rng: np.random.Generator):
    """Shuffle rows with ``rng`` and split: returns (X_train, y_train, X_test, y_test).

    ``X`` is (n, d) and ``y`` (n,); the test arrays have shape (0, d) and (0,) when
    train_ratio is 1.
    """
    X, y = np.asarray(X), np.asarray(y)
    train, test = split_indices(len(X), train_ratio, rng)
    return X[train], y[train], X[test], y[test]


def standardize(X_train: np.ndarray, X_test: np.ndarray, *,
                copy: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale both parts with the train columns' mean and std.

    A column whose train std is 0 is only centred. ``copy=False`` works in place on
    float64 arrays the caller owns (a large table is then never copied again).
    """
    mean = X_train.mean(axis=0) if len(X_train) else np.zeros(X_train.shape[1])
    std = X_train.std(axis=0) if len(X_train) else np.ones(X_train.shape[1])
    std = np.where(std > 0, std, 1.0)
    out = []
    for X in (X_train, X_test):
        X = np.array(X, dtype=np.float64, copy=copy or None)
        X -= mean
        X /= std
        out.append(X)
    return out[0], out[1]


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


def check_int(value, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise DataError(f"{what} must be a whole number, not {value!r}")
    if value < minimum:
        shown = value if value > -10**18 else "a huge negative number"
        raise DataError(f"{what} must be at least {minimum}, not {shown}")
    return int(value)


def check_seed(seed) -> int:
    """Return ``seed`` as an int; DataError unless it is a whole number >= 0."""
    return check_int(seed, "seed", 0)
