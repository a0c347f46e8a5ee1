"""The trainer: owns network, optimizer and data, and turns commands into training.

Threading model: one thread drives training (``run`` or ``step``); any other thread may
send commands (``pause``, ``set_hyper``, ``reset``, ``apply_config``...) and read
``latest`` or receive snapshots through ``on_snapshot``. While a run is going, commands
are queued and applied between two steps, so a step never sees half a change.
Snapshots are made at most ``snapshot_hz`` times a second, so a display never slows
training down, but the record does not depend on them: every epoch end is evaluated and
kept in the history, every step's batch loss too, and a snapshot's layer statistics are
those of the last step taken before it (``engine.layer_stats``).
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields

import numpy as np

from .config import Config, live_changes
from .datasets import Dataset, feature_map, make_dataset
from .errors import ConfigError, EngineError
from .health import layer_flags
from .history import LossHistory
from .layer_stats import measure, unmeasured
from .network import Gradients, Network
from .optimizers import Optimizer, make_optimizer
from .snapshot import Boundary, LayerStats, Points, Snapshot, frozen_array

SnapshotCallback = Callable[[Snapshot], None]


def build_network(config: Config, data: Dataset, seed: int | None = None) -> Network:
    """The network a config describes, sized for ``data``."""
    m = config.model
    sizes = [data.n_features] + [l.units for l in m.layers] + [config.output_units(data.n_classes)]
    acts = [l.activation for l in m.layers] + [config.output_activation(data.n_classes)]
    return Network(sizes, acts, init=m.init, seed=config.training.seed if seed is None else seed,
                   dtype=m.dtype, init_std=m.init_std, init_limit=m.init_limit,
                   bias_init=m.bias_init, leaky_slope=m.leaky_slope)


def build_optimizer(config: Config) -> Optimizer:
    """The optimizer a config describes."""
    t = config.training
    hyper = {"lr": t.lr, "weight_decay": t.weight_decay}
    if t.optimizer == "sgd":
        hyper.update(momentum=t.momentum, nesterov=t.nesterov and t.momentum > 0)
    elif t.optimizer == "rmsprop":
        hyper.update(alpha=t.alpha, eps=t.eps, momentum=t.momentum)
    else:
        hyper.update(beta1=t.beta1, beta2=t.beta2, eps=t.eps)
    return make_optimizer(t.optimizer, **hyper)


def build_dataset(config: Config) -> Dataset:
    d = config.data
    return make_dataset(d.dataset, samples=d.samples, noise=d.noise, train_ratio=d.train_ratio,
                        seed=d.seed, classes=d.classes, features=d.features, csv_path=d.path or None,
                        label=d.label or None, csv_task=d.task, standardize=d.standardize)


def targets(config: Config, y: np.ndarray, n_classes: int, dtype) -> np.ndarray:
    """Labels (n,) -> the target array the loss reads, (n, outputs) in the network's dtype."""
    if config.task == "regression":
        return y.reshape(-1, 1).astype(dtype)
    units = config.output_units(n_classes)
    if units == 1:
        return y.reshape(-1, 1).astype(dtype)
    onehot = np.zeros((y.shape[0], units), dtype=dtype)
    onehot[np.arange(y.shape[0]), y.astype(np.intp)] = 1.0
    return onehot


class Trainer:
    """Trains one configuration; see the module docstring for the threading rules."""

    def __init__(self, config, *, snapshot_hz: float = 20.0, boundary_hz: float = 5.0,
                 grid: tuple[int, int] = (32, 64), history_points: int = 512):
        from .presets import Preset  # presets import the trainer's config only

        self.preset = config if isinstance(config, Preset) else None
        config = config.config if isinstance(config, Preset) else config
        if not isinstance(config, Config):
            raise EngineError("Trainer needs a Config or a Preset")
        self.snapshot_hz = snapshot_hz
        self.boundary_hz = boundary_hz
        self.grid_shape = grid
        self._history = LossHistory(history_points)
        self._lock = threading.RLock()
        self._commands: deque[Callable[[], None]] = deque()
        self._pause = threading.Event()
        self._running = False
        self.latest: Snapshot | None = None
        self._speed_limit: float | None = None
        self._pace: float | None = None
        self._hold_until = 0.0
        self._wake = threading.Event()
        self._build(config, config.training.seed)

    # ----- copying ---------------------------------------------------------------------
    #: what a copy does not take: thread machinery, made anew for the copy
    _THREAD_STATE = ("_lock", "_commands", "_pause", "_wake", "_hold_until")

    def __getstate__(self) -> dict:
        """Everything a paused trainer is (weights, optimizer state, data order, generator,
        history, latest snapshot), so that ``pickle`` or ``copy.deepcopy`` gives a trainer
        that goes on exactly as this one would. Refused while a run goes."""
        with self.still("copy it"):
            return {k: v for k, v in self.__dict__.items() if k not in self._THREAD_STATE}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._commands = deque()
        self._pause = threading.Event()
        self._wake = threading.Event()
        self._hold_until = 0.0

    # ----- building ------------------------------------------------------------------
    def _build(self, config: Config, seed: int, data: Dataset | None = None) -> None:
        if data is None:
            data = build_dataset(config)
            config.check(n_classes=data.n_classes)
        self.config = config
        self.data = data
        self.loss_name = config.loss_name(data.n_classes)
        self.network = build_network(config, data, seed)
        dtype = self.network.dtype
        self._X = np.ascontiguousarray(data.X_train, dtype=dtype)
        self._Y = targets(config, data.y_train, data.n_classes, dtype)
        self._Xt = np.ascontiguousarray(data.X_test, dtype=dtype)
        self._Yt = targets(config, data.y_test, data.n_classes, dtype)
        self._grid_X = self._grid_inputs()
        self._points = self._plot_points()
        self._reset_run(seed)

    def _reset_run(self, seed: int) -> None:
        self.seed = seed
        self.network.reinitialize(seed)
        self.optimizer = build_optimizer(self.config)
        self._shuffle_rng = np.random.default_rng([seed, 1])
        self._backup = np.empty_like(self.network.params)
        self.step_count = 0
        self.epoch = 0
        self._pos = 0
        self._order = np.arange(self._X.shape[0])
        self._order_X, self._order_Y = self._X, self._Y
        self._history.clear()
        self._layer_stats: tuple[LayerStats, ...] = unmeasured(self.network)
        self._stats_step: int | None = None  #: the step ``_layer_stats`` was measured on
        self._last_grads: Gradients | None = None  #: the last step's, until measured
        self._start_loss = math.nan
        self._state = "idle"
        self._diverged_step: int | None = None
        self._reason: str | None = None
        self._elapsed = 0.0
        self._speed = 0.0
        self._boundary: Boundary | None = None
        self._boundary_time = 0.0
        self._last_loss = math.nan
        ev = self.evaluate()
        self._start_loss = ev["train_loss"]
        self._record_epoch(ev)
        self.latest = self._make_snapshot(ev)

    def _grid_inputs(self) -> np.ndarray | None:
        if self.data.extent is None:
            return None
        x0, x1, y0, y1 = self.data.extent
        rows, cols = self.grid_shape
        xs = np.linspace(x0, x1, cols)
        ys = np.linspace(y1, y0, rows)  # row 0 at the top
        gx, gy = np.meshgrid(xs, ys)
        pts = np.column_stack([gx.ravel(), gy.ravel()])
        return np.ascontiguousarray(feature_map(pts, self.data.feature_names), dtype=self.network.dtype)

    def _plot_points(self) -> Points | None:
        d = self.data
        if d.points_train is None:
            return None
        return Points(frozen_array(d.points_train), frozen_array(d.y_train),
                      frozen_array(d.points_test), frozen_array(d.y_test), d.extent)

    # ----- commands (any thread) -----------------------------------------------------
    def _submit(self, command: Callable[[], None]) -> None:
        """Apply ``command`` now, or between two steps of a run (on the training thread)."""
        with self._lock:
            if self._running:
                self._commands.append(command)
            else:
                command()
                self.latest = self._make_snapshot()

    def pause(self) -> None:
        """Ask a running ``run`` to return after the current step."""
        self._pause.set()
        self._wake.set()

    @property
    def speed_limit(self) -> float | None:
        """Steps a second that ``run`` may take at most (None: as fast as it can); any
        thread may change it while a run goes, e.g. a display's slow-motion control."""
        return self._speed_limit

    @speed_limit.setter
    def speed_limit(self, value: float | None) -> None:
        self._speed_limit = value
        self._wake.set()

    @property
    def pace(self) -> float | None:
        """Epochs a second that ``run`` may take at most (None: as fast as it can), a
        watchable speed for a display; any thread may change it while a run goes. With
        both set, the slower of ``pace`` and ``speed_limit`` holds."""
        return self._pace

    @pace.setter
    def pace(self, value: float | None) -> None:
        self._pace = value
        self._wake.set()

    def _step_gap(self) -> float:
        """Seconds a step must take at least under ``pace`` and ``speed_limit`` (0: none)."""
        gap = 0.0
        if self._speed_limit:
            gap = 1.0 / self._speed_limit
        if self._pace:
            gap = max(gap, 1.0 / (self._pace * self.steps_per_epoch))
        return gap

    @property
    def steps_to_epoch_end(self) -> int:
        """Steps from here to the end of the current epoch (a whole epoch at its start)."""
        return -(-(self._X.shape[0] - self._pos) // self.batch_size)

    def hold(self, seconds: float = 0.1) -> None:
        """Ask a running ``run`` to stand aside for up to ``seconds`` (it sleeps, leaving the
        interpreter to other threads), e.g. while a display answers a key press.
        ``release_hold`` ends the hold early."""
        self._wake.clear()
        self._hold_until = time.perf_counter() + seconds

    def release_hold(self) -> None:
        """End a ``hold``: training goes on at once."""
        self._hold_until = 0.0
        self._wake.set()

    stop = pause

    def resume(self, **stop_conditions) -> Snapshot:
        """Continue training after a pause: ``run`` with the same stop conditions."""
        return self.run(**stop_conditions)

    def restore_position(self, order: np.ndarray, pos: int) -> None:
        """Resume mid-epoch: the epoch's sample order and how far into it training was."""
        n = self._X.shape[0]
        if order.shape != (n,) or not 0 <= pos < n:
            raise EngineError(f"saved data order does not fit {n} training samples")
        self._order = order.astype(np.intp)
        self._order_X, self._order_Y = self._X[self._order], self._Y[self._order]
        self._pos = int(pos)

    def state(self) -> dict:
        """Where the run is, as plain values: counters (step, epoch, pos, seed, elapsed),
        the epoch's sample ``order`` (n_train,) and the shuffle generator's ``shuffle_state``.
        ``restore`` takes it back."""
        with self.still("read its state"):
            return {"step": self.step_count, "epoch": self.epoch, "pos": self._pos,
                    "seed": self.seed, "elapsed": self._elapsed, "order": self._order.copy(),
                    "shuffle_state": copy.deepcopy(self._shuffle_rng.bit_generator.state)}

    def restore(self, state: dict) -> None:
        """Go on from a ``state()`` (weights and optimizer state are set apart): the
        history starts anew at the restored step. Raises EngineError if it does not fit."""
        with self.still("restore a state"):
            order, pos = state.get("order"), int(state.get("pos", 0))
            if order is not None and pos:
                self.restore_position(np.asarray(order), pos)
            self.seed = int(state.get("seed", self.seed))
            self.step_count = int(state.get("step", 0))
            self.epoch = int(state.get("epoch", 0))
            self._elapsed = float(state.get("elapsed", 0.0))
            if state.get("shuffle_state"):
                self._shuffle_rng.bit_generator.state = state["shuffle_state"]
            self._state = "paused"
            self._layer_stats, self._stats_step = unmeasured(self.network), None
            self._last_grads = None
            self._history.clear()
            ev = self.evaluate()
            self._start_loss = ev["train_loss"]
            self._record_epoch(ev)
            self.latest = self._make_snapshot(ev)

    @property
    def running(self) -> bool:
        return self._running

    # ----- looking without changing ------------------------------------------------------
    @property
    def train_set(self) -> tuple[np.ndarray, np.ndarray]:
        """The training split as the network sees it: inputs (n, n_in) and targets (n, ...)."""
        return self._X, self._Y

    def peek_batch(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """The inputs, targets and training-set rows of the batch the next step will use.

        Changes nothing: at an epoch's start the shuffle is drawn from a copy of the
        trainer's generator, exactly as the step will draw it."""
        X, Y = self._X, self._Y
        n, bs = X.shape[0], self.batch_size
        if bs == n:
            return X, Y, list(range(n))
        if self._pos == 0:
            order = copy.deepcopy(self._shuffle_rng).permutation(n)
        else:
            order = self._order
        rows = order[self._pos:min(self._pos + bs, n)]
        return X[rows], Y[rows], [int(r) for r in rows]

    @contextmanager
    def still(self, doing: str) -> Iterator[None]:
        """Hold the trainer still (no command or step runs meanwhile) for ``doing``;
        refused with EngineError while a run goes."""
        with self._lock:
            if self._running:
                raise EngineError(f"the trainer is running; pause it to {doing}")
            yield

    def set_hyper(self, **values) -> None:
        """Change training settings (lr, momentum, batch_size, optimizer...) without new weights.

        Values are validated first; a refused value raises ConfigError and nothing changes.
        """
        config = self.config
        for key, value in values.items():
            config = config.with_value(f"training.{key}", value)  # raises if refused
        # only the values given travel: they are merged into the config in force when the
        # command runs, so two quick changes never undo each other
        self._submit(lambda: self._merge_training(values))

    def _merge_training(self, values: dict) -> None:
        config = self.config
        try:
            for key, value in values.items():
                config = config.with_value(f"training.{key}", value)
        except ConfigError:
            return  # valid alone but not with a change made since: keep the config in force
        self._apply_training(config)

    def set_lr(self, lr: float) -> None:
        self.set_hyper(lr=lr)

    def apply_config(self, config: Config) -> bool:
        """Adopt a new config. Returns True when it needed new weights (data or model changed)."""
        if self.config.needs_new_weights(config):
            data = build_dataset(config)  # raises before anything changes
            config.check(n_classes=data.n_classes)
            self._submit(lambda: self._build(config, config.training.seed, data))
            return True
        changes = {f.name: getattr(config.training, f.name) for f in fields(config.training)
                   if getattr(config.training, f.name) != getattr(self.config.training, f.name)}
        if changes:
            self.set_hyper(**changes)
        return False

    def reset(self, seed: int | None = None) -> None:
        """Fresh weights from ``seed`` (default: the config's training seed), counters to zero."""
        seed = self.config.training.seed if seed is None else int(seed)
        self._submit(lambda: self._reset_run(seed))

    def _apply_training(self, config: Config) -> None:
        old = self.config
        self.config = config
        changes = live_changes(old, config)
        if old.training.optimizer != config.training.optimizer:
            self.optimizer = build_optimizer(config)
            return
        hyper = {k: v for k, v in changes.items() if k in self.optimizer.hyperparameters}
        if hyper.get("nesterov") and not self.optimizer.momentum and "momentum" not in hyper:
            hyper.pop("nesterov")
        if hyper:
            self.optimizer.set(**hyper)
        if "batch_size" in changes:
            self._pos = 0

    # ----- training (the training thread) --------------------------------------------
    @property
    def batch_size(self) -> int:
        bs = self.config.training.batch_size
        n = self._X.shape[0]
        return n if bs == 0 or bs >= n else bs

    @property
    def steps_per_epoch(self) -> int:
        return -(-self._X.shape[0] // self.batch_size)

    def _next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        n, bs = self._X.shape[0], self.batch_size
        if bs == n:
            self.epoch += 1
            return self._X, self._Y
        if self._pos == 0:
            self._order = self._shuffle_rng.permutation(n)
            self._order_X, self._order_Y = self._X[self._order], self._Y[self._order]
        start = self._pos
        end = min(start + bs, n)
        self._pos = 0 if end == n else end
        if end == n:
            self.epoch += 1
        return self._order_X[start:end], self._order_Y[start:end]

    def _train_step(self) -> bool:
        """One optimizer step, its batch loss recorded; returns False when the run diverged.

        At an epoch's end the caller evaluates and records the epoch (``_record_epoch``)."""
        net, t = self.network, self.config.training
        X, Y = self._next_batch()
        # callers run this under np.errstate(all="ignore"): overflow is caught below and
        # reported as divergence (one errstate per run, not per step: it costs microseconds)
        loss, grads = net.loss_and_grads(X, Y, self.loss_name,
                                         regularization=t.regularization, reg_rate=t.reg_rate)
        if not math.isfinite(loss):
            self._measure_now(grads, applied=False)
            self._diverge(f"the loss became {loss} at step {self.step_count + 1}")
            return False
        params = net.params
        np.copyto(self._backup, params)
        self.optimizer.step(net, grads)
        if not math.isfinite(float(np.add.reduce(params))):
            self._measure_now(grads, applied=True)
            np.copyto(params, self._backup)  # keep the last finite weights
            self.optimizer.reset_state()
            self._diverge(f"the weights became inf/NaN at step {self.step_count + 1}")
            return False
        self.step_count += 1
        self._last_loss = loss
        self._last_grads = grads  # measured when a snapshot wants it, before the next step
        self._history.add_batch(self.step_count, self._epoch_progress(), loss)
        return True

    def _measure_now(self, grads: Gradients, applied: bool) -> None:
        """Layer statistics of the step that diverged (step_count + 1), taken before its
        weights are thrown away: its gradient, and its update if it was applied."""
        self._layer_stats = measure(self.network, grads, self._backup if applied else None)
        self._stats_step = self.step_count + 1
        self._last_grads = None

    def _measure_last(self) -> None:
        """Measure the last step taken, once, if it has not been measured yet."""
        if self._last_grads is not None and self._stats_step != self.step_count:
            self._layer_stats = measure(self.network, self._last_grads, self._backup)
            self._stats_step = self.step_count
        self._last_grads = None

    def _diverge(self, reason: str) -> None:
        self._state = "diverged"
        self._diverged_step = self.step_count + 1
        self._reason = reason
        self._pause.set()

    def _record_epoch(self, ev: dict) -> None:
        """Keep one epoch end's evaluation (or step 0's) in the history."""
        self._history.add_epoch(self.step_count, self._epoch_progress(), ev["train_loss"],
                                ev["test_loss"], ev["train_accuracy"], ev["test_accuracy"])

    def step(self, n: int = 1, *, snapshot: bool = True) -> Snapshot | None:
        """Take ``n`` steps now (in this thread) and return a fresh snapshot.

        Every epoch end on the way is evaluated into the history, as in ``run``. With
        ``snapshot=False`` no snapshot is made (cheaper for scripts that take many small
        strides); ``latest`` then still shows the previous one, and None is returned.
        """
        with self._lock:
            if self._running:
                raise EngineError("the trainer is already running; pause it first")
            if self._state == "diverged":
                return self.latest
            start = time.perf_counter()
            taken = 0
            with np.errstate(all="ignore"):
                for _ in range(n):
                    ends_epoch = self._ends_epoch()
                    if not self._train_step():
                        break
                    taken += 1
                    if ends_epoch:
                        self._record_epoch(self.evaluate())
            self._account(time.perf_counter() - start, taken)
            if self._state != "diverged":
                self._state = "paused"
            if not snapshot and self._state != "diverged":
                return None
            self.latest = self._make_snapshot()
            return self.latest

    def run(self, *, max_steps: int | None = None, max_epochs: int | None = None,
            target_loss: float | None = None, target_accuracy: float | None = None,
            on_snapshot: SnapshotCallback | None = None,
            on_epoch: SnapshotCallback | None = None) -> Snapshot:
        """Train until a stop condition, ``pause()`` from another thread, or divergence.

        ``max_steps`` counts steps in this call; ``max_epochs`` is a total since reset.
        Every epoch end is evaluated on the whole train and test splits and recorded in
        the history; targets are checked there, so where a run stops does not depend on
        the machine's speed. ``on_snapshot`` receives a snapshot at most ``snapshot_hz``
        times a second, and the final one; ``on_epoch`` a snapshot at every epoch end.
        """
        with self._lock:
            if self._running:
                raise EngineError("the trainer is already running")
            if self._state == "diverged":
                return self.latest
            self._running = True
            self._pause.clear()
            self._state = "running"
            self._reason = None
        interval = 1.0 / self.snapshot_hz if self.snapshot_hz > 0 else math.inf
        commands, pause = self._commands, self._pause
        steps_done = 0
        finished: str | None = None  # why the run ended on its own, if it did
        t0 = last = time.perf_counter()
        last_step = self.step_count
        next_snapshot = t0 + interval
        step_due = t0  # under a pace: when the next step may start
        quiet = np.errstate(all="ignore")
        quiet.__enter__()
        try:
            while True:
                while commands:
                    commands.popleft()()
                if pause.is_set():
                    break
                if max_steps is not None and steps_done >= max_steps:
                    finished = f"took the {max_steps} steps asked for"
                    break
                if max_epochs is not None and self.epoch >= max_epochs:
                    finished = f"trained its {max_epochs} epochs"
                    break
                gap = self._step_gap()
                if gap:  # paced: wait for this step's turn, leaving the CPU to others
                    now = time.perf_counter()
                    if now < step_due:
                        self._wake.clear()
                        self._wake.wait(step_due - now)
                        continue  # a command, pause or new pace may have come meanwhile
                    step_due = max(step_due + gap, now - gap)  # no burst to catch up
                now = time.perf_counter()
                if now < self._hold_until:
                    self._wake.wait(self._hold_until - now)
                    continue
                ends_epoch = self._ends_epoch()
                if not self._train_step():
                    break
                steps_done += 1
                ev = None
                if ends_epoch:
                    ev = self.evaluate()
                    self._record_epoch(ev)
                    if on_epoch is not None:
                        on_epoch(self._make_snapshot(ev))
                    reached = self._reached(ev, target_loss, target_accuracy)
                    if reached:
                        finished = reached
                        break
                now = time.perf_counter()
                if now >= next_snapshot:
                    self._account(now - last, self.step_count - last_step)
                    last, last_step = now, self.step_count
                    next_snapshot = now + interval
                    snap = self.latest = self._make_snapshot(ev)
                    if on_snapshot is not None:
                        on_snapshot(snap)
        finally:
            quiet.__exit__(None, None, None)
            with self._lock:
                while commands:
                    commands.popleft()()
                self._account(time.perf_counter() - last, self.step_count - last_step)
                if self._state != "diverged":
                    self._state = "finished" if finished else "paused"
                if self._state == "finished":
                    self._reason = f"{finished} at step {self.step_count}"
                self._running = False
                self.latest = self._make_snapshot()
        if on_snapshot is not None:
            on_snapshot(self.latest)
        return self.latest

    def _ends_epoch(self) -> bool:
        return self._pos + self.batch_size >= self._X.shape[0]

    @staticmethod
    def _reached(ev: dict, target_loss, target_accuracy) -> str | None:
        """Why an epoch end's evaluation ends the run (None: it does not)."""
        if target_loss is not None and ev["train_loss"] <= target_loss:
            return f"reached the target loss {target_loss:g}"
        acc = ev["test_accuracy"] if ev["test_accuracy"] is not None else ev["train_accuracy"]
        if target_accuracy is not None and acc is not None and acc >= target_accuracy:
            return f"reached the target accuracy {target_accuracy:.0%}"
        return None

    def _account(self, seconds: float, steps: int) -> None:
        self._elapsed += seconds
        if seconds > 0 and steps > 0:
            self._speed = steps / seconds

    # ----- evaluation and snapshots --------------------------------------------------
    def evaluate(self) -> dict:
        """Data loss and accuracy on the train and test splits with the current weights."""
        train_loss, train_acc = self._eval(self._X, self._Y)
        test_loss, test_acc = self._eval(self._Xt, self._Yt)
        return {"train_loss": train_loss, "test_loss": test_loss,
                "train_accuracy": train_acc, "test_accuracy": test_acc}

    def _eval(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, float | None]:
        if X.shape[0] == 0:
            return math.nan, None
        with np.errstate(all="ignore"):
            z, out = self.network.infer(X)
            loss = self.network._loss(self.loss_name).value(z, out, Y)
        if self.config.task != "classification":
            return loss, None
        if out.shape[1] == 1:
            correct = np.count_nonzero((out[:, 0] > 0.5) == (Y[:, 0] > 0.5))
        else:
            correct = np.count_nonzero(out.argmax(axis=1) == Y.argmax(axis=1))
        return loss, correct / X.shape[0]

    def boundary(self) -> Boundary | None:
        """The model's output over the data's 2-D extent (None for data that is not 2-D)."""
        if self._grid_X is None:
            return None
        with np.errstate(all="ignore"):
            out = self.network.infer(self._grid_X)[1]
        rows, cols = self.grid_shape
        classes = None
        if self.config.task == "regression":
            kind, values = "regression", out[:, 0]
        elif out.shape[1] == 1:
            kind, values = "binary", out[:, 0]
        else:
            kind = "multiclass"
            classes = frozen_array(out.argmax(axis=1).reshape(rows, cols))
            values = out.max(axis=1)
        return Boundary(kind, frozen_array(values.reshape(rows, cols), np.float64), classes,
                        self.data.extent, self.step_count)

    def _make_snapshot(self, ev: dict | None = None) -> Snapshot:
        """A snapshot of now; ``ev``: this step's evaluation, when it was already made."""
        if ev is None:
            ev = self.evaluate()
        self._measure_last()
        now = time.perf_counter()
        if self._grid_X is not None and (
                not self._running or self._boundary is None
                or now - self._boundary_time >= 1.0 / self.boundary_hz):
            self._boundary = self.boundary()
            self._boundary_time = now
        t = self.config.training
        return Snapshot(
            state=self._state, step=self.step_count, epoch=self.epoch,
            epoch_progress=self._epoch_progress(), train_loss=ev["train_loss"],
            test_loss=ev["test_loss"], penalty=self.network.penalty(t.regularization, t.reg_rate),
            train_accuracy=ev["train_accuracy"], test_accuracy=ev["test_accuracy"],
            lr=self.optimizer.lr, elapsed=self._elapsed, steps_per_sec=self._speed,
            layers=self._layer_stats, history=self._history.frozen(), task=self.config.task,
            n_classes=self.data.n_classes, boundary=self._boundary, points=self._points,
            diverged_step=self._diverged_step, reason=self._reason, seed=self.seed,
            stats_step=self._stats_step,
            flags=layer_flags(self._layer_stats, ev["train_loss"], self._start_loss),
        )

    def _epoch_progress(self) -> float:
        return self.epoch + self._pos / self._X.shape[0]

    def snapshot(self) -> Snapshot:
        """The latest snapshot; made fresh when no run is going."""
        with self._lock:
            if not self._running:
                self.latest = self._make_snapshot()
            return self.latest
