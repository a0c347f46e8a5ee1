"""Training in another process, so that the caller's interpreter stays free.

A display that trains in a thread of its own interpreter shares the GIL with training:
every millisecond it draws is a millisecond training loses. ``TrainingProcess.run``
takes the same arguments as ``Trainer.run`` and behaves the same for the caller, but the
steps are taken by a copy of the trainer in a child process:

- the trainer is copied to the child (``pickle``: weights, optimizer state, data order,
  generator, history) and marked running here;
- the child's snapshots come back and become the trainer's ``latest`` here, with its
  step and epoch (and, after ``want_weights(True)``, copies of the weights every
  ``WEIGHTS_EVERY`` seconds, as ``TrainingProcess.weights``);
- commands given to the trainer meanwhile (``pause``, ``set_hyper``, ``apply_config``,
  ``reset``, ``speed_limit``) are checked here as always, then relayed to the child,
  which applies them between two steps;
- when the run ends, the child's trainer is copied back into this one. A command that
  reached the child too late for its run is applied here instead.

One child serves any number of runs, one at a time. It is started on first use (or by
``start``) and ends with ``close`` or with this process.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from .errors import EngineError
from .snapshot import Snapshot

WEIGHTS_EVERY = 0.5  #: seconds between copies of the weights, when they are asked for


class TrainingProcess:
    """A child process that takes the steps of ``Trainer.run`` calls; see the module."""

    def __init__(self) -> None:
        self._proc = None
        self._commands = None  #: our end of the pipe to the child (commands and runs)
        self._events = None  #: our end of the pipe from the child (snapshots, results)
        self._send_lock = threading.Lock()
        self._seq = 0
        self._want_weights = False
        #: the newest copies of the weights from the child, with the snapshot they came
        #: with: (snapshot, (W, ...)), or None
        self.weights: tuple[int, tuple] | None = None

    # ----- the child ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the child now (it takes a moment to import NumPy), if not running yet."""
        if self._proc is not None and self._proc.poll() is None:
            return
        # a plain subprocess (not multiprocessing's spawn, which would re-run the caller's
        # main module, and needs a real stderr): its stdin and stdout are the two pipes
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen([sys.executable, "-m", "engine.background"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, close_fds=True)
        self._commands = Connection(os.dup(proc.stdin.fileno()), readable=False)
        self._events = Connection(os.dup(proc.stdout.fileno()), writable=False)
        proc.stdin.close()
        proc.stdout.close()
        self._proc = proc

    def close(self) -> None:
        """End the child (a run in progress is abandoned)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            with self._send_lock:
                self._commands.send(("quit",))
        except (OSError, ValueError):
            pass
        try:
            proc.wait(2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(2)
        for conn in (self._commands, self._events):
            conn.close()
        self._commands = self._events = None

    # ----- a run -------------------------------------------------------------------------
    def run(self, trainer, *, on_snapshot: Callable[[Snapshot], None] | None = None,
            **stop_conditions) -> Snapshot:
        """``trainer.run(on_snapshot=..., **stop_conditions)``, with the steps taken in the
        child. Blocks until the run ends (call it from a worker thread)."""
        payload = trainer._begin_elsewhere(self._relay)
        if payload is None:  # nothing to run (a diverged trainer)
            return trainer.latest
        try:
            self.start()
            with self._send_lock:
                self._commands.send(("run", payload, stop_conditions, self._want_weights))
            while True:
                kind, *rest = self._events.recv()
                if kind == "snap":
                    snap, step, epoch, weights = rest
                    if weights is not None:
                        self.weights = (snap, weights)
                    trainer._follow(snap, step, epoch)
                    if on_snapshot is not None:
                        on_snapshot(snap)
                elif kind == "done":
                    state, applied = rest
                    with self._send_lock:
                        self._commands.send(("end",))
                    trainer._end_elsewhere(vars(pickle.loads(state)), applied)
                    return trainer.latest
                elif kind == "error":
                    message, applied = rest
                    with self._send_lock:
                        self._commands.send(("end",))
                    trainer._end_elsewhere(None, applied)
                    raise EngineError(f"training stopped: {message}")
        except (EOFError, OSError) as exc:
            self.close()
            raise EngineError(f"the training process ended unexpectedly ({exc or 'no reply'})"
                              ) from exc
        finally:
            trainer._end_elsewhere(None, 0)  # after a failure: the trainer as it was

    def want_weights(self, flag: bool) -> None:
        """Ask for copies of the weights with the snapshots (now and in later runs)."""
        self._want_weights = bool(flag)
        self._relay("weights", bool(flag))

    def _relay(self, name: str, *args, **kwargs) -> int:
        """Send one command to the child; returns its sequence number."""
        with self._send_lock:
            self._seq += 1
            if self._commands is not None:
                try:
                    self._commands.send(("cmd", self._seq, name, args, kwargs))
                except (OSError, ValueError):
                    pass  # the run is ending: the command is applied here instead
            return self._seq


# ----- the child's side -------------------------------------------------------------------
def main() -> None:
    """The child's entry (``python -m engine.background``): stdin brings runs and commands,
    stdout takes snapshots and results; anything else printed goes to stderr."""
    commands = Connection(os.dup(0), writable=False)
    events = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)  # a stray print must not land in the pipe
    _serve(commands, events)


def _serve(commands, events) -> None:
    """The child: take runs one at a time until told to quit."""
    from .network import Network  # noqa: F401 - imported before the first run arrives
    from .trainer import Trainer  # noqa: F401

    while True:
        try:
            message = commands.recv()
        except EOFError:
            return
        if message[0] == "quit":
            return
        if message[0] != "run":
            continue  # a command that arrived after its run ended
        _, payload, stop, want_weights = message
        _run_one(pickle.loads(payload), stop, want_weights, commands, events)


def _run_one(trainer, stop: dict, want_weights: bool, commands, events) -> None:
    gate = threading.Lock()
    state = {"closed": False, "applied": 0, "weights": want_weights, "weights_at": 0.0}

    def listen() -> None:
        while True:
            try:
                message = commands.recv()
            except EOFError:
                trainer.pause()
                return
            if message[0] in ("end", "quit"):
                return
            _, seq, name, args, kwargs = message
            with gate:
                if state["closed"]:
                    continue  # too late for this run: the parent applies it
                try:
                    if name == "weights":
                        state["weights"] = bool(args[0])
                    elif name == "speed_limit":
                        trainer.speed_limit = args[0]
                    else:
                        getattr(trainer, name)(*args, **kwargs)
                except Exception:  # noqa: BLE001 - checked in the parent already
                    pass
                state["applied"] = seq

    def on_snapshot(snap) -> None:
        weights = None
        now = time.perf_counter()
        if state["weights"] and (now - state["weights_at"] >= WEIGHTS_EVERY
                                 or snap.state != "running"):
            state["weights_at"] = now
            weights = tuple(layer.W.copy() for layer in trainer.network.layers)
        events.send(("snap", snap, trainer.step_count, trainer.epoch, weights))

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    error = None
    try:
        trainer.run(on_snapshot=on_snapshot, **stop)
    except Exception as exc:  # noqa: BLE001 - reported to the parent in one line
        error = f"{type(exc).__name__}: {exc}"
    with gate:
        state["closed"] = True
        applied = state["applied"]
    if error is None:
        events.send(("done", pickle.dumps(trainer), applied))
    else:
        events.send(("error", error, applied))
    listener.join()


if __name__ == "__main__":
    main()
