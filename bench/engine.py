"""Engine-versus-PyTorch benchmark of one full training step (forward, backward, Adam).

Both sides run in one process, one thread each, on the same data and starting weights.
After a warm-up they are timed in alternating blocks (engine, torch, torch, engine, ...)
and the medians of the per-step times are compared, so a noisy machine disturbs both
alike. PyTorch is optional: without it the engine is timed alone.

Thread counts must be fixed before NumPy loads its BLAS, so :func:`run_pinned` runs the
measurement in a fresh interpreter (``python -m bench.engine --worker``) with
``OMP/OPENBLAS/MKL_NUM_THREADS=1`` in its environment and reads back its JSON.

This module never imports the app (textual); ``bench.app`` adds the app measurements.

Its length is the benchmark's workloads, their timing, the PyTorch reference and the
memory check, which run together in one pinned worker process.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from engine.values import plain

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple[int, ...]
    hidden: str  #: hidden activation
    batch: int
    loss: str  #: "bce" (sigmoid output, (batch, 1) targets) or "ce" (softmax, integer labels)
    target: float  #: the ratio engine / torch to reach

    @property
    def label(self) -> str:
        return "-".join(map(str, self.sizes)) + f" {self.hidden}"

    @property
    def activations(self) -> list[str]:
        out = "sigmoid" if self.loss == "bce" else "softmax"
        return [self.hidden] * (len(self.sizes) - 2) + [out]

    def flops(self) -> float:
        """Multiply-add FLOPs of one step's matrix products (forward, dW, and dX below layer 0)."""
        total = 0.0
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            mults = 2 if i == 0 else 3  # x W, x^T delta, delta W^T
            total += mults * 2.0 * self.batch * n_in * n_out
        return total


WORKLOADS = (
    Workload("tiny", (2, 8, 8, 1), "tanh", 32, "bce", 0.15),
    Workload("small", (64, 128, 128, 10), "relu", 128, "ce", 0.5),
    Workload("large", (784, 1024, 1024, 10), "relu", 256, "ce", 1.1),
)
GFLOP_TARGET = 0.8


# ----- thread pinning -------------------------------------------------------------------
def pinned_env(threads: int = 1) -> dict[str, str]:
    """This process's environment with every BLAS/OpenMP thread count set to ``threads``."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    return env


def threads_pinned(threads: int = 1) -> bool:
    """True when this process started with the thread variables set to ``threads``."""
    return all(os.environ.get(v) == str(threads) for v in THREAD_VARS[:3])


# ----- the two implementations ----------------------------------------------------------
def make_batch(w: Workload, seed: int = 0):
    """Inputs (batch, n_in) float64 and targets: (batch, 1) 0/1 floats for bce, int labels for ce."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((w.batch, w.sizes[0]))
    if w.loss == "bce":
        Y = (rng.random((w.batch, 1)) < 0.5).astype(np.float64)
    else:
        Y = rng.integers(0, w.sizes[-1], size=w.batch)
    return X, Y


def engine_step(w: Workload, dtype: str = "float32", seed: int = 0):
    """A no-argument function that takes one engine training step; and its network."""
    import numpy as np

    from engine.nn.network import Network
    from engine.nn.optimizers import Adam

    net = Network(list(w.sizes), w.activations, init="he" if w.hidden == "relu" else "xavier",
                  seed=seed, dtype=dtype)
    opt = Adam(lr=1e-3)
    X, Y = make_batch(w, seed)
    X = np.ascontiguousarray(X, dtype=dtype)
    if w.loss == "bce":
        Y = Y.astype(dtype)
    loss_name = w.loss
    loss_and_grads, step = net.loss_and_grads, opt.step

    def run():
        loss, grads = loss_and_grads(X, Y, loss=loss_name)
        step(net, grads)
        return loss

    return run, net


def torch_model(net, torch, loss: str = "ce"):
    """A torch.nn.Sequential equal to ``net`` (same weights, activations and dtype); the
    output activation is left to the loss for 'bce' and 'ce' (torch takes logits)."""
    import numpy as np

    nn = torch.nn
    dtype = torch.float64 if net.dtype == np.float64 else torch.float32
    mods = []
    for i, layer in enumerate(net.layers):
        lin = nn.Linear(layer.fan_in, layer.fan_out, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.W.T)))
            lin.bias.copy_(torch.from_numpy(layer.b.copy()))
        mods.append(lin)
        name = layer.activation.name
        if i < len(net.layers) - 1 or loss == "mse":
            mods.append({"tanh": nn.Tanh(), "relu": nn.ReLU(), "sigmoid": nn.Sigmoid(),
                         "linear": nn.Identity(), "softmax": nn.Softmax(dim=1),
                         "leaky_relu": nn.LeakyReLU(getattr(layer.activation, "slope", 0.01))}[name])
    return nn.Sequential(*mods)


def torch_loss(loss: str, torch):
    F = torch.nn.functional
    if loss == "bce":
        return F.binary_cross_entropy_with_logits
    if loss == "ce":
        return F.cross_entropy
    return lambda out, y: F.mse_loss(out, y)


def torch_step(w: Workload, net, seed: int = 0):
    """A no-argument function taking one torch training step from ``net``'s weights."""
    import torch

    model = torch_model(net, torch, w.loss)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    X, Y = make_batch(w, seed)
    dtype = next(model.parameters()).dtype
    X = torch.from_numpy(X).to(dtype)
    Y = torch.from_numpy(Y).to(dtype) if w.loss == "bce" else torch.from_numpy(Y).long()
    lossf = torch_loss(w.loss, torch)

    def run():
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(X), Y)
        loss.backward()
        opt.step()
        return loss

    return run


def torch_available() -> str | None:
    """torch's version when it imports, else None."""
    try:
        import torch
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return None
    return torch.__version__


# ----- timing ---------------------------------------------------------------------------
def _time_block(fn, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def calibrate(fn, seconds: float) -> int:
    """Warm ``fn`` up for about ``seconds`` and return how many calls fill that time."""
    n, total = 1, 0.0
    deadline = time.perf_counter() + seconds
    calls = 0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        total += time.perf_counter() - t0
        calls += n
        if time.perf_counter() >= deadline and calls >= 3:
            break
        n = min(n * 2, 1 << 16)
    return max(1, int(seconds / (total / calls)))


def interleaved(fns: dict, rounds: int, block_seconds: float) -> dict[str, list[float]]:
    """Per-call seconds of each function, one block per function per round, alternating order."""
    blocks = {name: calibrate(fn, block_seconds) for name, fn in fns.items()}
    times: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for r in range(rounds):
            for name in (names if r % 2 == 0 else names[::-1]):
                times[name].append(_time_block(fns[name], blocks[name]))
    finally:
        if enabled:
            gc.enable()
    return times


def step_matmuls(net, w: Workload, dtype: str = "float32"):
    """A function doing just the matrix products of one training step of ``net`` (forward,
    dW, and dX below the first layer), into scratch arrays: the step's matmul-only time."""
    import numpy as np

    rng = np.random.default_rng(2)
    X = rng.standard_normal((w.batch, w.sizes[0])).astype(dtype)
    acts = [rng.standard_normal((w.batch, n)).astype(dtype) for n in w.sizes[1:]]
    deltas = [rng.standard_normal((w.batch, n)).astype(dtype) for n in w.sizes[1:]]
    below = [np.empty((w.batch, n), dtype) for n in w.sizes[1:]]
    Ws = [layer.W for layer in net.layers]
    dWs = [np.empty_like(W) for W in Ws]
    zs = [np.empty((w.batch, n), dtype) for n in w.sizes[1:]]
    matmul = np.matmul

    def run():
        x = X
        for W, z, a in zip(Ws, zs, acts):
            matmul(x, W, out=z)
            x = a
        for i in range(len(Ws) - 1, -1, -1):
            matmul(X.T if i == 0 else acts[i - 1].T, deltas[i], out=dWs[i])
            if i:
                matmul(deltas[i], Ws[i].T, out=below[i - 1])

    return run


def adam_traffic(n_params: int, dtype: str = "float32"):
    """A function with an Adam update's memory traffic and next to no arithmetic: four
    arrays of ``n_params`` read (parameters, gradients, two moments), three written back
    in place. Its time is the floor under any update of that many parameters on this
    thread; returns (function, bytes moved)."""
    import numpy as np

    from engine.nn.network import aligned_zeros

    p, g, m, v = (aligned_zeros(n_params, dtype) for _ in range(4))
    add, multiply = np.add, np.multiply

    def run():
        add(p, g, out=p)
        multiply(m, 1.0, out=m)
        multiply(v, 1.0, out=v)

    return run, 7 * n_params * np.dtype(dtype).itemsize


def matmul_peak(n: int = 1024):
    """A function doing one float32 (n x n) @ (n x n) product into a preallocated output,
    and its FLOPs: the machine's matmul speed on this thread."""
    import numpy as np

    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    c = np.empty((n, n), np.float32)

    def run():
        np.matmul(a, b, out=c)

    return run, 2.0 * n ** 3


# ----- the benchmark --------------------------------------------------------------------
@dataclass
class Row:
    name: str
    label: str
    batch: int
    loss: str
    engine_s: float
    engine_steps_per_s: float
    torch_s: float | None
    ratio: float | None
    target: float
    ok: bool | None
    engine_spread: float  #: (p75 - p25) / median of the engine times
    torch_spread: float | None
    gflops: float
    ratio_of_medians: float | None = None
    peak_gflops: float | None = None  #: a square float32 matmul, interleaved with the step
    gflop_share: float | None = None  #: step GFLOP/s / peak_gflops
    matmul_gflops: float | None = None  #: the step's own matrix products run alone
    matmul_share: float | None = None  #: step GFLOP/s / matmul_gflops
    adam_floor_s: float | None = None  #: an update's memory traffic alone (adam_traffic)
    stream_gb_s: float | None = None  #: the rate of that traffic, GB/s
    #: the best share of the peak a step can reach: its products alone, then the update's
    #: memory traffic alone, with nothing else
    ceiling_share: float | None = None


def _spread(values: list[float]) -> float:
    if len(values) < 4:
        return 0.0
    q = statistics.quantiles(values, n=4)
    return (q[2] - q[0]) / statistics.median(values)


def run_benchmark(iterations: int = 15, quick: bool = False, use_torch: bool = True,
                  workloads=WORKLOADS, dtype: str = "float32") -> dict:
    """Time every workload; returns a JSON-ready dict (see ``format_table``)."""
    import numpy as np

    torch_version = torch_available() if use_torch else None
    if torch_version:
        import torch

        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass  # already set in this process
    block = 0.02 if quick else 0.06
    rows = []
    peak_run, peak_flops = matmul_peak(512 if quick else 1024)
    for w in workloads:
        eng, net = engine_step(w, dtype)
        fns = {"engine": eng}
        if torch_version:
            fns["torch"] = torch_step(w, net)
        if w.name == "large":
            fns["peak"] = peak_run
            fns["matmuls"] = step_matmuls(net, w, dtype)
            fns["traffic"], traffic_bytes = adam_traffic(net.n_params, dtype)
        times = interleaved(fns, max(1, iterations), block)
        e = statistics.median(times["engine"])
        t = statistics.median(times["torch"]) if "torch" in times else None
        # the ratio is the median of each round's engine/torch (measured seconds apart, so
        # under the same load); the ratio of the two medians is kept alongside
        ratio = (statistics.median(a / b for a, b in zip(times["engine"], times["torch"]))
                 if t else None)
        row = Row(w.name, w.label, w.batch, w.loss, e, 1.0 / e, t, ratio, w.target,
                  None if ratio is None else ratio <= w.target, _spread(times["engine"]),
                  _spread(times["torch"]) if t else None, w.flops() / e / 1e9,
                  ratio_of_medians=e / t if t else None)
        if "peak" in times:
            row.peak_gflops = peak_flops / statistics.median(times["peak"]) / 1e9
            row.gflop_share = statistics.median(
                (w.flops() / a) / (peak_flops / b) for a, b in zip(times["engine"], times["peak"]))
            row.matmul_gflops = w.flops() / statistics.median(times["matmuls"]) / 1e9
            row.matmul_share = statistics.median(
                b / a for a, b in zip(times["engine"], times["matmuls"]))
            row.adam_floor_s = statistics.median(times["traffic"])
            row.stream_gb_s = traffic_bytes / row.adam_floor_s / 1e9
            row.ceiling_share = statistics.median(
                (w.flops() / (mm + tr)) / (peak_flops / pk)
                for mm, tr, pk in zip(times["matmuls"], times["traffic"], times["peak"]))
        rows.append(row)
    return {
        "rows": [asdict(r) for r in rows],
        "dtype": dtype,
        "iterations": iterations,
        "threads": {v: os.environ.get(v) for v in THREAD_VARS[:3]},
        "pinned": threads_pinned(),
        "numpy": np.__version__,
        "torch": torch_version,
        "torch_skipped": not use_torch,
        "python": sys.version.split()[0],
        "machine": machine_info(),
        "gflop_target": GFLOP_TARGET,
    }


def machine_info() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu}


def run_pinned(iterations: int = 15, quick: bool = False, use_torch: bool = True,
               timeout: float = 900.0) -> dict:
    """``run_benchmark`` in a fresh interpreter whose BLAS uses one thread."""
    cmd = [sys.executable, "-m", "bench.engine", "--worker", "--json",
           "--iterations", str(iterations)]
    if quick:
        cmd.append("--quick")
    if not use_torch:
        cmd.append("--no-torch")
    return _pinned_worker(cmd, timeout, "benchmark")


def _pinned_worker(cmd: list[str], timeout: float, what: str) -> dict:
    """Run a worker command with one BLAS thread and return the JSON it prints."""
    proc = subprocess.run(cmd, env=pinned_env(1), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{what} worker failed: {tail}")
    return json.loads(proc.stdout)


# ----- memory over a long run -------------------------------------------------------------
def rss_bytes() -> int:
    """Resident memory of this process (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def long_run_memory(steps: int = 1_000_000, preset: str = "xor", chunk: int = 50_000) -> dict:
    """Train ``steps`` steps through the Trainer (snapshots included) and report RSS growth."""
    from engine.presets import load_preset
    from engine.training.trainer import Trainer

    trainer = Trainer(load_preset(preset))
    trainer.run(max_steps=min(chunk, steps))  # warm: workspaces, grad pool, history
    gc.collect()
    start_rss = rss_bytes()
    samples = [start_rss]
    t0 = time.perf_counter()
    done = 0
    while done < steps:
        n = min(chunk, steps - done)
        snap = trainer.run(max_steps=n)
        done += n
        samples.append(rss_bytes())
        if snap.diverged:
            break
    seconds = time.perf_counter() - t0
    gc.collect()
    end_rss = rss_bytes()
    return {
        "preset": preset, "steps": done, "seconds": seconds, "steps_per_s": done / seconds,
        "rss_start_mb": start_rss / 2**20, "rss_end_mb": end_rss / 2**20,
        "rss_max_mb": max(samples) / 2**20, "growth_mb": (end_rss - start_rss) / 2**20,
        "history_points": len(trainer.latest.history),
    }


def memory_pinned(steps: int = 1_000_000, timeout: float = 3600.0) -> dict:
    """``long_run_memory`` in a fresh interpreter (its RSS is the trainer's alone)."""
    cmd = [sys.executable, "-m", "bench.engine", "--worker", "--json", "--memory", str(steps)]
    return _pinned_worker(cmd, timeout, "memory")


def memory_line(m: dict) -> str:
    if "error" in m:
        return f"memory check failed: {m['error']}"
    return (f"memory: {m['steps']:,} {m['preset']} steps through the Trainer in "
            f"{m['seconds']:.0f} s ({m['steps_per_s']:,.0f} steps/s): RSS "
            f"{m['rss_start_mb']:.1f} -> {m['rss_end_mb']:.1f} MB ({m['growth_mb']:+.2f} MB, "
            f"peak {m['rss_max_mb']:.1f} MB); loss history kept {m['history_points']} points")


# ----- correctness against torch ---------------------------------------------------------
def verify_against_torch(steps: int = 5) -> dict:
    """Float64 gradients and optimizer trajectories versus torch: the max relative error of each."""
    import numpy as np
    import torch

    from engine.nn.network import Network
    from engine.nn.optimizers import make_optimizer

    out = {}
    cases = [
        ("tanh-bce", [3, 7, 5, 1], ["tanh", "tanh", "sigmoid"], "bce"),
        ("relu-ce", [6, 9, 8, 4], ["relu", "relu", "softmax"], "ce"),
        ("sigmoid-mse", [4, 6, 2], ["sigmoid", "linear"], "mse"),
        ("tanh-sigmoid-mse", [4, 5, 2], ["tanh", "sigmoid"], "mse"),
        ("leaky-mse", [4, 6, 3], ["leaky_relu", "tanh"], "mse"),
        ("chunked-relu-ce", [20, 500, 40, 3], ["relu", "relu", "softmax"], "ce"),  # > CHUNK params
    ]
    optimizers = [
        ("adam", dict(lr=1e-2), torch.optim.Adam, dict(lr=1e-2)),
        ("adam-wd", dict(lr=1e-2, weight_decay=0.1), torch.optim.Adam,
         dict(lr=1e-2, weight_decay=0.1)),
        ("sgd-momentum", dict(lr=0.1, momentum=0.9), torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
        ("sgd-nesterov", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
         torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
        ("sgd", dict(lr=0.1), torch.optim.SGD, dict(lr=0.1)),
        ("rmsprop", dict(lr=1e-2), torch.optim.RMSprop, dict(lr=1e-2)),
        ("rmsprop-momentum", dict(lr=1e-2, momentum=0.9, weight_decay=0.01), torch.optim.RMSprop,
         dict(lr=1e-2, momentum=0.9, weight_decay=0.01)),
    ]

    def rel(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))

    for cname, sizes, acts, loss in cases:
        rng = np.random.default_rng(3)
        X = rng.standard_normal((11, sizes[0]))
        if loss == "ce":
            Y = rng.integers(0, sizes[-1], 11)
            Yt = torch.from_numpy(Y).long()
        elif loss == "bce":
            Y = (rng.random((11, 1)) < 0.5).astype(np.float64)
            Yt = torch.from_numpy(Y)
        else:
            Y = rng.standard_normal((11, sizes[-1]))
            Yt = torch.from_numpy(Y)
        Xt = torch.from_numpy(X)
        for oname, ekw, tcls, tkw in optimizers:
            net = Network(sizes, acts, seed=5, dtype="float64", init="he")
            model = torch_model(net, torch, loss)
            lossf = torch_loss(loss, torch)
            opt = make_optimizer(oname.split("-")[0], **ekw)
            topt = tcls(model.parameters(), **tkw)
            worst_g = worst_p = worst_l = 0.0
            for _ in range(steps):
                value, grads = net.loss_and_grads(X, Y, loss=loss)
                topt.zero_grad()
                tl = lossf(model(Xt), Yt)
                tl.backward()
                worst_l = max(worst_l, abs(value - tl.item()) / max(abs(tl.item()), 1e-300))
                lin = [m for m in model if isinstance(m, torch.nn.Linear)]
                for (dW, db), m in zip(grads, lin):
                    worst_g = max(worst_g, rel(dW, m.weight.grad.numpy().T),
                                  rel(db, m.bias.grad.numpy()))
                opt.step(net, grads)
                topt.step()
                for layer, m in zip(net.layers, lin):
                    worst_p = max(worst_p, rel(layer.W, m.weight.detach().numpy().T),
                                  rel(layer.b, m.bias.detach().numpy()))
            out[f"{cname}/{oname}"] = {"loss": worst_l, "grads": worst_g, "params": worst_p}
    return out


# ----- output -----------------------------------------------------------------------------
def _fmt_time(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    return f"{s * 1e3:.2f} ms"


def format_table(result: dict) -> list[str]:
    """The human-readable engine table."""
    rows = result["rows"]
    lines = [f"{'workload':<8} {'layers':<22} {'batch':>5} {'loss':<4} {'engine':>10} "
             f"{'steps/s':>9} {'torch':>10} {'ratio':>6} {'target':>7}"]
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        verdict = "" if r["ok"] is None else ("ok" if r["ok"] else "MISS")
        lines.append(
            f"{r['name']:<8} {r['label']:<22} {r['batch']:>5} {r['loss']:<4} "
            f"{_fmt_time(r['engine_s']):>10} {r['engine_steps_per_s']:>9,.0f} "
            f"{_fmt_time(r['torch_s']):>10} {ratio:>6} {'<= ' + format(r['target'], 'g'):>7} {verdict}")
    for r in rows:
        if r.get("gflop_share") is not None:
            share_ok = "ok" if r["gflop_share"] >= result["gflop_target"] else "MISS"
            lines.append(
                f"{r['name']} step: {r['gflops']:.1f} GFLOP/s = {r['gflop_share']:.0%} of the "
                f"measured float32 matmul peak ({r['peak_gflops']:.1f} GFLOP/s, 1024^3) "
                f"(target >= {result['gflop_target']:.0%}) {share_ok}")
            lines.append(
                f"{r['name']} step: {r['matmul_share']:.0%} of the speed of its own matrix "
                f"products run alone ({r['matmul_gflops']:.1f} GFLOP/s): the rest is "
                "activations, loss, Adam and Python")
            if r.get("ceiling_share") is not None:
                lines.append(
                    f"{r['name']} step ceiling: its products alone plus the Adam update's "
                    f"memory traffic alone ({r['adam_floor_s'] * 1e3:.1f} ms: 4 reads and "
                    f"3 writes of the parameters at {r['stream_gb_s']:.1f} GB/s) reach "
                    f"{r['ceiling_share']:.0%} of the peak on this machine")
    if not result.get("torch"):
        lines.append("PyTorch skipped (--no-torch): engine times only" if result.get("torch_skipped")
                     else "PyTorch is not installed: engine times only "
                     "(pip install 'backprop-lab[bench]' for the comparison)")
    t = result["threads"]
    lines.append(
        f"{result['dtype']}, one thread each (OMP/OPENBLAS/MKL_NUM_THREADS="
        f"{t.get('OMP_NUM_THREADS')}), medians of {result['iterations']} interleaved rounds "
        "(ratio: median of each round's engine/torch); "
        f"numpy {result['numpy']}" + (f", torch {result['torch']}" if result.get("torch") else "")
        + f"; {result['machine']['nproc']} x {result['machine']['cpu']}")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.engine",
                                description="engine vs PyTorch training-step benchmark")
    p.add_argument("--json", action="store_true")
    p.add_argument("--iterations", type=int, default=15)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--verify", action="store_true", help="compare float64 results with torch")
    p.add_argument("--long", type=int, nargs="?", const=1_000_000, default=None,
                   metavar="STEPS", help="also train STEPS tiny steps and report RSS growth")
    p.add_argument("--memory", type=int, default=None, metavar="STEPS",
                   help="only the memory check")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.verify:
        res = verify_against_torch()
        worst = max(max(v.values()) for v in res.values())
        if args.json:
            print(json.dumps(res, indent=1))
        else:
            for k, v in res.items():
                print(f"{k:<32} loss {v['loss']:.1e}  grads {v['grads']:.1e}  "
                      f"params {v['params']:.1e}")
            print(f"worst relative error: {worst:.1e}")
        return 0 if worst < 1e-12 else 1
    if args.memory is not None:
        m = long_run_memory(args.memory)
        print(json.dumps(plain(m)) if args.json else memory_line(m))
        return 0
    if args.worker or threads_pinned():
        result = run_benchmark(args.iterations, args.quick, not args.no_torch)
    else:
        result = run_pinned(args.iterations, args.quick, not args.no_torch)
    if args.long:
        result["memory"] = memory_pinned(args.long)
    if args.json:
        print(json.dumps(plain(result)))
    else:
        print("\n".join(format_table(result)))
        if "memory" in result:
            print(memory_line(result["memory"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
