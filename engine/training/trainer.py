"""The trainer: owns network, optimizer and data, and turns commands into training.

Threading model: one thread drives training (``run`` or ``step``); any other thread may
send commands (``pause``, ``set_hyper``, ``reset``, ``apply_config``...) and read
``latest`` or receive snapshots through ``on_snapshot``. While a run goes, commands are
queued and applied between two steps (``engine.training.runner``). Snapshots are made at
most ``snapshot_hz`` times a second, so a display never slows training down, but the
record does not depend on them: every epoch end is evaluated and kept in the history,
every step's batch loss too, and a snapshot's layer statistics are those of the last step
taken before it (``engine.training.probe``).

Its length is the trainer's public interface (commands, state, steps, snapshots); the
loop, batches, probes and records are modules of their own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields

import numpy as np

from ..config import Config, live_changes
from ..data import Dataset
from ..data.csv_text import Progress
from ..data.drawn import (EMPTY, Drawn, added, check_point, drawn_dataset, drawn_of,
                          not_ready, undone)
from ..errors import ConfigError, EngineError
from ..nn.network import Gradients
from ..presets import Preset
from ..resources import check_resources
from .batches import BatchOrder
from .build import build_dataset, build_network, build_optimizer, lr_at, targets
from .health import layer_flags
from .history import LossHistory
from .probe import (boundary, evaluate, grid_inputs, live_rows, measure, plot_points,
                    predict_samples, sample_images, unmeasured)
from .neuron_maps import DEFAULT_RESOLUTION, NetworkState, check_param, network_state
from .runner import Runner, SnapshotCallback
from .path import PathRecorder
from .snapshot import Boundary, LayerStats, Samples, Snapshot, frozen_array


#: a split larger than this is evaluated on a fixed subsample of this many rows for the
#: snapshots made while a run goes; every epoch end is evaluated on the whole split
LIVE_EVAL_ROWS = 4096


class Trainer:
    """Trains one configuration; see the module docstring for the threading rules."""

    def __init__(self, config: Config | Preset, *, snapshot_hz: float = 20.0,
                 boundary_hz: float = 5.0, grid: tuple[int, int] = (32, 64),
                 history_points: int = 512, progress: Progress | None = None):
        """``progress(bytes_read, bytes_total)`` follows the load of a CSV data set."""
        self.preset = config if isinstance(config, Preset) else None
        config = config.config if isinstance(config, Preset) else config
        if not isinstance(config, Config):
            raise EngineError("Trainer needs a Config or a Preset")
        self.snapshot_hz = snapshot_hz
        self.boundary_hz = boundary_hz
        self.grid_shape = grid
        self._history = LossHistory(history_points)
        self.latest: Snapshot | None = None
        #: seconds between copies of the weights into running snapshots (None: never); a
        #: snapshot made while no run goes always carries them when this is set
        self.weights_interval: float | None = None
        self._weights: tuple[tuple[np.ndarray, ...], int] | None = None
        self._weights_time = 0.0
        self._sample_set: tuple[Dataset, Samples | None] | None = None  #: (data, its images)
        #: seconds between network states (maps, W, b, gradients) in running snapshots
        #: (None: never); ``map_resolution``: the maps' grid side (neuron_maps)
        self.network_interval: float | None = None
        self.map_resolution = DEFAULT_RESOLUTION
        self._network: NetworkState | None = None
        self._network_time = 0.0
        self._network_cost = 0.0  #: seconds the last network state took
        self._edits = 0  #: weights and biases set by hand (set_param)
        self._view_grads: tuple[Gradients, int] | None = None  #: the last step's, for the view
        self._path = PathRecorder()  #: the weights at the recorded steps (training.path)
        self._runner = Runner(self)
        self._build(config, config.training.seed, progress=progress)

    # ----- copying ---------------------------------------------------------------------
    def __getstate__(self) -> dict:
        """Everything a paused trainer is (weights, optimizer state, data order, generator,
        history, latest snapshot), so that ``pickle`` or ``copy.deepcopy`` gives a trainer
        that goes on exactly as this one would. Refused while a run goes."""
        with self.still("copy it"):
            state = dict(self.__dict__)
            runner = state.pop("_runner")
            state["_limits"] = (runner.speed_limit, runner.pace)
            return state

    def __setstate__(self, state: dict) -> None:
        speed_limit, pace = state.pop("_limits")
        self.__dict__.update(state)
        self._runner = Runner(self)
        self._runner.speed_limit, self._runner.pace = speed_limit, pace

    # ----- building ------------------------------------------------------------------
    def _build(self, config: Config, seed: int, data: Dataset | None = None,
               progress: Progress | None = None) -> None:
        if data is None:
            check_resources(config)  # before anything is built: refuse what cannot fit
            data = build_dataset(config, progress)
            config.check(n_classes=data.n_classes)
        self.config = config
        self.data = data
        self.loss_name = config.loss_name(data.n_classes)
        self.network = build_network(config, data, seed)
        self._use_data(data)
        self._reset_run(seed)

    def _use_data(self, data: Dataset) -> None:
        """Make what depends on the data: the arrays the network reads, the evaluation
        subsamples, the boundary grid, the points drawn on it, and whether it can train."""
        self.data = data
        config, dtype = self.config, self.network.dtype
        self._X = np.ascontiguousarray(data.X_train, dtype=dtype)
        self._Y = targets(config, data.y_train, data.n_classes, dtype)
        self._Xt = np.ascontiguousarray(data.X_test, dtype=dtype)
        self._Yt = targets(config, data.y_test, data.n_classes, dtype)
        self._live = self._live_splits(seed=config.data.seed)
        self._grid_X = grid_inputs(data, self.grid_shape, dtype)
        self._points = plot_points(data)
        if config.data.dataset == "draw":
            self._not_ready = not_ready(drawn_of(data), task=config.task,
                                        classes=config.data.classes)
        else:
            self._not_ready = None if self._X.shape[0] else "the training split is empty"

    def _reset_run(self, seed: int) -> None:
        self.seed = seed
        self.network.reinitialize(seed)
        self.optimizer = build_optimizer(self.config)
        self._schedule(epoch=0)
        self._batches = BatchOrder(self._X, self._Y, self.config.training.batch_size, seed)
        self._backup = np.empty_like(self.network.params)
        self.step_count = 0
        self.epoch = 0
        self._state = "idle"
        self._diverged_step: int | None = None
        self._reason: str | None = None
        self._elapsed = 0.0
        self._speed = 0.0
        self._boundary: Boundary | None = None
        self._boundary_time = 0.0
        self._weights = None
        self._network = self._view_grads = None
        self._start_history()

    def _start_history(self) -> None:
        """A history that starts here: no layer figures yet, step 0's evaluation recorded."""
        self._history.clear()
        self._layer_stats: tuple[LayerStats, ...] = unmeasured(self.network)
        self._stats_step: int | None = None  #: the step ``_layer_stats`` was measured on
        self._last_grads: Gradients | None = None  #: the last step's, until measured
        self._path.start(self.step_count, self.network.params)
        ev = self.evaluate()
        self._start_loss = ev["train_loss"]
        self._record_epoch(ev)
        self.latest = self.make_snapshot(ev)

    # ----- commands (any thread) -----------------------------------------------------
    def pause(self) -> None:
        """Ask a running ``run`` to return after the current step."""
        self._runner.pause()

    stop = pause

    @property
    def speed_limit(self) -> float | None:
        """Steps a second that ``run`` may take at most (None: as fast as it can); any
        thread may change it while a run goes."""
        return self._runner.speed_limit

    @speed_limit.setter
    def speed_limit(self, value: float | None) -> None:
        self._runner.speed_limit = value
        self._runner.wake()

    @property
    def pace(self) -> float | None:
        """Epochs a second that ``run`` may take at most (None: as fast as it can), a
        watchable speed for a display; any thread may change it while a run goes. With
        both set, the slower of ``pace`` and ``speed_limit`` holds."""
        return self._runner.pace

    @pace.setter
    def pace(self, value: float | None) -> None:
        self._runner.pace = value
        self._runner.wake()

    def hold(self, seconds: float = 0.1) -> None:
        """Ask a running ``run`` to stand aside for up to ``seconds`` (it sleeps, leaving the
        interpreter to other threads), e.g. while a display answers a key press.
        ``release_hold`` ends the hold early."""
        self._runner.hold(seconds)

    def release_hold(self) -> None:
        """End a ``hold``: training goes on at once."""
        self._runner.release_hold()

    @property
    def running(self) -> bool:
        return self._runner.running

    @contextmanager
    def still(self, doing: str) -> Iterator[None]:
        """Hold the trainer still (no command or step runs meanwhile) for ``doing``;
        refused with EngineError while a run goes."""
        with self._runner.idle(doing):
            yield

    def set_hyper(self, **values) -> None:
        """Change training settings (lr, momentum, batch_size, optimizer...) without new weights.

        Values are validated first; a refused value raises ConfigError and nothing changes.
        Only the values given travel: they are merged into the config in force when the
        change is applied, so two quick changes never undo each other."""
        config = self.config
        for key, value in values.items():
            config = config.with_value(f"training.{key}", value)  # raises if refused
        self._runner.submit(lambda: self._merge_training(values))

    def set_lr(self, lr: float) -> None:
        self.set_hyper(lr=lr)

    def apply_config(self, config: Config, progress: Progress | None = None) -> bool:
        """Adopt a new config. Returns True when it needed new weights (data or model changed)."""
        if self.config.needs_new_weights(config):
            check_resources(config)  # raises before anything changes
            data = self._data_for(config, progress)
            config.check(n_classes=data.n_classes)
            self._runner.submit(lambda: self._build(config, config.training.seed, data))
            return True
        changes = {f.name: getattr(config.training, f.name) for f in fields(config.training)
                   if getattr(config.training, f.name) != getattr(self.config.training, f.name)}
        if changes:
            self.set_hyper(**changes)
        return False

    def reset(self, seed: int | None = None) -> None:
        """Fresh weights from ``seed`` (default: the config's training seed), counters to zero."""
        seed = self.config.training.seed if seed is None else int(seed)
        self._runner.submit(lambda: self._reset_run(seed))

    def set_param(self, layer: int, row: int, col: int | None, value: float | str) -> None:
        """Set one weight ``W[row, col]`` of layer ``layer`` (0-based), or its bias
        ``b[row]`` when ``col`` is None; the run goes on from the edited weights (the
        optimizer keeps its state). Checked first (indices in range, a finite value within
        ``neuron_maps.PARAM_RULE``): a refusal raises EngineError and nothing changes."""
        checked = check_param(self.network, layer, row, col, value)
        network = self.network
        self._runner.submit(lambda: self._set_param(network, *checked))

    def _set_param(self, network, layer: int, row: int, col: int | None, value: float) -> None:
        if network is not self.network:
            return  # the network was rebuilt since the edit was asked for: it no longer applies
        dense = network.layers[layer]
        if col is None:
            dense.b[row] = value
        else:
            dense.W[row, col] = value
        self._edits += 1

    def _data_for(self, config: Config, progress: Progress | None) -> Dataset:
        """The data a new config trains on: drawn points stay while the data stays drawn
        from the same file (their features, classes or task may change)."""
        old, new = self.config.data, config.data
        if new.dataset == old.dataset == "draw" and new.path == old.path:
            return drawn_dataset(self.drawn, task=config.task, classes=new.classes,
                                 features=new.features)
        return build_dataset(config, progress)

    # ----- drawn data (commands, any thread) -------------------------------------------
    @property
    def drawn(self) -> Drawn | None:
        """The points of drawn data, in drawing order (None: the data is not drawn)."""
        return drawn_of(self.data) if self.config.data.dataset == "draw" else None

    @property
    def not_ready(self) -> str | None:
        """Why training cannot start on the data (one line), or None when it can."""
        return self._not_ready

    def add_point(self, x: float, y: float, value: float) -> None:
        """Draw a point at (x, y) with a class number or, for regression, a target. It is
        checked now (DataError) and joins the points in force when it is applied (between
        two steps); the weights stay, the new point trains from the next step on."""
        point = check_point(x, y, value, task=self._drawing().task,
                            classes=self.config.data.classes)
        self._runner.submit(lambda: self._set_drawn(added(self.drawn, *point)))

    def undo_point(self) -> None:
        """Take away the last point drawn (applied like ``add_point``)."""
        self._drawing()
        self._runner.submit(lambda: self._set_drawn(undone(self.drawn)))

    def clear_points(self) -> None:
        """Take away every drawn point (applied like ``add_point``)."""
        self._drawing()
        self._runner.submit(lambda: self._set_drawn(EMPTY))

    def set_points(self, drawn: Drawn) -> None:
        """Train on these points from now on (a checkpoint's), keeping the weights."""
        config = self._drawing()
        drawn_dataset(drawn, task=config.task, classes=config.data.classes)  # raises if unfit
        self._runner.submit(lambda: self._set_drawn(drawn))

    def _drawing(self) -> Config:
        if self.config.data.dataset != "draw":
            raise ConfigError(f"points can be drawn only on drawn data, not on "
                              f"'{self.config.data.dataset}'", path="data.dataset")
        return self.config

    def _set_drawn(self, drawn: Drawn | None) -> None:
        """Train on ``drawn`` from the next step: new data, the same weights and optimizer
        state; the batch order starts a new pass over the points. A run pauses when the
        points can no longer train (``not_ready``)."""
        d = self.config.data
        if d.dataset != "draw" or drawn is None:
            return  # the data changed since the command was sent
        try:
            data = drawn_dataset(drawn, task=self.config.task, classes=d.classes,
                                 features=d.features)
        except EngineError:
            return  # valid when sent, not with a change made since: keep the points in force
        self._use_data(data)
        rng = self._batches.rng
        self._batches = BatchOrder(self._X, self._Y, self.config.training.batch_size, self.seed)
        self._batches.rng = rng
        if self._not_ready is not None:
            self._runner.pause()
        elif self.step_count == 0:  # no step taken yet: step 0 is measured on these points
            self._start_history()

    def _merge_training(self, values: dict) -> None:
        config = self.config
        try:
            for key, value in values.items():
                config = config.with_value(f"training.{key}", value)
        except ConfigError:
            return  # valid alone but not with a change made since: keep the config in force
        old, self.config = self.config, config
        changes = live_changes(old, config)
        if old.training.optimizer != config.training.optimizer:
            self.optimizer = build_optimizer(config)
            self._schedule()
            return
        hyper = {k: v for k, v in changes.items() if k in self.optimizer.hyperparameters}
        if hyper.get("nesterov") and not self.optimizer.momentum and "momentum" not in hyper:
            hyper.pop("nesterov")
        if hyper:
            self.optimizer.set(**hyper)
        if "batch_size" in changes:
            self._batches.set_batch_size(config.training.batch_size)
        self._schedule()

    def _schedule(self, epoch: int | None = None) -> None:
        """Set the optimizer's lr to the schedule's for ``epoch`` (default: the epochs done)."""
        self.optimizer.lr = lr_at(self.config, self.epoch if epoch is None else epoch)

    # ----- where the run is ------------------------------------------------------------
    def state(self) -> dict:
        """Where the run is, as plain values: counters (step, epoch, pos, seed, elapsed),
        the epoch's sample ``order`` (n_train,) and the shuffle generator's ``shuffle_state``.
        ``restore`` takes it back."""
        with self.still("read its state"):
            return {"step": self.step_count, "epoch": self.epoch, "seed": self.seed,
                    "elapsed": self._elapsed, **self._batches.state()}

    def restore(self, state: dict) -> None:
        """Go on from a ``state()`` (weights and optimizer state are set apart): the
        history starts anew at the restored step. Raises EngineError if it does not fit."""
        with self.still("restore a state"):
            self._batches.restore(state)
            self.seed = int(state.get("seed", self.seed))
            self.step_count = int(state.get("step", 0))
            self.epoch = int(state.get("epoch", 0))
            self._schedule()
            self._elapsed = float(state.get("elapsed", 0.0))
            self._state = "paused"
            self._start_history()

    @property
    def train_set(self) -> tuple[np.ndarray, np.ndarray]:
        """The training split as the network sees it: inputs (n, n_in) and targets (n, ...)."""
        return self._X, self._Y

    def peek_batch(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """The inputs, targets and training-set rows of the batch the next step will use."""
        return self._batches.peek()

    @property
    def batch_size(self) -> int:
        return self._batches.batch_size

    @property
    def steps_per_epoch(self) -> int:
        return self._batches.steps_per_epoch

    @property
    def steps_to_epoch_end(self) -> int:
        """Steps from here to the end of the current epoch (a whole epoch at its start)."""
        return self._batches.steps_to_epoch_end

    @property
    def diverged(self) -> bool:
        return self._state == "diverged"

    # ----- training ----------------------------------------------------------------------
    def advance(self) -> tuple[bool, dict | None]:
        """One optimizer step, its batch loss recorded; at an epoch's end the epoch is
        evaluated and recorded too. Returns whether the step was taken (False: the run
        diverged) and the epoch end's evaluation (None mid-epoch). Callers run this under
        ``np.errstate(all="ignore")``: overflow is caught here and reported as divergence
        (one errstate per run, not per step: it costs microseconds)."""
        net, t = self.network, self.config.training
        X, Y, ends_epoch = self._batches.next()
        loss, grads = net.loss_and_grads(X, Y, self.loss_name,
                                         regularization=t.regularization, reg_rate=t.reg_rate)
        if not math.isfinite(loss):
            self._measure_now(grads, applied=False)
            self._diverge(f"the loss became {loss} at step {self.step_count + 1}")
            return False, None
        params = net.params
        np.copyto(self._backup, params)
        self.optimizer.step(net, grads)
        if not math.isfinite(float(np.add.reduce(params))):
            self._measure_now(grads, applied=True)
            np.copyto(params, self._backup)  # keep the last finite weights
            self.optimizer.reset_state()
            self._diverge(f"the weights became inf/NaN at step {self.step_count + 1}")
            return False, None
        self.step_count += 1
        self._path.add(self.step_count, params)
        self._last_grads = grads  # measured when a snapshot wants it, before the next step
        if ends_epoch:
            self.epoch += 1
            self._schedule()
        self._history.add_batch(self.step_count, self._epoch_progress(), loss)
        if not ends_epoch:
            return True, None
        ev = self.evaluate()
        self._record_epoch(ev)
        return True, ev

    def step(self, n: int = 1, *, snapshot: bool = True) -> Snapshot | None:
        """Take ``n`` steps now (in this thread) and return a fresh snapshot.

        Every epoch end on the way is evaluated into the history, as in ``run``. With
        ``snapshot=False`` no snapshot is made (cheaper for scripts that take many small
        strides); ``latest`` then still shows the previous one, and None is returned.
        """
        with self.still("step it"):
            if self.diverged or self._not_ready is not None:
                return self.latest
            start = time.perf_counter()
            taken = 0
            with np.errstate(all="ignore"):
                for _ in range(n):
                    if not self.advance()[0]:
                        break
                    taken += 1
            self.account(time.perf_counter() - start, taken)
            if not self.diverged:
                self._state = "paused"
            if not snapshot and not self.diverged:
                return None
            self.latest = self.make_snapshot()
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
        if self._not_ready is not None:
            return self.snapshot()
        return self._runner.run(max_steps=max_steps, max_epochs=max_epochs,
                                target_loss=target_loss, target_accuracy=target_accuracy,
                                on_snapshot=on_snapshot, on_epoch=on_epoch)

    resume = run

    def begin_run(self) -> None:
        """The runner starts a run (its lock held)."""
        self._state = "running"
        self._reason = None

    def end_run(self, finished: str | None) -> None:
        """The runner's run ended: ``finished`` says why when it ended on its own."""
        if self._state != "diverged":
            self._state = "finished" if finished else "paused"
        if self._state == "finished":
            self._reason = f"{finished} at step {self.step_count}"

    def account(self, seconds: float, steps: int) -> None:
        """Add ``seconds`` of training for ``steps`` steps to the clock and the speed."""
        self._elapsed += seconds
        if seconds > 0 and steps > 0:
            self._speed = steps / seconds

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
        self._runner.pause()

    def _record_epoch(self, ev: dict) -> None:
        """Keep one epoch end's evaluation (or step 0's) in the history."""
        self._history.add_epoch(self.step_count, self._epoch_progress(), ev["train_loss"],
                                ev["test_loss"], ev["train_accuracy"], ev["test_accuracy"])

    def _epoch_progress(self) -> float:
        return self.epoch + self._batches.progress

    # ----- evaluation and snapshots --------------------------------------------------
    def _live_splits(self, seed: int) -> tuple[np.ndarray, ...] | None:
        """Fixed subsamples of splits larger than ``LIVE_EVAL_ROWS`` for the snapshots made
        while a run goes (None: both splits are small enough to evaluate whole)."""
        train = live_rows(self._X.shape[0], LIVE_EVAL_ROWS, seed)
        test = live_rows(self._Xt.shape[0], LIVE_EVAL_ROWS, seed)
        if train is None and test is None:
            return None
        pick = lambda A, rows: A if rows is None else A[rows]  # noqa: E731
        return (pick(self._X, train), pick(self._Y, train), pick(self._Xt, test),
                pick(self._Yt, test))

    def _live_evaluate(self) -> dict:
        """``evaluate`` for a snapshot while a run goes: on the fixed subsamples of large
        splits (so that evaluation never throttles training), else on the whole splits."""
        if self._live is None:
            return self.evaluate()
        X, Y, Xt, Yt = self._live
        net, loss, task = self.network, self.loss_name, self.config.task
        train_loss, train_acc = evaluate(net, loss, task, X, Y)
        test_loss, test_acc = evaluate(net, loss, task, Xt, Yt)
        return {"train_loss": train_loss, "test_loss": test_loss,
                "train_accuracy": train_acc, "test_accuracy": test_acc, "sampled": True}

    def evaluate(self) -> dict:
        """Data loss and accuracy on the train and test splits with the current weights."""
        net, loss, task = self.network, self.loss_name, self.config.task
        train_loss, train_acc = evaluate(net, loss, task, self._X, self._Y)
        test_loss, test_acc = evaluate(net, loss, task, self._Xt, self._Yt)
        return {"train_loss": train_loss, "test_loss": test_loss,
                "train_accuracy": train_acc, "test_accuracy": test_acc}

    def boundary(self) -> Boundary | None:
        """The model's output over the data's 2-D extent (None for data that is not 2-D)."""
        if self._grid_X is None:
            return None
        return boundary(self.network, self._grid_X, self.grid_shape, self.config.task,
                        self.data.extent, self.step_count)

    def make_snapshot(self, ev: dict | None = None) -> Snapshot:
        """A snapshot of now; ``ev``: this step's evaluation, when it was already made (an
        epoch end's). Otherwise a still trainer evaluates its whole splits, and a running
        one its fixed subsamples of large splits (``LIVE_EVAL_ROWS``)."""
        if ev is None:
            ev = self._live_evaluate() if self.running else self.evaluate()
        if self._last_grads is not None:  # kept for the network view past their measuring
            self._view_grads = (self._last_grads, self.step_count)
        self._measure_last()
        now = time.perf_counter()
        if self._grid_X is not None and (
                not self.running or self._boundary is None
                or now - self._boundary_time >= 1.0 / self.boundary_hz):
            self._boundary = self.boundary()
            self._boundary_time = now
        weights = self._copy_weights(now)
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
            not_ready=self._not_ready,
            stats_step=self._stats_step, sampled=bool(ev.get("sampled")),
            flags=layer_flags(self._layer_stats, ev["train_loss"], self._start_loss),
            weights=weights[0] if weights else None, weights_step=weights[1] if weights else None,
            samples=self._samples(),
            network=self._network_state(now),
            path=self._path.frozen(self.step_count, self.network.params),
        )

    def _samples(self) -> Samples | None:
        """The data's fixed sample images with the network's predictions now (image data
        only); the images are picked once per data set."""
        if self._sample_set is None or self._sample_set[0] is not self.data:
            self._sample_set = (self.data, sample_images(self.data))
        images = self._sample_set[1]
        return None if images is None else predict_samples(self.network, images, self.step_count)

    def _copy_weights(self, now: float) -> tuple[tuple[np.ndarray, ...], int] | None:
        """The weights for a snapshot: copied now when asked and due, else the last copy."""
        if self.weights_interval is None:
            self._weights = None
            return None
        stale = self._weights is None or self._weights[1] != self.step_count
        if not self.running or (stale and now - self._weights_time >= self.weights_interval):
            self._weights = (tuple(frozen_array(layer.W, np.float64)
                                   for layer in self.network.layers), self.step_count)
            self._weights_time = now
        return self._weights

    def _network_state(self, now: float) -> NetworkState | None:
        """The network view's state for a snapshot: made now when asked and due (while a
        run goes, at most every ``network_interval`` seconds and at most a tenth of the
        time), else the last one."""
        if self.network_interval is None:
            self._network = None
            return None
        last = self._network
        stale = last is None or (last.step, last.edits) != (self.step_count, self._edits)
        wait = max(self.network_interval, 10 * self._network_cost)
        if not self.running or (stale and now - self._network_time >= wait):
            grads, grads_step = self._view_grads or (None, None)
            self._network = network_state(self.network, self.data, grads, grads_step,
                                          self.step_count, self._edits, self.map_resolution)
            self._network_time = time.perf_counter()
            self._network_cost = self._network_time - now
        return self._network

    def snapshot(self) -> Snapshot:
        """The latest snapshot; made fresh when no run is going."""
        with self._runner.lock:
            if not self.running:
                self.latest = self.make_snapshot()
            return self.latest
