"""Seeded 2-D toy data sets in the style of TensorFlow Playground.

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

from collections.abc import Sequence

import numpy as np

from ..errors import DataError, choices
from .dataset import Dataset, build, check_features, feature_map, split_indices, check_int

CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSION = ("plane", "multi-gauss")
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


def check_noise(noise: float) -> float:
    try:
        value = float(noise)
    except (TypeError, ValueError):
        raise DataError(f"noise must be a number, not {noise!r}") from None
    if not 0.0 <= value <= MAX_NOISE:
        raise DataError(f"noise must be between 0 and {MAX_NOISE} (0-50%), not {noise!r}")
    return value


def make_synthetic(name: str, *, samples: int = 400, noise: float = 0.0,
                   train_ratio: float = 0.5, seed: int = 0, classes: int = 2,
                   features: Sequence[str] = ("x1", "x2")) -> Dataset:
    """Build the seeded 2-D data set ``name`` (one of CLASSIFICATION or REGRESSION) from
    ``samples`` points with ``noise`` (0-0.5); only ``spiral`` takes ``classes`` other
    than 2; ``features`` are the inputs made from the points (see ``feature_map``)."""
    noise = check_noise(noise)
    samples = check_int(samples, "samples", MIN_SAMPLES)
    classes = check_int(classes, "classes", 2)
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
