"""The measurement helpers behind the preset lessons (engine/lessons.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.analysis import lessons as L
from engine.errors import ConfigError, EngineError
from engine.presets import load_preset
from engine.training.trainer import Trainer

XOR_FULL = {"training.batch_size": "full", "data.samples": 80}


# ----- figures in lesson text --------------------------------------------------------------
def test_figures_reads_numbers_percentages_and_exponents_in_order():
    text = ("the first layer's gradient is ≈ 3e-6 × the last; accuracy ≈ 97%, loss ≈0.08 "
            "after ≈ 40 and ≈ 45 steps; ln 3 = 1.10 is not a figure; ≈ 1E-3 neither is lost")
    got = L.figures(text)
    assert [f.value for f in got] == pytest.approx([3e-6, 0.97, 0.08, 40, 45, 1e-3])
    assert got[1].text.strip() == "≈ 97%"


def test_figures_of_plain_text_is_empty():
    assert L.figures("no numbers here, 42 is not quoted") == []


@pytest.mark.parametrize("measured, quoted, tol, ok", [
    (0.95, 0.97, {"abs_tol": 0.03}, True),
    (0.90, 0.97, {"abs_tol": 0.03}, False),
    (2.6e-6, 3e-6, {"factor": 3}, True),
    (2.6e-7, 3e-6, {"factor": 3}, False),
    (math.inf, 30, {"factor": 3}, False),
    (-1.0, 1.0, {"factor": 3}, False),
])
def test_within(measured, quoted, tol, ok):
    assert L.within(measured, quoted, **tol) is ok


# ----- building ------------------------------------------------------------------------------
def test_with_values_star_sets_every_hidden_layer():
    config = load_preset("vanishing-gradients").config
    relu = L.with_values(config, {"model.layers[*].activation": "relu", "model.init": "he"})
    assert {l.activation for l in relu.model.layers} == {"relu"}
    assert len(relu.model.layers) == len(config.model.layers)
    assert relu.model.init == "he"
    with pytest.raises(ConfigError):
        L.with_values(config, {"model.layers[*].activation": "softmax"})


def test_make_trainer_seeds_the_weights_not_the_data():
    a = L.make_trainer("xor", seed=1)
    b = L.make_trainer("xor", seed=2)
    np.testing.assert_array_equal(a.data.X_train, b.data.X_train)
    assert not np.array_equal(a.network.layers[0].W, b.network.layers[0].W)
    c = L.make_trainer("xor", seed=1)
    np.testing.assert_array_equal(a.network.params, c.network.params)


def test_as_config_refuses_other_things():
    with pytest.raises(EngineError):
        L.as_config(42)


# ----- steps to target ---------------------------------------------------------------------
def test_steps_to_target_is_the_first_step_that_meets_it():
    n = L.steps_to_target(L.make_trainer("xor", values=XOR_FULL), target_accuracy=0.9,
                          max_steps=200)
    assert n is not None and n > 0
    # the same run, stepped by hand
    t = L.make_trainer("xor", values=XOR_FULL)
    hit = None
    for step in range(1, 201):
        t.step(1)
        if t.evaluate()["test_accuracy"] >= 0.9:
            hit = step
            break
    assert hit == n


def test_steps_to_target_edges():
    t = L.make_trainer("xor", values=XOR_FULL)
    assert L.steps_to_target(t, target_loss=100.0, max_steps=10) == 0
    assert L.steps_to_target(L.make_trainer("xor", values=XOR_FULL), target_loss=1e-9,
                             max_steps=5) is None
    with pytest.raises(EngineError):
        L.steps_to_target(L.make_trainer("xor"), max_steps=5)  # xor has no target of its own
    # checking every k steps reports a multiple of k
    n = L.steps_to_target(L.make_trainer("xor", values=XOR_FULL), target_accuracy=0.9,
                          max_steps=200, check_every=7)
    assert n % 7 == 0


def test_diverging_run_never_reaches_its_target():
    t = L.make_trainer("regression-plane", values={"training.lr": 5.0})
    assert L.steps_to_target(t, target_loss=1e-6, max_steps=200) is None
    assert L.diverged(t)


def test_median_steps_counts_misses_as_never():
    assert L.median_steps("xor", [0, 1, 2], target_loss=1e-12, max_steps=3) == math.inf


# ----- curves ------------------------------------------------------------------------------
def test_loss_curve_records_from_step_zero():
    c = L.loss_curve(L.make_trainer("xor", values=XOR_FULL), 20, every=5)
    assert list(c.steps) == [0, 5, 10, 15, 20]
    assert c.train_loss[-1] < c.train_loss[0]
    assert c.diverged_step is None
    assert set(c.final) == {"train_loss", "test_loss", "train_accuracy", "test_accuracy"}


def test_loss_curve_marks_a_divergence_with_inf():
    c = L.loss_curve(L.make_trainer("regression-plane", values={"training.lr": 5.0}), 200, every=1)
    assert c.diverged_step is not None
    assert math.isinf(c.train_loss[-1])
    assert np.isnan(c.train_accuracy).all()  # regression has no accuracy


# ----- inside the network ------------------------------------------------------------------
def test_gradient_norms_match_what_the_trainer_reports():
    t = L.make_trainer("vanishing-gradients", values={"training.batch_size": "full"})
    norms = L.gradient_norms(t)
    snap = t.step(1)  # a full-batch step measures the gradient at the same weights
    assert [l.grad_norm for l in snap.layers] == pytest.approx(norms, rel=1e-4)
    assert L.gradient_ratio(L.make_trainer("vanishing-gradients")) == pytest.approx(norms[0] / norms[-1], rel=1e-5)
    assert L.gradient_spread(L.make_trainer("vanishing-gradients")) >= 1


def test_delta_norms_shrink_towards_the_input_in_a_sigmoid_stack():
    d = L.delta_norms(L.make_trainer("vanishing-gradients"))
    assert len(d) == 9
    assert d[0] < d[-2] / 100


def test_dead_fraction():
    alive = L.make_trainer("relu-deep")
    assert L.dead_fraction(alive) < 0.5  # a narrow deep ReLU stack starts with a few
    dead = L.make_trainer("relu-deep", values={"model.bias_init": -100.0})
    assert L.dead_fraction(dead) == 1.0
    assert L.dead_fraction(L.make_trainer("xor")) == 0.0  # no ReLU at all


def test_first_layer_change_compares_relative_changes():
    t = L.make_trainer("relu-deep")
    first, last = L.first_layer_change(t, 5)
    assert first > 0 and last > 0
    assert t.step_count == 5


def test_output_rows_are_softmax_probabilities():
    rows = L.output_rows(L.make_trainer("iris"))
    assert rows.shape[1] == 3
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, atol=1e-5)


def test_geometric_median():
    assert L.geometric_median([1e-6, 1e-4, 1e-2]) == pytest.approx(1e-4)
    assert L.median([3, 1, 2]) == 2


# ----- the run the app shows ---------------------------------------------------------------
def test_app_trainer_is_the_apps_trainer_and_values_are_a_reset_from_the_same_seed():
    preset = load_preset("dead-relu")
    np.testing.assert_array_equal(L.app_trainer("dead-relu").network.params,
                                  Trainer(preset).network.params)
    # a change in the configuration pane, then r: new weights from the preset's seed
    values = {"model.layers[*].activation": "leaky_relu", "training.lr": 0.333333}
    app = Trainer(preset)
    app.step(5)
    assert app.apply_config(L.with_values(preset.config, values))
    mine = L.app_trainer(preset, values)
    assert mine.config == app.config
    np.testing.assert_array_equal(mine.network.params, app.network.params)
    assert mine.preset.name == "dead-relu"


@pytest.mark.parametrize("name, values", [
    ("iris", None),  # stops at its target
    ("lr-good", None),  # trains its epochs
    ("regression-plane", {"training.lr": 1.0}),  # diverges
])
def test_app_run_stops_where_trainer_run_stops(name, values):
    r = L.app_run(name, values)
    t = L.app_trainer(name, values).config.training
    snap = L.app_trainer(name, values).run(max_epochs=t.epochs, target_loss=t.target_loss,
                                           target_accuracy=t.target_accuracy)
    assert r.steps == snap.step and r.final.epoch == snap.epoch
    assert r.final.diverged == snap.diverged
    if not snap.diverged:
        assert r.final.train_loss == snap.train_loss and r.final.test_loss == snap.test_loss
    assert r.stopped == {"iris": "target", "lr-good": "epochs",
                         "regression-plane": "diverged"}[name]


def test_app_run_step_by_step_is_the_same_run():
    by_epoch = L.app_run("xor", epochs=3)
    by_step = L.app_run("xor", epochs=3, every_step=True)
    spe = by_epoch.trainer.steps_per_epoch
    assert [s.step for s in by_epoch.snapshots] == [0, spe, 2 * spe, 3 * spe]
    assert len(by_step.snapshots) == 3 * spe + 1
    for snap in by_epoch.snapshots:
        assert by_step.at_step(snap.step).train_loss == snap.train_loss
    assert by_step.first_step("test_accuracy", 0.0) == 0
    assert by_step.series("train_loss").shape == (3 * spe + 1,)
    with pytest.raises(EngineError):
        by_epoch.at_step(1)


def test_app_run_can_train_on_past_its_target():
    stopped = L.app_run("iris")
    on = L.app_run("iris", epochs=stopped.final.epoch + 2, stop_at_target=False)
    assert on.stopped == "epochs" and on.final.epoch == stopped.final.epoch + 2
    assert on.at_step(stopped.steps).test_loss == stopped.final.test_loss


def test_bar_ratio_reads_the_layer_bars():
    snap = L.app_trainer("vanishing-gradients").step(1)
    assert L.bar_ratio(snap) == pytest.approx(snap.layers[0].grad_norm / snap.layers[-1].grad_norm)
    assert L.bar_ratio(snap) < 1e-3
