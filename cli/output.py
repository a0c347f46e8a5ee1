"""What the commands print: one JSON writer and the one place numbers are formatted."""

from __future__ import annotations

import json
import math

from engine.values import plain


def json_line(obj) -> str:
    """``obj`` as one line of JSON (NaN and inf as null, NumPy values as plain ones)."""
    return json.dumps(plain(obj))


def share(value: float | None) -> str:
    """A fraction as a whole percentage; ``–`` when it was not measured."""
    return "–" if value is None else f"{value:.0%}"


def number(v: float) -> str:
    """A number in at most 9 characters: ``0``, ``0.1234``, ``3.20e-05``, ``nan``."""
    v = float(v)
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return str(v)
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.4g}"
    return f"{v:.2e}"


def cell(x, spec: str) -> str:
    """A table cell: ``x`` formatted with ``spec``, or ``-`` when there is no value."""
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def sci(value: float | None) -> str:
    """A magnitude in scientific notation; ``–`` when it was not measured."""
    return "–" if value is None else f"{value:.2e}"
