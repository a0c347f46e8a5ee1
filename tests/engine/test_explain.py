"""The backprop breakdown: its numbers are the engine's, agree with finite differences,
and applying the shown step changes the weights by exactly the shown update."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli import explain as render
from engine.analysis import explain as ex
from cli import main as cli_main
from engine.errors import EngineError
from engine.nn.network import Network
from engine.nn.optimizers import make_optimizer
from engine.presets import load_preset
from engine.training.trainer import Trainer

HIDDEN = ("linear", "sigmoid", "tanh", "relu", "leaky_relu")
# (loss, output activation, output units)
PAIRINGS = [("mse", "linear", 2), ("mse", "sigmoid", 2), ("mse", "tanh", 2), ("mse", "relu", 2),
            ("mse", "leaky_relu", 2), ("bce", "sigmoid", 1), ("ce", "softmax", 3)]


def make_case(hidden: str, loss: str, out: str, k: int, n: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    net = Network([3, 4, 5, k], [hidden, hidden, out], init="normal", init_std=0.8, seed=seed,
                  dtype="float64", bias_init=0.1, leaky_slope=0.1)
    X = rng.normal(size=(n, 3))
    if loss == "ce":
        Y = rng.integers(0, k, size=n)
    elif loss == "bce":
        Y = rng.integers(0, 2, size=(n, 1)).astype(float)
    else:
        Y = rng.normal(size=(n, k)) * 0.5
        if out == "sigmoid":
            Y = rng.uniform(size=(n, k))
    return net, X, Y


def total_loss(net, X, Y, loss, reg="none", rate=0.0):
    return net.loss(X, Y, loss) + net.penalty(reg, rate)


def numeric_param_grad(net, X, Y, loss, reg="none", rate=0.0, h=1e-6):
    g = np.zeros_like(net.params)
    for j in range(net.params.size):
        old = net.params[j]
        net.params[j] = old + h
        up = total_loss(net, X, Y, loss, reg, rate)
        net.params[j] = old - h
        down = total_loss(net, X, Y, loss, reg, rate)
        net.params[j] = old
        g[j] = (up - down) / (2 * h)
    return g


def loss_from_z(net, i, z, Y, loss):
    """The data loss as a function of layer i's pre-activation (the rest of the forward pass)."""
    layers = net.layers
    a = layers[i].activation.forward(z.copy())
    for layer in layers[i + 1:]:
        z = a @ layer.W + layer.b
        a = layer.activation.forward(z.copy())
    fn = net._loss(loss)
    return fn.value(z, a, fn.targets_like(Y, z.shape, net.dtype))


def numeric_delta(net, bd, i, Y, loss, h=1e-6):
    z0 = bd.layers[i].z
    d = np.zeros_like(z0)
    for idx in np.ndindex(z0.shape):
        zp, zm = z0.copy(), z0.copy()
        zp[idx] += h
        zm[idx] -= h
        d[idx] = (loss_from_z(net, i, zp, Y, loss) - loss_from_z(net, i, zm, Y, loss)) / (2 * h)
    return d


def flat_grad(bd):
    dW = np.concatenate([l.dW.ravel() for l in bd.layers])
    db = np.concatenate([l.db.ravel() for l in bd.layers])
    return np.concatenate([dW, db])


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("loss,out,k", PAIRINGS)
def test_numbers_are_the_engines_and_match_finite_differences(hidden, loss, out, k):
    net, X, Y = make_case(hidden, loss, out, k)
    lr = 0.1
    bd = ex.explain_step(net, make_optimizer("sgd", lr=lr), X, Y, loss)
    # the engine's own gradients, bit for bit
    value, grads = net.loss_and_grads(X, Y, loss)
    assert bd.loss == value
    for l, (dW, db) in zip(bd.layers, grads):
        assert np.array_equal(l.dW, dW) and np.array_equal(l.db, db)
    # finite differences, float64
    assert np.allclose(flat_grad(bd), numeric_param_grad(net, X, Y, loss), rtol=1e-5, atol=1e-8)
    for i in range(len(bd.layers)):
        assert np.allclose(bd.layers[i].delta, numeric_delta(net, bd, i, Y, loss),
                           rtol=1e-5, atol=1e-8), f"delta of layer {i}"
    # δ is shown as (δ_next · Wᵀ) ⊙ f'(z): the factors multiply to the engine's δ
    for l in bd.layers[:-1]:
        assert np.allclose(l.upstream * l.fprime, l.delta, rtol=1e-12, atol=1e-15)
    o = bd.output
    assert o.fused == (loss != "mse")
    assert np.array_equal(o.difference, o.prediction - o.target)
    expect = o.difference * o.scale * (1.0 if o.fused else o.fprime)
    assert np.allclose(expect, o.delta, rtol=1e-12, atol=1e-15)
    assert o.divisor == (X.shape[0] if loss == "ce" else X.shape[0] * k)
    # ∂L/∂W = a_prevᵀ δ
    for l in bd.layers:
        assert np.allclose(l.x.T @ l.delta, l.dW, rtol=1e-12, atol=1e-15)
        assert np.allclose(l.delta.sum(axis=0), l.db, rtol=1e-12, atol=1e-15)
    # plain SGD: the displayed update is −lr · ∂L/∂W
    for l in bd.layers:
        assert np.allclose(l.update_W, -lr * l.dW, rtol=1e-12, atol=1e-15)
        assert np.allclose(l.update_b, -lr * l.db, rtol=1e-12, atol=1e-15)
    # each row's own loss averages to the batch loss
    assert np.isclose(bd.sample_losses.mean(), bd.data_loss, rtol=1e-12)
    # the inputs were left alone
    assert np.array_equal(bd.params_before, net.params)


@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_penalty_gradient_is_part_of_dW(reg):
    net, X, Y = make_case("tanh", "bce", "sigmoid", 1)
    rate = 0.05
    bd = ex.explain_step(net, make_optimizer("sgd", lr=0.1), X, Y, "bce",
                         regularization=reg, reg_rate=rate)
    assert bd.penalty == pytest.approx(net.penalty(reg, rate))
    assert bd.loss == pytest.approx(total_loss(net, X, Y, "bce", reg, rate))
    assert np.allclose(flat_grad(bd), numeric_param_grad(net, X, Y, "bce", reg, rate),
                       rtol=1e-5, atol=1e-8)
    for l in bd.layers:
        assert np.allclose(l.x.T @ l.delta + l.penalty_grad, l.dW, rtol=1e-12)


def test_dead_relu_shows_a_column_of_zeros():
    net, X, Y = make_case("relu", "mse", "linear", 2, n=6)
    net.layers[0].b[2] = -1e3  # unit 2 of layer 0 never fires
    bd = ex.explain_step(net, make_optimizer("sgd", lr=0.1), X, Y, "mse")
    l0 = bd.layers[0]
    assert l0.dead_units == (2,)
    assert np.all(l0.delta[:, 2] == 0) and np.all(l0.dW[:, 2] == 0)
    assert "dead units 2" in render.render_text(bd)


def test_sigmoid_stack_shrinks_delta():
    net = Network([2] + [6] * 6 + [1], ["sigmoid"] * 7, init="normal", init_std=0.5,
                  dtype="float64", seed=1)
    X = np.random.default_rng(0).normal(size=(8, 2))
    Y = np.ones((8, 1))
    bd = ex.explain_step(net, make_optimizer("sgd", lr=0.1), X, Y, "bce")
    norms = bd.delta_norms
    assert norms[0] < norms[-1] / 100
    assert "δ norms, output to input" in render.render_text(bd)


# ----- applying the shown step -------------------------------------------------------
OPTIMIZERS = {
    "sgd": {"optimizer": "sgd", "lr": 0.1},
    "sgd+momentum": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9},
    "sgd+nesterov": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True},
    "rmsprop": {"optimizer": "rmsprop", "lr": 0.01},
    "rmsprop+momentum": {"optimizer": "rmsprop", "lr": 0.01, "momentum": 0.5},
    "adam": {"optimizer": "adam", "lr": 0.03},
    "adam+decay": {"optimizer": "adam", "lr": 0.03, "weight_decay": 0.01},
}


def trainer_with(training: dict, batch_size=32, dtype="float32", **model) -> Trainer:
    config = load_preset("xor").config
    for key, value in {**training, "batch_size": batch_size}.items():
        config = config.with_value(f"training.{key}", value)
    config = config.with_value("model.dtype", dtype)
    for key, value in model.items():
        config = config.with_value(f"model.{key}", value)
    return Trainer(config)


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_applying_the_shown_batch_step_is_exact(name, dtype):
    trainer = trainer_with(OPTIMIZERS[name], dtype=dtype)
    trainer.step(2)  # some optimizer state to shape the update
    # ten steps cross an epoch boundary (200 samples, batches of 32) and a reshuffle
    for _ in range(10):
        bd = ex.explain_trainer(trainer)
        before = trainer.network.params.copy()
        steps = trainer.step_count
        result = ex.apply_step(trainer, bd)
        assert result.exact
        assert np.array_equal(trainer.network.params - before, bd.update)
        for l, (W, b) in zip(bd.layers, trainer.network._views(trainer.network.params)):
            assert np.array_equal(W - l.W, l.update_W) and np.array_equal(b - l.b, l.update_b)
        assert trainer.step_count == steps + 1
        for key, (w, b) in bd.layers[0].state_after.items():
            assert np.array_equal(trainer.network._views(trainer.optimizer.state[key])[0][0], w)
        assert result.loss_before == pytest.approx(bd.loss)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_applying_a_one_sample_step_is_exact(name):
    trainer = trainer_with(OPTIMIZERS[name])
    trainer.step(3)
    for sample in (0, 7, 199):
        bd = ex.explain_trainer(trainer, sample)
        assert bd.mode == "sample" and bd.rows == (sample,) and bd.n == 1
        before = trainer.network.params.copy()
        result = ex.apply_step(trainer, bd)
        assert result.exact
        assert np.array_equal(trainer.network.params - before, bd.update)
        assert result.loss_after < result.loss_before  # one step downhill on its own sample


def test_full_batch_and_mse_regression_path():
    trainer = trainer_with({"optimizer": "sgd", "lr": 0.5}, batch_size="full",
                           loss="mse", output="sigmoid")
    bd = ex.explain_trainer(trainer)
    assert bd.rows == tuple(range(200)) and not bd.output.fused
    assert ex.apply_step(trainer, bd).exact


def test_next_batch_does_not_move_the_trainer():
    trainer = trainer_with({"optimizer": "adam", "lr": 0.03})
    twin = trainer_with({"optimizer": "adam", "lr": 0.03})
    for _ in range(9):
        ex.explain_trainer(trainer)
        ex.explain_trainer(trainer, 4)
        trainer.step(1)
        twin.step(1)
    assert np.array_equal(trainer.network.params, twin.network.params)


def test_a_stale_breakdown_is_refused():
    trainer = trainer_with({"optimizer": "sgd", "lr": 0.1})
    bd = ex.explain_trainer(trainer)
    trainer.step(1)
    with pytest.raises(EngineError, match="changed"):
        ex.apply_step(trainer, bd)


def test_bad_sample_is_one_clear_error():
    trainer = trainer_with({"optimizer": "sgd", "lr": 0.1})
    with pytest.raises(EngineError, match=r"0\.\.199"):
        ex.explain_trainer(trainer, 200)


def test_large_network_text_shows_summaries():
    config = load_preset("xor").config.with_layers([{"units": 16, "activation": "relu"}])
    trainer = Trainer(config)
    bd = ex.explain_trainer(trainer, 0)
    assert not bd.small
    text = render.render_text(bd)
    assert "(2×16) ‖·‖" in text and "max" in text


# ----- the command line --------------------------------------------------------------
def run_cli(capsys, *argv):
    code = cli_main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_has_the_engines_numbers(capsys):
    code, out, err = run_cli(capsys, "xor", "--sample", "5", "--step", "3", "--format", "json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    trainer = Trainer(load_preset("xor"))
    trainer.step(3)
    bd = ex.explain_trainer(trainer, 5)
    assert doc["mode"] == "sample" and doc["rows"] == [5] and doc["step"] == 3
    assert doc["loss"] == pytest.approx(bd.loss, rel=1e-12)
    assert doc["output"]["fused"] is True
    for jl, l in zip(doc["layers"], bd.layers):
        assert np.allclose(np.array(jl["delta"]), l.delta, rtol=0, atol=0)
        assert np.allclose(np.array(jl["dW"]), l.dW, rtol=0, atol=0)
        assert np.array_equal(np.array(jl["update_W"], dtype=l.update_W.dtype), l.update_W)
        assert set(jl["state_after"]) == {"exp_avg", "exp_avg_sq"}
    # prediction minus target over N is the output δ
    o = doc["output"]
    assert np.allclose(np.array(o["prediction_minus_target"]) / o["divisor"], o["delta"], rtol=1e-6)


def test_cli_text(capsys):
    code, out, _ = run_cli(capsys, "xor", "--sample", "0")
    assert code == 0
    for piece in ("step 1 on training sample 0 of 200", "prediction − target", "δ2·W2ᵀ",
                  "f′(z1)", "∂L/∂W1 = xᵀ·δ1", "ΔW3", "first moment m", "layer 3: 8 → 1, sigmoid"):
        assert piece in out
    code, out, _ = run_cli(capsys, "xor", "--step", "2")
    assert code == 0 and "the next mini-batch (32 samples)" in out and "per sample:" in out


@pytest.mark.parametrize("argv", [("xor", "--sample", "200"), ("xor", "--sample", "-1"),
                                  ("xor", "--step", "-3"), ("no-such-preset",),
                                  ("xor", "--format", "yaml"), ("xor", "--sample", "x")])
def test_cli_bad_input_exits_2_with_one_line(capsys, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("backprop-lab")
