"""Data drawn by hand: 2-D points on the usual extent, each with a class or a target.

A drawn set may start empty and grows a point at a time (``added``, ``undone``,
``cleared`` give new ``Drawn`` values; nothing is changed in place). Every drawn point
trains: a hand-drawn set is small and each point is drawn to shape the model, so the test
split stays empty whatever ``train_ratio`` says, and the newest point is in the very next
step's batch order. Training needs 1 point of each class (classification) or 1 point
(regression); ``not_ready`` says in one line what is missing.

A drawn set is kept as a CSV file with the header ``x1,x2,label`` (in any order): the
point's coordinates and its class number (0..k-1) or target value. ``read_drawn`` reads one
within MAX_DRAWN_BYTES and MAX_DRAWN points, refusing anything else in one line;
``drawn_csv`` writes one that reads back to the same points, bit for bit.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DataError, cut
from .dataset import Dataset, build, check_features, feature_map
from .limits import read_limited
from .synthetic import EXTENT
from .tables import parse_csv

#: most points a drawn set holds (far more than a hand draws; a CSV may bring them)
MAX_DRAWN = 10_000
#: largest drawn-points CSV file: MAX_DRAWN rows of two coordinates and a label
MAX_DRAWN_BYTES = 100 * MAX_DRAWN
#: most classes a drawn set may have (keys 1..9 and 0 draw them)
MAX_CLASSES = 10
CSV_HEADER = ("x1", "x2", "label")
LABEL = "label"


@dataclass(frozen=True, eq=False)
class Drawn:
    """Drawn points in the order they were drawn. Arrays are read-only."""

    xy: np.ndarray  #: (n, 2) float64 coordinates inside EXTENT
    values: np.ndarray  #: (n,) float64: class numbers (whole) or regression targets

    def __len__(self) -> int:
        return int(self.xy.shape[0])

    def same(self, other: Drawn) -> bool:
        """The same points with the same values, in the same order."""
        return np.array_equal(self.xy, other.xy) and np.array_equal(self.values, other.values)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64, copy=True)
    a.flags.writeable = False
    return a


def make_drawn(xy, values) -> Drawn:
    """A ``Drawn`` from coordinates (n, 2) and values (n,) (copied, made read-only)."""
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    return Drawn(_frozen(xy), _frozen(np.asarray(values, dtype=np.float64).reshape(-1)))


EMPTY = make_drawn(np.empty((0, 2)), np.empty(0))


def drawn_of(data: Dataset) -> Drawn:
    """The drawn points a drawn data set trains on (its training split, in order)."""
    if data.points_train is None:
        raise DataError(f"'{data.name}' is not drawn data")
    return make_drawn(data.points_train, data.y_train)


# ----- checks ----------------------------------------------------------------------------
def check_point(x, y, value, *, task: str, classes: int) -> tuple[float, float, float]:
    """A point's (x, y, value) as floats; DataError unless x and y lie in EXTENT and
    ``value`` is a class 0..classes-1 (classification) or a finite number (regression)."""
    out = []
    for name, v, lo, hi in (("x1", x, EXTENT[0], EXTENT[1]), ("x2", y, EXTENT[2], EXTENT[3])):
        f = _number(v, name)
        if not lo <= f <= hi:
            raise DataError(f"{name} = {f:g} is outside the drawing area ({lo:g} to {hi:g})")
        out.append(f)
    return out[0], out[1], _value(value, task, classes)


def _number(v, name: str) -> float:
    if isinstance(v, bool):
        raise DataError(f"{name} must be a number, not {v!r}")
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        raise DataError(f"{name} must be a number, not {cut(repr(v), 30)}") from None
    if not math.isfinite(f):
        raise DataError(f"{name} must be a finite number, not {f}")
    return f


def _value(value, task: str, classes: int) -> float:
    if task == "regression":
        return _number(value, "the target")
    f = _number(value, "the class")
    if not f.is_integer() or not 0 <= f < classes:
        raise DataError(f"class {f:g} is not one of the {classes} classes (0 to {classes - 1})")
    return f


def check_classes(classes: int) -> int:
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or not (
            2 <= classes <= MAX_CLASSES):
        raise DataError(f"drawn data has 2 to {MAX_CLASSES} classes, not {classes!r}")
    return int(classes)


def check_fits(drawn: Drawn, *, task: str, classes: int, source: str = "the drawn points") -> None:
    """DataError unless every point suits ``task`` and ``classes``, and there are at most
    MAX_DRAWN of them; the message names the first point that does not (from 1)."""
    if len(drawn) > MAX_DRAWN:
        raise DataError(f"{source}: {len(drawn):,} points, more than the {MAX_DRAWN:,} a "
                        f"drawn set may have")
    for i, ((x, y), v) in enumerate(zip(drawn.xy.tolist(), drawn.values.tolist())):
        try:
            check_point(x, y, v, task=task, classes=classes)
        except DataError as e:
            raise DataError(f"{source}: point {i + 1}: {e}") from None


def not_ready(drawn: Drawn, *, task: str, classes: int) -> str | None:
    """Why training cannot start on these points (one line), or None when it can: it
    needs a point (regression) or a point of every class (classification)."""
    if len(drawn) == 0:
        keys = f"0-{classes - 1} to draw a point of that class" if task == "classification" \
            else "- 0 + to draw a target of -1, 0 or +1"
        return f"no points yet: press D, then {keys}"
    if task == "regression":
        return None
    present = set(drawn.values.astype(np.int64).tolist())
    missing = [c for c in range(classes) if c not in present]
    if not missing:
        return None
    shown = ", ".join(str(c) for c in missing[:5]) + (", …" if len(missing) > 5 else "")
    noun = "class" if len(missing) == 1 else "classes"
    return (f"{noun} {shown} {'has' if len(missing) == 1 else 'have'} no point; training "
            f"needs at least 1 point of each of the {classes} classes")


# ----- edits -----------------------------------------------------------------------------
def added(drawn: Drawn, x: float, y: float, value: float) -> Drawn:
    """``drawn`` with one more point at the end; DataError when it already holds MAX_DRAWN."""
    if len(drawn) >= MAX_DRAWN:
        raise DataError(f"a drawn set holds at most {MAX_DRAWN:,} points")
    return make_drawn(np.vstack([drawn.xy, [[x, y]]]), np.append(drawn.values, value))


def undone(drawn: Drawn) -> Drawn:
    """``drawn`` without its last point (an empty set stays empty)."""
    return make_drawn(drawn.xy[:-1], drawn.values[:-1]) if len(drawn) else drawn


# ----- as a data set ---------------------------------------------------------------------
def drawn_dataset(drawn: Drawn, *, task: str = "classification", classes: int = 2,
                  features: Sequence[str] = ("x1", "x2")) -> Dataset:
    """The points as a Dataset: all of them train (in drawing order), the test split is
    empty; ``features`` map them like a generated set's points."""
    classes = check_classes(classes) if task == "classification" else 0
    check_fits(drawn, task=task, classes=max(classes, 2))
    features = check_features(features)
    X = feature_map(drawn.xy, features)
    y = drawn.values.astype(np.int64) if task == "classification" else drawn.values
    none = np.empty((0, 2))
    return build("draw", task, classes, X, y, feature_map(none, features), y[:0], features,
                 points_train=drawn.xy, points_test=none, extent=EXTENT,
                 class_names=[str(c) for c in range(classes)])


def load_drawn(path: str | None, *, task: str = "classification", classes: int = 2,
               features: Sequence[str] = ("x1", "x2")) -> Dataset:
    """The drawn data set a config names: the points of the CSV file at ``path``, or
    none (``path`` empty or None)."""
    drawn = read_drawn(path, task=task, classes=classes) if path else EMPTY
    return drawn_dataset(drawn, task=task, classes=classes, features=features)


# ----- CSV -------------------------------------------------------------------------------
def read_drawn(path: str | os.PathLike, *, task: str = "classification",
               classes: int = 2) -> Drawn:
    """The points of a drawn-points CSV file (``x1,x2,label``). The file's size is
    checked before it is read; any problem is one DataError line naming the file and
    the row, never the file's text."""
    source = cut(os.fspath(path), 80)
    raw = read_limited(path, max_bytes=MAX_DRAWN_BYTES, what="a drawn-points CSV file",
                       error=DataError)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(f"{source}, line {line}: not UTF-8 text; a CSV file must be "
                        f"UTF-8") from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise DataError(f"{source}, line {line}: a NUL byte; this is not a text file")
    lines = text.split("\n")
    table = parse_csv(lines, source, label=LABEL, task="regression", rows=len(lines))
    names = table.feature_names
    if sorted(names) != ["x1", "x2"]:
        raise DataError(f"{source}, line 1: the columns must be x1, x2 and label")
    drawn = make_drawn(table.X[:, [names.index("x1"), names.index("x2")]], table.y)
    check_fits(drawn, task=task, classes=check_classes(classes) if task == "classification"
               else 2, source=source)
    return drawn


def drawn_csv(drawn: Drawn, task: str = "classification") -> str:
    """The CSV text of ``drawn`` (header ``x1,x2,label``); coordinates and targets are
    written with ``repr`` so they read back exactly, classes as whole numbers."""
    rows = [",".join(CSV_HEADER)]
    for (x, y), v in zip(drawn.xy.tolist(), drawn.values.tolist()):
        label = str(int(v)) if task == "classification" else repr(v)
        rows.append(f"{x!r},{y!r},{label}")
    return "\n".join(rows) + "\n"
