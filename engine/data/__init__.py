"""Data sets: the dataset type, seeded 2-D generators, and tables (CSV files, iris).

``make_dataset`` builds any of them by name, as a config's ``[data]`` section names it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import DataError, choices
from .dataset import FEATURES, TASKS, Dataset, check_seed, check_train_ratio, feature_map
from .synthetic import CLASSIFICATION, EXTENT, REGRESSION, check_noise, make_synthetic
from .csv_text import Progress
from .tables import load_csv, load_iris, parse_csv, read_csv, read_iris
from .digits import load_digits, read_digits
from .drawn import load_drawn

DATASETS = CLASSIFICATION + REGRESSION + ("iris", "digits", "csv", "draw")


def make_dataset(name: str, *, samples: int = 400, noise: float = 0.0, train_ratio: float = 0.5,
                 seed: int = 0, classes: int = 2, features: Sequence[str] = ("x1", "x2"),
                 csv_path: str | None = None, label: str | None = None,
                 csv_task: str = "classification", standardize: bool = True,
                 progress: Progress | None = None) -> Dataset:
    """Build the seeded data set ``name`` (one of DATASETS).

    The 2-D sets use ``samples``, ``noise`` (0-0.5), ``seed`` and ``features``; only
    ``spiral`` takes ``classes`` other than 2. ``iris`` and ``csv`` use every numeric
    column except the label as features and ignore ``samples``, ``noise``, ``classes``
    and ``features``; ``csv`` reads ``csv_path`` with label column ``label`` and task
    ``csv_task``. ``digits`` (8×8 images, pixels / 16) is used like iris. ``standardize``
    applies to iris, digits and csv only (train statistics).
    ``progress(bytes_read, bytes_total)`` is told how a CSV file's load goes.
    ``draw`` is points drawn by hand (``engine.data.drawn``): those of the CSV file
    ``csv_path`` (none without one), with ``classes``, ``csv_task`` and ``features``.
    """
    if name not in DATASETS:
        raise DataError(f"unknown data set '{name}'; data sets are {choices(DATASETS)}")
    check_noise(noise)
    check_train_ratio(train_ratio)
    seed = check_seed(seed)
    if name == "csv":
        if not csv_path or not label:
            raise DataError("the 'csv' data set needs a file (csv_path) and a label column")
        return load_csv(csv_path, label=label, task=csv_task, standardize=standardize,
                        train_ratio=train_ratio, seed=seed, progress=progress)
    if name == "draw":
        return load_drawn(csv_path, task=csv_task, classes=classes, features=features)
    if name == "iris":
        return load_iris(train_ratio=train_ratio, seed=seed, standardize=standardize)
    if name == "digits":
        return load_digits(train_ratio=train_ratio, seed=seed, standardize=standardize)
    return make_synthetic(name, samples=samples, noise=noise, train_ratio=train_ratio,
                          seed=seed, classes=classes, features=features)


__all__ = ["CLASSIFICATION", "DATASETS", "EXTENT", "FEATURES", "REGRESSION", "TASKS", "Dataset",
           "feature_map", "load_csv", "load_digits", "make_dataset", "parse_csv", "read_csv",
           "read_digits", "read_iris"]
