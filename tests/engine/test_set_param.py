"""Setting one weight or bias by hand: the next step trains from it (against a hand-made
SGD step and a twin trainer given the same weight directly), during a run it lands
between two steps, the inspector's breakdown sees it, and bad requests are refused in one
line without changing anything."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from cli.explain import to_dict
from engine.analysis import explain as ex
from engine.checkpoint import save_checkpoint
from engine.config import Config
from engine.errors import EngineError
from engine.opening import open_run
from engine.training.trainer import Trainer

LR = 0.05


def config(optimizer: str = "sgd") -> Config:
    return Config.from_dict({
        "data": {"dataset": "xor", "samples": 80},
        "model": {"layers": [{"units": 5, "activation": "tanh"}, {"units": 3}]},
        "training": {"optimizer": optimizer, "lr": LR, "batch_size": 10, "momentum": 0.0},
    })


def test_the_next_step_uses_the_edited_weight():
    trainer = Trainer(config())
    trainer.set_param(1, 2, 0, 0.75)  # W2[2, 0]
    trainer.set_param(0, 4, None, -1.5)  # b1[4]
    net = trainer.network
    assert net.layers[1].W[2, 0] == np.float32(0.75) and net.layers[0].b[4] == np.float32(-1.5)
    # the step by hand: SGD from the edited weights on the batch the trainer will use
    X, Y, _ = trainer.peek_batch()
    before = net.params.copy()
    _, grads = net.copy().loss_and_grads(X, Y, trainer.loss_name)
    expected = before - np.float32(LR) * grads.flat
    trainer.step(1)
    np.testing.assert_allclose(net.params, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_an_edit_is_the_same_as_a_trainer_built_with_that_weight(optimizer):
    edited, twin = Trainer(config(optimizer)), Trainer(config(optimizer))
    edited.step(4)
    twin.step(4)
    edited.set_param(0, 1, 3, "-2.25")  # typed text is taken too
    twin.network.layers[0].W[1, 3] = -2.25
    edited.step(5)
    twin.step(5)
    np.testing.assert_array_equal(edited.network.params, twin.network.params)
    assert edited.latest.train_loss == twin.latest.train_loss


def test_during_a_run_the_edit_lands_between_two_steps():
    """Asked for on the training thread after step 1 of a run (its first snapshot), the
    edit applies before step 2: the result is step 1, the edit, then the other steps."""
    trainer, twin = Trainer(config(), snapshot_hz=1e9), Trainer(config())
    asked = []

    def on_snapshot(snap):
        if not asked and trainer.running:
            asked.append(snap.step)
            trainer.set_param(1, 0, None, 0.5)
            assert trainer.network.layers[1].b[0] != np.float32(0.5)  # queued, not yet

    done = threading.Event()
    worker = threading.Thread(target=lambda: (trainer.run(max_steps=6, on_snapshot=on_snapshot),
                                              done.set()))
    worker.start()
    worker.join(30)
    assert done.is_set() and asked == [1]
    twin.step(1)
    twin.network.layers[1].b[0] = 0.5
    twin.step(5)
    np.testing.assert_array_equal(trainer.network.params, twin.network.params)


def test_the_snapshot_the_inspector_and_explain_see_the_edit(tmp_path):
    trainer = Trainer(config())
    trainer.network_interval = 0.2
    trainer.step(2)
    trainer.set_param(0, 0, 2, 1.25)
    state = trainer.latest.network
    assert state.W[0][0, 2] == 1.25 and state.edits == 1 and state.step == 2
    breakdown = ex.explain_trainer(trainer, None)
    np.testing.assert_array_equal(breakdown.params_before, trainer.network.params)
    W0 = trainer.network.layer_views(breakdown.params_before)[0][0]
    assert W0[0, 2] == np.float32(1.25)
    assert to_dict(breakdown)["layers"][0]["W"][0][2] == 1.25
    # a checkpoint keeps it: ``backprop-lab explain`` on the saved run shows it
    path = tmp_path / "edited.npz"
    save_checkpoint(trainer, path)
    reopened = open_run(str(path)).trainer()
    assert to_dict(ex.explain_trainer(reopened, None))["layers"][0]["W"][0][2] == 1.25


@pytest.mark.parametrize("args, message", [
    ((3, 0, 0, 1.0), "layer 3 is out of range (0 to 2)"),
    ((-1, 0, 0, 1.0), "layer -1 is out of range (0 to 2)"),
    ((0, 2, 0, 1.0), "layer 0: input row 2 is out of range (0 to 1)"),
    ((0, 0, 5, 1.0), "layer 0: unit column 5 is out of range (0 to 4)"),
    ((2, 1, None, 1.0), "layer 2: unit 1 is out of range (0 to 0)"),
    ((0, 1.0, 0, 1.0), "layer 0: input row must be a whole number, not float"),
    ((0, 0, 0, float("nan")), "layer 0 W[0, 0]: nan is not allowed; use a number >= -100 and <= 100"),
    ((0, 0, 0, float("inf")), "layer 0 W[0, 0]: inf is not allowed"),
    ((0, 0, 0, 100.5), "layer 0 W[0, 0]: 100.5 is not allowed; use a number >= -100 and <= 100"),
    ((1, 0, None, -1e6), "layer 1 b[0]: -1000000.0 is not allowed"),
    ((1, 0, None, "abc"), "layer 1 b[0]: 'abc' is not allowed; use a number"),
    ((1, 0, None, ""), "layer 1 b[0]: '' is not allowed"),
    ((1, 0, None, True), "layer 1 b[0]: True is not allowed"),
    ((1, 0, None, "\x1b[2J" + "9" * 60), "layer 1 b[0]: '\\x1b[2J9999"),
    ((1, 0, None, None), "layer 1 b[0]: None is not allowed"),
])
def test_refusals_are_one_line_and_change_nothing(args, message):
    trainer = Trainer(config())
    before = trainer.network.params.copy()
    with pytest.raises(EngineError) as err:
        trainer.set_param(*args)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
    np.testing.assert_array_equal(trainer.network.params, before)


def test_the_bounds_themselves_are_allowed():
    trainer = Trainer(config())
    trainer.set_param(0, 0, 0, -100)
    trainer.set_param(0, 0, None, "100")
    assert trainer.network.layers[0].W[0, 0] == -100 and trainer.network.layers[0].b[0] == 100


def test_an_edit_asked_before_a_rebuild_does_not_land_on_the_new_network():
    trainer = Trainer(config())
    old = trainer.network
    trainer._runner.running = True  # as during a run: commands wait in the queue
    try:
        trainer.set_param(0, 0, 0, 3.0)
        bigger = config().with_value("model.layers[0].units", 7)
        trainer.apply_config(bigger)
    finally:
        trainer._runner.running = False
    while trainer._runner.commands:
        trainer._runner.commands.popleft()()
    assert trainer.network is not old and trainer.network.sizes[1] == 7
    assert trainer.network.layers[0].W[0, 0] != np.float32(3.0)
