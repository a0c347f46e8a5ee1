"""Finite-difference checks of every gradient, in float64."""

import numpy as np
import pytest

import engine
from engine.nn.activations import HIDDEN_ACTIVATIONS

HIDDEN = list(HIDDEN_ACTIVATIONS)  # every registered hidden activation
# (output activation, loss) pairings the engine accepts
PAIRINGS = [("linear", "mse"), ("sigmoid", "mse"), ("tanh", "mse"), ("relu", "mse"),
            ("leaky_relu", "mse"), ("sigmoid", "bce"), ("softmax", "ce")]


def numeric_grad(net, X, Y, loss, eps=1e-6, **reg):
    num = np.zeros_like(net.params)
    for k in range(net.n_params):
        old = net.params[k]
        net.params[k] = old + eps
        lp = net.loss(X, Y, loss) + net.penalty(reg.get("regularization"), reg.get("reg_rate", 0))
        net.params[k] = old - eps
        lm = net.loss(X, Y, loss) + net.penalty(reg.get("regularization"), reg.get("reg_rate", 0))
        net.params[k] = old
        num[k] = (lp - lm) / (2 * eps)
    return num


def make_case(rng, hidden_act, out_act, loss, depth):
    n_in, n_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    if loss == "ce":
        n_out = max(n_out, 2)
    widths = [int(w) for w in rng.integers(2, 6, size=depth)]
    net = engine.Network([n_in, *widths, n_out], [hidden_act] * depth + [out_act], dtype="float64",
                         init="normal", init_std=0.7, seed=int(rng.integers(1000)),
                         leaky_slope=0.1)
    net.layers[0].b = rng.normal(size=widths[0]) * 0.3
    batch = 7
    X = rng.normal(size=(batch, n_in))
    if loss == "ce":
        Y = rng.integers(0, n_out, size=batch)
    elif loss == "bce":
        Y = (rng.random((batch, n_out)) > 0.5).astype(float)
    else:
        Y = rng.normal(size=(batch, n_out))
    return net, X, Y


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("out_act,loss", PAIRINGS)
def test_gradients_match_finite_differences(hidden, out_act, loss):
    rng = np.random.default_rng(hash((hidden, out_act, loss)) % 2**32)
    for depth in (1, 2, 3, 4):
        net, X, Y = make_case(rng, hidden, out_act, loss, depth)
        value, grads = net.loss_and_grads(X, Y, loss=loss)
        assert value == pytest.approx(net.loss(X, Y, loss), rel=1e-12)
        num = numeric_grad(net, X, Y, loss)
        # relu kinks: a point within eps of 0 would make the numeric gradient meaningless
        ws = net.last_batch
        if any(np.min(np.abs(z)) < 1e-4 for z in ws.z):
            continue
        np.testing.assert_allclose(grads.flat, num, rtol=1e-5, atol=1e-8)
        for (dW, db), layer in zip(grads, net.layers):
            assert dW.shape == layer.W.shape and db.shape == layer.b.shape


@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_regularisation_gradient_and_value(reg):
    rng = np.random.default_rng(3)
    net, X, Y = make_case(rng, "tanh", "sigmoid", "bce", 2)
    value, grads = net.loss_and_grads(X, Y, loss="bce", regularization=reg, reg_rate=0.05)
    data_loss = net.loss(X, Y, "bce")
    w = net.weights
    expected_penalty = 0.5 * 0.05 * np.sum(w**2) if reg == "l2" else 0.05 * np.sum(np.abs(w))
    assert value == pytest.approx(data_loss + expected_penalty, rel=1e-12)
    num = numeric_grad(net, X, Y, "bce", regularization=reg, reg_rate=0.05)
    np.testing.assert_allclose(grads.flat, num, rtol=1e-5, atol=1e-8)
    # biases are not penalised
    _, plain = net.loss_and_grads(X, Y, loss="bce")
    for (_, db_reg), (_, db) in zip(grads, plain):
        np.testing.assert_array_equal(db_reg, db)


def test_ce_accepts_labels_or_one_hot_alike():
    rng = np.random.default_rng(1)
    net, X, _ = make_case(rng, "relu", "softmax", "ce", 2)
    labels = rng.integers(0, net.sizes[-1], size=X.shape[0])
    onehot = np.eye(net.sizes[-1])[labels]
    l1, g1 = net.loss_and_grads(X, labels, loss="ce")
    l2, g2 = net.loss_and_grads(X, onehot, loss="ce")
    assert l1 == l2
    np.testing.assert_array_equal(g1.flat, g2.flat)


def test_float32_close_to_float64():
    rng = np.random.default_rng(5)
    net64, X, Y = make_case(rng, "tanh", "sigmoid", "bce", 3)
    net32 = engine.Network(**{**net64.describe(), "dtype": "float32"})
    net32.params[...] = net64.params
    l64, g64 = net64.loss_and_grads(X, Y, loss="bce")
    l32, g32 = net32.loss_and_grads(X.astype(np.float32), Y.astype(np.float32), loss="bce")
    assert l32 == pytest.approx(l64, rel=1e-5)
    np.testing.assert_allclose(g32.flat, g64.flat, rtol=1e-3, atol=1e-6)


def test_ce_with_probability_targets_that_do_not_sum_to_one():
    # PyTorch's CrossEntropyLoss accepts any target rows: dL/dz = (p * sum(t) - t) / n
    rng = np.random.default_rng(11)
    net, X, _ = make_case(rng, "tanh", "softmax", "ce", 2)
    T = rng.random((X.shape[0], net.sizes[-1])) * 2
    value, grads = net.loss_and_grads(X, T, loss="ce")
    np.testing.assert_allclose(grads.flat, numeric_grad(net, X, T, "ce"), rtol=1e-5, atol=1e-8)
