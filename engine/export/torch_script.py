"""A run as a standalone PyTorch script: the text of the script, and the arrays of its
sidecar (weights, optimizer state, data, batch order).

The script says the run's settings in code (``nn.Sequential``, ``torch.optim``, the loss,
the penalty, the lr schedule as a ``LambdaLR`` of the engine's closed forms); the sidecar
holds its state. Every setting is looked up in the tables below; a setting they do not
name has no exact PyTorch equivalent here and is refused, never exported approximately.
Nothing here imports torch: the script is text.

Its length is one table per kind of setting (activations, losses, optimizers, schedules,
penalties) with its torch form, and the sidecar's layout: splitting them would scatter
what must be read together to check that an export is exact.
"""

from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass
from string import Template

import numpy as np

from ..config import Config
from ..errors import EngineError, cut
from ..nn.network import Network
from ..training.build import targets
from .torch_template import TEMPLATE

FORMAT = "backprop-lab-torch-state/1"
#: the most bytes of compressed state embedded in a script printed to stdout
EMBED_LIMIT = 4 << 20

#: hidden activation -> the torch module that computes it
HIDDEN = {
    "linear": lambda slope: "nn.Identity()",
    "sigmoid": lambda slope: "nn.Sigmoid()",
    "tanh": lambda slope: "nn.Tanh()",
    "relu": lambda slope: "nn.ReLU()",
    "leaky_relu": lambda slope: f"nn.LeakyReLU(negative_slope={slope!r})",
}
#: output activation -> the expression of z that computes it
OUTPUT = {
    "linear": lambda slope: "z",
    "sigmoid": lambda slope: "torch.sigmoid(z)",
    "tanh": lambda slope: "torch.tanh(z)",
    "relu": lambda slope: "torch.relu(z)",
    "leaky_relu": lambda slope: f"nn.functional.leaky_relu(z, negative_slope={slope!r})",
    "softmax": lambda slope: "torch.softmax(z, dim=1)",
}
#: loss -> (what it is, the torch loss, what it reads, elements a row is averaged over)
LOSSES = {
    "mse": ("(output - target)^2 over every output of every row, nn.MSELoss",
            "nn.MSELoss", "output(z), y", "outputs"),
    "bce": ("binary cross-entropy from the logits z, nn.BCEWithLogitsLoss",
            "nn.BCEWithLogitsLoss", "z, y", "1"),
    "ce": ("softmax cross-entropy from the logits z and class labels, nn.CrossEntropyLoss",
           "nn.CrossEntropyLoss", "z, y", "1"),
}
REGULARIZATIONS = ("none", "l1", "l2")
SCHEDULES = ("constant", "step", "exponential", "cosine", "warmup")
#: optimizer -> whether torch keeps a step count in its per-parameter state
OPTIMIZERS = {"sgd": False, "rmsprop": True, "adam": True}


@dataclass(frozen=True)
class TorchExport:
    """An exported run: ``script`` (Python source) and the sidecar's ``arrays``."""

    script: str
    arrays: dict

    def sidecar_bytes(self) -> bytes:
        """The sidecar as a compressed .npz file's bytes."""
        buf = io.BytesIO()
        np.savez_compressed(buf, **self.arrays)
        return buf.getvalue()


def export_torch(trainer, *, source: str, script_name: str = "train.py",
                 state_file: str | None = None) -> TorchExport:
    """The PyTorch script and sidecar arrays of ``trainer``'s run as it stands (a fresh
    run: its initial weights; a restored or trained one: its weights, optimizer state and
    place in the epoch). ``state_file``: the sidecar's name beside the script, or None to
    embed the sidecar in the script (refused over EMBED_LIMIT bytes). Raises EngineError
    with one line for what cannot be exported exactly, or while a run goes."""
    refusal = why_not_exportable(trainer)
    if refusal:
        raise EngineError(f"cannot export to PyTorch: {refusal}")
    arrays = state_arrays(trainer)
    export = TorchExport("", arrays)
    embedded = "None"
    if state_file is None:
        blob = export.sidecar_bytes()
        if len(blob) > EMBED_LIMIT:
            raise EngineError(f"cannot embed the run's state in the script: {len(blob):,} bytes "
                              f"compressed (at most {EMBED_LIMIT:,}); give -o FILE.py to write "
                              "it beside the script as FILE.npz")
        text = base64.b64encode(blob).decode("ascii")
        embedded = '"""\n' + "\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + '\n"""'
    fields = script_fields(trainer, source=source, script_name=script_name,
                           state_file=state_file)
    return TorchExport(Template(TEMPLATE).substitute(fields, embedded=embedded), arrays)


def why_not_exportable(trainer) -> str | None:
    """Why ``trainer``'s run has no exact PyTorch script (None: it has one)."""
    config: Config = trainer.config
    t = config.training
    if trainer.diverged:
        return "the run diverged; reset it first"
    if trainer.data.n_train == 0:
        return "the run has no training rows"
    for layer in config.model.layers:
        if layer.activation not in HIDDEN:
            return f"hidden activation '{layer.activation}' has no exact PyTorch equivalent"
    out = trainer.network.activation_names[-1]
    if out not in OUTPUT:
        return f"output activation '{out}' has no exact PyTorch equivalent"
    if trainer.loss_name not in LOSSES:
        return f"loss '{trainer.loss_name}' has no exact PyTorch equivalent"
    if t.optimizer not in OPTIMIZERS:
        return f"optimizer '{t.optimizer}' has no exact PyTorch equivalent"
    if t.regularization not in REGULARIZATIONS:
        return f"regularization '{t.regularization}' has no exact PyTorch equivalent"
    if t.lr_schedule not in SCHEDULES:
        return f"lr schedule '{t.lr_schedule}' has no exact PyTorch equivalent"
    return _state_refusal(trainer.optimizer.name, trainer.optimizer.state_arrays())


#: the state arrays torch needs together, once an optimizer has any
STATE_NEEDED = {"sgd": (), "rmsprop": ("square_avg",), "adam": ("exp_avg", "exp_avg_sq")}


def _state_refusal(name: str, state: dict) -> str | None:
    """Why an optimizer state (a checkpoint's, say) cannot start torch's optimizer the
    way it would start the engine's."""
    steps = int(state.get("steps", 0))
    arrays = [k for k in state if k != "steps"]
    missing = [k for k in STATE_NEEDED.get(name, ()) if k not in state]
    if arrays and missing:
        return f"the {name} state has {', '.join(arrays)} but not {', '.join(missing)}"
    if steps and not arrays and STATE_NEEDED.get(name):
        return f"the {name} state counts {steps:,} steps but holds no arrays"
    return None


# ----- the sidecar ----------------------------------------------------------------------
def param_names(n_layers: int) -> list[tuple[str, str]]:
    """(weight name, bias name) of each dense layer in the script's ``nn.Sequential``,
    where layer i is module 2 i and its activation module 2 i + 1."""
    return [(f"{2 * i}.weight", f"{2 * i}.bias") for i in range(n_layers)]


def state_arrays(trainer) -> dict:
    """The sidecar: torch's layout for weights ("param:0.weight" (out, in), "param:0.bias")
    and optimizer state ("optimizer:0.weight:exp_avg"...), the splits ("X_train" (n, in),
    "Y_train": labels (n,) for ce, else targets (n, outputs)), and where the run is
    ("epoch", "step", "pos", "order" (n_train,), "shuffle_state" JSON)."""
    net: Network = trainer.network
    where = trainer.state()  # refused while a run goes
    params = _start_params(trainer)
    names = param_names(len(net.layers))
    arrays: dict = {"format": np.array(FORMAT)}
    for (w_name, b_name), (W, b) in zip(names, net.layer_views(params)):
        arrays[f"param:{w_name}"] = np.ascontiguousarray(W.T)
        arrays[f"param:{b_name}"] = np.array(b)
    opt = trainer.optimizer.state_arrays()
    arrays["optimizer_steps"] = np.array(int(opt.pop("steps")))
    for key, flat in opt.items():
        for (w_name, b_name), (W, b) in zip(names, net.layer_views(flat)):
            arrays[f"optimizer:{w_name}:{key}"] = np.ascontiguousarray(W.T)
            arrays[f"optimizer:{b_name}:{key}"] = np.array(b)
    if (trainer.config.training.optimizer == "rmsprop" and trainer.config.training.momentum > 0
            and "square_avg" in opt and "momentum_buffer" not in opt):
        for w_name, b_name in names:  # the engine starts it at zero when momentum is turned on
            for name in (w_name, b_name):
                arrays[f"optimizer:{name}:momentum_buffer"] = np.zeros_like(
                    arrays[f"optimizer:{name}:square_avg"])
    data, config = trainer.data, trainer.config
    for part, X, y in (("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)):
        arrays[f"X_{part}"] = np.ascontiguousarray(X, dtype=np.float64)
        if trainer.loss_name == "ce":
            arrays[f"Y_{part}"] = np.asarray(y, dtype=np.int64)
        else:
            arrays[f"Y_{part}"] = targets(config, np.asarray(y), data.n_classes, np.float64)
    arrays.update(epoch=np.array(where["epoch"]), step=np.array(where["step"]),
                  pos=np.array(where["pos"]), order=np.asarray(where["order"], dtype=np.int64),
                  shuffle_state=np.array(json.dumps(where["shuffle_state"])))
    return arrays


def _start_params(trainer) -> np.ndarray:
    """The weights to start from: a run still at its initial weights gives them as drawn
    (float64, before any rounding to float32); any other its weights as they are."""
    net: Network = trainer.network
    if trainer.step_count == 0 and net.dtype != np.float64:
        twin = Network(**{**net.describe(), "dtype": "float64"})
        if np.array_equal(twin.params.astype(net.dtype), net.params):
            return twin.params
    return net.params


# ----- the script -----------------------------------------------------------------------
def script_fields(trainer, *, source: str, script_name: str, state_file: str | None) -> dict:
    """What fills the template's holes: the run's settings written as code."""
    config: Config = trainer.config
    net: Network = trainer.network
    m, t = config.model, config.training
    slope = m.leaky_slope
    n_out = net.sizes[-1]
    lines = []
    for i, (fan_in, fan_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
        lines.append(f"        nn.Linear({fan_in}, {fan_out}),")
        if i < len(net.sizes) - 2:
            lines.append(f"        {HIDDEN[net.activation_names[i]](slope)},")
        else:
            lines.append("        nn.Identity(),  # the output activation: output(z)")
    out_name = net.activation_names[-1]
    doc, cls, reads, per_row = LOSSES[trainer.loss_name]
    per_row = str(n_out) if per_row == "outputs" else per_row
    loss_function = (
        f"#: {trainer.loss_name}: {doc}.\n"
        f"#: The engine takes a mean; here the loss is summed, then divided by the whole\n"
        f"#: batch's rows (times its outputs, for mse), which holds for a process's share too.\n"
        f"LOSS_ELEMENTS_PER_ROW = {per_row}\n"
        f"_LOSS_SUM = {cls}(reduction=\"sum\")\n\n\n"
        f"def loss_sum(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:\n"
        f"    \"\"\"The {trainer.loss_name} loss of a batch summed over its rows.\"\"\"\n"
        f"    return _LOSS_SUM({reads})")
    penalty_doc, penalty_body = _penalty(t.regularization, t.reg_rate)
    optimizer_doc, optimizer = _optimizer(config)
    schedule_doc, schedule_expr = _schedule(config)
    resumed = "" if trainer.step_count == 0 else (
        f" and optimizer state of step {trainer.step_count} (epoch {trainer.epoch})")
    where = (f"in {state_file} beside this script (or --state FILE.npz)" if state_file
             else "embedded at the end of this script (EMBEDDED), as a base64 .npz")
    return {
        "title": _doc(trainer.preset.title if trainer.preset else "A backprop-lab run", 100),
        "source": _doc(source, 100), "resumed": resumed, "state_where": where,
        "script_name": _doc(script_name, 60) or "train.py", "dtype": net.dtype.name,
        "epochs": repr(t.epochs), "batch_size": repr(trainer.batch_size),
        "task": config.task, "loss": trainer.loss_name,
        "target_loss": repr(t.target_loss), "target_accuracy": repr(t.target_accuracy),
        "state_file": repr(state_file), "n_in": str(net.sizes[0]), "n_out": str(n_out),
        "layers": "\n".join(lines), "output_name": out_name,
        "layer_activations": repr(list(net.activation_names)),
        "output_expr": OUTPUT[out_name](slope), "loss_function": loss_function,
        "penalty_doc": penalty_doc, "penalty_body": penalty_body,
        "optimizer_doc": optimizer_doc, "optimizer": optimizer,
        "has_step": repr(OPTIMIZERS[t.optimizer]), "base_lr": repr(t.lr),
        "schedule_doc": schedule_doc, "schedule_expr": schedule_expr,
    }


def _penalty(kind: str, rate: float) -> tuple[str, str]:
    weights = "    weights = [m.weight for m in model if isinstance(m, nn.Linear)]\n"
    if kind == "none" or rate == 0:
        return "No L1/L2 penalty in this run.", "    return 0.0"
    if kind == "l2":
        return ("The L2 penalty added to every batch's loss: 0.5 * rate * the sum of the "
                "squared weights (biases are not penalized).",
                weights + f"    return 0.5 * {rate!r} * sum((w * w).sum() for w in weights)")
    return ("The L1 penalty added to every batch's loss: rate * the sum of the weights' "
            "absolute values (biases are not penalized).",
            weights + f"    return {rate!r} * sum(w.abs().sum() for w in weights)")


def _optimizer(config: Config) -> tuple[str, str]:
    """The optimizer as ``training.build.build_optimizer`` makes it, in torch.optim."""
    t = config.training
    if t.optimizer == "sgd":
        return ("SGD (torch.optim's rules, as the engine's).",
                f"torch.optim.SGD(params, lr={t.lr!r}, momentum={t.momentum!r}, "
                f"nesterov={t.nesterov and t.momentum > 0}, weight_decay={t.weight_decay!r})")
    if t.optimizer == "rmsprop":
        return ("RMSprop (torch.optim's rules, as the engine's).",
                f"torch.optim.RMSprop(params, lr={t.lr!r}, alpha={t.alpha!r}, eps={t.eps!r}, "
                f"momentum={t.momentum!r}, weight_decay={t.weight_decay!r})")
    return ("Adam (torch.optim's rules, as the engine's).",
            f"torch.optim.Adam(params, lr={t.lr!r}, betas=({t.beta1!r}, {t.beta2!r}), "
            f"eps={t.eps!r}, weight_decay={t.weight_decay!r})")


def _schedule(config: Config) -> tuple[str, str]:
    """The schedule's factor as a function of ``epoch``: the closed forms of
    ``engine.nn.schedules``, which are torch.optim.lr_scheduler's."""
    t = config.training
    name, base = t.lr_schedule, t.lr
    if name == "step":
        return (f"StepLR(step_size={t.lr_step_size}, gamma={t.lr_gamma!r})",
                f"{t.lr_gamma!r} ** (epoch // {t.lr_step_size})")
    if name == "exponential":
        return f"ExponentialLR(gamma={t.lr_gamma!r})", f"{t.lr_gamma!r} ** epoch"
    if name == "cosine":
        return (f"CosineAnnealingLR(T_max={t.lr_t_max}, eta_min={t.lr_eta_min!r})",
                f"({t.lr_eta_min!r} + ({base!r} - {t.lr_eta_min!r}) * "
                f"(1 + math.cos(math.pi * epoch / {t.lr_t_max})) / 2) / {base!r}")
    if name == "warmup":
        return (f"LinearLR(start_factor={t.lr_warmup_start!r}, end_factor="
                f"{t.lr_warmup_end!r}, total_iters={t.lr_warmup_epochs})",
                f"{t.lr_warmup_start!r} + ({t.lr_warmup_end!r} - {t.lr_warmup_start!r}) * "
                f"min(epoch, {t.lr_warmup_epochs}) / {t.lr_warmup_epochs}")
    return "constant", "1.0"


def _doc(text: str, limit: int) -> str:
    """User text made safe inside the script's docstring: printable, no quotes or
    backslashes, on one line."""
    text = re.sub(r'["\\]', "'", cut(str(text), limit))
    return "".join(c if c.isprintable() else " " for c in text)
