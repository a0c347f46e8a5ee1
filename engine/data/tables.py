"""Tables as data sets: CSV files (a header row, numeric feature columns and one label)
and the iris table shipped with the package.

Lines count from 1 with the header as line 1, columns from 1; blank lines are skipped.
Every problem is a one-line ``DataError`` naming the file, the line and the column, and
never a word of the file's text: a preset may point at any file on the machine. Only
regular files are read, up to MAX_CSV_BYTES, MAX_CSV_ROWS data rows and MAX_CSV_COLUMNS
columns; the values go straight into a preallocated float64 array, so loading costs
about the array's size. For classification the label's distinct values (numbers or
strings) are sorted and numbered 0..k-1, and their text is kept as ``class_names``.

Its length is the CSV parser and its refusals: every malformed cell, row and header gets
its own one-line message with the line and column.
"""

from __future__ import annotations

import importlib.resources
import math
import os
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import numpy as np

from ..errors import DataError, choices, cut
from . import csv_text
from .csv_text import Progress, blank, cells_of, count_lines, file_batches, line_batches
from .dataset import TASKS, Dataset, build, check_seed, check_train_ratio, split
from .dataset import standardize as standardize_split
from .limits import memory_limit, open_regular, size_text

MAX_CSV_ROWS = 5_000_000
MAX_CSV_COLUMNS = 10_000
MAX_CLASSES = 1_000
MAX_CLASS_CHARS = 200
#: cells converted to floats at once
_BLOCK_CELLS = 1 << 16


class Table(NamedTuple):
    """A parsed CSV file before splitting."""

    X: np.ndarray  # (n, d) float64 features
    y: np.ndarray  # (n,) int64 class indices or float64 targets
    feature_names: tuple[str, ...]  # (d,)
    class_names: tuple[str, ...]  # () for regression


# ----- parsing -------------------------------------------------------------------------
def _header(line: str, source: str, label: str) -> tuple[list[str], int]:
    if line.count(",") >= MAX_CSV_COLUMNS:
        raise DataError(f"{source}, line 1: more than the {MAX_CSV_COLUMNS:,} columns a CSV "
                        f"file may have")
    header = [name.strip() for name in cells_of(line, source, 1)]
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{source}, line 1: column {i + 1} has no name")
        if name in seen:
            raise DataError(f"{source}, line 1: columns {seen[name] + 1} and {i + 1} have "
                            f"the same name")
        seen[name] = i
    if label not in seen:
        near = [i + 1 for i, n in enumerate(header) if n.casefold() == label.casefold()]
        hint = f"; column {near[0]} differs only in case" if near else ""
        raise DataError(f"{source}: no column named '{cut(label)}' in the header (line 1, "
                        f"{len(header)} column{'s' if len(header) != 1 else ''}){hint}")
    if len(header) < 2:
        raise DataError(f"{source}: no feature columns besides the label '{cut(label)}'")
    return header, seen[label]


def _bad_cell(source: str, line: int, column: int, text: str, what: str) -> DataError:
    text = text.strip()
    where = f"{source}, line {line}, column {column}"
    if not text:
        return DataError(f"{where}: empty; {what} must be a number")
    try:
        float(text)
    except ValueError:
        return DataError(f"{where}: not a number; {what} must be a number")
    return DataError(f"{where}: NaN or infinite; {what} must be a finite number")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _floats(cells: list[str], width: int, bad_cell: Callable[[int, str], DataError]) -> np.ndarray:
    """A block of cells (row by row, ``width`` a row) as finite float64, shape (-1, width);
    ``bad_cell(index, text)`` makes the error for the first cell that is not."""
    try:
        values = np.fromiter(map(float, cells), np.float64, count=len(cells))
    except ValueError:
        bad = next(i for i, c in enumerate(cells) if not _is_number(c))
        raise bad_cell(bad, cells[bad]) from None
    finite = np.isfinite(values)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise bad_cell(bad, cells[bad])
    return values.reshape(-1, width)


class _Rows:
    """The data rows as they are read: features into a preallocated (capacity, width)
    float64 array, a block of cells at a time; labels as numbers (regression) or as
    class codes in the order first seen (classification)."""

    def __init__(self, source: str, width: int, j_label: int, task: str, capacity: int):
        self.source, self.width, self.j_label, self.task = source, width, j_label, task
        self.X = np.empty((max(capacity, 1), width))
        self.y = np.empty(self.X.shape[0], np.float64 if task == "regression" else np.int64)
        self.n = 0
        self.classes: dict[str, int] = {}
        self._cells: list[str] = []
        self._targets: list[str] = []
        self._lines: list[int] = []

    def add(self, cells: list[str], line: int) -> None:
        if self.n == self.X.shape[0]:  # more rows than were counted (the file grew)
            self.flush()
            self.X = np.resize(self.X, (2 * self.n, self.width))
            self.y = np.resize(self.y, 2 * self.n)
        text = cells.pop(self.j_label).strip()
        if self.task == "regression":
            self._targets.append(text)
        else:
            self.y[self.n] = self._class(text, line)
        self.n += 1
        self._cells += cells
        self._lines.append(line)
        if len(self._cells) >= _BLOCK_CELLS:
            self.flush()

    def _class(self, text: str, line: int) -> int:
        code = self.classes.get(text)
        if code is not None:
            return code
        where = f"{self.source}, line {line}, column {self.j_label + 1} (the label)"
        if not text:
            raise DataError(f"{where}: empty; every row needs a class")
        if len(text) > MAX_CLASS_CHARS:
            raise DataError(f"{where}: longer than the {MAX_CLASS_CHARS} characters a class "
                            f"name may have")
        if len(self.classes) >= MAX_CLASSES:
            raise DataError(f"{where}: more than {MAX_CLASSES:,} classes; for numbers to "
                            f"predict use task = 'regression'")
        code = self.classes[text] = len(self.classes)
        return code

    def flush(self) -> None:
        """Convert the cells read since the last flush."""
        k = len(self._lines)
        if not k:
            return
        start, lines = self.n - k, self._lines

        def bad_feature(i: int, text: str) -> DataError:
            f = i % self.width
            column = f + 1 + (f >= self.j_label)
            return _bad_cell(self.source, lines[i // self.width], column, text, "every feature")

        def bad_target(i: int, text: str) -> DataError:
            return _bad_cell(self.source, lines[i], self.j_label + 1, text,
                             "the label (a regression target)")

        if self.width:
            self.X[start:self.n] = _floats(self._cells, self.width, bad_feature)
        if self._targets:
            self.y[start:self.n] = _floats(self._targets, 1, bad_target)[:, 0]
        self._cells.clear(), self._targets.clear(), self._lines.clear()

    def table(self, feature_names: tuple[str, ...], label: str) -> Table:
        self.flush()
        n = self.n
        if n == 0:
            raise DataError(f"{self.source}: no data rows after the header")
        # a view keeps the whole buffer: copy when blank lines left much of it unused
        X = self.X[:n] if n > 0.9 * self.X.shape[0] else self.X[:n].copy()
        y = self.y[:n].copy()
        if self.task == "regression":
            return Table(X, y, feature_names, ())
        y, names = _sorted_classes(self.classes, y, self.source, label, self.j_label + 1)
        return Table(X, y, feature_names, names)


def _sorted_classes(classes: dict[str, int], codes: np.ndarray, source: str, label: str,
                    column: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Class codes in first-seen order -> indices of the sorted classes (numerically when
    every class is a number: '2' and '2.0' are one class) and their names."""
    texts = list(classes)
    try:
        keys: list = [float(t) for t in texts]
        numeric = all(math.isfinite(k) for k in keys)
    except ValueError:
        numeric = False
    if not numeric:
        keys = texts
    distinct = sorted(set(keys))
    if len(distinct) < 2:
        raise DataError(f"{source}: column {column} (the label '{cut(label)}') holds only one "
                        f"class; classification needs at least 2")
    index = {key: i for i, key in enumerate(distinct)}
    remap = np.array([index[k] for k in keys], dtype=np.int64)
    names = [format(k, "g") for k in distinct] if numeric else distinct
    return remap[codes], tuple(names)


def parse_csv(lines: Iterable[str], source: str, *, label: str,
              task: str = "classification", rows: int | None = None) -> Table:
    """Parse CSV text into a ``Table``; ``source`` names the file in error messages.

    ``lines`` is anything that gives lines of text (a file opened with ``newline=""``, a
    list); ``rows``, when known, is at least the number of data rows (room is made once).
    """
    return _parse(line_batches(lines), cut(source, 80), label=label, task=task, rows=rows)


def _parse(batches: Iterator[list[str]], source: str, *, label: str, task: str,
           rows: int | None) -> Table:
    if task not in TASKS:
        raise DataError(f"task must be {choices(TASKS)}, not '{cut(task)}'")
    lineno, header, batch = 0, None, []
    for batch in batches:
        first = next((i for i, line in enumerate(batch) if not blank(line)), None)
        if first is not None:
            header, j_label = _header(batch[first], source, label)
            lineno += first + 1
            batch = batch[first + 1:]
            break
        lineno += len(batch)
    if header is None:
        raise DataError(f"{source}: the file is empty")

    ncols = len(header)
    data = _Rows(source, ncols - 1, j_label, task, rows or 1024)
    for batch in _chain([batch], batches):
        for line in batch:
            lineno += 1
            if blank(line):
                continue
            cells = cells_of(line, source, lineno)
            if len(cells) != ncols:
                if len(cells) == 1 and not cells[0].strip():
                    continue
                s = "" if len(cells) == 1 else "s"
                raise DataError(f"{source}, line {lineno}: {len(cells)} value{s}, the header "
                                f"has {ncols} columns")
            if data.n >= MAX_CSV_ROWS:
                raise DataError(f"{source}: more than the {MAX_CSV_ROWS:,} data rows a CSV "
                                f"file may have")
            data.add(cells, lineno)
    feature_names = tuple(name for j, name in enumerate(header) if j != j_label)
    return data.table(feature_names, label)


def _chain(first: Iterable, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


# ----- files ---------------------------------------------------------------------------
def _open(path: str | os.PathLike):
    return open_regular(path, max_bytes=csv_text.MAX_CSV_BYTES, what="a CSV file", error=DataError)


def csv_shape(path: str | os.PathLike, *, label: str) -> tuple[int, int]:
    """(rows, features) of a CSV file without parsing it: its lines but the header (an
    upper bound on the data rows) and its columns but the label. Raises DataError where
    ``read_csv`` would on its size, kind or header."""
    source = cut(os.fspath(path), 80)
    with _open(path) as f:
        lines = count_lines(f)
        for batch in file_batches(f, source, 0, None):
            line = next((s for s in batch if not blank(s)), None)
            if line is not None:
                header, _ = _header(line, source, label)
                return max(lines - 1, 1), len(header) - 1
    raise DataError(f"{source}: the file is empty")


def read_csv(path: str | os.PathLike, *, label: str, task: str = "classification",
             progress: Progress | None = None) -> Table:
    """Read and parse the CSV file at ``path`` (UTF-8, an optional BOM is ignored).

    ``progress(bytes_read, bytes_total)`` is called as it goes. Refused before reading:
    anything but a regular file, and a file over MAX_CSV_BYTES or whose values would
    need more than the memory a run may use.
    """
    source = cut(os.fspath(path), 80)
    with _open(path) as f:
        total = os.fstat(f.fileno()).st_size
        lines = count_lines(f)
        if lines - 1 > MAX_CSV_ROWS:
            raise DataError(f"{source}: {lines - 1:,} lines after the header, more than the "
                            f"{MAX_CSV_ROWS:,} data rows a CSV file may have")
        rows = max(lines - 1, 1)
        _check_room(f, source, label, rows)
        return _parse(file_batches(f, source, total, progress), source, label=label, task=task,
                      rows=rows)


def _check_room(f, source: str, label: str, rows: int) -> None:
    """Refuse a table whose float64 values (kept twice while it is split) would need
    more memory than a run may use."""
    first = f.readline(csv_text.MAX_LINE_CHARS + 1)
    f.seek(0)
    columns = first.count(b",") + 1
    need = 2 * rows * columns * 8
    limit = memory_limit()
    if limit is not None and need > limit:
        raise DataError(f"{source}: {rows:,} rows of {columns:,} columns need about "
                        f"{size_text(need)}, more than the {size_text(limit)} allowed (half "
                        f"the available memory); use a smaller file")


def from_table(table: Table, name: str, task: str, *, standardize: bool, train_ratio: float,
               seed: int) -> Dataset:
    """A table split with ``np.random.default_rng(seed)``; with ``standardize`` the
    features are centred and scaled with the train part's mean and std."""
    rng = np.random.default_rng(seed)
    X_train, y_train, X_test, y_test = split(table.X, table.y, train_ratio, rng)
    if standardize:  # the split's rows are fresh copies: scale them in place
        X_train, X_test = standardize_split(X_train, X_test, copy=False)
    n_classes = len(table.class_names) if task == "classification" else 0
    return build(name, task, n_classes, X_train, y_train, X_test, y_test,
                 table.feature_names, class_names=table.class_names)


def load_csv(path: str | os.PathLike, *, label: str, task: str = "classification",
             standardize: bool = True, train_ratio: float = 0.8, seed: int = 0,
             progress: Progress | None = None) -> Dataset:
    """Load a CSV file as a Dataset: features are every column except ``label``."""
    check_train_ratio(train_ratio)
    seed = check_seed(seed)
    table = read_csv(path, label=label, task=task, progress=progress)
    return from_table(table, os.path.basename(os.fspath(path)), task, standardize=standardize,
                      train_ratio=train_ratio, seed=seed)


IRIS_LABEL = "species"


def read_iris() -> Table:
    """The raw iris table shipped with the package: X (150, 4) in cm, y (150,) int64 and
    class names ('setosa', 'versicolor', 'virginica')."""
    resource = importlib.resources.files("engine.data") / "iris.csv"
    with resource.open("r", encoding="utf-8", newline="") as f:
        return parse_csv(f, "iris.csv", label=IRIS_LABEL, task="classification", rows=150)


def load_iris(*, train_ratio: float, seed: int, standardize: bool) -> Dataset:
    """The iris table as a Dataset, split and (optionally) standardised like a CSV."""
    return from_table(read_iris(), "iris", "classification", standardize=standardize,
                      train_ratio=train_ratio, seed=seed)
