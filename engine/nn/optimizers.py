"""Optimizers with ``torch.optim``'s update rules and defaults.

Each optimizer keeps its state as flat arrays in the network's parameter layout and
updates every parameter at once. Hyperparameters are plain attributes: change ``opt.lr``
(or ``opt.set(lr=...)``) between steps and the state carries on.

- SGD (lr 1e-3, momentum 0, dampening 0, nesterov off, weight_decay 0)
- RMSprop (lr 1e-2, alpha 0.99, eps 1e-8, momentum 0, centered off, weight_decay 0)
- Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8, weight_decay 0)

Its length is the three optimizers of torch.optim (SGD, RMSprop, Adam) side by side, with
one shared base.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import EngineError, choices
from .network import aligned_empty, aligned_zeros


#: Bytes per array in one chunk of an update: the few arrays an update reads stay in the
#: CPU's L2 cache while all its operations run over them, instead of each operation
#: streaming the whole parameter vector through memory. Small networks are one chunk.
CHUNK_BYTES = 1 << 17


class Optimizer:
    """Base class. ``step(net, grads)`` updates ``net``'s parameters in place."""

    name = "base"
    #: hyperparameter names that may be changed between steps
    hyperparameters: tuple[str, ...] = ("lr", "weight_decay")

    def __init__(self, lr: float, weight_decay: float = 0.0):
        self.lr = lr
        self.weight_decay = weight_decay
        self.steps = 0
        self.state: dict[str, np.ndarray] = {}
        self._scratch: np.ndarray | None = None
        self._decay_scratch: np.ndarray | None = None

    def set(self, **values: float) -> None:
        """Change hyperparameters; the optimizer state is kept."""
        for key, value in values.items():
            if key not in self.hyperparameters:
                raise EngineError(
                    f"{self.name} has no hyperparameter {key!r}; allowed: {choices(self.hyperparameters)}"
                )
            _check_hyper(key, value)
            setattr(self, key, type(getattr(self, key))(value))

    def hyper(self) -> dict:
        """Current hyperparameters as a plain dict."""
        return {k: getattr(self, k) for k in self.hyperparameters}

    def reset_state(self) -> None:
        """Forget momentum and moment estimates (as for freshly initialised weights)."""
        self.steps = 0
        self.state = {}

    def _buffer(self, key: str, like: np.ndarray) -> np.ndarray:
        buf = self.state.get(key)
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
            buf = self.state[key] = aligned_zeros(like.shape, like.dtype)
        return buf

    def _flat_grads(self, net, grads) -> np.ndarray:
        flat = getattr(grads, "flat", None)
        if flat is not None and flat.shape == net.params.shape:
            return flat
        if len(grads) != len(net.layers):
            raise EngineError(f"got gradients for {len(grads)} layers, network has {len(net.layers)}")
        flat = np.empty_like(net.params)
        for (W, b), (dW, db) in zip(net.layer_views(flat), grads):
            W[...] = dW
            b[...] = db
        return flat

    def _work(self, like: np.ndarray) -> np.ndarray:
        """Scratch for one chunk (at most CHUNK_BYTES)."""
        n = min(like.shape[0], CHUNK_BYTES // like.itemsize)
        w = self._scratch
        if w is None or w.shape[0] != n or w.dtype != like.dtype:
            w = self._scratch = aligned_empty(n, like.dtype)
        return w

    def _decay_work(self, work: np.ndarray) -> np.ndarray:
        d = self._decay_scratch
        if d is None or d.shape != work.shape or d.dtype != work.dtype:
            d = self._decay_scratch = aligned_empty(work.shape, work.dtype)
        return d

    def step(self, net, grads: Sequence) -> None:
        """Apply one update to ``net.params`` from ``grads`` (a ``Gradients`` or [(dW, db), ...])."""
        g = self._flat_grads(net, grads)
        p = net.params
        if p.ndim != 1 or g.shape != p.shape:
            raise EngineError(f"gradients have shape {g.shape}, parameters have {p.shape}")
        self.steps += 1
        first = self._begin(p)
        bufs = self._state_buffers(p)
        work = self._work(p)
        decay = self.weight_decay
        decayed = self._decay_work(work) if decay else None
        n = p.shape[0]
        chunk = work.shape[0]
        if n <= chunk:
            if decay:  # like torch: the decay joins the gradient (a copy: grads stay as computed)
                d = np.multiply(p, decay, out=decayed)
                d += g
                g = d
            self._update(p, g, bufs, work, first)
            return
        for s in range(0, n, chunk):
            e = s + chunk
            pc, gc = p[s:e], g[s:e]
            w = work if e <= n else work[: n - s]
            if decay:
                d = np.multiply(pc, decay, out=decayed if e <= n else decayed[: n - s])
                d += gc
                gc = d
            self._update(pc, gc, [b[s:e] for b in bufs], w, first)

    def _begin(self, p: np.ndarray) -> bool:
        """Called once a step before the update; returns a flag passed to ``_update``."""
        return False

    def _state_buffers(self, p: np.ndarray) -> list[np.ndarray]:
        """The state arrays ``_update`` works on, in its order."""
        return []

    def _update(self, p: np.ndarray, g: np.ndarray, bufs: list, work: np.ndarray,
                first: bool) -> None:
        """Update ``p`` in place (the whole vector or one chunk); ``bufs`` are the matching
        slices of the state arrays, ``work`` scratch of the same length."""
        raise NotImplementedError

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The state to save in a checkpoint (flat arrays), plus the step count."""
        out = {k: v for k, v in self.state.items() if not k.startswith("_")}
        out["steps"] = np.array(self.steps)
        return out

    def load_state_arrays(self, arrays: dict[str, np.ndarray], like: np.ndarray) -> None:
        """Restore what ``state_arrays`` saved."""
        self.state = {}
        for k, v in arrays.items():
            if k == "steps":
                self.steps = int(v)
            else:
                if v.shape != like.shape:
                    raise EngineError(
                        f"optimizer state {k!r} has shape {v.shape}, parameters have {like.shape}"
                    )
                buf = self.state[k] = aligned_empty(like.shape, like.dtype)
                buf[...] = v

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    name = "sgd"
    hyperparameters = ("lr", "momentum", "nesterov", "weight_decay")

    def __init__(self, lr: float = 1e-3, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, dampening: float = 0.0):
        super().__init__(lr, weight_decay)
        if dampening != 0:
            raise EngineError("dampening other than 0 is not supported")
        if nesterov and momentum <= 0:
            raise EngineError("nesterov needs a momentum above 0")
        self.momentum = momentum
        self.nesterov = bool(nesterov)

    def _begin(self, p):
        return bool(self.momentum) and "momentum_buffer" not in self.state

    def _state_buffers(self, p):
        return [self._buffer("momentum_buffer", p)] if self.momentum else []

    def _update(self, p, g, bufs, work, first):
        if self.momentum:
            buf = bufs[0]
            if first:
                np.copyto(buf, g)  # torch starts the buffer at the first gradient
            else:
                buf *= self.momentum
                buf += g
            if self.nesterov:
                np.multiply(buf, self.momentum, out=work)  # d_p = g + momentum * buf
                work += g
                work *= self.lr
            else:
                np.multiply(buf, self.lr, out=work)
        else:
            np.multiply(g, self.lr, out=work)
        p -= work


class RMSprop(Optimizer):
    name = "rmsprop"
    hyperparameters = ("lr", "alpha", "eps", "momentum", "weight_decay")

    def __init__(self, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, weight_decay: float = 0.0, centered: bool = False):
        super().__init__(lr, weight_decay)
        if centered:
            raise EngineError("centered RMSprop is not supported")
        self.alpha = alpha
        self.eps = eps
        self.momentum = momentum

    def _state_buffers(self, p):
        sq = self._buffer("square_avg", p)
        return [sq, self._buffer("momentum_buffer", p)] if self.momentum > 0 else [sq]

    def _update(self, p, g, bufs, work, first):
        sq = bufs[0]
        # square_avg = alpha * square_avg + (1 - alpha) * g^2
        sq *= self.alpha
        np.multiply(g, g, out=work)
        work *= 1.0 - self.alpha
        sq += work
        # avg = sqrt(square_avg) + eps
        np.sqrt(sq, out=work)
        work += self.eps
        np.divide(g, work, out=work)
        if self.momentum > 0:
            buf = bufs[1]
            buf *= self.momentum
            buf += work
            np.multiply(buf, self.lr, out=work)
        else:
            work *= self.lr
        p -= work


class Adam(Optimizer):
    name = "adam"
    hyperparameters = ("lr", "beta1", "beta2", "eps", "weight_decay")

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, weight_decay: float = 0.0, betas: tuple | None = None):
        super().__init__(lr, weight_decay)
        if betas is not None:
            beta1, beta2 = betas
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps

    def _state_buffers(self, p):
        return [self._buffer("exp_avg", p), self._buffer("exp_avg_sq", p)]

    def _update(self, p, g, bufs, work, first):
        m, v = bufs
        b1, b2, t = self.beta1, self.beta2, self.steps
        # m = b1 m + (1 - b1) g  (torch: m.lerp_(g, 1 - b1))
        np.subtract(g, m, out=work)
        work *= 1.0 - b1
        m += work
        # v = b2 v + (1 - b2) g^2
        v *= b2
        np.multiply(g, g, out=work)
        work *= 1.0 - b2
        v += work
        # torch: denom = sqrt(v) / sqrt(1 - b2^t) + eps; p -= step_size * m / denom,
        # step_size = lr / (1 - b1^t); here step_size divides denom (one pass fewer)
        step_size = self.lr / (1.0 - b1**t)
        bias_correction2_sqrt = math.sqrt(1.0 - b2**t)
        np.sqrt(v, out=work)
        work *= 1.0 / (bias_correction2_sqrt * step_size)
        work += self.eps / step_size
        np.divide(m, work, out=work)
        p -= work


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, RMSprop, Adam)}


def _check_hyper(key: str, value) -> None:
    if key == "nesterov":
        return
    try:
        ok = math.isfinite(float(value)) and float(value) >= 0
    except (TypeError, ValueError):
        ok = False
    if not ok or (key == "lr" and float(value) <= 0):
        raise EngineError(f"{key} must be a finite number {'> 0' if key == 'lr' else '>= 0'}, got {value!r}")
    if key in ("alpha", "beta1", "beta2", "momentum") and not float(value) < 1:
        raise EngineError(f"{key} must be in [0, 1), got {value!r}")


def make_optimizer(name: str, **hyper) -> Optimizer:
    """Build an optimizer by name ('sgd', 'rmsprop', 'adam'); unset values take torch's defaults."""
    cls = OPTIMIZERS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise EngineError(f"unknown optimizer {name!r}; allowed: {choices(OPTIMIZERS)}")
    for key, value in hyper.items():
        if key not in cls.hyperparameters and key not in ("betas", "dampening", "centered"):
            raise EngineError(
                f"{name} has no hyperparameter {key!r}; allowed: {choices(cls.hyperparameters)}"
            )
        if key not in ("betas", "dampening", "centered"):
            _check_hyper(key, value)
    return cls(**hyper)
