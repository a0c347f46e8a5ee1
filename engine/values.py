"""Plain values for JSON: the one place where NumPy types and NaN/inf become JSON-ready."""

from __future__ import annotations

import math

import numpy as np


def plain(x):
    """``x`` with NumPy arrays and scalars as lists and Python numbers, and NaN/inf as None
    (JSON has neither), through dicts, lists and tuples."""
    if x is None:
        return None
    if isinstance(x, np.ndarray):
        return [plain(v) for v in x.tolist()] if x.ndim else plain(x.item())
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, bool):
        return x
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x
