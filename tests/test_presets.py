"""The bundled presets: each one reproduces its lesson, and quotes the figures it produces.

Every preset is trained headless from fixed seeds; a test asserts the effect itself (a
gap, a ratio, an ordering), with margins well clear of the measured values. Each
``≈ number`` in a lesson is matched, in order, to a measurement in ``FIGURES`` and must lie
within the tolerance stated there, so the lesson text cannot drift from what the engine does.
Measurements are cached, so a figure check and an effect test share one set of runs.
"""

from __future__ import annotations

import math
import statistics
from functools import cache

import numpy as np
import pytest

from engine import lessons as L
from engine.compare import VARIANT_SETS, compare
from engine.presets import bundled_names, load_preset

SEEDS = (0, 1, 2, 3, 4)
FEW = SEEDS[:3]  # for the costlier runs and the side checks
LAYERS_ALL = "model.layers[*].activation"


def med(values) -> float:
    return float(statistics.median(values))


@cache
def preset(name: str):
    return load_preset(name)


def _values(values: tuple) -> dict:
    """Hashable ((key, value), ...) -> a values dict (tuples become lists; "linear8" is one
    linear hidden layer of 8 units)."""
    out = {}
    for key, value in values:
        if isinstance(value, tuple):
            value = [{"units": 8, "activation": "linear"} if v == "linear8" else v for v in value]
        out[key] = value
    return out


def final_eval(name: str, steps: int, seed: int, values: tuple = ()) -> dict:
    t = L.make_trainer(preset(name), seed=seed, values=_values(values))
    if steps:
        t.step(steps)
    return t.evaluate()


@cache
def median_eval(name: str, steps: int, values: tuple = (), seeds: tuple = SEEDS) -> dict:
    """Median over seeds of evaluate() after ``steps`` steps (values: ((key, value), ...))."""
    evs = [final_eval(name, steps, s, values) for s in seeds]
    return {k: (None if evs[0][k] is None else med(e[k] for e in evs)) for k in evs[0]}


# ----- measurements, one cached function per lesson ------------------------------------
@cache
def xor_steps() -> float:
    return L.median_steps(preset("xor"), SEEDS, target_accuracy=0.95, max_steps=600, check_every=5)


@cache
def linear_runs() -> dict:
    tanh = ((LAYERS_ALL, "tanh"),)
    return {
        "xor linear": median_eval("linear-xor", 300)["test_accuracy"],
        "xor tanh": median_eval("linear-xor", 300, tanh)["test_accuracy"],
        "xor relu": median_eval("linear-xor", 300, ((LAYERS_ALL, "relu"),), FEW)["test_accuracy"],
        "xor linear, 1 layer": median_eval(
            "linear-xor", 300, (("model.layers", ("linear8",)),), FEW)["test_accuracy"],
        "circle linear": median_eval("linear-xor", 300, (("data.dataset", "circle"),),
                                     FEW)["test_accuracy"],
        "circle tanh": median_eval("linear-xor", 300, (("data.dataset", "circle"),) + tanh,
                                   FEW)["test_accuracy"],
        "xor linear loss": median_eval("linear-xor", 300)["train_loss"],
    }


@cache
def feature_runs() -> dict:
    return {
        "squares": median_eval("circle-features", 200)["test_accuracy"],
        "plain": median_eval("circle-features", 200, (("data.features", ("x1", "x2")),))["test_accuracy"],
    }


@cache
def deep_runs(name: str) -> dict:
    """Gradient ratio at the start, weight change of first vs last hidden layer over 300
    steps, and the accuracy after them, per seed."""
    out = {"ratio": [], "spread": [], "change": [], "acc": []}
    for s in SEEDS:
        t = L.make_trainer(preset(name), seed=s)
        out["ratio"].append(L.gradient_ratio(t))
        out["spread"].append(L.gradient_spread(t))
        first, last = L.first_layer_change(t, 300)
        out["change"].append(first / last)
        out["acc"].append(t.evaluate()["test_accuracy"])
    return out


@cache
def activation_race() -> dict:
    # what the lesson's compare command runs: the preset's target, checked every step
    results = compare(preset("sigmoid-vs-tanh"), LAYERS_ALL, ["sigmoid", "tanh"], seeds=SEEDS,
                      stop_at_target=True)
    return {r.config.model.layers[0].activation: (r.steps_to_target or math.inf) for r in results}


@cache
def dead_runs() -> dict:
    out = {}
    for act in ("relu", "leaky_relu"):
        dead, loss = [], []
        for s in SEEDS:
            t = L.make_trainer(preset("dead-relu"), seed=s, values={LAYERS_ALL: act})
            t.step(300)
            dead.append(L.dead_fraction(t))
            loss.append(t.evaluate()["train_loss"])
        out[act] = {"dead": med(dead), "loss": med(loss)}
    return out


@cache
def lr_curves(name: str) -> list[L.Curve]:
    return [L.loss_curve(L.make_trainer(preset(name), seed=s), 200) for s in SEEDS]


def lr_stats(name: str) -> dict:
    curves = lr_curves(name)
    return {
        "drop": med(1 - c.train_loss[-1] / c.train_loss[0] for c in curves),
        "final": med(c.train_loss[-1] for c in curves),
        "acc": med(c.test_accuracy[-1] for c in curves),
        "peak": med(c.train_loss.max() / c.train_loss[0] for c in curves),
        "rises": med(np.mean(np.diff(c.train_loss) > 0) for c in curves),
        "below start": max(c.train_loss[1:].min() / c.train_loss[0] for c in curves),
        "diverged": sum(c.diverged_step is not None for c in curves),
        "ever rises": max(np.count_nonzero(np.diff(c.train_loss) > 1e-6) for c in curves),
    }


@cache
def race() -> dict:
    # exactly what the lesson's command runs (the preset's 300 epochs, stopped at the target)
    results = compare(preset("optimizer-race"), variants=VARIANT_SETS["optimizers"], seeds=SEEDS,
                      stop_at_target=True)
    return {r.label: r for r in results}


def race_steps(label: str) -> float:
    s = race()[label].steps_to_target
    return math.inf if s is None else s


@cache
def spiral() -> dict:
    steps, rows, start = [], [], []
    for s in SEEDS[:3]:
        t = L.make_trainer(preset("softmax-spiral"), seed=s)
        start.append(t.evaluate()["train_loss"])
        n = L.steps_to_target(t, max_steps=1500, check_every=25)
        steps.append(math.inf if n is None else n)
        rows.append(L.output_rows(t))
    return {"steps": med(steps), "rows": rows, "start": med(start), "all": steps}


@cache
def plane() -> dict:
    ws, losses = [], []
    for s in SEEDS:
        t = L.make_trainer(preset("regression-plane"), seed=s)
        t.step(100)
        ws.append(np.asarray(t.network.layers[0].W, dtype=float).ravel())
        losses.append(t.evaluate()["test_loss"])
    return {"w": np.median(np.array(ws), axis=0), "test": med(losses)}


@cache
def plane_diverges() -> int:
    n = 0
    for s in SEEDS[:3]:
        t = L.make_trainer(preset("regression-plane"), seed=s, values={"training.lr": 1.0})
        t.step(600)  # float32 overflows within ~40 steps, float64 within ~450
        n += t.latest.diverged
    return n


@cache
def bumps() -> dict:
    return {
        "start": median_eval("regression-bumps", 0, seeds=SEEDS[:3])["test_loss"],
        "trained": median_eval("regression-bumps", 1000, seeds=SEEDS[:3]),
        "linear": median_eval("regression-bumps", 1000, (("model.layers", ()),), seeds=SEEDS[:3]),
    }


@cache
def iris() -> dict:
    steps = L.median_steps(preset("iris"), SEEDS, max_steps=1000, check_every=5)
    curves = [L.loss_curve(L.make_trainer(preset("iris"), seed=s), 200, every=10) for s in SEEDS]
    return {"steps": steps, "acc": med(c.test_accuracy[-1] for c in curves), "curves": curves}


@cache
def overfit(name: str) -> dict:
    curves = [L.loss_curve(L.make_trainer(preset(name), seed=s), 300, every=10) for s in FEW]
    return {
        "train": med(c.train_loss[-1] for c in curves),
        "test": med(c.test_loss[-1] for c in curves),
        "gap": med(c.test_loss[-1] - c.train_loss[-1] for c in curves),
        "rebound": med(c.test_loss[-1] / c.test_loss.min() for c in curves),
    }


# ----- figures quoted in the lessons, in order -----------------------------------------
def fig(what, measure, **tol):
    return (what, measure, tol)


FIGURES = {
    "xor": [
        fig("median steps to 95%", xor_steps, factor=1.6),
        fig("test accuracy after 300 steps", lambda: median_eval("xor", 300)["test_accuracy"], abs_tol=0.02),
    ],
    "linear-xor": [
        fig("linear test accuracy", lambda: linear_runs()["xor linear"], abs_tol=0.06),
        fig("tanh test accuracy", lambda: linear_runs()["xor tanh"], abs_tol=0.03),
    ],
    "circle-features": [
        fig("accuracy with squares", lambda: feature_runs()["squares"], abs_tol=0.03),
        fig("accuracy without", lambda: feature_runs()["plain"], abs_tol=0.08),
    ],
    "vanishing-gradients": [
        fig("first/last gradient norm", lambda: L.geometric_median(deep_runs("vanishing-gradients")["ratio"]), factor=3),
        fig("first/last weight change", lambda: L.geometric_median(deep_runs("vanishing-gradients")["change"]), factor=3),
    ],
    "relu-deep": [
        fig("first/last gradient norm", lambda: L.geometric_median(deep_runs("relu-deep")["ratio"]), factor=1.6),
        fig("test accuracy after 300 steps", lambda: med(deep_runs("relu-deep")["acc"]), abs_tol=0.03),
    ],
    "sigmoid-vs-tanh": [
        fig("sigmoid median steps", lambda: activation_race()["sigmoid"], factor=1.3),
        fig("tanh median steps", lambda: activation_race()["tanh"], factor=1.3),
    ],
    "dead-relu": [
        fig("dead share", lambda: dead_runs()["relu"]["dead"], abs_tol=0.1),
        fig("relu loss", lambda: dead_runs()["relu"]["loss"], abs_tol=0.03),
        fig("leaky loss", lambda: dead_runs()["leaky_relu"]["loss"], abs_tol=0.03),
    ],
    "lr-too-low": [fig("relative drop", lambda: lr_stats("lr-too-low")["drop"], abs_tol=0.04)],
    "lr-good": [
        fig("final loss", lambda: lr_stats("lr-good")["final"], factor=1.3),
        fig("test accuracy", lambda: lr_stats("lr-good")["acc"], abs_tol=0.03),
    ],
    "lr-too-high": [
        fig("peak / start", lambda: lr_stats("lr-too-high")["peak"], factor=1.5),
        fig("share of rising steps", lambda: lr_stats("lr-too-high")["rises"], abs_tol=0.1),
    ],
    "optimizer-race": [
        fig("momentum", lambda: race_steps("momentum 0.9"), factor=1.3),
        fig("RMSprop", lambda: race_steps("RMSprop"), factor=1.3),
        fig("Adam", lambda: race_steps("Adam"), factor=1.3),
        fig("mini-batch", lambda: race_steps("mini-batch 16"), factor=1.3),
        fig("full batch", lambda: race_steps("full-batch GD"), factor=1.3),
        fig("batch 1", lambda: race_steps("SGD, batch 1"), factor=1.3),
        fig("batch 1 epochs", lambda: race()["SGD, batch 1"].epochs_to_target, factor=1.3),
        fig("full batch epochs", lambda: race()["full-batch GD"].epochs_to_target, factor=1.3),
    ],
    "softmax-spiral": [
        fig("loss at the start", lambda: spiral()["start"], abs_tol=0.15),
        fig("median steps to 95%", lambda: spiral()["steps"], factor=1.5),
    ],
    "regression-plane": [
        fig("weights", lambda: float(np.median(plane()["w"])), abs_tol=0.01),
        fig("test loss", lambda: plane()["test"], factor=1.5),
    ],
    "regression-bumps": [
        fig("test loss at the start", lambda: bumps()["start"], factor=1.3),
        fig("test loss after 1000 steps", lambda: bumps()["trained"]["test_loss"], factor=1.5),
        fig("linear model's test loss", lambda: bumps()["linear"]["test_loss"], factor=1.3),
    ],
    "iris": [
        fig("median steps to 93%", lambda: iris()["steps"], factor=1.5),
        fig("test accuracy after 200 steps", lambda: iris()["acc"], abs_tol=0.03),
    ],
    "overfit": [
        fig("train loss", lambda: overfit("overfit")["train"], abs_tol=0.01),
        fig("test loss", lambda: overfit("overfit")["test"], factor=1.5),
    ],
    "overfit-l2": [
        fig("train loss", lambda: overfit("overfit-l2")["train"], factor=1.5),
        fig("test loss", lambda: overfit("overfit-l2")["test"], factor=1.5),
    ],
}


# ----- the bundle ----------------------------------------------------------------------
def test_at_least_twelve_presets_each_with_title_lesson_and_a_next_step():
    names = bundled_names()
    assert len(names) >= 12
    assert "xor" in names
    for name in names:
        p = preset(name)
        assert p.title and len(p.lesson) > 200, name
        assert "press r" in p.lesson.lower() or "press space" in p.lesson.lower(), name


@pytest.mark.parametrize("name", ["vanishing-gradients", "dead-relu", "lr-too-low", "lr-good",
                                  "lr-too-high"])
def test_inspector_hint(name):
    assert "press i and look at δ in layer 1" in preset(name).lesson.lower()


def test_every_preset_has_its_figures_listed():
    assert sorted(FIGURES) == bundled_names()
    for name, checks in FIGURES.items():
        quoted = L.figures(preset(name).lesson)
        assert len(quoted) == len(checks), (
            f"{name}: the lesson quotes {[q.text for q in quoted]}, the test checks "
            f"{[c[0] for c in checks]}")


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_quoted_figures_match_measurements(name):
    quoted = L.figures(preset(name).lesson)
    for q, (what, measure, tol) in zip(quoted, FIGURES[name]):
        value = measure()
        assert L.within(value, q.value, **tol), (
            f"{name}: the lesson says {what} {q.text}, the preset gives {value:.3g} ({tol})")


# ----- the effects themselves ------------------------------------------------------------
def test_xor_tanh_demo_is_quick():
    assert xor_steps() <= 100
    assert median_eval("xor", 300)["test_accuracy"] >= 0.97


def test_linear_layers_stay_near_chance_and_nonlinear_ones_solve_it():
    r = linear_runs()
    for linear in ("xor linear", "xor linear, 1 layer", "circle linear"):
        assert r[linear] <= 0.65, linear
    assert r["xor linear loss"] >= 0.6  # ln 2 = 0.693: a model that cannot do better than 50/50
    for nonlinear in ("xor tanh", "xor relu", "circle tanh"):
        assert r[nonlinear] >= 0.95, nonlinear
    assert r["xor tanh"] - r["xor linear"] >= 0.35
    assert r["circle tanh"] - r["circle linear"] >= 0.35


def test_squared_features_let_a_single_unit_solve_the_circle():
    r = feature_runs()
    assert not preset("circle-features").config.model.layers
    t = L.make_trainer(preset("circle-features"))
    t.step(200)
    w = np.abs(t.network.layers[0].W.ravel())  # x1, x2, x1^2, x2^2
    assert min(w[2:]) > 3 * max(w[:2])
    assert r["squares"] >= 0.95
    assert r["plain"] <= 0.65


def test_deep_sigmoid_gradients_vanish_compared_with_relu_he():
    sig, relu = deep_runs("vanishing-gradients"), deep_runs("relu-deep")
    assert len(preset("vanishing-gradients").config.model.layers) == 8
    assert preset("relu-deep").config.data == preset("vanishing-gradients").config.data
    for s in range(len(SEEDS)):  # every seed, not just on average
        assert sig["ratio"][s] < 1e-3
        assert sig["ratio"][s] * 100 < relu["ratio"][s]
    # the early sigmoid layers barely learn: weight change far below the last hidden layer's
    assert max(sig["change"]) < 0.05
    assert med(sig["acc"]) <= 0.65


def test_relu_he_keeps_gradients_in_a_narrow_band_and_trains():
    relu = deep_runs("relu-deep")
    assert max(relu["spread"]) < 100  # sigmoid: 1e4 to 1e6
    assert min(deep_runs("vanishing-gradients")["spread"]) > 1000
    assert med(relu["acc"]) >= 0.95
    # the lesson's next step: too small an init and the same ReLU net stops learning
    small = median_eval("relu-deep", 300, (("model.init", "normal"),), FEW)
    assert preset("relu-deep").config.model.init_std == 0.1
    assert small["test_accuracy"] <= 0.65


def test_tanh_needs_fewer_steps_than_sigmoid():
    steps = activation_race()
    assert math.isfinite(steps["tanh"]) and math.isfinite(steps["sigmoid"])
    assert steps["tanh"] * 2 <= steps["sigmoid"]


def test_high_lr_kills_relus_but_not_leaky_relus():
    r = dead_runs()
    assert r["relu"]["dead"] >= 0.4
    assert r["relu"]["loss"] >= 0.6
    assert r["leaky_relu"]["loss"] <= 0.15
    assert r["relu"]["loss"] - r["leaky_relu"]["loss"] >= 0.5


def test_learning_rate_regimes():
    low, good, high = lr_stats("lr-too-low"), lr_stats("lr-good"), lr_stats("lr-too-high")
    configs = [preset(n).config.with_value("training.lr", 1.0) for n in ("lr-too-low", "lr-good",
                                                                          "lr-too-high")]
    assert configs[0] == configs[1] == configs[2]  # only the learning rate differs
    # too low: barely moves in 200 steps
    assert low["drop"] <= 0.2
    # good: converges, and steadily (no curve ever rises)
    assert good["final"] <= 0.2 and good["acc"] >= 0.93
    assert good["ever rises"] == 0
    # too high: diverges, or oscillates without ever beating its start
    if high["diverged"] < len(SEEDS):
        assert high["rises"] >= 0.3
        assert high["peak"] >= 10
        assert high["below start"] >= 1.0
    # where nothing saturates, too high a rate diverges outright
    assert plane_diverges() == 3


def test_optimizer_race_ordering():
    s = {label: race_steps(label) for label in race()}
    assert all(math.isfinite(v) for v in s.values()), s
    plain = ("mini-batch 16", "full-batch GD")
    # momentum and RMSprop first, then Adam, then plain SGD at any batch size
    assert max(s["momentum 0.9"], s["RMSprop"]) < s["Adam"] < min(s[p] for p in plain)
    # batch 1: the most steps, the fewest epochs
    assert s["SGD, batch 1"] > max(s[p] for p in plain)
    epochs = {label: r.epochs_to_target for label, r in race().items()}
    assert epochs["SGD, batch 1"] < min(v for k, v in epochs.items() if k != "SGD, batch 1")
    assert epochs["SGD, batch 1"] * 20 < epochs["full-batch GD"]


def test_softmax_outputs_are_probabilities_and_the_spiral_is_learned():
    r = spiral()
    assert preset("softmax-spiral").config.data.classes == 3
    for rows in r["rows"]:
        assert rows.shape[1] == 3
        assert (rows >= 0).all()
        np.testing.assert_allclose(rows.sum(axis=1), 1.0, atol=1e-5)
    assert all(math.isfinite(s) for s in r["all"])  # every seed reaches 95% test accuracy


def test_plane_regression_finds_the_plane():
    r = plane()
    np.testing.assert_allclose(r["w"], [1 / 6, 1 / 6], atol=0.02)
    assert r["test"] <= 0.006  # the noise variance is 0.0025


def test_bumps_need_hidden_units():
    r = bumps()
    data = L.make_trainer(preset("regression-bumps")).data
    guess_the_mean = float(np.mean((data.y_test - data.y_train.mean()) ** 2))
    assert r["trained"]["test_loss"] <= 0.2 * guess_the_mean
    assert r["linear"]["test_loss"] >= 0.8 * guess_the_mean
    assert r["start"] >= r["linear"]["test_loss"]
    assert r["trained"]["train_accuracy"] is None  # regression: no accuracy


def test_iris_reaches_its_test_target_and_test_loss_levels_off():
    r = iris()
    assert math.isfinite(r["steps"]) and r["acc"] >= 0.9
    for c in r["curves"]:
        assert c.train_loss[-1] < 0.5 * c.test_loss[-1]  # the gap opens as training goes on
    # the lesson's next step: a bigger hidden layer fits the training flowers better, and
    # the test flowers no better
    small, big = median_eval("iris", 200), median_eval("iris", 200, (("model.layers[0].units", 64),))
    assert big["train_loss"] < small["train_loss"]
    assert big["test_accuracy"] <= small["test_accuracy"] + 0.02


def test_overfit_gap_is_large_and_l2_closes_it():
    plain, l2 = overfit("overfit"), overfit("overfit-l2")
    assert preset("overfit").config.with_value("training.regularization", "l2").with_value(
        "training.reg_rate", 0.01) == preset("overfit-l2").config
    assert plain["gap"] >= 5 * l2["gap"]
    assert plain["train"] <= 0.02
    assert plain["rebound"] >= 2  # the test loss turned round and climbed
    assert l2["rebound"] <= 1.5
    # the lesson's next step: too much L2 and both losses rise (underfitting)
    strong = median_eval("overfit-l2", 300, (("training.reg_rate", 0.1),), FEW)
    assert strong["train_loss"] > 2 * l2["train"] and strong["test_loss"] > l2["test"]
