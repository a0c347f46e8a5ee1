"""Optimizer updates against values worked out by hand from torch.optim's rules."""

import math

import numpy as np
import pytest

import engine
from engine.errors import EngineError

GRADS = [0.5, -0.25, 0.125]  # the gradient of the single weight at each step


def run(name, steps=3, **hyper):
    """A 1-weight, 1-bias network; the weight starts at 1.0, the bias at 0."""
    net = engine.Network([1, 1], ["linear"], dtype="float64")
    net.layers[0].W = [[1.0]]
    net.layers[0].b = [0.0]
    opt = engine.make_optimizer(name, **hyper)
    out = []
    for g in GRADS[:steps]:
        opt.step(net, [(np.array([[g]]), np.array([2 * g]))])  # plain (dW, db) tuples work too
        out.append((net.layers[0].W[0, 0], net.layers[0].b[0]))
    return out


def test_sgd_plain():
    w = [p[0] for p in run("sgd", lr=0.1)]
    assert w == pytest.approx([0.95, 0.975, 0.9625], abs=1e-15)


def test_sgd_momentum_starts_buffer_at_first_gradient():
    # buf1 = g1; buf_t = 0.9 buf + g_t;  w -= lr * buf
    w = [p[0] for p in run("sgd", lr=0.1, momentum=0.9)]
    buf1 = 0.5
    buf2 = 0.9 * buf1 - 0.25
    buf3 = 0.9 * buf2 + 0.125
    assert w == pytest.approx([1 - 0.1 * buf1, 1 - 0.1 * (buf1 + buf2),
                               1 - 0.1 * (buf1 + buf2 + buf3)], abs=1e-15)
    assert w[0] == pytest.approx(0.95) and w[1] == pytest.approx(0.93)


def test_sgd_nesterov():
    # d = g + momentum * buf
    w = [p[0] for p in run("sgd", lr=0.1, momentum=0.9, nesterov=True, steps=2)]
    assert w[0] == pytest.approx(1 - 0.1 * (0.5 + 0.9 * 0.5))  # 0.905
    buf2 = 0.9 * 0.5 - 0.25
    assert w[1] == pytest.approx(w[0] - 0.1 * (-0.25 + 0.9 * buf2))  # 0.905 - 0.1 * (-0.07)


def test_sgd_weight_decay_joins_gradient():
    w = [p[0] for p in run("sgd", lr=0.1, weight_decay=0.1, steps=1)]
    assert w[0] == pytest.approx(1 - 0.1 * (0.5 + 0.1 * 1.0))


def test_rmsprop():
    w = [p[0] for p in run("rmsprop", lr=0.01, steps=2)]
    sq1 = 0.01 * 0.25
    w1 = 1 - 0.01 * 0.5 / (math.sqrt(sq1) + 1e-8)
    sq2 = 0.99 * sq1 + 0.01 * 0.0625
    w2 = w1 + 0.01 * 0.25 / (math.sqrt(sq2) + 1e-8)
    assert w == pytest.approx([w1, w2], abs=1e-15)
    assert w1 == pytest.approx(0.9, abs=1e-6) and w2 == pytest.approx(0.9449013, abs=1e-6)


def test_rmsprop_momentum():
    w = [p[0] for p in run("rmsprop", lr=0.01, momentum=0.5, steps=2)]
    sq1 = 0.01 * 0.25
    b1 = 0.5 / (math.sqrt(sq1) + 1e-8)
    sq2 = 0.99 * sq1 + 0.01 * 0.0625
    b2 = 0.5 * b1 - 0.25 / (math.sqrt(sq2) + 1e-8)
    assert w == pytest.approx([1 - 0.01 * b1, 1 - 0.01 * (b1 + b2)], abs=1e-15)


def test_adam_with_bias_correction():
    w = [p[0] for p in run("adam", lr=0.1, steps=3)]
    m = v = 0.0
    p = 1.0
    expected = []
    for t, g in enumerate(GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p -= 0.1 / (1 - 0.9**t) * m / (math.sqrt(v) / math.sqrt(1 - 0.999**t) + 1e-8)
        expected.append(p)
    assert w == pytest.approx(expected, abs=1e-15)
    assert w[0] == pytest.approx(0.9, abs=1e-6)  # the first Adam step moves by lr


def test_defaults_are_torchs():
    assert engine.make_optimizer("sgd").hyper() == {"lr": 1e-3, "momentum": 0.0, "nesterov": False,
                                                    "weight_decay": 0.0}
    assert engine.make_optimizer("rmsprop").hyper() == {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8,
                                                        "momentum": 0.0, "weight_decay": 0.0}
    assert engine.make_optimizer("adam").hyper() == {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999,
                                                     "eps": 1e-8, "weight_decay": 0.0}


def test_changing_lr_keeps_state():
    net = engine.Network([1, 1], ["linear"], dtype="float64")
    net.layers[0].W = [[1.0]]
    opt = engine.make_optimizer("sgd", lr=0.1, momentum=0.9)
    opt.step(net, [(np.array([[0.5]]), np.array([0.0]))])
    opt.set(lr=0.01)
    opt.step(net, [(np.array([[0.5]]), np.array([0.0]))])
    # buffer carried over: 0.9 * 0.5 + 0.5 = 0.95, times the new lr
    assert net.layers[0].W[0, 0] == pytest.approx(0.95 - 0.01 * 0.95)


def test_bad_hyperparameters_are_refused():
    with pytest.raises(EngineError, match="unknown optimizer 'adagrad'; allowed: 'sgd', 'rmsprop' or 'adam'"):
        engine.make_optimizer("adagrad")
    with pytest.raises(EngineError, match="lr must be a finite number > 0"):
        engine.make_optimizer("adam", lr=-1)
    with pytest.raises(EngineError, match="adam has no hyperparameter 'momentum'"):
        engine.make_optimizer("adam", momentum=0.9)
    opt = engine.make_optimizer("adam")
    with pytest.raises(EngineError):
        opt.set(lr=float("nan"))
    assert opt.lr == 1e-3
