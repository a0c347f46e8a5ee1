"""Small number and value formatters shared by the panes."""

from __future__ import annotations

import math


def num(value: float | None, digits: int = 4) -> str:
    """A loss or rate in at most ~8 characters: ``0.1234``, ``3.2e-05``, ``nan``."""
    if value is None:
        return "–"
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    mag = abs(value)
    if 1e-3 <= mag < 1e4:
        return f"{value:.{digits}g}"
    return f"{value:.1e}"


def pct(fraction: float | None) -> str:
    """``0.975`` -> ``97.5%``."""
    if fraction is None or not math.isfinite(fraction):
        return "–"
    return f"{fraction * 100:.1f}%"


def rate(steps_per_sec: float) -> str:
    """Steps a second, rounded for calm display: ``1.2k``, ``340``."""
    if steps_per_sec >= 10_000:
        return f"{steps_per_sec / 1000:.0f}k"
    if steps_per_sec >= 1000:
        return f"{steps_per_sec / 1000:.1f}k"
    return f"{steps_per_sec:.0f}"


def config_value(value) -> str:
    """A config value as the text a field shows and accepts back."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return ", ".join(str(v) for v in value)
    return str(value)


def pace(epochs_per_sec: float | None) -> str:
    """A training pace as the status line shows it: ``30 ep/s``, or ``max`` for full speed."""
    return "max" if epochs_per_sec is None else f"{epochs_per_sec:g} ep/s"


def plain_characters(app, override: bool | None = None) -> bool:
    """Whether to draw with plain characters instead of colour: ``override`` when given,
    else the app's ``plain`` setting, else when NO_COLOR is set or the terminal has fewer
    than 256 colours."""
    plain = override if override is not None else getattr(app, "plain", None)
    if plain is None:
        plain = app.no_color or app.console.color_system not in ("256", "truecolor")
    return bool(plain)
