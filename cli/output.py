"""What the commands print: one JSON writer and the numbers in the summaries."""

from __future__ import annotations

import json

from engine.values import plain


def json_line(obj) -> str:
    """``obj`` as one line of JSON (NaN and inf as null, NumPy values as plain ones)."""
    return json.dumps(plain(obj))


def share(value: float | None) -> str:
    """A fraction as a whole percentage; ``–`` when it was not measured."""
    return "–" if value is None else f"{value:.0%}"


def sci(value: float | None) -> str:
    """A magnitude in scientific notation; ``–`` when it was not measured."""
    return "–" if value is None else f"{value:.2e}"
