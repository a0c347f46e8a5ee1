"""The learning-rate range test: its rates, its record (held against a trainer stepped by
hand), its smoothing and stop rule, and its suggestions where the answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.analysis.lr_find import (BETA, SKIP_END, SKIP_START, STOP_FACTOR, lr_find,
                                     lr_schedule, smooth, steepest)
from engine.config import Config
from engine.errors import EngineError
from engine.presets import load_preset
from engine.training.build import build_dataset
from engine.training.trainer import Trainer

#: least squares on the plane: a quadratic loss whose curvature is known exactly
QUADRATIC = Config.from_dict({
    "data": {"dataset": "plane", "samples": 200, "noise": 0.05},
    "model": {"layers": [], "output": "linear", "loss": "mse", "dtype": "float64"},
    "training": {"optimizer": "sgd", "lr": 0.1, "batch_size": "full"},
})


def float64(name: str, **values) -> Config:
    config = load_preset(name).config.with_value("model.dtype", "float64")
    for key, value in values.items():
        config = config.with_value(key, value)
    return config


# ----- the rates -----------------------------------------------------------------------
@pytest.mark.parametrize("lo, hi, steps", [(1e-5, 10.0, 100), (1e-3, 100.0, 7), (0.5, 2.0, 2)])
def test_the_rates_are_exactly_exponential(lo, hi, steps):
    lrs = lr_schedule(lo, hi, steps)
    assert lrs.shape == (steps,)
    assert lrs[0] == lo and lrs[-1] == hi
    ratio = (hi / lo) ** (1 / (steps - 1))
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], ratio, rtol=1e-12)


def test_the_run_uses_those_rates():
    result = lr_find(load_preset("lr-good"), lr_min=1e-4, lr_max=1.0, steps=40)
    assert result.stopped == "end" and result.taken == 40
    np.testing.assert_array_equal(result.lrs, lr_schedule(1e-4, 1.0, 40))


@pytest.mark.parametrize("kwargs, words", [
    ({"lr_min": 0.0}, "lr_min must be a number > 0"),
    ({"lr_min": -1.0}, "lr_min must be a number > 0"),
    ({"lr_max": math.inf}, "lr_max must be a number > 0"),
    ({"lr_min": 1.0, "lr_max": 1.0}, "must be below lr_max"),
    ({"steps": 1}, "steps must be a whole number from 2"),
    ({"steps": 10_001}, "steps must be a whole number from 2"),
    ({"beta": 1.0}, "beta must be in [0, 1)"),
    ({"stop_factor": 1.0}, "stop_factor must be above 1"),
])
def test_a_range_it_cannot_run_is_refused_in_one_line(kwargs, words):
    with pytest.raises(EngineError) as info:
        lr_find(load_preset("xor"), **kwargs)
    assert words in str(info.value) and "\n" not in str(info.value)


# ----- the record ----------------------------------------------------------------------
def by_hand(config: Config, lrs: np.ndarray) -> list[float]:
    """A fresh trainer stepped once at each rate through its public interface: the batch
    loss of each step, taken on the batch it is about to use, before the step."""
    trainer = Trainer(config, grid=(2, 2))
    t = config.training
    out = []
    for lr in lrs.tolist():
        X, Y, _ = trainer.peek_batch()
        net = trainer.network
        out.append(net.loss(X, Y, trainer.loss_name) + net.penalty(t.regularization, t.reg_rate))
        trainer.set_lr(lr)
        trainer.step(1, snapshot=False)
    return out


@pytest.mark.parametrize("name, values", [
    ("lr-good", {}),                                        # full-batch SGD
    ("xor", {}),                                            # Adam on mini-batches of 32
    ("optimizer-race", {"training.momentum": 0.9}),         # momentum, batches of 16
    ("overfit-l2", {}),                                     # an L2 penalty in the loss
])
def test_the_losses_are_those_of_a_trainer_stepped_by_hand(name, values):
    config = float64(name, **values)
    result = lr_find(config, lr_min=1e-4, lr_max=1.0, steps=60)
    assert result.stopped == "end"
    np.testing.assert_allclose(result.losses, by_hand(config, result.lrs), rtol=1e-12, atol=0)


def test_it_starts_from_the_configs_seed_and_leaves_a_run_alone():
    config = float64("lr-good")
    trainer = Trainer(config, grid=(2, 2))
    before = trainer.network.params.copy()
    first = lr_find(config, steps=20, data=trainer.data).losses[0]
    assert first == trainer.evaluate()["train_loss"]  # full batch: step 0's loss, same weights
    np.testing.assert_array_equal(trainer.network.params, before)
    other = lr_find(config.with_value("training.seed", 7), steps=20).losses[0]
    assert other != first


def test_the_smoothed_loss_is_the_bias_corrected_average():
    result = lr_find(load_preset("xor"), steps=50)
    expect, avg = [], 0.0
    for i, loss in enumerate(result.losses):
        avg = BETA * avg + (1 - BETA) * loss
        expect.append(avg / (1 - BETA ** (i + 1)))
    np.testing.assert_allclose(result.smoothed, expect, rtol=1e-12)
    np.testing.assert_allclose(smooth(result.losses), expect, rtol=1e-12)
    assert result.smoothed[0] == result.losses[0]
    np.testing.assert_array_equal(smooth(result.losses, 0.0), result.losses)


# ----- the stop rule -------------------------------------------------------------------
def test_it_stops_at_the_first_smoothed_loss_above_four_times_the_best():
    result = lr_find(load_preset("lr-good"), lr_max=100.0)
    assert result.stopped == "blow-up" and result.taken < result.steps
    s = result.smoothed
    best_before = np.minimum.accumulate(s)[:-1]
    assert s[-1] > STOP_FACTOR * best_before[-1]
    assert np.all(s[1:-1] <= STOP_FACTOR * best_before[:-1])  # no earlier point stopped it
    assert result.blowup_lr == result.lrs[-1] and result.blowup_index == result.taken - 1


def test_a_loss_that_is_not_finite_stops_it():
    blow = QUADRATIC.with_value("model.dtype", "float32")
    result = lr_find(blow, lr_min=1.0, lr_max=1e30, steps=200, stop_factor=1e300)
    assert result.stopped == "not finite"
    assert not math.isfinite(result.losses[-1])
    assert np.all(np.isfinite(result.losses[:-1]))
    assert result.blowup_lr == result.lrs[-1]


def test_a_run_that_never_blows_up_has_no_blowup_rate():
    result = lr_find(load_preset("lr-good"), lr_max=1.0, steps=30)
    assert result.stopped == "end" and result.blowup_lr is None and result.blowup_index is None


def test_a_cancelled_run_keeps_what_it_recorded():
    asked = []
    result = lr_find(load_preset("xor"), steps=100, should_stop=lambda: asked.append(1) or len(asked) > 12)
    assert result.stopped == "cancelled" and result.taken == 12


# ----- the suggestions -----------------------------------------------------------------
def test_steepest_finds_the_steepest_fall_of_a_known_curve():
    lrs = lr_schedule(1e-4, 1e2, 121)
    # a smooth step down in ln lr, steepest exactly at lr = 0.1 (index 60)
    curve = 1.0 - np.tanh(np.log(lrs / 0.1))
    assert steepest(lrs, curve) == 60
    curve[SKIP_START - 1] = -100.0  # a spike among the first points is left out
    assert steepest(lrs, curve) == 60
    curve[60:] = np.nan  # only finite points count, less the last SKIP_END of them
    assert steepest(lrs, curve) == 60 - SKIP_END - 1
    assert steepest(lrs[:SKIP_START + SKIP_END + 2], curve[:SKIP_START + SKIP_END + 2]) is None


def test_on_least_squares_the_loss_rises_only_past_two_over_the_top_curvature():
    """Full-batch gradient descent on a quadratic cannot raise the loss at lr <= 2/λ_max
    (λ_max: the Hessian's largest eigenvalue), so no rise and no blow-up comes before."""
    data = build_dataset(QUADRATIC)
    A = np.hstack([data.X_train, np.ones((data.X_train.shape[0], 1))])
    limit = 2.0 / np.linalg.eigvalsh(2.0 / A.shape[0] * A.T @ A).max()
    result = lr_find(QUADRATIC, lr_min=1e-3, lr_max=100.0, steps=200)
    assert result.stopped == "blow-up"
    rises = np.flatnonzero(result.losses[1:] > result.losses[:-1] * (1 + 1e-12))
    assert len(rises) and np.all(result.lrs[rises] > limit)  # step i at lrs[i] raised it
    assert limit < result.blowup_lr < 10 * limit
    assert result.steepest_lr < limit


def test_on_lr_good_the_marks_bracket_the_rate_the_lesson_knows_is_right():
    """lr-good's lesson: 3 trains well in 200 steps, 30 bounces, 100 is far too high."""
    result = lr_find(load_preset("lr-good"), lr_max=100.0)
    assert 0.3 <= result.steepest_lr <= 30 and result.steepest_lr < result.blowup_lr
    assert 3 < result.blowup_lr < 100
    assert result.smoothed[result.steepest_index] < result.smoothed[0]
