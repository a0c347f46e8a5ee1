"""``backprop-lab explain``: one training step laid open, as text or JSON.

The numbers come from ``engine.analysis.explain``; this module only writes them out.
"""

from __future__ import annotations

import json

import numpy as np

from engine.analysis.explain import (SMALL_ROWS, STATE_NAMES, Breakdown, Stats, check_sample,
                                     explain_trainer)
from engine.errors import EngineError
from engine.opening import open_run
from engine.resources import check_resources
from engine.values import plain

from .output import number
from .usage import UsageError

#: the most steps ``--step`` may train before the step it explains
MAX_STEP = 1_000_000


# ----- text --------------------------------------------------------------------------
def vector_line(v: np.ndarray, width: int = 9) -> str:
    return "[" + " ".join(f"{number(x):>{width}}" for x in np.ravel(v)) + " ]"


def matrix_lines(m: np.ndarray, indent: str = "    ", width: int = 9) -> list[str]:
    m = np.atleast_2d(m)
    return [indent + vector_line(row, width) for row in m]


def stats_line(arr: np.ndarray) -> str:
    s = Stats.of(arr)
    zeros = f"  zeros {s.zeros}/{s.size}" if s.zeros else ""
    return f"‖·‖ {number(s.norm)}  min {number(s.min)}  max {number(s.max)}  mean|·| {number(s.mean_abs)}{zeros}"


def array_lines(name: str, arr: np.ndarray, full: bool, indent: str = "  ") -> list[str]:
    """``name`` then the numbers (every one when ``full``), else a one-line summary."""
    arr = np.asarray(arr)
    if full:
        if arr.ndim == 1 or arr.shape[0] == 1:
            return [f"{indent}{name:<22}{vector_line(arr)}"]
        return [f"{indent}{name}"] + matrix_lines(arr, indent + "  ")
    shape = "×".join(str(d) for d in arr.shape)
    return [f"{indent}{name:<22}({shape}) {stats_line(arr)}"]


def _rows_label(bd: Breakdown) -> str:
    if bd.mode == "sample":
        return f"training sample {bd.rows[0]} of {bd.n_train}" if bd.n_train else "one sample"
    return f"the next mini-batch ({bd.n} samples)"


def arch_line(bd: Breakdown) -> str:
    parts = [str(bd.sizes[0])] + [f"{l.fan_out} {l.activation}" for l in bd.layers]
    return " → ".join(parts)


def header_lines(bd: Breakdown) -> list[str]:
    hyper = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
                      for k, v in bd.optimizer.hyper.items())
    reg = (f", {bd.regularization} penalty {bd.reg_rate:g}"
           if bd.regularization != "none" and bd.reg_rate else "")
    return [
        f"{bd.title + ': ' if bd.title else ''}step {bd.step + 1} on {_rows_label(bd)}",
        f"network {arch_line(bd)}; loss {bd.loss_name}{reg}; optimizer {bd.optimizer.name} ({hyper})",
    ]


def loss_lines(bd: Breakdown) -> list[str]:
    o = bd.output
    per = {"bce": "the mean of bce over all n·k outputs", "ce": "the mean of ce over the n samples",
           "mse": "the mean of (a − t)² over all n·k outputs"}[bd.loss_name]
    lines = []
    if bd.n == 1:
        lines.append(f"  L = {number(bd.data_loss)}  (this sample's {bd.loss_name}; {per}, n = 1, "
                     f"k = {o.delta.shape[1]})")
    else:
        lines.append(f"  L = {number(bd.data_loss)}  ({per}, n = {bd.n}, k = {o.delta.shape[1]}); "
                     f"L averages {o.divisor} terms, so every δ row carries a factor 1/{o.divisor}")
    if bd.penalty:
        lines.append(f"  + {bd.regularization} penalty {number(bd.penalty)} = {number(bd.loss)}")
    return lines


def _pick(arr: np.ndarray, row: int | None) -> np.ndarray:
    return arr if row is None else arr[row:row + 1]


def layer_lines(bd: Breakdown, i: int, row: int | None = None, full: bool | None = None) -> list[str]:
    """Forward, backward, gradient and update for layer ``i``. ``row`` limits the per-row
    arrays (x, z, a, δ) to one row of a batch."""
    l = bd.layers[i]
    k = i + 1  # layers count from 1; a0 = x is the input
    full = bd.small if full is None else full
    rows_full = full and (row is not None or bd.n <= SMALL_ROWS)
    nx = "x" if i == 0 else f"a{i}"
    out = [f"layer {k}: {l.fan_in} → {l.fan_out}, {l.activation}"]
    out.append(" forward")
    out += array_lines(f"input {nx}", _pick(l.x, row), rows_full)
    out += array_lines(f"z{k} = {nx}·W{k} + b{k}", _pick(l.z, row), rows_full)
    out += array_lines(f"a{k} = {l.activation}(z{k})", _pick(l.a, row), rows_full)
    out.append(" backward")
    if l.upstream is not None:
        out += array_lines(f"δ{k + 1}·W{k + 1}ᵀ", _pick(l.upstream, row), rows_full)
        out += array_lines(f"f′(z{k})", _pick(l.fprime, row), rows_full)
        out += array_lines(f"δ{k} = (δ{k + 1}·W{k + 1}ᵀ)⊙f′", _pick(l.delta, row), rows_full)
    else:
        out += output_error_lines(bd, row, rows_full)
    dn = f"  ‖δ{k}‖ = {number(l.delta_norm)}"
    if bd.n > 1:
        cols = np.linalg.norm(l.delta.astype(np.float64), axis=0)
        dn += "   per unit (over the batch): " + " ".join(number(c) for c in cols[:16])
        if cols.size > 16:
            dn += " …"
    out.append(dn)
    if l.dead_units:
        out.append(f"  dead units {', '.join(map(str, l.dead_units))}: a = 0 on every sample, so "
                   f"their δ column is all zeros and their weights get no gradient")
    out.append(" gradient")
    out += array_lines(f"∂L/∂W{k} = {nx}ᵀ·δ{k}" + (" + penalty" if l.penalty_grad is not None else ""),
                       l.dW, full)
    out += array_lines(f"∂L/∂b{k} = Σ δ{k}", l.db, full)
    out.append(" update")
    for name, (sw, sb) in l.state_after.items():
        label = STATE_NAMES.get(name, name)
        out += array_lines(f"{label} (W{k})", sw, full)
        out += array_lines(f"{label} (b{k})", sb, full)
    out += array_lines(f"ΔW{k}", l.update_W, full)
    out += array_lines(f"Δb{k}", l.update_b, full)
    return out


def output_error_lines(bd: Breakdown, row: int | None, full: bool) -> list[str]:
    o = bd.output
    L = len(bd.layers)
    out = [f"  output error: {o.formula}"]
    out += array_lines("prediction a", _pick(o.prediction, row), full)
    out += array_lines("target t", _pick(o.target, row), full)
    out += array_lines("prediction − target", _pick(o.difference, row), full)
    if o.fprime is not None:
        out += array_lines(f"f′(z{L})", _pick(o.fprime, row), full)
    out += array_lines(f"δ{L} = ∂L/∂z{L}", _pick(o.delta, row), full)
    return out


def render_text(bd: Breakdown, row: int | None = None) -> str:
    """The whole breakdown as text (every number for small networks)."""
    lines = header_lines(bd)
    lines.append("")
    lines.append("loss")
    lines += loss_lines(bd)
    if bd.n > 1:
        show = bd.sample_losses if bd.n <= 64 else bd.sample_losses[:64]
        lines.append("  per sample: " + " ".join(number(v) for v in show) + (" …" if bd.n > 64 else ""))
        lines.append("  rows: " + " ".join(str(r) for r in bd.rows[:64]) + (" …" if bd.n > 64 else ""))
    lines.append("")
    lines.append("update rule: " + bd.optimizer.formula)
    lines.append("δ norms, output to input: " + " → ".join(
        f"δ{i + 1} {number(n)}" for i, n in reversed(list(enumerate(bd.delta_norms)))))
    for i in range(len(bd.layers)):
        lines.append("")
        lines += layer_lines(bd, i, row)
    return "\n".join(lines) + "\n"


# ----- json --------------------------------------------------------------------------
def to_dict(bd: Breakdown) -> dict:
    """Every number of the breakdown as plain lists and floats (NaN → null)."""
    o = bd.output
    layers = []
    for l in bd.layers:
        layers.append({
            "index": l.index, "layer": l.index + 1, "fan_in": l.fan_in, "fan_out": l.fan_out, "activation": l.activation,
            "W": l.W, "b": l.b, "x": l.x, "z": l.z, "a": l.a, "delta": l.delta,
            "delta_next_times_Wt": l.upstream, "fprime": l.fprime, "dW": l.dW, "db": l.db,
            "penalty_grad": l.penalty_grad, "update_W": l.update_W, "update_b": l.update_b,
            "state_before": {k: {"W": w, "b": b} for k, (w, b) in l.state_before.items()},
            "state_after": {k: {"W": w, "b": b} for k, (w, b) in l.state_after.items()},
            "dead_units": list(l.dead_units), "delta_norm": l.delta_norm,
            "stats": {name: Stats.of(arr).__dict__ for name, arr in
                      (("z", l.z), ("a", l.a), ("delta", l.delta), ("dW", l.dW),
                       ("update_W", l.update_W))},
        })
    return plain({
        "title": bd.title, "mode": bd.mode, "rows": list(bd.rows), "n": bd.n,
        "n_train": bd.n_train, "step": bd.step, "sizes": bd.sizes, "loss_name": bd.loss_name,
        "regularization": bd.regularization, "reg_rate": bd.reg_rate, "loss": bd.loss,
        "data_loss": bd.data_loss, "penalty": bd.penalty, "sample_losses": bd.sample_losses,
        "output": {"loss": o.loss, "activation": o.activation, "fused": o.fused,
                   "formula": o.formula, "prediction": o.prediction, "target": o.target,
                   "prediction_minus_target": o.difference, "divisor": o.divisor,
                   "scale": o.scale, "fprime": o.fprime, "delta": o.delta},
        "optimizer": {"name": bd.optimizer.name, "hyper": bd.optimizer.hyper,
                      "t": bd.optimizer.t, "formula": bd.optimizer.formula},
        "delta_norms": bd.delta_norms, "layers": layers,
    })


def to_json(bd: Breakdown, indent: int | None = 1) -> str:
    return json.dumps(to_dict(bd), indent=indent, ensure_ascii=False)


# ----- the command line --------------------------------------------------------------
def cmd_explain(args) -> int:
    if not 0 <= args.step <= MAX_STEP:
        raise UsageError(f"backprop-lab explain: --step must be >= 0 and <= {MAX_STEP:,}")
    opened = open_run(args.preset)
    check_resources(opened.preset.config, source=args.preset)
    trainer = opened.trainer()
    if args.sample is not None:
        check_sample(trainer, args.sample)  # before training, so bad input fails fast
    if args.step:
        snap = trainer.step(args.step)
        if snap.diverged:
            raise EngineError(f"the run diverged before step {args.step}: {snap.reason}")
    bd = explain_trainer(trainer, args.sample)
    print(to_json(bd) if args.format == "json" else render_text(bd), end="" if args.format == "text" else "\n")
    return 0


def add_parser(subparsers) -> None:
    """Register ``backprop-lab explain`` on the command line's subparsers."""
    p = subparsers.add_parser(
        "explain", help="print one training step number by number (forward, δ, gradients, update)")
    p.add_argument("preset", metavar="PRESET_OR_FILE")
    p.add_argument("--sample", type=int, metavar="I",
                   help="a one-sample step on training sample I (default: the next mini-batch)")
    p.add_argument("--step", type=int, default=0, metavar="N",
                   help=f"train N steps first (at most {MAX_STEP:,})")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_explain)
