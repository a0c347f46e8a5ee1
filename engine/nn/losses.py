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
from ..errors import EngineError, choices


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

    def start(self, ws, i: int, t: np.ndarray, activation: Activation) -> float:
        """``value_and_delta`` on layer ``i`` of a network workspace (its z, a, delta), using
        the workspace's scratch arrays so that nothing is allocated. ``t`` is from ``_targets``."""
        return self.value_and_delta(ws.z[i], ws.a[i], t, activation, ws.delta[i])

    def _targets(self, t, z_shape: tuple[int, int], dtype) -> np.ndarray:
        """The targets ``start`` reads (``targets_like`` unless a loss has a cheaper form)."""
        if type(t) is np.ndarray and t.shape == z_shape and t.dtype == dtype:
            return t
        return self.targets_like(t, z_shape, dtype)

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

    def start(self, ws, i, t, activation):
        z, a, delta = ws.z[i], ws.a[i], ws.delta[i]
        np.subtract(a, t, out=delta)
        size = delta.size
        loss = np.vdot(delta, delta) / size
        delta *= 2.0 / size
        activation.multiply_derivative(delta, z, a, ws.work[i], ws.mask[i])
        return float(loss)


class BCEWithLogits(Loss):
    name = "bce"
    outputs = ("sigmoid",)

    def value(self, z, a, t):
        # max(z, 0) - z t + log(1 + e^-|z|): never overflows, exact for large |z|;
        # np.logaddexp(0, z) computes exactly max(z, 0) + log1p(exp(-|z|))
        terms = np.logaddexp(0.0, z)
        terms -= z * t
        return float(terms.sum() / z.size)

    def value_and_delta(self, z, a, t, activation, delta):
        loss = self.value(z, a, t)
        np.subtract(a, t, out=delta)
        delta *= 1.0 / delta.size
        return loss

    def start(self, ws, i, t, activation):
        z, a, delta, terms = ws.z[i], ws.a[i], ws.delta[i], ws.work[i]
        size = z.size
        np.logaddexp(0.0, z, out=terms)
        np.multiply(z, t, out=delta)  # delta is free until the gradient goes in
        terms -= delta
        loss = np.add.reduce(terms, axis=None) / size
        np.subtract(a, t, out=delta)
        delta *= 1.0 / size
        return float(loss)


class CrossEntropy(Loss):
    name = "ce"
    outputs = ("softmax",)

    @staticmethod
    def _is_labels(t: np.ndarray, z_shape) -> bool:
        return t.ndim == 1 or (t.ndim == 2 and t.shape[1] == 1 and z_shape[1] > 1)

    @staticmethod
    def _labels(t: np.ndarray, z_shape) -> np.ndarray:
        """Checked integer labels (batch,) as np.intp."""
        labels = t.reshape(-1)
        if labels.shape[0] != z_shape[0]:
            raise EngineError(
                f"loss 'ce': {labels.shape[0]} labels for a batch of {z_shape[0]} outputs"
            )
        if labels.dtype.kind not in "iu" and not np.all(np.mod(labels, 1) == 0):
            raise EngineError("loss 'ce': integer class labels or one-hot rows are required")
        labels = labels.astype(np.intp, copy=False)
        if labels.size and (labels.min() < 0 or labels.max() >= z_shape[1]):
            raise EngineError(
                f"loss 'ce': labels must lie in 0..{z_shape[1] - 1}, "
                f"got {labels.min()}..{labels.max()}"
            )
        return labels

    def targets_like(self, t, z_shape, dtype):
        t = np.asarray(t)
        if self._is_labels(t, z_shape):
            labels = self._labels(t, z_shape)
            onehot = np.zeros(z_shape, dtype=dtype)
            onehot[np.arange(z_shape[0]), labels] = 1.0
            return onehot
        return super().targets_like(t, z_shape, dtype)

    def _targets(self, t, z_shape, dtype):
        """Integer labels stay labels, as an unsigned view (batch,) that ``start`` range-checks
        while it indexes (a negative label becomes huge and fails the index); others as usual."""
        if type(t) is not np.ndarray:
            t = np.asarray(t)
        if not self._is_labels(t, z_shape):
            return super()._targets(t, z_shape, dtype)
        if t.dtype.kind == "u" or t.dtype.kind == "i":
            labels = t.reshape(-1)
            if labels.shape[0] != z_shape[0]:
                raise EngineError(
                    f"loss 'ce': {labels.shape[0]} labels for a batch of {z_shape[0]} outputs"
                )
            return labels if t.dtype.kind == "u" else labels.view(f"u{labels.itemsize}")
        return self._labels(t, z_shape).view(np.uintp)  # floats holding integers; checked

    def value(self, z, a, t):
        shifted = z - z.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-np.vdot(t, log_probs) / z.shape[0])

    def value_and_delta(self, z, a, t, activation, delta):
        loss = self.value(z, a, t)
        np.multiply(a, np.add.reduce(t, axis=1, keepdims=True), out=delta)
        delta -= t
        delta *= 1.0 / delta.shape[0]
        return loss

    def start(self, ws, i, t, activation):
        # Labels and the equivalent one-hot rows give bit-identical loss and gradients.
        z, a, delta = ws.z[i], ws.a[i], ws.delta[i]
        n = z.shape[0]
        row_max = ws.row_max  # the softmax forward left each row's max and sum of exp
        log_sum = np.log(ws.row_sum, out=ws.row_tmp)
        if t.ndim == 1:
            rows = ws.rows
            try:
                picked = z[rows, t]
            except IndexError:
                signed = t.view(f"i{t.itemsize}") if t.dtype.kind == "u" else t
                self._labels(signed.astype(np.int64), z.shape)  # raises the message
                raise
            # log_softmax at the label, as torch: (z - max) - log(sum exp(z - max))
            picked -= row_max[:, 0]
            picked -= log_sum[:, 0]
            loss = -np.add.reduce(picked) / n
            scale = 1.0 / n
            np.multiply(a, scale, out=delta)
            at_label = a[rows, t]
            at_label -= 1.0
            at_label *= scale
            delta[rows, t] = at_label
            return float(loss)
        log_probs = ws.work[i]
        np.subtract(z, row_max, out=log_probs)
        log_probs -= log_sum
        log_probs *= t
        per_row = np.add.reduce(log_probs, axis=1, out=ws.row_tmp[:, 0])
        loss = -np.add.reduce(per_row) / n
        # dL/dz = (p * sum(t) - t) / n, as torch for any target rows; one-hot rows sum to
        # exactly 1, so this equals the label path bit for bit
        np.multiply(a, np.add.reduce(t, axis=1, keepdims=True), out=delta)
        delta -= t
        delta *= 1.0 / n
        return float(loss)


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
