"""Weight initialisation schemes, all drawn from one seeded generator.

Draws happen in float64 and are then cast, so a float32 and a float64 network built
with the same seed start from the same weights up to rounding.
"""

from __future__ import annotations

import numpy as np

from ..errors import EngineError, choices

INIT_SCHEMES = ("xavier", "he", "normal", "uniform", "zeros")


def init_weights(
    rng: np.random.Generator,
    fan_in: int,
    fan_out: int,
    scheme: str,
    *,
    std: float = 0.1,
    limit: float = 0.1,
) -> np.ndarray:
    """Return a (fan_in, fan_out) float64 weight matrix drawn by ``scheme``.

    - ``xavier``: Glorot uniform, U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).
    - ``he``: Kaiming normal for ReLU, N(0, 2 / fan_in).
    - ``normal``: N(0, std^2).
    - ``uniform``: U(-limit, limit).
    - ``zeros``: all zero (every unit then learns the same thing: a lesson in itself).
    """
    shape = (fan_in, fan_out)
    if scheme == "xavier":
        a = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a, size=shape)
    if scheme == "he":
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape)
    if scheme == "normal":
        return rng.normal(0.0, std, size=shape)
    if scheme == "uniform":
        return rng.uniform(-limit, limit, size=shape)
    if scheme == "zeros":
        return np.zeros(shape)
    raise EngineError(f"unknown init {scheme!r}; allowed: {choices(INIT_SCHEMES)}")
