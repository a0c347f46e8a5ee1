"""Activation functions and their derivatives.

Every activation maps a pre-activation ``z`` of shape (batch, units) to ``a`` of the same
shape. ``derivative(z, a)`` gives f'(z) elementwise, using whichever of ``z`` or ``a`` is
cheaper. Softmax has no elementwise derivative; it is only used fused with cross-entropy
as an output activation.
"""

from __future__ import annotations

import numpy as np

from ..errors import EngineError, choices


class Activation:
    """Base class: ``forward`` computes f(z), ``derivative`` computes f'(z)."""

    name = "base"
    #: True when f'(z) can be read off the output alone (lets backward skip z).
    output_only_derivative = False

    def forward(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward_ws(self, z: np.ndarray, out: np.ndarray, ws, i: int) -> np.ndarray:
        """``forward`` for layer ``i`` of a network workspace, which may lend scratch."""
        return self.forward(z, out=out)

    def multiply_derivative(self, delta: np.ndarray, z: np.ndarray, a: np.ndarray,
                            work: np.ndarray | None = None, mask: np.ndarray | None = None) -> None:
        """In place: ``delta *= f'(z)``. Subclasses override this with a cheaper form.

        ``work`` (float, the shape of ``delta``) and ``mask`` (bool, same shape) are optional
        scratch arrays: given them, the built-in activations allocate nothing.
        """
        delta *= self.derivative(z, a)

    def describe(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Activation):
    name = "linear"

    def forward(self, z, out=None):
        if out is None:
            return z.copy()
        if out is not z:
            np.copyto(out, z)
        return out

    def derivative(self, z, a):
        return np.ones_like(z)

    def multiply_derivative(self, delta, z, a, work=None, mask=None):
        return None


class Sigmoid(Activation):
    """1 / (1 + e^-z), computed without overflow for large |z|."""

    name = "sigmoid"
    output_only_derivative = True

    def forward(self, z, out=None):
        # s(z) = exp(-log(1 + e^-z)); logaddexp never overflows and keeps tiny values exact
        out = np.negative(z, out=out)
        np.logaddexp(0.0, out, out=out)
        np.negative(out, out=out)
        return np.exp(out, out=out)

    def derivative(self, z, a):
        return a * (1.0 - a)

    def multiply_derivative(self, delta, z, a, work=None, mask=None):
        # torch's order: grad * (1 - a) * a
        work = np.subtract(1.0, a, out=work)
        delta *= work
        delta *= a


class Tanh(Activation):
    name = "tanh"
    output_only_derivative = True

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 1.0 - a * a

    def multiply_derivative(self, delta, z, a, work=None, mask=None):
        # torch's order: grad * (1 - a * a)
        sq = np.multiply(a, a, out=work)
        np.subtract(1.0, sq, out=sq)
        delta *= sq


class ReLU(Activation):
    name = "relu"
    output_only_derivative = True

    def forward(self, z, out=None):
        return np.maximum(z, 0.0, out=out)

    def forward_ws(self, z, out, ws, i):
        # NumPy's maximum runs several times faster against an array of zeros than a scalar
        return np.maximum(z, ws.zeros[i], out=out)

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)

    def multiply_derivative(self, delta, z, a, work=None, mask=None):
        # a > 0 exactly where z > 0 (the derivative at 0 is taken as 0, like PyTorch).
        # (np.copyto(..., where=) and ufuncs with where= are many times slower than this)
        on = np.greater(a, 0.0, out=mask)
        np.multiply(delta, on, out=delta)


class LeakyReLU(Activation):
    name = "leaky_relu"

    def __init__(self, slope: float = 0.01):
        if not np.isfinite(slope) or slope < 0:
            raise EngineError(f"leaky_relu slope must be a finite number >= 0, got {slope!r}")
        self.slope = float(slope)

    def forward(self, z, out=None):
        if out is None:
            out = np.empty_like(z)
        np.multiply(z, self.slope, out=out)
        np.maximum(z, out, out=out) if self.slope <= 1 else np.minimum(z, out, out=out)
        return out

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, self.slope).astype(z.dtype)

    def multiply_derivative(self, delta, z, a, work=None, mask=None):
        # torch: z > 0 ? grad : grad * slope; exact, since one of the two parts is zero
        off = np.less_equal(z, 0.0, out=mask)
        neg = np.multiply(delta, off, out=work)  # grad where z <= 0, else 0
        delta -= neg  # grad where z > 0, else 0
        neg *= self.slope
        delta += neg

    def describe(self):
        return {"name": self.name, "slope": self.slope}

    def __repr__(self):
        return f"LeakyReLU(slope={self.slope})"


class Softmax(Activation):
    """exp(z) / sum(exp(z)) along the units axis, shifted by the row max for stability."""

    name = "softmax"

    def forward(self, z, out=None):
        n = z.shape[0]
        return self.forward_stats(z, out, np.empty((n, 1), z.dtype), np.empty((n, 1), z.dtype))

    def forward_stats(self, z, out, row_max, row_sum, z_t=None, ones=None):
        """``forward``, keeping each row's max and sum of exp(z - max) in the given (batch, 1)
        arrays, from which cross-entropy reads its log-sum-exp without another pass.

        ``z_t`` (units, batch) and ``ones`` (units, 1) are optional scratch: NumPy reduces
        short rows slowly, so the max is taken down the columns of a transposed copy and
        the sum is a matrix-vector product.
        """
        if out is None:
            out = np.empty_like(z)
        if z_t is None:
            np.max(z, axis=1, keepdims=True, out=row_max)
        else:
            np.copyto(z_t, z.T)
            np.maximum.reduce(z_t, axis=0, out=row_max[:, 0])
        np.subtract(z, row_max, out=out)
        np.exp(out, out=out)
        if ones is None:
            np.add.reduce(out, axis=1, keepdims=True, out=row_sum)
        else:
            np.matmul(out, ones, out=row_sum)
        out /= row_sum
        return out

    def forward_ws(self, z, out, ws, i):
        return self.forward_stats(z, out, ws.row_max, ws.row_sum, ws.out_t, ws.out_ones)

    def derivative(self, z, a):
        raise EngineError(
            "softmax has no elementwise derivative; use it as the output activation with loss 'ce'"
        )

    multiply_derivative = Activation.multiply_derivative


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Linear, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax)
}
HIDDEN_ACTIVATIONS = tuple(n for n in ACTIVATIONS if n != "softmax")


def get_activation(name: str | Activation, *, slope: float = 0.01) -> Activation:
    """Build an activation from its name; ``slope`` applies to ``leaky_relu`` only."""
    if isinstance(name, Activation):
        return name
    cls = ACTIVATIONS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise EngineError(f"unknown activation {name!r}; allowed: {choices(ACTIVATIONS)}")
    return cls(slope) if cls is LeakyReLU else cls()
