"""The bundled presets: each one reproduces its lesson, and quotes the figures it produces.

Every figure a lesson quotes is measured on the run the app shows: the preset's own config
and seed, trained the way the app trains it (``lessons.app_run``: ``Trainer(preset)``, then
its epochs, stopping where its target is met at an epoch's end), with the layer figures of
the last step taken, as in the layer bars. A setting the lesson asks to change is changed
before a fresh start from the same seed, as r does; a comparison is the compare run the
lesson names. Each ``≈ number`` in a lesson is matched, in order, to a measurement in
``FIGURES`` and must lie within the tolerance stated there, so the text cannot drift from
what the engine does; the tests after it hold the claims that quote no number. Runs are
cached, so a figure check and an effect test share one run.
"""

from __future__ import annotations

import math
import re
from functools import cache

import numpy as np
import pytest

from engine.analysis import landscape as LS
from engine.analysis import lessons as L
from engine.analysis.compare import VARIANT_SETS, compare
from engine.presets import bundled_names, load_preset

SEEDS = (0, 1, 2, 3, 4)  # the compare commands' --seeds 5: the preset's seed 0 and the next four
LAYERS_ALL = "model.layers[*].activation"


@cache
def preset(name: str):
    return load_preset(name)


def _values(values: tuple) -> dict:
    """Hashable ((key, value), ...) -> a values dict (tuples become lists; "relu32" is one
    hidden layer of 32 ReLU units)."""
    def layer(v):
        return {"units": 32, "activation": "relu"} if v == "relu32" else v

    return {key: [layer(v) for v in value] if isinstance(value, tuple) else value
            for key, value in values}


@cache
def run(name: str, values: tuple = (), **kw) -> L.AppRun:
    """The preset's run as the app shows it (values: settings changed before r)."""
    return L.app_run(preset(name), _values(values), **kw)


def end(name: str, values: tuple = ()):
    """The snapshot on screen when the run stops."""
    return run(name, values).final


@cache
def first_steps(name: str, n: int, values: tuple = ()) -> tuple:
    """Snapshots after each of the first ``n`` single steps (n pressed ``n`` times)."""
    t = L.app_trainer(preset(name), _values(values))
    return (t.snapshot(),) + tuple(t.step(1) for _ in range(n))


MOMENTUM = (("training.momentum", 0.9),)
LOCAL_SEEDS = range(20)  #: "over the seeds 0 to 19"


@cache
def stuck_share(values: tuple = ()) -> float:
    """The share of local-minimum's seeds 0-19 whose run ends in the shallow bowl: nearer
    its loss (the preset's own seed's) than the deep one's (seed 0 with momentum)."""
    shallow = end("local-minimum").train_loss
    deep = end("local-minimum", MOMENTUM).train_loss
    ends = [end("local-minimum", values + (("training.seed", seed),)).train_loss
            for seed in LOCAL_SEEDS]
    return float(np.mean([abs(e - shallow) < abs(e - deep) for e in ends]))


def minus(lr: float, times: int = 1) -> float:
    """The learning rate after pressing - ``times`` times (÷3, as the app rounds it)."""
    for _ in range(times):
        lr = float(f"{lr / 3:.6g}")
    return lr


def change(name: str, layer: int) -> float:
    """||W_end - W_start|| / ||W_start|| of one layer over the preset's run (a fresh trainer
    from the same seed holds the starting weights)."""
    start = L.app_trainer(preset(name)).network.layers[layer].W
    end_ = run(name).trainer.network.layers[layer].W
    return float(np.linalg.norm(end_ - start) / np.linalg.norm(start))


def rises(series: np.ndarray) -> int:
    return int(np.count_nonzero(np.diff(series) > 1e-6))


def vary_values(name: str) -> list[float]:
    """The learning rates of the compare command a lesson names (--vary training.lr=...)."""
    m = re.search(r"--vary training\.lr=([\d.,]+)", preset(name).lesson)
    assert m, f"{name}: no learning-rate compare command in the lesson"
    return [float(v) for v in m.group(1).rstrip(".,").split(",")]


@cache
def lr_compare(name: str, values: tuple, steps: int, points: int = 100) -> dict:
    """The preset's run at each learning rate, seed 0 (compare's default), ``steps`` steps."""
    results = compare(preset(name), "training.lr", list(values), steps=steps, seeds=1,
                      points=points)
    return {r.config.training.lr: r for r in results}


def screen_compare(name: str) -> dict:
    """What the compare screen's learning-rate set shows for a preset, run as it runs it."""
    from tui.screens.compare import POINTS

    return lr_compare(name, screen_lr_values(name), screen_steps(name), POINTS)


def screen_lr_values(name: str) -> tuple:
    """The learning rates the compare screen (v) lines up for this preset."""
    from tui.screens.compare import lr_values

    return tuple(lr_values(preset(name).config)[0])


def screen_steps(name: str) -> int:
    """The compare screen's default run length: the run's own, between 50 and 1000 steps."""
    t = L.app_trainer(preset(name))
    return int(max(50, min(1000, t.config.training.epochs * t.steps_per_epoch)))


# ----- measurements --------------------------------------------------------------------
def weight_ratio_squares() -> float:
    w = np.abs(run("circle-features").trainer.network.layers[0].W.ravel())  # x1, x2, x1², x2²
    return float(w[2:].mean() / w[:2].mean())


def bar_spread(snap) -> float:
    norms = [l.grad_norm for l in snap.layers]
    return max(norms) / min(norms)


@cache
def activation_race() -> dict:
    # exactly what the lesson's compare command runs: --seeds 5 --stop-at-target
    results = compare(preset("sigmoid-vs-tanh"), LAYERS_ALL, ["sigmoid", "tanh"], seeds=len(SEEDS),
                      stop_at_target=True)
    return {r.config.model.layers[0].activation: (r.steps_to_target or math.inf) for r in results}


LEAKY = ((LAYERS_ALL, "leaky_relu"),)
LEAKY_SLOWER = LEAKY + (("training.lr", minus(1.0)),)
RELU_SLOWER = (("training.lr", minus(1.0)),)


def dead(snap, layer: int) -> float:
    return snap.layers[layer].dead_fraction


@cache
def wrong_test_points(name: str, values: tuple) -> tuple[int, float]:
    """How many test points the final network gets wrong, and the share of the summed test
    loss that the worst point alone makes."""
    t = run(name, values).trainer
    X, Y = L._train_arrays(t, test=True)
    z = t.network.logits(X)[:, 0].astype(np.float64)
    sign = 2 * Y[:, 0] - 1
    per_point = np.logaddexp(0, -sign * z)
    return int(np.count_nonzero(np.sign(z) != sign)), float(per_point.max() / per_point.sum())


@cache
def delta_per_step(name: str, steps: int) -> np.ndarray:
    """Mean |δ| of layer 1 before each of the run's first ``steps`` steps, and after the last
    (what the inspector shows at each of those points)."""
    t = L.app_trainer(preset(name))
    out = []
    for _ in range(steps):
        out.append(L.delta_norms(t)[0])
        t.step(1)
    out.append(L.delta_norms(t)[0])
    return np.array(out)


def loss_drop(name: str) -> float:
    r = run(name)
    return 1 - r.final.train_loss / r.snapshots[0].train_loss


def curve_peak(name: str) -> float:
    loss = run(name).series("train_loss")
    return float(loss.max() / loss[0])


def rising_share(name: str) -> float:
    loss = run(name).series("train_loss")
    return float(np.mean(np.diff(loss) > 0))


def race_steps(label: str) -> float:
    s = race()[label].steps_to_target
    return math.inf if s is None else s


@cache
def race() -> dict:
    # exactly what the lesson's command runs (the preset's 300 epochs, stopped at the target)
    results = compare(preset("optimizer-race"), variants=VARIANT_SETS["optimizers"],
                      seeds=len(SEEDS), stop_at_target=True)
    return {r.label: r for r in results}


ONE_LAYER = (("model.layers", ("relu32",)),)
NO_HIDDEN = (("model.layers", ()),)
NORMAL_INIT = (("model.init", "normal"),)
STRONG_L2 = (("training.reg_rate", 0.1),)
PLANE_LR_1 = (("training.lr", 1.0),)


@cache
def range_test(name: str):
    """The learning-rate range test the lesson names, as ``backprop-lab lr-find NAME
    [--max LR]`` runs it (its other settings the command's defaults)."""
    from engine.analysis.lr_find import lr_find

    m = re.search(r"backprop-lab\s+lr-find\s+([\w-]+)(?:\s+--max\s+([\d.e+-]+))?\)",
                  preset(name).lesson)
    assert m, f"{name}: no lr-find command in the lesson"
    return lr_find(preset(m.group(1)), **({"lr_max": float(m.group(2))} if m.group(2) else {}))


def plane_diverges_at() -> int | None:
    """The step at which regression-plane at a learning rate of 1 is stopped as diverged."""
    return run("regression-plane", PLANE_LR_1).final.diverged_step


@cache
def guess_the_mean(name: str) -> float:
    d = L.app_trainer(preset(name)).data
    return float(np.mean((d.y_test - d.y_train.mean()) ** 2))


#: iris trained on past its target (space again after the stop), to step 500
IRIS_ON = {"epochs": 100, "stop_at_target": False}
IRIS_64 = (("model.layers[0].units", 64),)
DIGITS_8 = (("model.layers[0].units", 8),)


def iris_after(values: tuple = (), lo: int = 100, hi: int = 500) -> list:
    """Snapshots of iris trained on past its target, from step ``lo`` to ``hi``."""
    return [s for s in run("iris", values, **IRIS_ON).snapshots if lo <= s.step <= hi]


def iris_window(key: str) -> float:
    return float(np.median([getattr(s, key) for s in iris_after()]))


def lowest_test_loss(name: str) -> tuple[float, int]:
    """The lowest test loss of the run and the step it was reached at."""
    r = run(name)
    i = int(np.argmin(r.series("test_loss")))
    return float(r.snapshots[i].test_loss), int(r.snapshots[i].step)


# ----- figures quoted in the lessons, in order -----------------------------------------
def fig(what, measure, **tol):
    return (what, measure, tol)


FIGURES = {
    "lr-skip": [
        fig("λ_max", lambda: LS.lambda_max(L.app_trainer(preset("lr-skip"))), abs_tol=0.05),
        fig("2/λ_max", lambda: LS.critical_lr(L.app_trainer(preset("lr-skip"))), abs_tol=0.005),
        fig("rate 0.25: loss at the end", lambda: end("lr-skip").train_loss, abs_tol=0.005),
        fig("rate 0.28: loss at the end",
            lambda: end("lr-skip", (("training.lr", 0.28),)).train_loss, abs_tol=0.005),
        fig("rate 0.3: loss at the end",
            lambda: end("lr-skip", (("training.lr", 0.3),)).train_loss, factor=3),
        fig("rate 0.75 (+ once): loss at the end",
            lambda: end("lr-skip", (("training.lr", 0.75),)).train_loss, factor=3),
    ],
    "draw": [],  # it starts empty: the lesson quotes no figure
    "local-minimum": [
        fig("this seed: loss at the end", lambda: end("local-minimum").train_loss,
            abs_tol=0.003),
        fig("the best fit's loss", lambda: end("local-minimum", MOMENTUM).train_loss,
            abs_tol=0.003),
        fig("share of seeds 0-19 stuck at rate 1", lambda: stuck_share(), abs_tol=0.05),
        fig("share stuck at rate 3", lambda: stuck_share((("training.lr", 3.0),)),
            abs_tol=0.05),
        fig("share stuck with momentum 0.9", lambda: stuck_share(MOMENTUM), abs_tol=0.05),
    ],
    "xor": [
        fig("step at which test accuracy passes 95%",
            lambda: run("xor", epochs=15, every_step=True).first_step("test_accuracy", 0.95),
            factor=1.25),
        fig("test accuracy at the end", lambda: end("xor").test_accuracy, abs_tol=0.01),
        fig("both layers linear: test accuracy at the end",
            lambda: end("xor", ((LAYERS_ALL, "linear"),)).test_accuracy, abs_tol=0.04),
    ],
    "linear-xor": [
        fig("test accuracy at the end", lambda: end("linear-xor").test_accuracy, abs_tol=0.03),
        fig("training loss at the end", lambda: end("linear-xor").train_loss, abs_tol=0.01),
        fig("tanh: test accuracy", lambda: end("linear-xor", ((LAYERS_ALL, "tanh"),)).test_accuracy,
            abs_tol=0.01),
        fig("relu: test accuracy", lambda: end("linear-xor", ((LAYERS_ALL, "relu"),)).test_accuracy,
            abs_tol=0.01),
        fig("circle: test accuracy",
            lambda: end("linear-xor", (("data.dataset", "circle"),)).test_accuracy, abs_tol=0.04),
    ],
    "circle-features": [
        fig("test accuracy at the end", lambda: end("circle-features").test_accuracy, abs_tol=0.01),
        fig("weights on the squares / on x1 and x2", weight_ratio_squares, factor=1.3),
        fig("x1 and x2 only: test accuracy",
            lambda: end("circle-features", (("data.features", ("x1", "x2")),)).test_accuracy,
            abs_tol=0.04),
    ],
    "vanishing-gradients": [
        fig("first / last bar after one step",
            lambda: L.bar_ratio(first_steps("vanishing-gradients", 1)[1]), factor=1.5),
        fig("first / last hidden layer's weight change over the run",
            lambda: change("vanishing-gradients", 0) / change("vanishing-gradients", -2),
            factor=1.5),
        fig("test accuracy at the end", lambda: end("vanishing-gradients").test_accuracy,
            abs_tol=0.04),
    ],
    "relu-deep": [
        fig("largest / smallest bar after one step",
            lambda: bar_spread(first_steps("relu-deep", 1)[1]), factor=1.3),
        fig("first / last bar after one step", lambda: L.bar_ratio(first_steps("relu-deep", 1)[1]),
            factor=1.3),
        fig("test accuracy at the end", lambda: end("relu-deep").test_accuracy, abs_tol=0.01),
        fig("init normal: test accuracy", lambda: end("relu-deep", NORMAL_INIT).test_accuracy,
            abs_tol=0.04),
    ],
    "sigmoid-vs-tanh": [
        fig("sigmoid: the step the run stops at", lambda: run("sigmoid-vs-tanh").steps,
            factor=1.15),
        fig("tanh: the step the run stops at",
            lambda: run("sigmoid-vs-tanh", ((LAYERS_ALL, "tanh"),)).steps, factor=1.15),
        fig("race over five seeds: sigmoid median", lambda: activation_race()["sigmoid"],
            factor=1.2),
        fig("race over five seeds: tanh median", lambda: activation_race()["tanh"], factor=1.2),
    ],
    "dead-relu": [
        fig("loss of the fresh network", lambda: first_steps("dead-relu", 2)[0].train_loss,
            abs_tol=0.03),
        fig("loss after step 2", lambda: first_steps("dead-relu", 2)[2].train_loss, factor=1.1),
        fig("L2 and L3 dead at the end",
            lambda: max(dead(end("dead-relu"), 1), dead(end("dead-relu"), 2)), abs_tol=0.01),
        fig("L1 dead at the end", lambda: dead(end("dead-relu"), 0), abs_tol=0.01),
        fig("training loss at the end", lambda: end("dead-relu").train_loss, abs_tol=0.03),
        fig("test accuracy at the end", lambda: end("dead-relu").test_accuracy, abs_tol=0.03),
        fig("leaky_relu: test accuracy", lambda: end("dead-relu", LEAKY).test_accuracy,
            abs_tol=0.015),
        fig("leaky_relu at lr/3: test loss", lambda: end("dead-relu", LEAKY_SLOWER).test_loss,
            factor=1.3),
        fig("leaky_relu at lr/3: test accuracy",
            lambda: end("dead-relu", LEAKY_SLOWER).test_accuracy, abs_tol=0.02),
        fig("relu at lr/3: L3 dead", lambda: dead(end("dead-relu", RELU_SLOWER), 2), abs_tol=0.01),
        fig("relu at lr/3: test accuracy", lambda: end("dead-relu", RELU_SLOWER).test_accuracy,
            abs_tol=0.02),
    ],
    "lr-too-low": [
        fig("relative drop of the loss", lambda: loss_drop("lr-too-low"), abs_tol=0.01),
        fig("range test: steepest descent", lambda: range_test("lr-too-low").steepest_lr,
            factor=1.15),
    ],
    "lr-good": [
        fig("training loss at the end", lambda: end("lr-good").train_loss, factor=1.15),
        fig("test accuracy at the end", lambda: end("lr-good").test_accuracy, abs_tol=0.02),
        fig("compare screen: lr 0.3 at the end",
            lambda: screen_compare("lr-good")[0.3].final_train_loss, factor=1.15),
        fig("range test to 100: steepest descent", lambda: range_test("lr-good").steepest_lr,
            factor=1.15),
        fig("range test to 100: blow-up", lambda: range_test("lr-good").blowup_lr, factor=1.15),
    ],
    "lr-too-high": [
        fig("peak / start", lambda: curve_peak("lr-too-high"), factor=1.15),
        fig("share of rising steps", lambda: rising_share("lr-too-high"), abs_tol=0.05),
        fig("L1 saturated at the end", lambda: end("lr-too-high").layers[0].saturated_fraction,
            abs_tol=0.01),
        fig("regression-plane at lr 1: the step it diverges at", lambda: plane_diverges_at(),
            factor=1.3),
        fig("range test to 100: blow-up", lambda: range_test("lr-too-high").blowup_lr,
            factor=1.15),
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
        fig("the preset's own run: the step it stops at", lambda: run("optimizer-race").steps,
            factor=1.1),
        fig("momentum 0.9: the step it stops at",
            lambda: run("optimizer-race", (("training.momentum", 0.9),)).steps, factor=1.1),
    ],
    "softmax-spiral": [
        fig("loss of the fresh network", lambda: run("softmax-spiral").snapshots[0].train_loss,
            abs_tol=0.05),
        fig("the step the run stops at", lambda: run("softmax-spiral").steps, factor=1.15),
        fig("one hidden layer: test accuracy at the end",
            lambda: end("softmax-spiral", ONE_LAYER).test_accuracy, abs_tol=0.04),
        fig("tanh: the step the run stops at",
            lambda: run("softmax-spiral", ((LAYERS_ALL, "tanh"),)).steps, factor=1.15),
    ],
    "regression-plane": [
        fig("weights at the end",
            lambda: float(np.median(run("regression-plane").trainer.network.layers[0].W)),
            abs_tol=0.01),
        fig("test loss at the end", lambda: end("regression-plane").test_loss, factor=1.2),
        fig("at lr 1: the step it diverges at", lambda: plane_diverges_at(), factor=1.3),
    ],
    "regression-bumps": [
        fig("test loss of the fresh network",
            lambda: run("regression-bumps").snapshots[0].test_loss, factor=1.1),
        fig("test loss at the end", lambda: end("regression-bumps").test_loss, factor=1.3),
        fig("no hidden layer: test loss", lambda: end("regression-bumps", NO_HIDDEN).test_loss,
            factor=1.1),
        fig("always the average height: test loss", lambda: guess_the_mean("regression-bumps"),
            factor=1.1),
    ],
    "iris": [
        fig("the step the run stops at", lambda: run("iris").steps, factor=1.15),
        fig("training loss at the stop", lambda: end("iris").train_loss, abs_tol=0.02),
        fig("test loss at the stop", lambda: end("iris").test_loss, abs_tol=0.02),
        fig("trained on: test loss from step 100 to 500 (median)", lambda: iris_window("test_loss"),
            abs_tol=0.02),
        fig("trained on: test accuracy from step 100 to 500 (median)",
            lambda: iris_window("test_accuracy"), abs_tol=0.015),
        fig("64 units: the step the run stops at", lambda: run("iris", IRIS_64).steps, factor=1.3),
    ],
    "overfit": [
        fig("lowest test loss", lambda: lowest_test_loss("overfit")[0], factor=1.15),
        fig("step of the lowest test loss", lambda: lowest_test_loss("overfit")[1], factor=1.3),
        fig("test loss at the end", lambda: end("overfit").test_loss, factor=1.2),
        fig("training loss at the end", lambda: end("overfit").train_loss, abs_tol=0.002),
    ],
    "overfit-l2": [
        fig("training loss at the end", lambda: end("overfit-l2").train_loss, factor=1.15),
        fig("test loss at the end", lambda: end("overfit-l2").test_loss, factor=1.15),
        fig("rate 0.1: training loss", lambda: end("overfit-l2", STRONG_L2).train_loss,
            factor=1.15),
        fig("rate 0.1: test loss", lambda: end("overfit-l2", STRONG_L2).test_loss, factor=1.15),
    ],
    "digits": [
        fig("the step the run stops at", lambda: run("digits").steps, factor=1.15),
        fig("the epoch it stops at", lambda: end("digits").epoch, abs_tol=0),
        fig("trained on to epoch 30: training accuracy",
            lambda: run("digits", stop_at_target=False).final.train_accuracy, abs_tol=0.01),
        fig("trained on to epoch 30: test accuracy",
            lambda: run("digits", stop_at_target=False).final.test_accuracy, abs_tol=0.01),
        fig("8 units: test accuracy at the end", lambda: end("digits", DIGITS_8).test_accuracy,
            abs_tol=0.02),
        fig("8 units: dead share at the end", lambda: dead(end("digits", DIGITS_8), 0),
            abs_tol=0.01),
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
        assert value is not None, f"{name}: {what} was never reached"
        assert L.within(value, q.value, **tol), (
            f"{name}: the lesson says {what} {q.text}, the preset gives {value:.3g} ({tol})")


def test_settings_the_lessons_state():
    t = {name: preset(name).config.training for name in bundled_names()}
    assert (t["lr-too-low"].lr, t["lr-good"].lr, t["lr-too-high"].lr) == (0.01, 3.0, 100.0)
    assert t["dead-relu"].lr == 1.0 and preset("dead-relu").config.model.leaky_slope == 0.1
    assert [l.units for l in preset("dead-relu").config.model.layers] == [6, 6, 6]
    assert minus(1.0) == pytest.approx(0.33, abs=0.005)  # "press - once (rate 0.33)"
    for name in ("sigmoid-vs-tanh", "softmax-spiral", "optimizer-race"):
        assert t[name].target_accuracy == 0.95, name
    assert t["iris"].target_accuracy == 0.93
    assert [l.activation for l in preset("xor").config.model.layers] == ["tanh", "tanh"]
    for name, lesson_steps in (("xor", 1400), ("linear-xor", 350), ("circle-features", 210),
                               ("vanishing-gradients", 400), ("relu-deep", 400),
                               ("dead-relu", 300), ("lr-good", 200), ("lr-too-low", 200),
                               ("lr-too-high", 200), ("regression-plane", 210),
                               ("regression-bumps", 1400), ("overfit", 300), ("overfit-l2", 300)):
        # "when the run ends (N steps)": the run trains all its epochs
        assert run(name).stopped == "epochs" and run(name).steps == lesson_steps, name


# ----- the effects behind the words ------------------------------------------------------
def test_xor_tanh_solves_it_and_linear_layers_do_not():
    assert end("xor").test_accuracy >= 0.99
    assert end("xor", ((LAYERS_ALL, "linear"),)).test_accuracy <= 0.6


def affine(trainer) -> bool:
    """Whether the network's output logit is an affine function of its inputs (a straight
    boundary): the logit of a midpoint is the mean of the logits."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (2, 200, trainer.network.layers[0].fan_in))
    def z(x):
        return trainer.network.logits(x.astype(trainer.network.dtype)).astype(np.float64)

    return np.allclose(z((a + b) / 2), (z(a) + z(b)) / 2, atol=1e-3 * (1 + np.abs(z(a)).max()))


def test_linear_layers_stay_one_straight_line():
    assert affine(run("linear-xor").trainer)
    assert not affine(run("linear-xor", ((LAYERS_ALL, "tanh"),)).trainer)
    assert end("linear-xor").train_loss == pytest.approx(math.log(2), abs=0.01)  # "ln 2"
    circle = (("data.dataset", "circle"),)
    assert end("linear-xor", circle).test_accuracy <= 0.6
    assert end("linear-xor", circle + ((LAYERS_ALL, "tanh"),)).test_accuracy >= 0.97


def test_squared_features_let_a_single_unit_solve_the_circle():
    assert not preset("circle-features").config.model.layers
    w = np.abs(run("circle-features").trainer.network.layers[0].W.ravel())  # x1, x2, x1², x2²
    assert min(w[2:]) > 5 * max(w[:2])
    assert end("circle-features", (("data.features", ("x1", "x2")),)).test_accuracy <= 0.6


def test_deep_sigmoid_gradients_vanish_layer_by_layer():
    assert len(preset("vanishing-gradients").config.model.layers) == 8
    norms = [l.grad_norm for l in first_steps("vanishing-gradients", 1)[1].layers]
    assert all(a < b for a, b in zip(norms, norms[1:]))  # each bar shorter than the next
    # the inspector after that step: δ in layer 1 is almost zero next to the last hidden layer's
    t = L.app_trainer(preset("vanishing-gradients"))
    t.step(1)
    deltas = L.delta_norms(t)
    assert deltas[0] < deltas[-2] / 1000
    assert end("vanishing-gradients").test_accuracy <= 0.6


def test_relu_he_keeps_gradients_in_a_narrow_band_and_trains():
    assert preset("relu-deep").config.data == preset("vanishing-gradients").config.data
    assert bar_spread(first_steps("relu-deep", 1)[1]) < 20
    assert bar_spread(first_steps("vanishing-gradients", 1)[1]) > 1e4
    assert end("relu-deep").test_accuracy >= 0.98
    # the lesson's next step: init = normal (std 0.1) and the signal shrinks layer by layer
    assert preset("relu-deep").config.model.init_std == 0.1
    t = L.app_trainer(preset("relu-deep"), {"model.init": "normal"})
    X, _ = L._train_arrays(t)
    hidden = [float(np.abs(a).mean()) for a in t.network._forward(X).a[:-1]]
    assert all(a > b for a, b in zip(hidden, hidden[1:]))
    assert hidden[-1] < hidden[0] / 1000
    assert end("relu-deep", NORMAL_INIT).test_accuracy <= 0.6


def test_tanh_stops_sooner_than_sigmoid():
    sig, tanh = run("sigmoid-vs-tanh"), run("sigmoid-vs-tanh", ((LAYERS_ALL, "tanh"),))
    assert sig.stopped == tanh.stopped == "target"  # "the run stops itself"
    assert tanh.steps * 2 <= sig.steps
    race_ = activation_race()
    assert race_["tanh"] * 2 <= race_["sigmoid"]


def test_high_lr_kills_relus_and_leaky_relus_survive_it():
    steps = first_steps("dead-relu", 6)
    # the first big steps: the loss leaps, and within a few steps L2 and L3 are mostly dead
    assert steps[2].train_loss > 10 * steps[0].train_loss
    assert dead(steps[6], 1) >= 0.5 and dead(steps[6], 2) >= 0.5
    r = run("dead-relu")
    # once dead, dead for good: the dead share of L2 and L3 never falls in the second half
    for layer in (1, 2):
        shares = [dead(s, layer) for s in r.snapshots[150:]]
        assert min(shares) == max(shares) == dead(r.final, layer)
    # the inspector at the end: δ in layer 1 is mostly exact zeros
    t = r.trainer
    X, Y = L._train_arrays(t)
    t.network.loss_and_grads(X, Y, t.loss_name)
    assert np.mean(t.network.last_batch.delta[0] == 0) >= 0.9
    # leaky_relu at the same rate: every training point right, and a loss that leaps about
    # on the way; at a third of the rate it trains calmly: far fewer rises, and a test loss
    # several times lower. (How high the reckless run's test loss ends depends on the
    # rounding of the machine's BLAS kernels, which this chaotic run amplifies: 0.58 on one
    # kernel, 24 on another; the lesson says only what holds on both.)
    leaky = run("dead-relu", LEAKY)
    assert leaky.final.train_accuracy == 1.0
    loss = leaky.series("train_loss")
    assert rises(loss) >= 30 and loss[10:].max() > 10
    calm_run = run("dead-relu", LEAKY_SLOWER)
    calm = calm_run.series("train_loss")
    assert calm.max() < 2 and rises(calm) < rises(loss) / 2
    assert leaky.final.test_loss > 3 * calm_run.final.test_loss
    assert end("dead-relu", RELU_SLOWER).test_accuracy > end("dead-relu").test_accuracy + 0.2


def test_learning_rate_regimes_differ_only_in_the_rate():
    configs = [preset(n).config.with_value("training.lr", 1.0) for n in ("lr-too-low", "lr-good",
                                                                          "lr-too-high")]
    assert configs[0] == configs[1] == configs[2]


def test_too_low_a_rate_crawls_with_a_healthy_gradient():
    r = run("lr-too-low")
    assert rises(r.series("train_loss")) == 0
    # the picture is still pale: every prediction close to 50/50
    assert np.abs(r.trainer.boundary().values - 0.5).max() < 0.25
    d = delta_per_step("lr-too-low", 0)[0], L.delta_norms(r.trainer)[0]
    assert d[1] > 0.8 * d[0]  # δ in layer 1 stays the size it was: the steps are tiny


def test_a_good_rate_falls_steadily_and_beats_its_neighbours():
    r = run("lr-good")
    assert rises(r.series("train_loss")) == 0  # "without a single rise"
    assert L.delta_norms(r.trainer)[0] < 0.5 * delta_per_step("lr-good", 0)[0]  # δ shrinks
    # the compare screen (v): 0.03 to 30, the preset's own rate ends lowest, train and test
    lr = preset("lr-good").config.training.lr
    values = screen_lr_values("lr-good")
    assert values == (0.03, 0.3, 3.0, 30.0)
    screen = screen_compare("lr-good")
    best = screen[lr]
    for other, res in screen.items():
        if other != lr:
            assert res.final_train_loss > best.final_train_loss, other
            assert res.final_test_loss > best.final_test_loss, other
    for slow in (0.03, 0.3):  # still on their way down
        curve = screen[slow].train_loss
        assert rises(curve) == 0 and curve[-1] < curve[-2]
    assert rises(screen[30.0].train_loss) >= 10  # 30 bounces
    assert screen[30.0].final_train_loss > 2  # and ends above 2
    # the lesson's compare command, with its two neighbours
    trio = lr_compare("lr-good", tuple(vary_values("lr-good")), 200)
    assert sorted(trio) == [0.01, 3.0, 100.0]
    assert min(trio, key=lambda v: trio[v].final_train_loss) == lr
    assert min(trio, key=lambda v: trio[v].final_test_loss) == lr


def test_lr_neighbours_point_at_lr_good():
    lr = preset("lr-good").config.training.lr
    assert vary_values("lr-too-low") == vary_values("lr-good")
    for name in ("lr-too-low", "lr-too-high"):
        assert f"set the learning rate to {lr:g} and press r" in preset(name).lesson.lower()


def test_the_lr_lessons_point_to_the_range_test_and_its_claims_hold():
    names = ("lr-too-low", "lr-good", "lr-too-high")
    for name in names:
        text = " ".join(preset(name).lesson.split())
        assert re.search(r"[Pp]ress L\b", text) and f"backprop-lab lr-find {name}" in text
        assert "loss landscape view (press k) shows the optimizer's path" in text
    low, good, high = (range_test(n) for n in names)
    rate = {n: preset(n).config.training.lr for n in names}
    assert low.lr_max == 10.0 and low.blowup_lr is None  # the app's and the command's range
    assert 100 <= low.steepest_lr / rate["lr-too-low"] < 1000  # "hundreds of times"
    assert 2 <= good.steepest_lr / rate["lr-good"] <= 6  # "a few times below", like 3
    assert good.steepest_lr < good.blowup_lr
    assert high.blowup_lr < rate["lr-too-high"]  # "below this preset's 100"


def test_too_high_a_rate_bounces_and_saturates():
    loss = run("lr-too-high").series("train_loss")
    assert loss[1:].min() > loss[0]  # never back below where it started
    d = delta_per_step("lr-too-high", 200)
    swings = np.abs(np.log10(d[1:] / d[:-1]))
    assert np.mean(swings >= 1) >= 0.3  # ten times or more from one step to the next, often
    assert d[-1] < 1e-2 * d[0]  # and it sinks towards zero
    # where nothing saturates the same mistake diverges
    plane = run("regression-plane", PLANE_LR_1)
    assert plane.stopped == "diverged" and plane.final.diverged


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
    # RMSprop varies most from seed to seed (for its median)
    spread = {label: np.ptp([r.steps_to_target for r in res.runs]) / res.steps_to_target
              for label, res in race().items()}
    assert max(spread, key=spread.get) == "RMSprop"
    # the preset's own run is the mini-batch runner; momentum and Adam stop there sooner
    own = run("optimizer-race")
    assert own.stopped == "target"
    for values in ((("training.momentum", 0.9),), (("training.optimizer", "adam"),)):
        faster = run("optimizer-race", values)
        assert faster.stopped == "target" and faster.steps < own.steps, values


def test_softmax_outputs_are_probabilities_and_the_spiral_is_learned():
    r = run("softmax-spiral")
    assert preset("softmax-spiral").config.data.classes == 3
    rows = L.output_rows(r.trainer)
    assert rows.shape[1] == 3 and (rows >= 0).all()
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, atol=1e-5)
    assert r.snapshots[0].train_loss > math.log(3)  # "a little worse" than a third each
    assert r.stopped == "target"
    one = run("softmax-spiral", ONE_LAYER)
    assert one.stopped == "epochs" and one.steps == 1400
    assert run("softmax-spiral", ((LAYERS_ALL, "tanh"),)).steps > 1.5 * r.steps


def test_plane_regression_finds_the_plane_down_to_the_noise():
    r = run("regression-plane")
    np.testing.assert_allclose(r.trainer.network.layers[0].W.ravel(), [1 / 6, 1 / 6], atol=0.015)
    noise = preset("regression-plane").config.data.noise
    assert r.final.test_loss == pytest.approx(noise**2, rel=0.2)


def test_bumps_need_hidden_units():
    r = run("regression-bumps")
    linear = end("regression-bumps", NO_HIDDEN)
    assert r.final.test_loss <= 0.05 * guess_the_mean("regression-bumps")
    assert r.final.test_loss <= 2 * r.final.train_loss  # train and test together
    assert linear.test_loss >= 0.9 * guess_the_mean("regression-bumps")
    assert r.final.train_accuracy is None  # regression: no accuracy


def test_iris_stops_at_its_target_then_levels_off():
    r = run("iris")
    assert r.stopped == "target" and r.final.epoch == 8
    assert r.final.test_accuracy >= 0.93
    # trained on past the target, it is the same run going on
    on = run("iris", **IRIS_ON)
    assert on.at_step(r.steps).train_loss == r.final.train_loss
    window = iris_after()
    # the training loss keeps heading for zero ...
    assert on.final.train_loss < 0.05 * r.final.train_loss
    assert window[-1].train_loss < 0.5 * window[0].train_loss
    # ... the test loss levels off near 0.1, and test accuracy stays at 95-96%
    assert all(0.07 <= s.test_loss <= 0.13 for s in window)
    assert all(0.93 <= s.test_accuracy <= 0.97 for s in window)
    # 64 hidden units: sooner at the target; trained on, the test loss climbs back up
    big = run("iris", IRIS_64)
    assert big.stopped == "target" and big.steps < r.steps
    big_on = run("iris", IRIS_64, **IRIS_ON).series("test_loss")
    assert big_on[-1] > 1.5 * big_on.min()


def test_overfit_gap_is_large_and_l2_closes_it():
    plain, l2 = run("overfit"), run("overfit-l2")
    assert preset("overfit").config.with_value("training.regularization", "l2").with_value(
        "training.reg_rate", 0.01) == preset("overfit-l2").config
    gap = lambda s: s.test_loss - s.train_loss  # noqa: E731
    assert gap(plain.final) >= 5 * gap(l2.final)
    assert plain.final.test_loss >= 3 * lowest_test_loss("overfit")[0]  # turned round and climbed
    assert l2.final.test_loss <= 1.1 * lowest_test_loss("overfit-l2")[0]  # stays near its lowest
    assert l2.final.train_loss >= 0.05  # no longer reaches zero
    # the lesson's next step: too much L2 and both losses end higher (underfitting)
    strong = end("overfit-l2", STRONG_L2)
    assert strong.train_loss > 2 * l2.final.train_loss and strong.test_loss > l2.final.test_loss


def test_local_minimum_has_two_true_minima_and_momentum_leaves_the_shallow_one():
    """Both ends are minima (zero gradient, the Hessian of what a step descends positive
    definite); the shallow one is higher; the path the view draws ends where the run does."""
    from engine.analysis import landscape as LS

    ends = {}
    for label, values in (("shallow", ()), ("deep", MOMENTUM)):
        t = run("local-minimum", values).trainer
        X, Y = t.train_set
        tc = t.config.training
        _, g = t.network.loss_and_grads(X, Y, t.loss_name, regularization=tc.regularization,
                                        reg_rate=tc.reg_rate)
        assert np.abs(np.array(g.flat)).max() < 1e-6, label
        assert np.linalg.eigvalsh(LS.hessian(t)).min() > 1e-3, label
        ends[label] = (t.network.params.copy(), end("local-minimum", values).train_loss)
        ls = LS.landscape(t, resolution=21)
        assert ls.slice.kind == "params"
        np.testing.assert_allclose(ls.path[-1], t.network.params, atol=1e-12)
    (w_shallow, loss_shallow), (w_deep, loss_deep) = ends["shallow"], ends["deep"]
    assert loss_shallow > loss_deep + 0.02
    assert np.linalg.norm(w_shallow - w_deep) > 1.0  # two places, not one
    # the view's grid, drawn around the stuck run's path, has a bowl of its own there: the
    # lowest cell near the end of the path is inside the 5x5 cells around it, not on their rim
    t = run("local-minimum").trainer
    ls = LS.landscape(t, resolution=41)
    j = int(np.argmin(np.abs(ls.a - w_shallow[0])))
    i = int(np.argmin(np.abs(ls.b - w_shallow[1])))
    assert 2 <= i < len(ls.b) - 2 and 2 <= j < len(ls.a) - 2
    near = ls.loss[i - 2:i + 3, j - 2:j + 3]
    low = np.unravel_index(np.argmin(near), near.shape)
    assert 1 <= low[0] <= 3 and 1 <= low[1] <= 3
