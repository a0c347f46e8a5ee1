"""The trainer: batching, determinism, divergence, live changes, threads, snapshots."""

import dataclasses
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest

import engine
from engine.config import Config
from engine.errors import ConfigError, EngineError
from engine.training.trainer import Trainer


def config(**training):
    return Config.from_dict({
        "data": {"dataset": "xor", "samples": 100, "train_ratio": 0.5, "noise": 0.1},
        "model": {"layers": [{"units": 6, "activation": "tanh"}]},
        "training": {"optimizer": "sgd", "lr": 0.1, "batch_size": 16, "momentum": 0.9, **training},
    })


def test_epochs_use_the_last_partial_batch_and_reshuffle():
    from engine.training.batches import BatchOrder

    tr = engine.Trainer(config())
    assert tr.steps_per_epoch == 4  # 50 samples: 16 + 16 + 16 + 2
    X, Y = tr.train_set
    order = BatchOrder(X, Y, 16, seed=0)
    seen, ends = [], []
    for _ in range(4):
        bx, _, end = order.next()
        seen.append(bx.copy())
        ends.append(end)
    assert [len(b) for b in seen] == [16, 16, 16, 2] and ends == [False, False, False, True]
    rows = np.concatenate(seen)
    assert sorted(map(tuple, rows)) == sorted(map(tuple, X))
    X2, _, _ = order.next()
    assert not np.array_equal(X2, seen[0])  # a new order each epoch
    tr.step(4)
    assert tr.epoch == 1 and tr.steps_to_epoch_end == 4


def test_full_batch_is_one_step_per_epoch():
    tr = engine.Trainer(config(batch_size="full"))
    tr.step(3)
    assert tr.steps_per_epoch == 1 and tr.epoch == 3


def test_same_seed_same_curve_also_after_reset():
    a, b = engine.Trainer(config()), engine.Trainer(config())
    sa, sb = a.step(40), b.step(40)
    assert np.array_equal(a.network.params, b.network.params)
    assert sa.train_loss == sb.train_loss
    a.reset()
    a.step(40)
    assert np.array_equal(a.network.params, b.network.params)
    a.reset(seed=5)
    assert not np.array_equal(a.network.params, b.network.params)
    assert a.latest.step == 0 and a.latest.seed == 5


def test_training_lowers_the_loss():
    tr = engine.Trainer(engine.load_preset("xor"))
    before = tr.latest.train_loss
    snap = tr.run(max_epochs=30)
    assert snap.state == "finished" and snap.epoch == 30
    assert snap.train_loss < before / 5 and snap.train_accuracy > 0.95


def test_divergence_stops_and_keeps_finite_weights():
    tr = engine.Trainer(config(lr=100.0, momentum=0.99, batch_size="full").with_value(
        "model.layers[0].activation", "relu").with_value("model.init", "normal").with_value(
        "model.init_std", 50.0).with_value("data.dataset", "plane"))
    snap = tr.run(max_steps=5000)
    assert snap.state == "diverged"
    assert snap.diverged_step is not None and f"step {snap.diverged_step}" in snap.reason
    assert "inf" in snap.reason or "nan" in snap.reason.lower()
    assert np.all(np.isfinite(tr.network.params))
    assert tr.step(5).step == snap.step  # no more steps until reset
    tr.reset()
    assert tr.latest.state == "idle"


def test_set_hyper_validates_and_keeps_optimizer_state():
    tr = engine.Trainer(config())
    tr.step(3)
    buf = tr.optimizer.state["momentum_buffer"].copy()
    tr.set_hyper(lr=0.01, momentum=0.5)
    assert tr.optimizer.lr == 0.01 and tr.optimizer.momentum == 0.5
    np.testing.assert_array_equal(tr.optimizer.state["momentum_buffer"], buf)
    with pytest.raises(ConfigError, match="training.lr: -1 is not allowed"):
        tr.set_hyper(lr=-1)
    assert tr.optimizer.lr == 0.01 and tr.config.training.lr == 0.01


def test_apply_config_rebuilds_only_when_needed():
    tr = engine.Trainer(config())
    tr.step(5)
    assert tr.apply_config(tr.config.with_value("training.lr", 0.05)) is False
    assert tr.step_count == 5 and tr.optimizer.lr == 0.05
    assert tr.apply_config(tr.config.with_value("model.layers[0].units", 3)) is True
    assert tr.step_count == 0 and tr.network.layers[0].W.shape == (2, 3)


def test_commands_from_another_thread_apply_between_steps():
    tr = engine.Trainer(config(), snapshot_hz=50)
    snaps = []
    worker = threading.Thread(target=tr.run, kwargs={"on_snapshot": snaps.append})
    worker.start()
    time.sleep(0.3)
    tr.set_lr(0.003)
    time.sleep(0.2)
    tr.pause()
    worker.join(5)
    assert not worker.is_alive()
    last = tr.latest
    assert last.state == "paused" and last.lr == 0.003 and last.step > 0
    assert 2 <= len(snaps) <= 0.5 * 50 * 1.5 + 2  # bounded by the snapshot rate
    assert all(a.step <= b.step for a, b in zip(snaps, snaps[1:]))


def test_snapshots_are_immutable_and_history_bounded():
    tr = engine.Trainer(config(), history_points=64)
    for _ in range(200):
        snap = tr.step(1)
    assert len(snap.history) <= 64 and snap.history.steps[-1] <= 200
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.step = 3
    with pytest.raises(ValueError):
        snap.history.train_loss[0] = 1.0
    assert snap.boundary.values.shape == tr.grid_shape and not snap.boundary.values.flags.writeable
    layer = snap.layers[0]
    assert layer.grad_norm > 0 and layer.weight_norm > 0 and 0 < layer.update_ratio < 1
    assert snap.train_accuracy is not None and snap.points.train_xy.shape == (50, 2)


def test_target_accuracy_stops_the_run():
    tr = engine.Trainer(engine.load_preset("xor"), snapshot_hz=1000)
    snap = tr.run(target_accuracy=0.9, max_epochs=500)
    assert snap.state == "finished" and snap.test_accuracy >= 0.9 and snap.epoch < 500


def test_hold_makes_a_run_stand_aside_until_released():
    tr = engine.Trainer(config(), snapshot_hz=50)
    worker = threading.Thread(target=tr.run)
    worker.start()
    try:
        time.sleep(0.1)
        tr.hold(5.0)
        time.sleep(0.05)  # the step in flight finishes
        held_at = tr.step_count
        time.sleep(0.2)
        assert tr.step_count == held_at  # no training while held
        tr.release_hold()
        time.sleep(0.1)
        assert tr.step_count > held_at
    finally:
        tr.pause()
        worker.join(5)
    assert not worker.is_alive()


def test_peek_batch_is_the_next_steps_batch_and_changes_nothing():
    from engine.presets import load_preset
    from engine.training.batches import BatchOrder

    tr = Trainer(load_preset("xor"))
    X, Y = tr.train_set
    order = BatchOrder(X, Y, 32, seed=tr.seed)  # the trainer's own order, step for step
    for _ in range(9):  # across an epoch boundary (200 samples, batches of 32)
        bx, by, rows = tr.peek_batch()
        again = tr.peek_batch()
        assert np.array_equal(again[0], bx) and again[2] == rows  # peeking twice: same
        assert np.array_equal(X[rows], bx) and np.array_equal(Y[rows], by)
        nx, ny, _ = order.next()  # what the step really takes
        assert np.array_equal(nx, bx) and np.array_equal(ny, by)
        tr.step(1)


@contextmanager
def running(tr: Trainer):
    """``tr.run`` going in a thread (from its first snapshot) while the block runs."""
    started = threading.Event()
    thread = threading.Thread(target=lambda: tr.run(on_snapshot=lambda s: started.set()))
    thread.start()
    started.wait(5)
    try:
        yield
    finally:
        tr.pause()
        thread.join(5)


def test_still_refuses_while_running_and_holds_otherwise():
    from engine.presets import load_preset

    tr = Trainer(load_preset("xor"))
    with tr.still("look"):
        assert not tr.running
    with running(tr):
        with pytest.raises(EngineError, match="the trainer is running; pause it to look"):
            with tr.still("look"):
                pass


def test_a_pickled_trainer_goes_on_exactly_as_the_original():
    import copy
    import pickle

    from engine.presets import load_preset

    for preset in ("xor", "softmax-spiral"):
        tr = Trainer(load_preset(preset))
        tr.step(13)  # mid-epoch, with optimizer state and a shuffled order
        twins = [pickle.loads(pickle.dumps(tr)), copy.deepcopy(tr)]
        tr.step(40)
        for twin in twins:
            twin.step(40)
            assert np.array_equal(twin.network.params, tr.network.params)
            assert (twin.step_count, twin.epoch) == (tr.step_count, tr.epoch)
            assert np.array_equal(twin.latest.history.train_loss, tr.latest.history.train_loss)
            # a copy is independent: its weights are its own, its layers view them
            twin.network.params[0] += 1.0
            assert twin.network.layers[0].W.flat[0] == twin.network.params[0]
            assert tr.network.params[0] != twin.network.params[0]


def test_a_running_trainer_is_not_copied():
    import pickle

    from engine.presets import load_preset

    tr = Trainer(load_preset("xor"))
    with running(tr):
        with pytest.raises(EngineError, match="pause it to copy it"):
            pickle.dumps(tr)


def test_snapshots_carry_the_weights_only_when_asked():
    from engine.presets import load_preset

    tr = Trainer(load_preset("xor"))
    assert tr.step(3).weights is None
    tr.weights_interval = 0.5
    snap = tr.step(1)
    assert snap.weights_step == 4 and len(snap.weights) == len(tr.network.layers)
    for w, layer in zip(snap.weights, tr.network.layers):
        assert np.array_equal(w, layer.W) and not w.flags.writeable
    tr.step(1)
    assert not np.array_equal(snap.weights[0], tr.network.layers[0].W)  # a copy, kept
    tr.weights_interval = None
    assert tr.step(1).weights is None


def test_large_splits_are_sampled_while_running_and_whole_at_epoch_ends():
    from engine.training import probe
    from engine.training.trainer import LIVE_EVAL_ROWS

    big = engine.Config.from_dict({
        "data": {"dataset": "circle", "samples": 3 * LIVE_EVAL_ROWS, "train_ratio": 0.5},
        "model": {"layers": [{"units": 4, "activation": "tanh"}]},
        "training": {"optimizer": "adam", "lr": 0.01, "batch_size": 64},
    })
    tr = Trainer(big, snapshot_hz=100_000)  # a snapshot falls due at almost every step
    live, epochs = [], []
    snap = tr.run(max_epochs=1, on_snapshot=live.append, on_epoch=epochs.append)
    mid = [s for s in live if s.state == "running" and s.step % tr.steps_per_epoch]
    assert mid and all(s.sampled for s in mid)  # cheap while running
    assert not epochs[0].sampled and not snap.sampled  # the record and a still frame: whole
    assert snap.train_loss == pytest.approx(tr.evaluate()["train_loss"])
    assert tr.latest.history.train_loss[-1] == pytest.approx(snap.train_loss)
    # chunked evaluation agrees with one pass over the whole split
    X, Y = tr.train_set
    z, out = tr.network.infer(X)
    whole = tr.network.loss_function(tr.loss_name).value(z, out, Y)
    assert probe.evaluate(tr.network, tr.loss_name, "classification", X, Y)[0] == \
        pytest.approx(whole, rel=1e-5)


def test_two_quick_live_changes_are_both_kept():
    """A config-pane edit (momentum) then + (lr) during a run: neither undoes the other."""
    tr = Trainer(config())  # sgd with momentum 0.9
    tr.set_hyper(momentum=0.0)
    tr.speed_limit = 200.0  # a run that is going while both changes wait in the queue
    with running(tr):
        tr.set_hyper(momentum=0.5)
        tr.set_lr(0.1)
    assert tr.config.training.momentum == 0.5 and tr.config.training.lr == 0.1
    assert tr.optimizer.momentum == 0.5 and tr.optimizer.lr == 0.1


def test_a_config_too_big_for_memory_is_refused_before_anything_is_built():
    from engine.errors import ConfigError
    from engine.presets import load_preset

    huge = load_preset("xor").config.with_layers(
        [{"units": 4096, "activation": "relu"}] * 32).with_value("model.dtype", "float64")
    with pytest.raises(ConfigError, match="needs about .* GB.*allowed"):
        Trainer(huge)
    tr = Trainer(load_preset("xor"))
    tr.step(3)
    with pytest.raises(ConfigError, match="needs about"):
        tr.apply_config(huge)
    assert tr.step_count == 3 and tr.config.model.layers[0].units == 8  # the run is kept
