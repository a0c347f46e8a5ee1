"""The text of an exported PyTorch training script, with ``${...}`` holes that
``engine.export.torch_script`` fills (``string.Template``). The text is only ever written
out, never run or imported here: the engine itself does not use torch.

Its length is the whole script a user gets, kept in one piece so it reads as that script:
settings, state loading, batch order, measuring, the training loop.
"""

TEMPLATE = r'''#!/usr/bin/env python3
"""${title}

A backprop-lab run (${source}) as a standalone PyTorch training script, written by
`backprop-lab export-torch`. It needs only torch and numpy. It builds the
same network from the same weights${resumed}, trains on the same data with the same
optimizer, regularization, lr schedule and mini-batch order, and prints one JSON line per
epoch with the fields of `backprop-lab train --jsonl` (plus "lr"). In float64 on a CPU
its losses match the engine's to about 1e-12; float32 and GPUs round differently, so
expect agreement to rounding there, not bit for bit.

Its weights, optimizer state, data and batch order: ${state_where}

How to run it:
  python ${script_name}                             # CPU, the run's own dtype (${dtype})
  python ${script_name} --dtype float64 --epochs 20 # more epochs, double precision
  python ${script_name} --device cuda               # one GPU
  torchrun --nproc_per_node=2 ${script_name}        # 2 processes on this CPU (gloo)
  torchrun --nproc_per_node=8 ${script_name} --device cuda        # 8 GPUs here (NCCL)
  # two machines of 8 GPUs each: the same command on both, node_rank 0 and 1
  torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 \
      --master_addr=FIRST_MACHINE --master_port=29500 ${script_name} --device cuda
Under torchrun the model is wrapped in DistributedDataParallel and every process takes
its share of each mini-batch, so N processes make the same updates as one process.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

# ----- the run's settings, as backprop-lab had them ------------------------------------
DTYPE = "${dtype}"
EPOCHS = ${epochs}  #: the run's length in epochs; --epochs counts from where the state starts
BATCH_SIZE = ${batch_size}  #: rows a step; the full training set when it is this large or more
TASK = "${task}"
LOSS = "${loss}"  #: the loss: see loss_sum
TARGET_LOSS = ${target_loss}  #: stop at an epoch end once the training loss is at most this
TARGET_ACCURACY = ${target_accuracy}  #: or once test accuracy (train without a test split) reaches this
EVAL_CHUNK = 8192  #: rows evaluated at once
STATE_FILE = ${state_file}  #: the sidecar beside this script (None: embedded at the end)


def build_model() -> nn.Sequential:
    """The network up to the output layer's pre-activation z, (batch, ${n_out})."""
    return nn.Sequential(
${layers}
    )


def output(z: torch.Tensor) -> torch.Tensor:
    """The output activation (${output_name}): z (batch, ${n_out}) -> the outputs."""
    return ${output_expr}


${loss_function}


def penalty(model: nn.Module) -> torch.Tensor | float:
    """${penalty_doc}"""
${penalty_body}


def make_optimizer(params) -> torch.optim.Optimizer:
    """${optimizer_doc}"""
    return ${optimizer}


OPTIMIZER_HAS_STEP = ${has_step}  #: whether torch keeps a step count in its state
#: each dense layer's activation, the output's last (for the layer figures)
LAYER_ACTIVATIONS = ${layer_activations}


def lr_factor(epoch: int) -> float:
    """The lr after ``epoch`` epochs, over the base lr ${base_lr}: ${schedule_doc}."""
    return ${schedule_expr}


# ----- the state: weights, optimizer state, data, where the run is -----------------------
def load_state(path: str | None) -> dict:
    """The sidecar's arrays (see the header) as a dict of NumPy arrays."""
    if path is None:
        if EMBEDDED is None:
            sys.exit(f"{sys.argv[0]}: no state: give --state FILE.npz")
        source = io.BytesIO(base64.b64decode(EMBEDDED))
    else:
        source = path
    with np.load(source, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def put_state(model: nn.Sequential, optimizer, state: dict, dtype, device) -> None:
    """Copy the saved weights into the model and the saved optimizer state (if any) into
    the optimizer, each parameter under its name in the model (``0.weight``...)."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(torch.from_numpy(state[f"param:{name}"]))
    steps = int(state["optimizer_steps"])
    for name, p in params.items():
        kept = {key.split(":")[2]: torch.from_numpy(value).to(device=device, dtype=dtype)
                for key, value in state.items() if key.startswith(f"optimizer:{name}:")}
        if not kept:
            continue  # the optimizer has not stepped yet: it starts its state as torch does
        if OPTIMIZER_HAS_STEP:
            kept["step"] = torch.tensor(float(steps), dtype=torch.float64)
        optimizer.state[p] = kept


def split(state: dict, part: str, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (n, ${n_in}) and targets of the train or test split on the device: targets
    are class labels (n,) for ce, else (n, ${n_out})."""
    X = torch.from_numpy(state[f"X_{part}"]).to(device=device, dtype=dtype)
    Y = torch.from_numpy(state[f"Y_{part}"]).to(device)
    return X, (Y if LOSS == "ce" else Y.to(dtype))


class BatchOrder:
    """The engine's mini-batch order: each epoch a fresh permutation of the training rows
    from numpy's PCG64 generator (its state saved in the sidecar), walked in batches; the
    full batch takes the rows in order and draws nothing."""

    def __init__(self, n: int, state: dict):
        self.n = n
        self.batch = n if BATCH_SIZE <= 0 or BATCH_SIZE >= n else BATCH_SIZE
        self.rng = np.random.default_rng()
        self.rng.bit_generator.state = json.loads(str(state["shuffle_state"]))
        self.pos = int(state["pos"])  #: rows of the current epoch already done
        self.order = state["order"].astype(np.int64) if self.pos else np.arange(n)

    def epoch(self):
        """The rows (numpy int array) of each step left in this epoch, and whether it is
        the epoch's last."""
        if self.batch == self.n:
            yield np.arange(self.n), True
            return
        if self.pos == 0:
            self.order = self.rng.permutation(self.n)
        start, self.pos = self.pos, 0
        for s in range(start, self.n, self.batch):
            yield self.order[s:s + self.batch], s + self.batch >= self.n


# ----- measuring ----------------------------------------------------------------------------
@torch.no_grad()
def evaluate(model: nn.Module, X: torch.Tensor, Y: torch.Tensor):
    """The data loss (no penalty) and, for classification, the accuracy and confusion
    matrix (rows the true class) on one split; NaN and None for an empty split."""
    n = X.shape[0]
    if n == 0:
        return math.nan, None, None
    total = 0.0
    k = max(2, ${n_out})
    matrix = torch.zeros(k * k, dtype=torch.int64, device=X.device)
    for s in range(0, n, EVAL_CHUNK):
        x, y = X[s:s + EVAL_CHUNK], Y[s:s + EVAL_CHUNK]
        z = model(x)
        total += float(loss_sum(z, y))
        if TASK == "classification":
            out = output(z)
            predicted = (out[:, 0] > 0.5).long() if out.shape[1] == 1 else out.argmax(1)
            if LOSS == "ce":
                true = y.long()
            else:
                true = (y[:, 0] > 0.5).long() if y.shape[1] == 1 else y.argmax(1)
            matrix += torch.bincount(true * k + predicted, minlength=k * k)
    loss = total / (n * LOSS_ELEMENTS_PER_ROW)
    if TASK != "classification":
        return loss, None, None
    matrix = matrix.reshape(k, k).cpu()
    return loss, int(matrix.trace()) / n, matrix.tolist()


def reached(train_loss: float, train_acc, test_acc) -> str | None:
    """Why this epoch end ends the run, as the engine decides it (None: it goes on)."""
    if TARGET_LOSS is not None and train_loss <= TARGET_LOSS:
        return "target loss"
    acc = test_acc if test_acc is not None else train_acc
    if TARGET_ACCURACY is not None and acc is not None and acc >= TARGET_ACCURACY:
        return "target accuracy"
    return None


def plain(x):
    """JSON has no NaN or inf: they are written as null, as the engine writes them."""
    if isinstance(x, list):
        return [plain(v) for v in x]
    return None if isinstance(x, float) and not math.isfinite(x) else x


@torch.no_grad()
def layer_outputs(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """Each dense layer's output a = f(z) on inputs x, the last one output(z)."""
    outs = []
    for i, module in enumerate(model):
        x = module(x)
        if i % 2 == 1:  # after each layer's activation module
            outs.append(x)
    outs[-1] = output(outs[-1])
    return outs


@torch.no_grad()
def layer_stats(model: nn.Sequential, before: list[torch.Tensor], outs: list[torch.Tensor],
                world: int) -> dict:
    """The layer figures of one step, as the engine measures them: |dL/dW| (penalty
    included), |delta W| / |W| of the update, and on the step's batch the share of ReLU
    units that are zero on every row and of sigmoid/tanh outputs within 1% of a bound."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    grads, ratios, dead, saturated = [], [], [], []
    for layer, old, a, name in zip(linears, before, outs, LAYER_ACTIVATIONS):
        w = float(layer.weight.norm())
        update = float((layer.weight - old).norm())
        grads.append(float(layer.weight.grad.norm()))
        ratios.append(update / w if w else (0.0 if update == 0 else math.inf))
        alive = (a != 0).any(dim=0).to(torch.int64)
        counts = torch.tensor([0, a.numel()], dtype=torch.int64, device=a.device)
        if name == "sigmoid":
            counts[0] = ((a < 0.01) | (a > 0.99)).sum()
        elif name == "tanh":
            counts[0] = (a.abs() > 0.99).sum()
        if world > 1:  # each process saw its share of the batch
            dist.all_reduce(alive, op=dist.ReduceOp.MAX)
            dist.all_reduce(counts)
        dead.append(1.0 - int(alive.sum()) / alive.numel() if name == "relu" else 0.0)
        saturated.append(int(counts[0]) / int(counts[1]) if counts[1] else 0.0)
    return {"grad_norms": grads, "update_ratios": ratios, "dead_fraction": dead,
            "saturated_fraction": saturated}


def layer_flags(stats: dict, loss: float, start_loss: float) -> list[str]:
    """"ok", "vanishing" or "exploding" per layer, by the engine's rule: vanishing is a
    |grad W| below 1e-3 x the largest layer's, exploding one that is not finite or above
    1e3 x the output layer's, or an update of 50% of |W| or more; none of it once the loss
    is down to 1% of its value at the start."""
    if not math.isfinite(loss):
        learning = True
    elif not math.isfinite(start_loss) or start_loss <= 0:
        learning = loss > 0
    else:
        learning = loss > 1e-2 * start_loss
    norms = stats["grad_norms"]
    largest = max((g for g in norms if math.isfinite(g)), default=0.0)
    last = norms[-1] if math.isfinite(norms[-1]) else 0.0
    flags = []
    for g, ratio in zip(norms, stats["update_ratios"]):
        if not math.isfinite(g):
            flags.append("exploding")
        elif not learning:
            flags.append("ok")
        elif (last > 0 and g > 1e3 * last) or ratio >= 0.5:
            flags.append("exploding")
        elif g < 1e-3 * largest:
            flags.append("vanishing")
        else:
            flags.append("ok")
    return flags


# ----- training ---------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda", "mps"), default="cpu")
    parser.add_argument("--dtype", choices=("float32", "float64"), default=DTYPE)
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs to train (default: what is left of the run's %d)" % EPOCHS)
    parser.add_argument("--state", default=None, metavar="FILE.npz",
                        help="the sidecar to start from (default: %s)" % (
                            STATE_FILE or "the state embedded in this script"))
    parser.add_argument("--save", default=None, metavar="FILE.pt",
                        help="save the trained model's state_dict here at the end")
    args = parser.parse_args()
    if args.device == "mps" and args.dtype == "float64":
        parser.error("mps has no float64; use --dtype float32")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("this torch sees no CUDA device")
    if args.device == "mps" and not torch.backends.mps.is_available():
        parser.error("this torch sees no MPS device")

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if args.device == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:
        device = torch.device(args.device)
    if world > 1:  # started by torchrun: one process of several
        dist.init_process_group("nccl" if args.device == "cuda" else "gloo")
    dtype = getattr(torch, args.dtype)

    path = args.state or (str(Path(__file__).with_name(STATE_FILE)) if STATE_FILE else None)
    state = load_state(path)
    model = build_model().to(device=device, dtype=dtype)
    optimizer = make_optimizer(model.parameters())
    put_state(model, optimizer, state, dtype, device)
    epoch, step = int(state["epoch"]), int(state["step"])
    for group in optimizer.param_groups:
        group["initial_lr"] = ${base_lr}
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor, last_epoch=epoch - 1)
    net = DistributedDataParallel(model) if world > 1 else model

    X, Y = split(state, "train", dtype, device)
    Xt, Yt = split(state, "test", dtype, device)
    batches = BatchOrder(X.shape[0], state)
    epochs = max(0, EPOCHS - epoch) if args.epochs is None else args.epochs
    start_loss = evaluate(model, X, Y)[0]  # the flags' reference, as the engine's
    for _ in range(epochs):
        for rows, last in batches.epoch():
            count = len(rows)
            mine = torch.from_numpy(rows[count * rank // world:count * (rank + 1) // world])
            x, y = X[mine.to(device)], Y[mine.to(device)]
            data_loss = loss_sum(net(x), y) / (count * LOSS_ELEMENTS_PER_ROW)
            # DDP averages the gradients of the N processes; times N, that average is the
            # gradient of the whole batch's mean, whatever share each process had
            pen = penalty(model)
            loss = data_loss * world + pen
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            batch_loss = data_loss.detach().clone()  # the whole batch's, on every process
            if world > 1:
                dist.all_reduce(batch_loss)
            batch_loss = float(batch_loss) + float(pen.detach() if torch.is_tensor(pen) else pen)
            if not math.isfinite(batch_loss):
                if rank == 0:
                    print(json.dumps({"epoch": epoch, "step": step, "diverged": True,
                                      "reason": "the loss became %s at step %d"
                                      % (batch_loss, step + 1)}), flush=True)
                return 1
            if last:  # the epoch's line reports this step's layer figures
                before = [m.weight.detach().clone() for m in model if isinstance(m, nn.Linear)]
                outs = layer_outputs(model, x)
            optimizer.step()
            step += 1
        stats = layer_stats(model, before, outs, world)
        epoch += 1
        scheduler.step()
        train_loss, train_acc, confusion_train = evaluate(model, X, Y)
        test_loss, test_acc, confusion_test = evaluate(model, Xt, Yt)
        if rank == 0:
            print(json.dumps({
                "epoch": epoch, "step": step,
                "train_loss": plain(train_loss), "test_loss": plain(test_loss),
                "train_acc": train_acc, "test_acc": test_acc,
                "confusion_train": confusion_train, "confusion_test": confusion_test,
                "stats_step": step, **{k: plain(v) for k, v in stats.items()},
                "flags": layer_flags(stats, train_loss, start_loss),
                "diverged": False, "lr": optimizer.param_groups[0]["lr"]}), flush=True)
        if reached(train_loss, train_acc, test_acc):
            break
    if args.save and rank == 0:
        torch.save(model.state_dict(), args.save)
    if world > 1:
        dist.barrier()  # every process is done before any leaves the group
        dist.destroy_process_group()
    return 0


#: the sidecar's arrays as a base64 .npz, when they were embedded (None: STATE_FILE)
EMBEDDED = ${embedded}

if __name__ == "__main__":
    sys.exit(main())
'''
