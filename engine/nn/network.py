"""A fully-connected network with its own forward and backward pass.

All parameters live in one flat buffer laid out as ``[W_0, ..., W_{L-1}, b_0, ..., b_{L-1}]``;
each layer's ``W`` (fan_in, fan_out) and ``b`` (fan_out,) are views into it. Gradients use
the same layout, so an optimizer updates every parameter with a few vectorised calls, and
regularisation (weights only) is one slice.

Its length is one class: the forward and backward passes share preallocated workspaces and
gradient buffers, and splitting them apart would put those buffers behind a second
interface on the hot path.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .activations import HIDDEN_ACTIVATIONS, Activation, get_activation
from ..errors import EngineError, choices
from .init import init_weights
from .losses import Loss, get_loss

DTYPES = ("float32", "float64")
REGULARIZATIONS = ("none", "l1", "l2")


def aligned_empty(shape, dtype, align: int = 64) -> np.ndarray:
    """An uninitialised array whose data starts on a cache-line boundary.

    NumPy's own allocations start 16 bytes past one, which makes every vector load of an
    elementwise operation straddle two cache lines: aligned arrays run those ~1.4x faster.
    """
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + align, np.uint8)
    start = -raw.ctypes.data % align
    return raw[start: start + nbytes].view(dtype).reshape(shape)


def aligned_zeros(shape, dtype, align: int = 64) -> np.ndarray:
    out = aligned_empty(shape, dtype, align)
    out.fill(0)
    return out


class Dense:
    """One layer: z = x W + b, a = f(z). ``W`` and ``b`` are views into the network's buffer."""

    def __init__(self, W: np.ndarray, b: np.ndarray, activation: Activation):
        self._W = W
        self._b = b
        self.activation = activation

    @property
    def W(self) -> np.ndarray:
        """Weights, shape (fan_in, fan_out). Assigning copies the values in."""
        return self._W

    @W.setter
    def W(self, value) -> None:
        _assign(self._W, value, "W")

    @property
    def b(self) -> np.ndarray:
        """Biases, shape (fan_out,). Assigning copies the values in."""
        return self._b

    @b.setter
    def b(self, value) -> None:
        _assign(self._b, value, "b")

    @property
    def fan_in(self) -> int:
        return self._W.shape[0]

    @property
    def fan_out(self) -> int:
        return self._W.shape[1]

    def __repr__(self) -> str:
        return f"Dense({self.fan_in} -> {self.fan_out}, {self.activation.name})"


def _assign(target: np.ndarray, value, name: str) -> None:
    value = np.asarray(value)
    if value.shape != target.shape:
        raise EngineError(f"{name} must have shape {target.shape}, got {value.shape}")
    target[...] = value


class Gradients(Sequence):
    """Gradients of one backward pass: ``grads[i] == (dW, db)`` for layer i.

    ``flat`` holds them all in the network's parameter layout. The arrays belong to this
    object: a later backward pass never overwrites gradients you still hold.
    """

    __slots__ = ("flat", "_pairs", "__weakref__")

    def __init__(self, flat: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]]):
        self.flat = flat
        self._pairs = pairs

    def __getitem__(self, i):
        return self._pairs[i]

    def __len__(self) -> int:
        return len(self._pairs)

    def __repr__(self) -> str:
        shapes = ", ".join(f"({dW.shape}, {db.shape})" for dW, db in self._pairs)
        return f"Gradients([{shapes}])"


class _Workspace:
    """Preallocated arrays for one batch size: z, a and delta per layer, each (batch, units).

    The rest is scratch that lets a step allocate nothing: ``work`` (float) and ``mask``
    (bool) per layer for derivatives and losses, and per-row arrays for softmax/cross-entropy.
    """

    def __init__(self, batch: int, sizes: Sequence[int], dtype):
        outs = sizes[1:]
        self.z = [aligned_empty((batch, n), dtype) for n in outs]
        self.a = [aligned_empty((batch, n), dtype) for n in outs]
        self.delta = [aligned_empty((batch, n), dtype) for n in outs]
        self.work = [aligned_empty((batch, n), dtype) for n in outs]
        self.mask = [aligned_empty((batch, n), np.bool_) for n in outs]
        self.rows = np.arange(batch, dtype=np.intp)
        self.ones = np.ones(batch, dtype)  # bias gradients as ones @ delta (a fast BLAS call)
        widest = max(outs)
        zeros = aligned_zeros(batch * widest, dtype)
        self.zeros = [zeros[: batch * n].reshape(batch, n) for n in outs]  # read-only use
        self.out_t = np.empty((outs[-1], batch), dtype)
        self.out_ones = np.ones((outs[-1], 1), dtype)
        self.row_max = np.empty((batch, 1), dtype)
        self.row_sum = np.empty((batch, 1), dtype)
        self.row_tmp = np.empty((batch, 1), dtype)


class Network:
    """A stack of dense layers.

    ``sizes`` lists the units from input to output, e.g. [2, 8, 8, 1]; ``activations`` has
    one name per layer (len(sizes) - 1). ``init`` is one of xavier, he, normal (``init_std``),
    uniform (``init_limit``) or zeros; biases start at ``bias_init``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activations: Sequence[str] | str,
        *,
        init: str = "xavier",
        seed: int = 0,
        dtype: str = "float32",
        init_std: float = 0.1,
        init_limit: float = 0.1,
        bias_init: float = 0.0,
        leaky_slope: float = 0.01,
    ):
        sizes = [int(n) for n in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise EngineError(f"sizes must list at least two positive layer widths, got {sizes}")
        if isinstance(activations, str):
            activations = [activations] * (len(sizes) - 1)
        if len(activations) != len(sizes) - 1:
            raise EngineError(
                f"{len(sizes) - 1} layers need {len(sizes) - 1} activations, got {len(activations)}"
            )
        if str(dtype) not in DTYPES:
            raise EngineError(f"unknown dtype {dtype!r}; allowed: {choices(DTYPES)}")
        for i, name in enumerate(activations[:-1]):
            if name == "softmax":
                raise EngineError(
                    f"layer {i}: softmax is for the output layer only; "
                    f"hidden layers allow {choices(HIDDEN_ACTIVATIONS)}"
                )
        self.sizes = sizes
        self.dtype = np.dtype(str(dtype))
        self.init = init
        self.init_std = float(init_std)
        self.init_limit = float(init_limit)
        self.bias_init = float(bias_init)
        self.leaky_slope = float(leaky_slope)
        acts = [get_activation(a, slope=leaky_slope) for a in activations]
        self.activation_names = [a.name for a in acts]

        w_sizes = [i * o for i, o in zip(sizes[:-1], sizes[1:])]
        self.n_weights = sum(w_sizes)
        self.n_params = self.n_weights + sum(sizes[1:])
        self.params = aligned_zeros(self.n_params, self.dtype)
        self._slices = self._layout()
        self.layers = [
            Dense(W, b, act) for (W, b), act in zip(self._views(self.params), acts)
        ]
        # per layer: (W, b, activation, its forward_ws); the views never change
        self._plan = [(layer._W, layer._b, layer.activation, layer.activation.forward_ws)
                      for layer in self.layers]
        self._reg_work: np.ndarray | None = None
        self._workspaces: dict[int, _Workspace] = {}
        #: evaluation has workspaces of its own, so that it never overwrites what the last
        #: training step left (its activations and deltas, read by ``unit_health``)
        self._eval_workspaces: dict[int, _Workspace] = {}
        self._grad_pool: list[tuple[np.ndarray, list, weakref.ref | None]] = []
        self._losses: dict[str, Loss] = {}
        self.last_batch: _Workspace | None = None
        self.reinitialize(seed)

    # ----- construction -------------------------------------------------------------
    def _layout(self) -> list[tuple[slice, tuple[int, int], slice]]:
        out, w_off, b_off = [], 0, self.n_weights
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:]):
            out.append((slice(w_off, w_off + fan_in * fan_out), (fan_in, fan_out),
                        slice(b_off, b_off + fan_out)))
            w_off += fan_in * fan_out
            b_off += fan_out
        return out

    def layer_views(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per layer (W, b) views into a flat array laid out like ``params`` (n_params,)."""
        return self._views(flat)

    def _views(self, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(flat[ws].reshape(shape), flat[bs]) for ws, shape, bs in self._slices]

    def reinitialize(self, seed: int) -> None:
        """Draw fresh weights from ``seed``; the same seed always gives the same weights."""
        rng = np.random.default_rng(seed)
        self.seed = seed
        for layer in self.layers:
            layer.W[...] = init_weights(rng, layer.fan_in, layer.fan_out, self.init,
                                        std=self.init_std, limit=self.init_limit)
            layer.b[...] = self.bias_init

    @property
    def weights(self) -> np.ndarray:
        """All weights (no biases) as one flat view, shape (n_weights,)."""
        return self.params[: self.n_weights]

    def describe(self) -> dict:
        """The arguments that rebuild this network, as a plain dict."""
        return {
            "sizes": list(self.sizes), "activations": list(self.activation_names),
            "init": self.init, "seed": self.seed, "dtype": self.dtype.name,
            "init_std": self.init_std, "init_limit": self.init_limit,
            "bias_init": self.bias_init, "leaky_slope": self.leaky_slope,
        }

    def copy(self) -> Network:
        """An independent network with the same structure and weights."""
        twin = Network(**self.describe())
        twin.params[...] = self.params
        return twin

    def __getstate__(self) -> dict:
        """A network pickles as its description and weights. The per-layer views into the
        flat buffer, the workspaces and the gradient buffers are rebuilt on loading: a
        pickled view would come back as a copy, cut off from the buffer."""
        return {"network": self.describe(), "params": self.params}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state["network"])
        self.params[...] = state["params"]

    def __repr__(self) -> str:
        acts = ", ".join(self.activation_names)
        return f"Network({self.sizes}, [{acts}], {self.dtype.name}, {self.n_params} params)"

    # ----- forward ------------------------------------------------------------------
    def _workspace(self, batch: int, pool: dict[int, _Workspace] | None = None) -> _Workspace:
        pool = self._workspaces if pool is None else pool
        ws = pool.get(batch)
        if ws is None:
            if len(pool) >= 6:  # keep a few batch sizes, not one per call
                pool.pop(next(iter(pool)))
            ws = pool[batch] = _Workspace(batch, self.sizes, self.dtype)
        return ws

    def _input(self, X) -> np.ndarray:
        if (type(X) is np.ndarray and X.dtype == self.dtype and X.ndim == 2
                and X.shape[1] == self.sizes[0]):
            return X
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise EngineError(f"inputs must have shape (batch, {self.sizes[0]}), got {X.shape}")
        return X if X.dtype == self.dtype else X.astype(self.dtype)

    def _forward(self, X: np.ndarray, *, keep: bool = True) -> _Workspace:
        """Forward pass into a workspace; ``keep=False`` uses the evaluation workspaces and
        leaves ``last_batch`` (the last training batch) as it was."""
        pool = self._workspaces if keep else self._eval_workspaces
        ws = pool.get(X.shape[0]) or self._workspace(X.shape[0], pool)
        x = X
        matmul, add = np.matmul, np.add
        for i, (W, b, _, forward) in enumerate(self._plan):
            z = ws.z[i]
            matmul(x, W, out=z)
            add(z, b, out=z)
            x = forward(z, ws.a[i], ws, i)
        if keep:
            self.last_batch = ws
        return ws

    def infer(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Output pre-activations and activations for inputs X (batch, fan_in), each
        (batch, fan_out), without touching what the last training step left behind.

        The arrays are the network's own and valid until the next ``infer`` with the same
        batch size: copy them to keep them."""
        ws = self._forward(self._input(X), keep=False)
        return ws.z[-1], ws.a[-1]

    def activations(self, X: np.ndarray) -> list[np.ndarray]:
        """Every layer's output for inputs X (batch, fan_in): a list of new arrays, layer i's
        (batch, sizes[i + 1]). Leaves what the last training step left behind as it was."""
        return [a.copy() for a in self._forward(self._input(X), keep=False).a]

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Output activations for inputs X (batch, fan_in) -> (batch, fan_out), a new array."""
        return self._forward(self._input(X)).a[-1].copy()

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Pre-activation of the output layer, (batch, fan_out), a new array."""
        return self._forward(self._input(X)).z[-1].copy()

    # ----- loss and backward --------------------------------------------------------
    def loss_function(self, loss: str | Loss) -> Loss:
        """The loss object by name, checked once against this network's output activation."""
        return self._loss(loss)

    def _loss(self, loss: str | Loss) -> Loss:
        key = loss if isinstance(loss, str) else loss.name
        fn = self._losses.get(key)
        if fn is None:
            fn = get_loss(loss)
            fn.check_output(self.activation_names[-1])
            self._losses[key] = fn
        return fn

    def loss(self, X: np.ndarray, Y: np.ndarray, loss: str = "mse") -> float:
        """The data loss (no penalty) on X, Y."""
        fn = self._loss(loss)
        X = self._input(X)
        ws = self._forward(X)
        t = fn.targets_like(Y, ws.z[-1].shape, self.dtype)
        return fn.value(ws.z[-1], ws.a[-1], t)

    def penalty(self, regularization: str | None, rate: float) -> float:
        """The regularisation term for the current weights (biases are not penalised)."""
        if not regularization or regularization == "none" or rate == 0:
            return 0.0
        w = self.weights
        if regularization == "l2":
            return 0.5 * rate * float(np.vdot(w, w))
        if regularization == "l1":
            return rate * float(np.abs(w, out=self._reg_scratch()).sum())
        raise EngineError(
            f"unknown regularization {regularization!r}; allowed: {choices(REGULARIZATIONS)}"
        )

    def _reg_scratch(self) -> np.ndarray:
        if self._reg_work is None:
            self._reg_work = aligned_empty(self.n_weights, self.dtype)
        return self._reg_work

    def _grad_buffer(self) -> tuple[int | None, np.ndarray, list]:
        """A gradient buffer nobody outside still holds (reused; allocated when all are held)."""
        for i, (flat, pairs, ref) in enumerate(self._grad_pool):
            if ref is None or ref() is None:
                return i, flat, pairs
        flat = aligned_empty(self.n_params, self.dtype)
        pairs = self._views(flat)
        if len(self._grad_pool) < 3:
            self._grad_pool.append((flat, pairs, None))
            return len(self._grad_pool) - 1, flat, pairs
        return None, flat, pairs

    def loss_and_grads(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        loss: str = "mse",
        *,
        regularization: str | None = None,
        reg_rate: float = 0.0,
    ) -> tuple[float, Gradients]:
        """Forward and backward on a batch.

        X: (batch, fan_in); Y: targets (batch, fan_out), or integer labels (batch,) for 'ce'.
        Returns the batch-mean loss (plus the L1/L2 penalty on weights when
        ``regularization`` is 'l1' or 'l2') and the gradients, ``grads[i] == (dW, db)``.
        """
        fn = self._losses.get(loss) if type(loss) is str else None
        if fn is None:
            fn = self._loss(loss)
        X = self._input(X)
        ws = self._forward(X)
        zs, acts, deltas, plan = ws.z, ws.a, ws.delta, self._plan
        last = len(plan) - 1
        t = fn._targets(Y, zs[last].shape, self.dtype)
        slot, flat, pairs = self._grad_buffer()
        value = fn.start(ws, last, t, plan[last][2])
        matmul, ones = np.matmul, ws.ones
        for i in range(last, -1, -1):
            delta = deltas[i]
            dW, db = pairs[i]
            matmul(X.T if i == 0 else acts[i - 1].T, delta, out=dW)
            matmul(ones, delta, out=db)
            if i:
                below = deltas[i - 1]
                matmul(delta, plan[i][0].T, out=below)
                plan[i - 1][2].multiply_derivative(below, zs[i - 1], acts[i - 1],
                                                   ws.work[i - 1], ws.mask[i - 1])
        if regularization and regularization != "none" and reg_rate:
            value += self.penalty(regularization, reg_rate)
            gw = flat[: self.n_weights]
            scratch = self._reg_scratch()
            if regularization == "l2":
                np.multiply(self.weights, reg_rate, out=scratch)
            else:
                np.sign(self.weights, out=scratch)
                scratch *= reg_rate
            gw += scratch
        grads = Gradients(flat, pairs)
        if slot is not None:
            self._grad_pool[slot] = (flat, pairs, weakref.ref(grads))
        return value, grads

    # ----- diagnostics --------------------------------------------------------------
    def unit_health(self) -> list[tuple[float, float]]:
        """Per layer (dead fraction, saturated fraction) on the last batch seen.

        Dead: a ReLU unit that is zero on every sample of the batch (it passes no gradient).
        Saturated: the share of sigmoid/tanh activations within 1% of their bounds.
        Other activations report 0 for what does not apply.
        """
        ws = self.last_batch
        out = []
        for layer, a in zip(self.layers, ws.a if ws else [None] * len(self.layers)):
            name = layer.activation.name
            dead = sat = 0.0
            if a is not None and a.shape[0]:
                if name == "relu":
                    dead = float(1.0 - np.count_nonzero(a.any(axis=0)) / a.shape[1])
                elif name == "sigmoid":
                    sat = float(np.count_nonzero((a < 0.01) | (a > 0.99)) / a.size)
                elif name == "tanh":
                    sat = float(np.count_nonzero(np.abs(a) > 0.99) / a.size)
            out.append((dead, sat))
        return out

    # ----- inspection ---------------------------------------------------------------
    def trace(self, X: np.ndarray, Y: np.ndarray, loss: str = "mse", *,
              regularization: str | None = None, reg_rate: float = 0.0) -> Trace:
        """One forward and backward pass with every intermediate kept (copies).

        The numbers are the ones ``loss_and_grads`` computes, read from its own buffers.
        """
        value, grads = self.loss_and_grads(X, Y, loss, regularization=regularization,
                                           reg_rate=reg_rate)
        ws = self.last_batch
        X = self._input(X)
        layers = tuple(
            LayerTrace(x=(X if i == 0 else ws.a[i - 1]).copy(), z=ws.z[i].copy(), a=ws.a[i].copy(),
                       delta=ws.delta[i].copy(), dW=dW.copy(), db=db.copy())
            for i, (dW, db) in enumerate(grads))
        return Trace(loss=value, layers=layers)


class LayerTrace(NamedTuple):
    """One layer's numbers in a traced step; batch-first shapes."""

    x: np.ndarray  #: (batch, fan_in) input
    z: np.ndarray  #: (batch, fan_out) x W + b
    a: np.ndarray  #: (batch, fan_out) f(z)
    delta: np.ndarray  #: (batch, fan_out) dL/dz
    dW: np.ndarray  #: (fan_in, fan_out) x^T delta (+ penalty gradient)
    db: np.ndarray  #: (fan_out,) sum of delta over the batch


class Trace(NamedTuple):
    """A traced training step: the loss and each layer's numbers."""

    loss: float
    layers: tuple[LayerTrace, ...]
