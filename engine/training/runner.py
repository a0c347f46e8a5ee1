"""The run loop: training on one thread, commands from any other.

A ``Runner`` drives a trainer through its public steps (``advance``, ``make_snapshot``)
until a stop condition, a pause or a divergence. While a run goes, commands from other
threads wait in a queue and are applied between two steps, on the training thread, so a
step never sees half a change. The pace (epochs a second) and the speed limit (steps a
second) make the loop wait between steps, leaving the interpreter to other threads.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import numpy as np

from ..errors import EngineError
from .snapshot import Snapshot

SnapshotCallback = Callable[[Snapshot], None]


class Trainee(Protocol):
    """What a runner needs of the trainer it drives (``engine.training.trainer.Trainer``)."""

    latest: Snapshot | None
    snapshot_hz: float
    step_count: int
    epoch: int

    @property
    def steps_per_epoch(self) -> int: ...
    @property
    def diverged(self) -> bool: ...
    def advance(self) -> tuple[bool, dict | None]: ...
    def make_snapshot(self, ev: dict | None = None) -> Snapshot: ...
    def begin_run(self) -> None: ...
    def end_run(self, finished: str | None) -> None: ...
    def account(self, seconds: float, steps: int) -> None: ...


class Runner:
    """Runs one trainer; see the module docstring."""

    def __init__(self, trainer: Trainee):
        self.trainer = trainer
        self.lock = threading.RLock()
        self.commands: deque[Callable[[], None]] = deque()
        self.running = False
        self.speed_limit: float | None = None  #: steps a second at most (None: no limit)
        self.pace: float | None = None  #: epochs a second at most (None: no limit)
        self._pause = threading.Event()
        self._wake = threading.Event()
        self._hold_until = 0.0

    # ----- any thread ------------------------------------------------------------------
    def submit(self, command: Callable[[], None]) -> None:
        """Apply ``command`` now, or between two steps of a run (on the training thread)."""
        with self.lock:
            if self.running:
                self.commands.append(command)
            else:
                command()
                self.trainer.latest = self.trainer.make_snapshot()

    def pause(self) -> None:
        """Ask a running ``run`` to return after the current step."""
        self._pause.set()
        self._wake.set()

    def wake(self) -> None:
        """A setting changed: a waiting loop looks again at once."""
        self._wake.set()

    def hold(self, seconds: float) -> None:
        """Stand aside for up to ``seconds``, e.g. while a display answers a key press."""
        self._wake.clear()
        self._hold_until = time.perf_counter() + seconds

    def release_hold(self) -> None:
        self._hold_until = 0.0
        self._wake.set()

    @contextmanager
    def idle(self, doing: str) -> Iterator[None]:
        """Hold still (no command or step runs meanwhile) for ``doing``; refused with
        EngineError while a run goes."""
        with self.lock:
            if self.running:
                raise EngineError(f"the trainer is running; pause it to {doing}")
            yield

    def step_gap(self) -> float:
        """Seconds a step must take at least under the pace and speed limit (0: none)."""
        gap = 1.0 / self.speed_limit if self.speed_limit else 0.0
        if self.pace:
            gap = max(gap, 1.0 / (self.pace * self.trainer.steps_per_epoch))
        return gap

    # ----- the training thread ---------------------------------------------------------
    def run(self, *, max_steps: int | None = None, max_epochs: int | None = None,
            target_loss: float | None = None, target_accuracy: float | None = None,
            on_snapshot: SnapshotCallback | None = None,
            on_epoch: SnapshotCallback | None = None) -> Snapshot:
        """See ``Trainer.run``."""
        trainer = self.trainer
        with self.lock:
            if self.running:
                raise EngineError("the trainer is already running")
            if trainer.diverged:
                return trainer.latest
            self.running = True
            self._pause.clear()
            trainer.begin_run()
        interval = 1.0 / trainer.snapshot_hz if trainer.snapshot_hz > 0 else math.inf
        commands, pause = self.commands, self._pause
        steps_done = 0
        finished: str | None = None  # why the run ended on its own, if it did
        last = time.perf_counter()
        last_step = trainer.step_count
        next_snapshot = last + interval
        step_due = last  # under a pace: when the next step may start
        quiet = np.errstate(all="ignore")  # overflow is caught by the trainer as divergence
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
                if max_epochs is not None and trainer.epoch >= max_epochs:
                    finished = f"trained its {max_epochs} epochs"
                    break
                gap = self.step_gap()
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
                stepped, ev = trainer.advance()
                if not stepped:
                    break
                steps_done += 1
                if ev is not None:
                    if on_epoch is not None:
                        on_epoch(trainer.make_snapshot(ev))
                    finished = reached(ev, target_loss, target_accuracy)
                    if finished:
                        break
                now = time.perf_counter()
                if now >= next_snapshot:
                    trainer.account(now - last, trainer.step_count - last_step)
                    last, last_step = now, trainer.step_count
                    next_snapshot = now + interval
                    snap = trainer.latest = trainer.make_snapshot(ev)
                    if on_snapshot is not None:
                        on_snapshot(snap)
        finally:
            quiet.__exit__(None, None, None)
            with self.lock:
                while commands:
                    commands.popleft()()
                trainer.account(time.perf_counter() - last, trainer.step_count - last_step)
                trainer.end_run(finished)
                self.running = False
                trainer.latest = trainer.make_snapshot()
        if on_snapshot is not None:
            on_snapshot(trainer.latest)
        return trainer.latest


def reached(ev: dict, target_loss: float | None, target_accuracy: float | None) -> str | None:
    """Why an epoch end's evaluation ends the run (None: it does not): the training loss
    for ``target_loss``; test accuracy (train accuracy without a test split) for
    ``target_accuracy``."""
    if target_loss is not None and ev["train_loss"] <= target_loss:
        return f"reached the target loss {target_loss:g}"
    acc = ev["test_accuracy"] if ev["test_accuracy"] is not None else ev["train_accuracy"]
    if target_accuracy is not None and acc is not None and acc >= target_accuracy:
        return f"reached the target accuracy {target_accuracy:.0%}"
    return None
