"""The network state a snapshot carries: each unit's map is its activation on the grid
(computed here from the weights with plain NumPy), the weights and gradients are the
trainer's, and the maps come coarser (or not at all) for large networks."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import Config
from engine.training import neuron_maps as nm
from engine.training.trainer import Trainer

FEATURES = {  # each feature written out again, independently of engine.data
    "x1": lambda a, b: a, "x2": lambda a, b: b, "x1^2": lambda a, b: a ** 2,
    "x2^2": lambda a, b: b ** 2, "x1*x2": lambda a, b: a * b,
    "sin(x1)": lambda a, b: np.sin(a), "sin(x2)": lambda a, b: np.sin(b),
}
ACTS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0), "linear": lambda z: z,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z))}


def config(features=("x1", "x2"), layers=((6, "tanh"), (4, "relu")), **data) -> Config:
    return Config.from_dict({
        "data": {"dataset": "circle", "samples": 120, "features": list(features), **data},
        "model": {"layers": [{"units": u, "activation": a} for u, a in layers]},
        "training": {"optimizer": "sgd", "lr": 0.1, "batch_size": 16},
    })


def grid_features(extent, R, features) -> np.ndarray:
    """(R*R, n_in): row 0 of the grid at y_max, column 0 at x_min."""
    x0, x1, y0, y1 = extent
    xs, ys = np.linspace(x0, x1, R), np.linspace(y1, y0, R)
    a = np.tile(xs, R)
    b = np.repeat(ys, R)
    return np.column_stack([FEATURES[f](a, b) for f in features])


def by_hand(state: nm.NetworkState, X: np.ndarray) -> list[np.ndarray]:
    """Every layer's activations (n, units) from the state's own W and b."""
    out, a = [], X
    for W, b, act in zip(state.W, state.b, state.activations):
        a = ACTS[act](a @ W + b)
        out.append(a)
    return out


@pytest.mark.parametrize("features", [("x1", "x2"), ("x1", "x2", "x1^2", "x1*x2", "sin(x2)")])
def test_each_map_is_that_units_activation_on_the_grid(features):
    trainer = Trainer(config(features))
    trainer.network_interval = 0.1
    trainer.step(7)
    state = trainer.latest.network
    R = state.resolution
    assert R == nm.DEFAULT_RESOLUTION and state.step == 7
    assert state.input_names == features and state.sizes == (len(features), 6, 4, 1)
    X = grid_features(state.extent, R, features)
    np.testing.assert_allclose(state.input_maps.reshape(len(features), -1), X.T, rtol=1e-6)
    for layer, (mine, theirs) in enumerate(zip(by_hand(state, X), state.maps)):
        assert theirs.shape == (mine.shape[1], R, R)
        for unit in range(mine.shape[1]):
            np.testing.assert_allclose(theirs[unit], mine[:, unit].reshape(R, R),
                                       rtol=1e-4, atol=1e-5, err_msg=f"layer {layer} unit {unit}")
    # the weights are the network's, not a stale copy
    for W, layer in zip(state.W, trainer.network.layers):
        np.testing.assert_array_equal(W, layer.W)
    assert not state.W[0].flags.writeable and not state.maps[0].flags.writeable


def test_the_gradients_are_the_last_steps():
    trainer = Trainer(config())
    trainer.network_interval = 0.1
    X, Y, _ = trainer.peek_batch()
    net = trainer.network.copy()
    _, grads = net.loss_and_grads(X, Y, trainer.loss_name)
    trainer.step(1)
    state = trainer.latest.network
    assert state.grads_step == 1
    for (dW, db), sdW, sdb in zip(grads, state.dW, state.db):
        np.testing.assert_allclose(sdW, dW, rtol=1e-6)
        np.testing.assert_allclose(sdb, db, rtol=1e-6)
    # a snapshot taken again without a step keeps showing that step's gradients
    again = trainer.snapshot().network
    assert again.grads_step == 1 and np.array_equal(again.dW[0], state.dW[0])


def test_no_state_unless_asked_and_none_of_the_old_run_after_a_reset():
    trainer = Trainer(config())
    assert trainer.snapshot().network is None
    trainer.network_interval = 0.1
    trainer.step(2)
    assert trainer.latest.network.grads_step == 2
    trainer.reset()
    state = trainer.latest.network
    assert state.step == 0 and state.dW is None and state.grads_step is None


def test_data_that_is_not_2d_has_weights_but_no_maps():
    trainer = Trainer(Config.from_dict({"data": {"dataset": "iris"},
                                        "model": {"layers": [{"units": 5}]}}))
    trainer.network_interval = 0.1
    state = trainer.snapshot().network
    assert state.maps is None and state.input_maps is None and state.resolution == 0
    assert state.sizes == (4, 5, 3) and len(state.output_names) == 3
    assert state.output_names == tuple(trainer.data.class_names)


def test_large_networks_get_coarser_maps_or_none():
    small = Trainer(config(layers=((8, "tanh"),))).network
    assert nm.map_resolution(small, 40) == 40
    assert nm.map_resolution(small, 1000) == nm.MAX_RESOLUTION
    wide = Trainer(config(layers=((300, "tanh"), (300, "tanh")))).network
    side = nm.map_resolution(wide, 40)
    assert nm.MIN_RESOLUTION <= side < 40
    assert side ** 2 * wide.n_weights <= nm.MAP_BUDGET
    huge = Trainer(config(layers=((2000, "tanh"), (2000, "tanh"), (2000, "tanh")))).network
    assert nm.map_resolution(huge, 40) == 0


def test_the_resolution_asked_for_is_used():
    trainer = Trainer(config())
    trainer.network_interval = 0.1
    trainer.map_resolution = 12
    state = trainer.snapshot().network
    assert state.resolution == 12 and state.maps[0].shape == (6, 12, 12)
