"""Activation values and derivatives, loss definitions and refused pairings."""

import numpy as np
import pytest

import engine
from engine.nn.activations import get_activation
from engine.errors import EngineError

Z = np.array([[-800.0, -30.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 30.0, 800.0]])


def test_sigmoid_is_stable_and_exact_for_large_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = get_activation("sigmoid").forward(Z)
    assert np.all(np.isfinite(a))
    assert a[0, 0] == 0.0 and a[0, -1] == 1.0
    assert a[0, 1] == pytest.approx(np.exp(-30) / (1 + np.exp(-30)), rel=1e-12)
    assert a[0, 4] == 0.5


def test_softmax_is_stable_and_sums_to_one():
    z = np.array([[1000.0, 1000.0, -1000.0], [1.0, 2.0, 3.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = get_activation("softmax").forward(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(a[0], [0.5, 0.5, 0.0])
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(a[1], e / e.sum())


@pytest.mark.parametrize("name", ["linear", "sigmoid", "tanh", "relu", "leaky_relu"])
def test_derivatives_match_finite_differences(name):
    act = get_activation(name, slope=0.2)
    z = np.array([[-3.0, -0.5, 0.3, 2.0]])
    eps = 1e-6
    num = (act.forward(z + eps) - act.forward(z - eps)) / (2 * eps)
    a = act.forward(z)
    np.testing.assert_allclose(act.derivative(z, a), num, rtol=1e-6)
    delta = np.ones_like(z) * 2.0
    act.multiply_derivative(delta, z, a)
    np.testing.assert_allclose(delta, 2.0 * num, rtol=1e-6)


def test_leaky_relu_slope_default_and_values():
    assert get_activation("leaky_relu").slope == 0.01
    a = get_activation("leaky_relu", slope=0.1).forward(np.array([[-2.0, 3.0]]))
    np.testing.assert_allclose(a, [[-0.2, 3.0]])


def test_unknown_activation_lists_allowed_names():
    with pytest.raises(EngineError, match="unknown activation 'swish'; allowed: 'linear', 'sigmoid', "
                                          "'tanh', 'relu', 'leaky_relu' or 'softmax'"):
        get_activation("swish")


def test_softmax_only_as_output():
    with pytest.raises(EngineError, match="softmax is for the output layer only"):
        engine.Network([2, 3, 2], ["softmax", "softmax"])


def _net(out, n_out=1):
    net = engine.Network([2, n_out], [out], dtype="float64", seed=1)
    return net


def test_mse_is_mean_over_all_elements():
    net = _net("linear", 2)
    X = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    y = X @ net.layers[0].W + net.layers[0].b
    assert net.loss(X, Y, "mse") == pytest.approx(np.mean((y - Y) ** 2), rel=1e-14)


def test_bce_from_logits_matches_definition_and_is_stable():
    net = _net("sigmoid")
    X = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]])
    Y = np.array([[1.0], [0.0], [1.0]])
    z = X @ net.layers[0].W + net.layers[0].b
    p = 1 / (1 + np.exp(-z))
    expected = -np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    assert net.loss(X, Y, "bce") == pytest.approx(expected, rel=1e-12)
    # a huge logit on the wrong side: finite, and equal to the logit itself (log(1+e^z) ~ z)
    net.layers[0].W = np.array([[1000.0], [0.0]])
    net.layers[0].b = np.zeros(1)
    value = net.loss(np.array([[1.0, 0.0]]), np.array([[0.0]]), "bce")
    assert value == pytest.approx(1000.0)


def test_ce_matches_definition():
    net = _net("softmax", 3)
    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    labels = np.array([2, 0])
    z = X @ net.layers[0].W + net.layers[0].b
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert net.loss(X, labels, "ce") == pytest.approx(-np.mean(logp[[0, 1], labels]), rel=1e-12)


@pytest.mark.parametrize("out,loss,message", [
    ("softmax", "mse", "use loss 'ce' with softmax"),
    ("linear", "bce", "loss 'bce' needs a 'sigmoid' output, not 'linear'"),
    ("sigmoid", "ce", "loss 'ce' needs a 'softmax' output, not 'sigmoid'"),
])
def test_invalid_pairings_say_which_pairing_to_use(out, loss, message):
    net = _net(out, 2)
    with pytest.raises(EngineError, match=message):
        net.loss_and_grads(np.zeros((1, 2)), np.zeros((1, 2)), loss=loss)


def test_unknown_loss_lists_allowed():
    with pytest.raises(EngineError, match="allowed: 'mse', 'bce' or 'ce'"):
        _net("linear").loss_and_grads(np.zeros((1, 2)), np.zeros((1, 1)), loss="hinge")


def test_ce_label_out_of_range():
    with pytest.raises(EngineError, match=r"labels must lie in 0\.\.2"):
        _net("softmax", 3).loss_and_grads(np.zeros((2, 2)), np.array([0, 3]), loss="ce")
