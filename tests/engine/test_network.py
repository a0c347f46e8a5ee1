"""Network shapes, initialisation, determinism and gradient ownership."""

import numpy as np
import pytest

import engine
from engine.errors import EngineError


def test_shapes_and_views():
    net = engine.Network([2, 8, 8, 1], ["tanh", "tanh", "sigmoid"], seed=0, dtype="float64")
    assert [l.W.shape for l in net.layers] == [(2, 8), (8, 8), (8, 1)]
    assert [l.b.shape for l in net.layers] == [(8,), (8,), (1,)]
    assert net.n_params == 2 * 8 + 8 * 8 + 8 + 8 + 8 + 1
    out = net.forward(np.zeros((5, 2)))
    assert out.shape == (5, 1) and out.dtype == np.float64
    net.layers[1].W = np.ones((8, 8))
    assert np.all(net.layers[1].W == 1.0)
    with pytest.raises(EngineError, match=r"W must have shape \(8, 8\), got \(8, 7\)"):
        net.layers[1].W = np.ones((8, 7))


def test_default_dtype_is_float32():
    net = engine.Network([2, 3, 1], ["relu", "sigmoid"])
    assert net.params.dtype == np.float32
    assert net.forward(np.zeros((1, 2))).dtype == np.float32


def test_same_seed_same_weights_bitwise():
    a = engine.Network([4, 16, 3], ["relu", "softmax"], init="he", seed=7)
    b = engine.Network([4, 16, 3], ["relu", "softmax"], init="he", seed=7)
    c = engine.Network([4, 16, 3], ["relu", "softmax"], init="he", seed=8)
    assert np.array_equal(a.params, b.params)
    assert not np.array_equal(a.params, c.params)
    a.params[:] = 0
    a.reinitialize(7)
    assert np.array_equal(a.params, b.params)


@pytest.mark.parametrize("scheme,check", [
    ("xavier", lambda W, fi, fo: np.abs(W).max() <= np.sqrt(6 / (fi + fo))
     and abs(W.std() - np.sqrt(2 / (fi + fo))) < 0.1 * np.sqrt(2 / (fi + fo))),
    ("he", lambda W, fi, fo: abs(W.std() - np.sqrt(2 / fi)) < 0.05 * np.sqrt(2 / fi)),
    ("normal", lambda W, fi, fo: abs(W.std() - 0.3) < 0.015),
    ("uniform", lambda W, fi, fo: np.abs(W).max() <= 0.2 and abs(W.std() - 0.2 / np.sqrt(3)) < 0.01),
    ("zeros", lambda W, fi, fo: np.all(W == 0)),
])
def test_init_schemes(scheme, check):
    net = engine.Network([200, 300, 1], ["relu", "linear"], init=scheme, init_std=0.3, init_limit=0.2,
                         bias_init=0.5, dtype="float64")
    W = net.layers[0].W
    assert check(W, 200, 300)
    assert np.all(net.layers[0].b == 0.5)


def test_unknown_init_and_dtype():
    with pytest.raises(EngineError, match="unknown init 'glorot'; allowed: 'xavier', 'he', 'normal', 'uniform' or 'zeros'"):
        engine.Network([2, 1], ["linear"], init="glorot")
    with pytest.raises(EngineError, match="unknown dtype 'float16'"):
        engine.Network([2, 1], ["linear"], dtype="float16")
    with pytest.raises(EngineError, match=r"inputs must have shape \(batch, 2\), got \(3, 5\)"):
        engine.Network([2, 1], ["linear"]).forward(np.zeros((3, 5)))


def test_gradients_are_not_overwritten_by_a_later_call():
    net = engine.Network([2, 4, 1], ["tanh", "sigmoid"], dtype="float64")
    rng = np.random.default_rng(0)
    X1, X2 = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    Y = np.ones((8, 1))
    _, g1 = net.loss_and_grads(X1, Y, loss="bce")
    kept = g1.flat.copy()
    _, g2 = net.loss_and_grads(X2, Y, loss="bce")
    np.testing.assert_array_equal(g1.flat, kept)
    assert not np.array_equal(g1.flat, g2.flat)
    assert len(g1) == 2 and g1[0][0].shape == (2, 4)


def test_unit_health_dead_and_saturated():
    net = engine.Network([1, 3, 1], ["relu", "linear"], dtype="float64")
    net.layers[0].W = [[1.0, -1.0, 0.0]]
    net.layers[0].b = [0.0, -5.0, 0.0]  # unit 1 is dead for x in [0, 1]; unit 2 always 0
    net.forward(np.linspace(0.1, 1, 10).reshape(-1, 1))
    assert net.unit_health()[0][0] == pytest.approx(2 / 3)
    sat = engine.Network([1, 2, 1], ["tanh", "sigmoid"], dtype="float64")
    sat.layers[0].W = [[100.0, 0.01]]
    sat.forward(np.ones((4, 1)))
    assert sat.unit_health()[0][1] == pytest.approx(0.5)


def test_trace_returns_the_engine_numbers():
    net = engine.Network([2, 3, 2], ["relu", "softmax"], dtype="float64", seed=3)
    X = np.array([[1.0, -2.0], [0.5, 0.3]])
    labels = np.array([1, 0])
    tr = net.trace(X, labels, "ce")
    loss, grads = net.loss_and_grads(X, labels, loss="ce")
    assert tr.loss == loss
    for layer, (dW, db) in zip(tr.layers, grads):
        np.testing.assert_array_equal(layer.dW, dW)
        np.testing.assert_array_equal(layer.dW, layer.x.T @ layer.delta)
    probs = tr.layers[-1].a
    np.testing.assert_allclose(tr.layers[-1].delta, (probs - np.eye(2)[labels]) / 2)
