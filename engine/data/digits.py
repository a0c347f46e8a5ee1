"""The 8×8 handwritten digits shipped with the package: 1,797 images of 10 classes.

The file is the UCI optical-digits test set as scikit-learn bundles it
(``digits.csv.gz``; its licence is ``DIGITS-LICENSE``): one image a line, its 64 pixels
row by row (integers 0..16, the inked share of a 4×4 block of the scanned 32×32
bitmap), then the digit. The features are the pixels over 16, so 0 is blank and 1 fully
inked; with ``standardize`` they are then centred and scaled with the train part's
statistics, as for iris. The Dataset's ``image_shape`` is (8, 8).
"""

from __future__ import annotations

import gzip
import importlib.resources
import zlib
from dataclasses import replace

from ..errors import DataError
from .dataset import Dataset
from .limits import open_regular, size_text
from .tables import Table, from_table, parse_csv

DIGITS_FILE = "digits.csv.gz"
IMAGE_SHAPE = (8, 8)  #: rows, columns of one image
N_IMAGES = 1797
PIXEL_MAX = 16  #: the largest pixel value in the file
#: the compressed file is about 57 KB and its text about 0.5 MB: anything far larger is
#: not the file shipped with the package
MAX_GZ_BYTES = 1_000_000
MAX_TEXT_BYTES = 4_000_000
LABEL = "digit"
PIXEL_NAMES = tuple(f"r{r}c{c}" for r in range(IMAGE_SHAPE[0]) for c in range(IMAGE_SHAPE[1]))


def _text() -> str:
    """The file's text, its sizes checked before each read."""
    resource = importlib.resources.files("engine.data") / DIGITS_FILE
    with importlib.resources.as_file(resource) as path:
        with open_regular(path, max_bytes=MAX_GZ_BYTES, what="the digits file",
                          error=DataError) as raw:
            try:
                with gzip.GzipFile(fileobj=raw) as f:
                    data = f.read(MAX_TEXT_BYTES + 1)
            except (OSError, EOFError, zlib.error):
                raise DataError(f"{DIGITS_FILE}: not a readable gzip file") from None
    if len(data) > MAX_TEXT_BYTES:
        raise DataError(f"{DIGITS_FILE}: more than the {size_text(MAX_TEXT_BYTES)} of text "
                        f"the digits file may hold")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise DataError(f"{DIGITS_FILE}: not plain text inside the gzip file") from None


def read_digits() -> Table:
    """The raw digits table: X (1797, 64) float64 pixels 0..16 (row by row), y (1797,)
    int64 digits and class names '0'..'9'."""
    header = ",".join(PIXEL_NAMES + (LABEL,))
    lines = [header, *_text().splitlines()]
    table = parse_csv(lines, DIGITS_FILE, label=LABEL, task="classification",
                      rows=len(lines) - 1)
    if table.X.shape != (N_IMAGES, len(PIXEL_NAMES)) or len(table.class_names) != 10:
        raise DataError(f"{DIGITS_FILE}: {table.X.shape[0]} images of {table.X.shape[1]} "
                        f"pixels and {len(table.class_names)} classes, not {N_IMAGES} of "
                        f"{len(PIXEL_NAMES)} and 10")
    return table


def load_digits(*, train_ratio: float, seed: int, standardize: bool) -> Dataset:
    """The digits as a Dataset: pixels / 16, split with ``np.random.default_rng(seed)``
    like iris and (optionally) standardised with the train part's statistics."""
    table = read_digits()
    scaled = Table(table.X / PIXEL_MAX, table.y, table.feature_names, table.class_names)
    data = from_table(scaled, "digits", "classification", standardize=standardize,
                      train_ratio=train_ratio, seed=seed)
    return replace(data, image_shape=IMAGE_SHAPE)
