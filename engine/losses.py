"""Loss functions, each a batch mean matching PyTorch's defaults.

A loss works on the output layer's pre-activation ``z`` and activation ``a`` (both
(batch, outputs)) and a target array. ``value_and_delta`` returns the loss and writes
dL/dz of the output layer, the error that backpropagation starts from.

- ``mse``: mean over all elements of (a - t)^2, like ``nn.MSELoss``.
- ``bce``: binary cross-entropy from the sigmoid's logits, like ``nn.BCEWithLogitsLoss``.
- ``ce``: softmax cross-entropy from logits, like ``nn.CrossEntropyLoss``; targets are
  integer labels (batch,) or one-hot / probability rows (batch, classes).
"""

from __future__ import annotations

import numpy as np

from .activations import Activation
from .errors import EngineError, choices


class Loss:
    name = "base"
    #: output activations this loss can be paired with
    outputs: tuple[str, ...] = ()

    def value_and_delta(
        self, z: np.ndarray, a: np.ndarray, t: np.ndarray, activation: Activation, delta: np.ndarray
    ) -> float:
        """Return the loss; write dL/dz (same shape as z) into ``delta``."""
        raise NotImplementedError

    def value(self, z: np.ndarray, a: np.ndarray, t: np.ndarray) -> float:
        """The loss alone, without the gradient."""
        raise NotImplementedError

    def check_output(self, output_activation: str) -> None:
        """Refuse an output activation this loss cannot be paired with."""
        if output_activation not in self.outputs:
            raise EngineError(pairing_message(self.name, output_activation))

    def targets_like(self, t: np.ndarray, z_shape: tuple[int, int], dtype) -> np.ndarray:
        """Targets in the form this loss reads, checked against the output shape."""
        t = np.asarray(t)
        if t.ndim == 1 and z_shape[1] == 1:
            t = t.reshape(-1, 1)
        if t.shape != z_shape:
            raise EngineError(
                f"loss '{self.name}': targets have shape {t.shape}, outputs have shape {z_shape}"
            )
        return t.astype(dtype, copy=False)


class MSE(Loss):
    name = "mse"
    outputs = ("linear", "sigmoid", "tanh", "relu", "leaky_relu")

    def value(self, z, a, t):
        diff = a - t
        return float(np.vdot(diff, diff) / diff.size)

    def value_and_delta(self, z, a, t, activation, delta):
        np.subtract(a, t, out=delta)
        loss = float(np.vdot(delta, delta) / delta.size)
        delta *= 2.0 / delta.size
        activation.multiply_derivative(delta, z, a)
        return loss


class BCEWithLogits(Loss):
    name = "bce"
    outputs = ("sigmoid",)

    def value(self, z, a, t):
        # max(z, 0) - z t + log(1 + e^-|z|): never overflows, exact for large |z|
        terms = np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z)))
        return float(terms.sum() / z.size)

    def value_and_delta(self, z, a, t, activation, delta):
        loss = self.value(z, a, t)
        np.subtract(a, t, out=delta)
        delta *= 1.0 / delta.size
        return loss


class CrossEntropy(Loss):
    name = "ce"
    outputs = ("softmax",)

    def targets_like(self, t, z_shape, dtype):
        t = np.asarray(t)
        if t.ndim == 1 or (t.ndim == 2 and t.shape[1] == 1 and z_shape[1] > 1):
            labels = t.reshape(-1)
            if labels.shape[0] != z_shape[0]:
                raise EngineError(
                    f"loss 'ce': {labels.shape[0]} labels for a batch of {z_shape[0]} outputs"
                )
            if not np.all(np.mod(labels, 1) == 0):
                raise EngineError("loss 'ce': integer class labels or one-hot rows are required")
            labels = labels.astype(np.intp)
            if labels.size and (labels.min() < 0 or labels.max() >= z_shape[1]):
                raise EngineError(
                    f"loss 'ce': labels must lie in 0..{z_shape[1] - 1}, "
                    f"got {labels.min()}..{labels.max()}"
                )
            onehot = np.zeros(z_shape, dtype=dtype)
            onehot[np.arange(z_shape[0]), labels] = 1.0
            return onehot
        return super().targets_like(t, z_shape, dtype)

    def value(self, z, a, t):
        shifted = z - z.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-np.vdot(t, log_probs) / z.shape[0])

    def value_and_delta(self, z, a, t, activation, delta):
        loss = self.value(z, a, t)
        np.subtract(a, t, out=delta)
        delta *= 1.0 / delta.shape[0]
        return loss


LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in (MSE, BCEWithLogits, CrossEntropy)}

#: the loss to use with each output activation, for error messages
SUGGESTED_LOSS = {"softmax": "ce", "sigmoid": "bce"}


def pairing_message(loss: str, output_activation: str) -> str:
    """One line that says why a loss/output pairing is refused and what to use instead."""
    allowed = LOSSES[loss].outputs
    if loss == "mse" and output_activation == "softmax":
        return "loss 'mse' cannot follow a softmax output; use loss 'ce' with softmax"
    if loss == "bce":
        return (
            f"loss 'bce' needs a 'sigmoid' output, not '{output_activation}'; "
            "use bce with sigmoid (2 classes) or ce with softmax (several classes)"
        )
    if loss == "ce":
        return (
            f"loss 'ce' needs a 'softmax' output, not '{output_activation}'; "
            "use ce with softmax, or bce with a sigmoid output"
        )
    return f"loss '{loss}' cannot follow a '{output_activation}' output; allowed: {choices(allowed)}"


def get_loss(name: str | Loss) -> Loss:
    """Build a loss from its name: 'mse', 'bce' or 'ce'."""
    if isinstance(name, Loss):
        return name
    cls = LOSSES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise EngineError(f"unknown loss {name!r}; allowed: {choices(LOSSES)}")
    return cls()
