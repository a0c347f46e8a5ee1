"""engine.background: a Trainer's run taken in a child process."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.background import TrainingProcess
from engine.errors import EngineError
from engine.presets import load_preset
from engine.trainer import Trainer


@pytest.fixture(scope="module")
def process():
    proc = TrainingProcess()
    proc.start()
    yield proc
    proc.close()


def run_in_thread(process, trainer, **stop):
    """Start ``process.run`` in a thread; returns (thread, first-snapshot event, result)."""
    started = threading.Event()
    result: dict = {}

    def go():
        try:
            result["snap"] = process.run(trainer, on_snapshot=lambda s: started.set(), **stop)
        except Exception as exc:  # noqa: BLE001 - the test reads it
            result["error"] = exc

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread, started, result


def test_a_run_elsewhere_ends_exactly_where_a_local_run_ends(process):
    here, there = Trainer(load_preset("xor")), Trainer(load_preset("xor"))
    here.step(5)
    there.step(5)
    here.run(max_steps=300)
    seen = []
    snap = process.run(there, on_snapshot=seen.append, max_steps=300)
    assert np.array_equal(there.network.params, here.network.params)
    assert (there.step_count, there.epoch) == (here.step_count, here.epoch) == (305, 305 // 7)
    assert snap is there.latest and snap.step == 305 and not there.running
    assert seen and seen[-1].step == 305  # snapshots came back, the last one final
    # the trainer goes on here as if it had trained here
    here.step(3)
    there.step(3)
    assert np.array_equal(there.network.params, here.network.params)


def test_commands_reach_the_run_and_pause_ends_it(process):
    trainer = Trainer(load_preset("xor"))
    trainer.speed_limit = 2000.0  # a run long enough to send it commands
    thread, started, result = run_in_thread(process, trainer)
    assert started.wait(10)
    assert trainer.running
    with pytest.raises(EngineError):
        trainer.step(1)  # the trainer is busy elsewhere
    trainer.set_lr(0.005)
    trainer.pause()
    thread.join(10)
    assert not thread.is_alive() and "error" not in result
    assert not trainer.running and trainer.latest.state == "paused"
    assert trainer.optimizer.lr == 0.005 and trainer.config.training.lr == 0.005
    assert trainer.step_count > 0 and trainer.latest.step == trainer.step_count


def test_a_command_too_late_for_the_run_is_applied_here(process):
    trainer = Trainer(load_preset("xor"))
    seq = {"n": 0}

    def relay(name, *args, **kwargs):  # a child that never answers: nothing is applied there
        seq["n"] += 1
        return seq["n"]

    trainer._begin_elsewhere(relay)
    trainer.set_lr(0.002)
    assert trainer.optimizer.lr != 0.002  # queued: the run elsewhere has it
    trainer._end_elsewhere(None, 0)  # the run ended before the child applied it
    assert trainer.optimizer.lr == 0.002 and not trainer.running


def test_a_lost_child_leaves_the_trainer_as_it_was():
    process = TrainingProcess()
    trainer = Trainer(load_preset("xor"))
    trainer.step(4)
    before = trainer.network.params.copy()
    trainer.speed_limit = 500.0
    thread, started, result = run_in_thread(process, trainer)
    assert started.wait(10)
    process._proc.kill()
    thread.join(10)
    assert isinstance(result.get("error"), EngineError)
    assert "ended unexpectedly" in str(result["error"])
    assert not trainer.running and trainer.step_count == 4
    assert np.array_equal(trainer.network.params, before)
    process.close()
