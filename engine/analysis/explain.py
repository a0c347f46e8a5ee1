"""One training step laid open: forward, loss, output error, backward, gradients, update.

``explain_step`` runs the engine's own forward and backward pass (``Network.trace``) and
the optimizer's own ``step`` on copies of the network and optimizer, and keeps every
number they produce in a ``Breakdown``. Nothing shown is re-derived: δ, ∂L/∂W and ∂L/∂b
are the engine's gradients; the update is the difference the optimizer's arithmetic made
to a copy of the weights; ``apply_step`` then makes exactly that change to the real ones.
The only numbers computed here are the factors shown next to δ (δ_next · Wᵀ and f′(z),
with the engine's activation derivative), so a reader can see how δ came about.

``explain_trainer`` picks the data from a ``Trainer``: one training sample (a one-sample
step), or the mini-batch the trainer's next step will use. ``render_text`` and
``to_json`` print a breakdown; ``add_parser`` registers ``backprop-lab explain``.

Pure NumPy: no display code here.

Its length is the breakdown's data types: every number of a step has a named field.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import EngineError
from ..nn.losses import get_loss

#: a network whose every layer has at most this many units shows every number
SMALL_UNITS = 8
#: at most this many batch rows are printed in full
SMALL_ROWS = 8

STATE_NAMES = {
    "momentum_buffer": "momentum buffer b",
    "square_avg": "square average s",
    "exp_avg": "first moment m",
    "exp_avg_sq": "second moment v",
}


# ----- the breakdown -----------------------------------------------------------------
@dataclass(frozen=True)
class Stats:
    """Summary of an array: L2 norm, min, max, mean |x|, exact zeros."""

    norm: float
    min: float
    max: float
    mean_abs: float
    zeros: int
    size: int

    @classmethod
    def of(cls, arr: np.ndarray) -> Stats:
        a = np.asarray(arr, dtype=np.float64)
        if a.size == 0:
            return cls(0.0, 0.0, 0.0, 0.0, 0, 0)
        return cls(float(np.linalg.norm(a)), float(a.min()), float(a.max()),
                   float(np.abs(a).mean()), int(a.size - np.count_nonzero(a)), int(a.size))


@dataclass(frozen=True)
class OutputError:
    """∂L/∂z of the output layer and how the loss produced it."""

    loss: str  #: 'mse', 'bce' or 'ce'
    activation: str  #: the output activation
    fused: bool  #: True for sigmoid+bce and softmax+ce: δ = (prediction − target) / D
    prediction: np.ndarray  #: (n, k) output activations a
    target: np.ndarray  #: (n, k) targets in the form the loss reads
    difference: np.ndarray  #: (n, k) prediction − target
    divisor: int  #: D: the loss is a mean over D terms (n·k for mse/bce, n for ce)
    scale: float  #: 1/D (fused) or 2/D (mse)
    fprime: np.ndarray | None  #: f′(z) of the output layer (mse only)
    delta: np.ndarray  #: (n, k) the engine's δ of the output layer

    @property
    def formula(self) -> str:
        if self.fused:
            pair = "sigmoid + bce" if self.loss == "bce" else "softmax + ce"
            return (f"δ = (prediction − target) / {self.divisor}   "
                    f"({pair} fused: ∂L/∂z is prediction minus target over the {self.divisor} "
                    f"term{'s' if self.divisor != 1 else ''} the loss averages)")
        return (f"δ = 2·(prediction − target) / {self.divisor} ⊙ f′(z)   "
                f"(mse averages {self.divisor} term{'s' if self.divisor != 1 else ''}; "
                f"{self.activation} output)")


@dataclass(frozen=True)
class LayerBreakdown:
    """One layer's numbers in the step. Batch-first shapes; n = rows in the step."""

    index: int
    fan_in: int
    fan_out: int
    activation: str
    W: np.ndarray  #: (fan_in, fan_out) weights before the step
    b: np.ndarray  #: (fan_out,)
    x: np.ndarray  #: (n, fan_in) the layer's input
    z: np.ndarray  #: (n, fan_out) x W + b
    a: np.ndarray  #: (n, fan_out) f(z)
    delta: np.ndarray  #: (n, fan_out) ∂L/∂z, the engine's
    upstream: np.ndarray | None  #: (n, fan_out) δ_next · W_nextᵀ (hidden layers)
    fprime: np.ndarray | None  #: (n, fan_out) f′(z) (hidden layers)
    dW: np.ndarray  #: (fan_in, fan_out) ∂L/∂W = xᵀ δ (+ penalty gradient), the engine's
    db: np.ndarray  #: (fan_out,) ∂L/∂b = Σ_rows δ, the engine's
    penalty_grad: np.ndarray | None  #: the part of dW the L1/L2 penalty added
    update_W: np.ndarray  #: (fan_in, fan_out) W_after − W_before, by the optimizer
    update_b: np.ndarray  #: (fan_out,)
    state_before: dict  #: optimizer state name -> (W part, b part) before the step
    state_after: dict  #: ... after the step (the state that shaped the update)
    dead_units: tuple[int, ...]  #: ReLU units that are 0 on every row (δ column of zeros)

    @property
    def delta_norm(self) -> float:
        return float(np.linalg.norm(self.delta.astype(np.float64)))


@dataclass(frozen=True)
class OptimizerInfo:
    name: str
    hyper: dict
    t: int  #: the step number this update is (optimizer.steps after it)
    formula: str


@dataclass(frozen=True)
class Breakdown:
    """A whole training step, number by number."""

    mode: str  #: 'sample' (one training sample) or 'batch' (the trainer's next mini-batch)
    rows: tuple[int, ...]  #: training-set index of each row (−1 where unknown)
    n_train: int  #: samples in the training split (0 when not from a trainer)
    step: int  #: steps the trainer had taken before this one
    loss_name: str
    regularization: str
    reg_rate: float
    loss: float  #: the engine's loss for the step (data loss + penalty)
    penalty: float
    sample_losses: np.ndarray  #: (n,) each row's own data loss (the batch loss is their mean)
    output: OutputError
    layers: tuple[LayerBreakdown, ...]
    optimizer: OptimizerInfo
    params_before: np.ndarray = field(repr=False)
    params_after: np.ndarray = field(repr=False)
    grads: tuple = field(repr=False, default=())  #: ((dW, db), ...) as the engine gave them
    X: np.ndarray | None = field(repr=False, default=None)
    Y: np.ndarray | None = field(repr=False, default=None)
    title: str = ""

    @property
    def n(self) -> int:
        return int(self.output.delta.shape[0])

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].fan_in] + [l.fan_out for l in self.layers]

    @property
    def small(self) -> bool:
        """Every layer has at most SMALL_UNITS units: show every number."""
        return max(self.sizes) <= SMALL_UNITS

    @property
    def data_loss(self) -> float:
        return self.loss - self.penalty

    @property
    def update(self) -> np.ndarray:
        """The whole update, flat in the network's parameter layout."""
        return self.params_after - self.params_before

    @property
    def delta_norms(self) -> list[float]:
        return [l.delta_norm for l in self.layers]


@dataclass(frozen=True)
class StepResult:
    """What applying a shown step did."""

    loss_before: float  #: loss on the step's own data (with penalty), before
    loss_after: float  #: ... after
    train_loss_before: float  #: data loss on the whole training split, before
    train_loss_after: float
    exact: bool  #: the weights changed by exactly the shown update
    step: int  #: the trainer's step count afterwards


# ----- computing it ------------------------------------------------------------------
def _split_state(net, flat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(W.copy(), b.copy()) for W, b in net.layer_views(flat)]


def _optimizer_formula(opt, first_momentum: bool) -> str:
    wd = f"; g = ∂L/∂W + {opt.weight_decay:g}·W (weight decay)" if opt.weight_decay else ""
    if opt.name == "sgd":
        if not opt.momentum:
            return f"ΔW = −lr·g = −{opt.lr:g}·g" + wd
        start = " (first step: b = g)" if first_momentum else ""
        if opt.nesterov:
            return (f"b ← {opt.momentum:g}·b + g{start};  ΔW = −{opt.lr:g}·(g + {opt.momentum:g}·b)"
                    " (nesterov)" + wd)
        return f"b ← {opt.momentum:g}·b + g{start};  ΔW = −{opt.lr:g}·b" + wd
    if opt.name == "rmsprop":
        s = f"s ← {opt.alpha:g}·s + {1 - opt.alpha:g}·g²;  "
        if opt.momentum:
            return (s + f"b ← {opt.momentum:g}·b + g/(√s + {opt.eps:g});  ΔW = −{opt.lr:g}·b" + wd)
        return s + f"ΔW = −{opt.lr:g}·g / (√s + {opt.eps:g})" + wd
    if opt.name == "adam":
        t = opt.steps + 1
        return (f"m ← {opt.beta1:g}·m + {1 - opt.beta1:g}·g;  v ← {opt.beta2:g}·v + "
                f"{1 - opt.beta2:.3g}·g²;  ΔW = −{opt.lr:g}/(1 − {opt.beta1:g}^{t}) · m / "
                f"(√v/√(1 − {opt.beta2:g}^{t}) + {opt.eps:g})   (t = {t})" + wd)
    return f"{opt.name}: the optimizer's own step" + wd


def explain_step(net, optimizer, X, Y, loss: str, *, regularization: str | None = "none",
                 reg_rate: float = 0.0, mode: str = "batch", rows=None, n_train: int = 0,
                 step: int = 0, title: str = "") -> Breakdown:
    """The breakdown of one optimizer step of ``optimizer`` on ``net`` with data X, Y.

    Neither ``net`` nor ``optimizer`` is changed: the pass runs on ``net.copy()`` and the
    update on a deep copy of the optimizer.
    """
    regularization = regularization or "none"
    twin = net.copy()
    trace = twin.trace(X, Y, loss, regularization=regularization, reg_rate=reg_rate)
    fn = get_loss(loss)
    tl = trace.layers
    last = tl[-1]
    n, k = last.delta.shape
    T = fn.targets_like(Y, last.z.shape, net.dtype)
    # each row's own loss, by the loss's own formula
    sample_losses = np.array([fn.value(last.z[i:i + 1], last.a[i:i + 1], T[i:i + 1])
                              for i in range(n)], dtype=np.float64)
    penalty = float(net.penalty(regularization, reg_rate))

    out_act = net.layers[-1].activation
    fused = loss in ("bce", "ce")
    divisor = n if loss == "ce" else n * k
    output = OutputError(
        loss=loss, activation=out_act.name, fused=fused, prediction=last.a, target=T,
        difference=last.a - T, divisor=divisor, scale=(1.0 if fused else 2.0) / divisor,
        fprime=None if fused else out_act.derivative(last.z, last.a), delta=last.delta)

    # the update: the optimizer's own step on copies
    grads = tuple((lt.dW, lt.db) for lt in tl)
    opt = copy.deepcopy(optimizer)
    after = net.copy()
    before_state = {k_: v.copy() for k_, v in optimizer.state.items() if not k_.startswith("_")}
    first_momentum = "momentum_buffer" not in optimizer.state
    formula = _optimizer_formula(optimizer, first_momentum)
    opt.step(after, list(grads))
    params_before = net.params.copy()
    params_after = after.params.copy()
    upd = _split_state(net, params_after - params_before)
    st_before = {k_: _split_state(net, v) for k_, v in before_state.items()}
    st_after = {k_: _split_state(net, v) for k_, v in opt.state.items() if not k_.startswith("_")}

    layers = []
    for i, (layer, lt) in enumerate(zip(net.layers, tl)):
        upstream = fprime = None
        if i < len(tl) - 1:
            upstream = np.matmul(tl[i + 1].delta, net.layers[i + 1].W.T)
            fprime = layer.activation.derivative(lt.z, lt.a)
        pen = None
        if regularization != "none" and reg_rate:
            pen = (reg_rate * layer.W if regularization == "l2"
                   else reg_rate * np.sign(layer.W)).astype(net.dtype)
        dead = ()
        if layer.activation.name == "relu":
            dead = tuple(int(j) for j in np.flatnonzero(~lt.a.any(axis=0)))
        layers.append(LayerBreakdown(
            index=i, fan_in=layer.fan_in, fan_out=layer.fan_out, activation=layer.activation.name,
            W=layer.W.copy(), b=layer.b.copy(), x=lt.x, z=lt.z, a=lt.a, delta=lt.delta,
            upstream=upstream, fprime=fprime, dW=lt.dW, db=lt.db, penalty_grad=pen,
            update_W=upd[i][0], update_b=upd[i][1],
            state_before={k_: v[i] for k_, v in st_before.items()},
            state_after={k_: v[i] for k_, v in st_after.items()}, dead_units=dead))

    info = OptimizerInfo(optimizer.name, dict(optimizer.hyper()), opt.steps, formula)
    rows = tuple(int(r) for r in (rows if rows is not None else [-1] * n))
    return Breakdown(
        mode=mode, rows=rows, n_train=n_train, step=step, loss_name=loss,
        regularization=regularization, reg_rate=float(reg_rate), loss=float(trace.loss),
        penalty=penalty, sample_losses=sample_losses, output=output, layers=tuple(layers),
        optimizer=info, params_before=params_before, params_after=params_after, grads=grads,
        X=np.array(X, copy=True), Y=np.array(Y, copy=True), title=title)


def next_batch(trainer) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The inputs, targets and training-set rows of the batch the trainer's next step uses."""
    return trainer.peek_batch()


def n_samples(trainer) -> int:
    """Samples in the trainer's training split."""
    return int(trainer.train_set[0].shape[0])


def check_sample(trainer, sample: int) -> None:
    n = n_samples(trainer)
    if not isinstance(sample, (int, np.integer)) or not 0 <= int(sample) < n:
        raise EngineError(f"sample must be in 0..{n - 1} (the training split has {n} samples), "
                          f"got {sample}")


def explain_trainer(trainer, sample: int | None = None) -> Breakdown:
    """The breakdown of the trainer's next step (``sample=None``: its next mini-batch) or of
    a one-sample step on training sample ``sample``."""
    t = trainer.config.training
    title = trainer.preset.title if getattr(trainer, "preset", None) else ""
    with trainer.still("inspect a step"):
        if sample is None:
            X, Y, rows = next_batch(trainer)
            mode = "batch"
        else:
            check_sample(trainer, sample)
            s = int(sample)
            X, Y = trainer.train_set
            X, Y, rows, mode = X[s:s + 1], Y[s:s + 1], [s], "sample"
        return explain_step(trainer.network, trainer.optimizer, X, Y, trainer.loss_name,
                            regularization=t.regularization, reg_rate=t.reg_rate, mode=mode,
                            rows=rows, n_train=n_samples(trainer), step=trainer.step_count,
                            title=title)


def _step_loss(net, bd: Breakdown) -> float:
    twin = net.copy()
    return float(twin.loss(bd.X, bd.Y, bd.loss_name) + twin.penalty(bd.regularization, bd.reg_rate))


def apply_step(trainer, bd: Breakdown) -> StepResult:
    """Take exactly the step ``bd`` shows on the trainer.

    A mini-batch breakdown is applied as the trainer's own next step (``trainer.step(1)``,
    which counts it); a one-sample breakdown by the trainer's optimizer on that sample's
    gradients. Refused (EngineError) when the weights changed since ``bd`` was made.
    """
    with trainer.still("apply a step"):
        net = trainer.network
        if not np.array_equal(net.params, bd.params_before):
            raise EngineError("the weights changed since this step was shown; inspect it again")
        train_before = trainer.latest.train_loss if trainer.latest else math.nan
        if bd.mode == "batch":
            snap = trainer.step(1)
        else:
            trainer.optimizer.step(net, list(bd.grads))
            snap = trainer.snapshot()
        exact = bool(np.array_equal(net.params - bd.params_before, bd.update))
        return StepResult(loss_before=bd.loss, loss_after=_step_loss(net, bd),
                          train_loss_before=float(train_before),
                          train_loss_after=float(snap.train_loss), exact=exact,
                          step=trainer.step_count)
