"""Tables as data sets: CSV files (a header row, numeric feature columns and one label)
and the iris table shipped with the package.

Lines count from 1 with the header as line 1; blank lines are skipped. Every problem is a
one-line ``DataError`` naming the file (and the line and column where there is one).
For classification the label's distinct values (numbers or strings) are sorted and
numbered 0..k-1, and their text is kept as ``class_names``.
"""

from __future__ import annotations

import csv
import importlib.resources
import io
import math
import os
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ..errors import DataError, choices
from .dataset import TASKS, Dataset, build, check_seed, check_train_ratio, split
from .dataset import standardize as standardize_split


class Table(NamedTuple):
    """A parsed CSV file before splitting."""

    X: np.ndarray  # (n, d) float64 features
    y: np.ndarray  # (n,) int64 class indices or float64 targets
    feature_names: tuple[str, ...]  # (d,)
    class_names: tuple[str, ...]  # () for regression


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: '{text}' is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: '{text}' is not a finite number")
    return value


def _blank(row: list[str]) -> bool:
    return all(not cell.strip() for cell in row) and len(row) <= 1


def _encode_classes(labels: list[str], lines: list[int], source: str, label: str):
    """Sort the distinct labels (numerically if all are numbers) -> (y int64, class names)."""
    for text, line in zip(labels, lines):
        if not text:
            raise DataError(f"{source}, line {line}, column '{label}': the label is empty")
    try:
        values = [float(t) for t in labels]
        numeric = all(math.isfinite(v) for v in values)
    except ValueError:
        numeric = False
    if numeric:
        keys = values
        distinct = sorted(set(keys))
        names = [format(v, "g") for v in distinct]
    else:
        keys = labels
        distinct = sorted(set(keys))
        names = distinct
    if len(distinct) < 2:
        raise DataError(f"{source}: column '{label}' has only one class ('{names[0]}'); "
                        f"classification needs at least 2")
    index = {key: i for i, key in enumerate(distinct)}
    return np.array([index[k] for k in keys], dtype=np.int64), tuple(names)


def parse_csv(lines: Iterable[str], source: str, *, label: str,
              task: str = "classification") -> Table:
    """Parse CSV text into a ``Table``; ``source`` names the file in error messages.

    ``lines`` is anything ``csv.reader`` takes, best a file opened with ``newline=""``.
    """
    if task not in TASKS:
        raise DataError(f"task must be {choices(TASKS)}, not '{task}'")
    reader = csv.reader(lines)
    header, rows = None, []
    for row in reader:
        if _blank(row):
            continue
        if header is None:
            header = [name.strip() for name in row]
        else:
            rows.append((reader.line_num, [cell.strip() for cell in row]))
    if header is None:
        raise DataError(f"{source}: the file is empty")

    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{source}, line 1: column {i + 1} has no name")
        if header.count(name) > 1:
            raise DataError(f"{source}, line 1: column '{name}' appears twice")
    if label not in header:
        raise DataError(f"{source}: no column named '{label}'; columns are {choices(header)}")
    if len(header) < 2:
        raise DataError(f"{source}: no feature columns besides the label '{label}'")
    if not rows:
        raise DataError(f"{source}: no data rows after the header")

    j_label = header.index(label)
    feature_names = tuple(name for name in header if name != label)
    X = np.empty((len(rows), len(feature_names)), dtype=np.float64)
    labels, lines_of = [], []
    for r, (line, cells) in enumerate(rows):
        if len(cells) != len(header):
            s = "" if len(cells) == 1 else "s"
            raise DataError(f"{source}, line {line}: {len(cells)} value{s}, "
                            f"the header has {len(header)} columns")
        features = cells[:j_label] + cells[j_label + 1:]
        for c, (name, text) in enumerate(zip(feature_names, features)):
            X[r, c] = _number(text, f"{source}, line {line}, column '{name}'")
        labels.append(cells[j_label])
        lines_of.append(line)

    if task == "regression":
        y = np.array([_number(t, f"{source}, line {n}, column '{label}'")
                      for t, n in zip(labels, lines_of)], dtype=np.float64)
        return Table(X, y, feature_names, ())
    y, class_names = _encode_classes(labels, lines_of, source, label)
    return Table(X, y, feature_names, class_names)


def read_csv(path: str | os.PathLike, *, label: str, task: str = "classification") -> Table:
    """Read and parse the CSV file at ``path`` (UTF-8, an optional BOM is ignored)."""
    source = os.fspath(path)
    try:
        with open(source, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except FileNotFoundError:
        raise DataError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{source}: is a folder, not a file") from None
    except UnicodeDecodeError:
        raise DataError(f"{source}: not a UTF-8 text file") from None
    except OSError as e:
        raise DataError(f"{source}: cannot be read ({e.strerror or e})") from None
    return parse_csv(io.StringIO(text, newline=""), source, label=label, task=task)


def from_table(table: Table, name: str, task: str, *, standardize: bool, train_ratio: float,
               seed: int) -> Dataset:
    """A table split with ``np.random.default_rng(seed)``; with ``standardize`` the
    features are centred and scaled with the train part's mean and std."""
    rng = np.random.default_rng(seed)
    X_train, y_train, X_test, y_test = split(table.X, table.y, train_ratio, rng)
    if standardize:
        X_train, X_test = standardize_split(X_train, X_test)
    n_classes = len(table.class_names) if task == "classification" else 0
    return build(name, task, n_classes, X_train, y_train, X_test, y_test,
                 table.feature_names, class_names=table.class_names)


def load_csv(path: str | os.PathLike, *, label: str, task: str = "classification",
             standardize: bool = True, train_ratio: float = 0.8, seed: int = 0) -> Dataset:
    """Load a CSV file as a Dataset: features are every column except ``label``."""
    check_train_ratio(train_ratio)
    seed = check_seed(seed)
    table = read_csv(path, label=label, task=task)
    return from_table(table, os.path.basename(os.fspath(path)), task, standardize=standardize,
                      train_ratio=train_ratio, seed=seed)


IRIS_LABEL = "species"


def read_iris() -> Table:
    """The raw iris table shipped with the package: X (150, 4) in cm, y (150,) int64 and
    class names ('setosa', 'versicolor', 'virginica')."""
    resource = importlib.resources.files("engine.data") / "iris.csv"
    with resource.open("r", encoding="utf-8", newline="") as f:
        return parse_csv(f, "iris.csv", label=IRIS_LABEL, task="classification")


def load_iris(*, train_ratio: float, seed: int, standardize: bool) -> Dataset:
    """The iris table as a Dataset, split and (optionally) standardised like a CSV."""
    return from_table(read_iris(), "iris", "classification", standardize=standardize,
                      train_ratio=train_ratio, seed=seed)
