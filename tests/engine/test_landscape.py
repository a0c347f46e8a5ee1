"""The loss landscape: grid values are the run's own loss at those weights, the path ends at
the final weights, random directions are seeded and filter-normalised, λ_max matches the
closed form, the lr-skip preset converges just below 2/λ_max and zig-zags out just above,
and the recorded path stays bounded."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis import landscape as LS
from engine.analysis import lessons as L
from engine.errors import EngineError
from engine.training import path as P


def two_param_trainer(steps: int = 20):
    t = L.app_trainer("lr-skip")
    t.step(steps)
    return t


def test_lr_skip_is_a_two_parameter_model_and_its_own_slice():
    t = two_param_trainer()
    assert t.network.n_params == 2
    ls = LS.landscape(t, resolution=7)
    assert ls.slice.kind == "params"
    assert ls.slice.labels == ("W1[0,0]", "b1[0]")
    np.testing.assert_array_equal(ls.slice.directions, np.eye(2))


def test_every_grid_value_is_the_loss_the_run_reports_at_those_weights():
    t = two_param_trainer()
    ls = LS.landscape(t, resolution=11)
    assert ls.loss.shape == (11, 11) and not ls.sampled and ls.rows == t.train_set[0].shape[0]
    saved = t.network.params.copy()
    for i, b in enumerate(ls.b):
        for j, a in enumerate(ls.a):
            t.network.params[...] = (a, b)  # the two parameters themselves
            assert ls.loss[i, j] == pytest.approx(t.evaluate()["train_loss"], rel=1e-12)
    t.network.params[...] = saved


def test_with_a_penalty_each_grid_value_adds_it_as_a_step_descends_it():
    """local-minimum has an L2 penalty: the grid is the data loss the run reports plus
    0.5 · rate · w² (biases are not penalised), what its steps descend."""
    t = L.app_trainer("local-minimum")
    t.step(20)
    rate = t.config.training.reg_rate
    assert t.config.training.regularization == "l2" and rate > 0
    ls = LS.landscape(t, resolution=7)
    saved = t.network.params.copy()
    for i, b in enumerate(ls.b):
        for j, a in enumerate(ls.a):
            t.network.params[...] = (a, b)  # w, then b
            expected = t.evaluate()["train_loss"] + 0.5 * rate * a * a
            assert ls.loss[i, j] == pytest.approx(expected, rel=1e-12)
    t.network.params[...] = saved


def test_the_path_is_every_step_and_ends_at_the_final_weights():
    t = two_param_trainer(30)
    ls = LS.landscape(t, resolution=5)
    np.testing.assert_array_equal(ls.path_steps, np.arange(31))
    np.testing.assert_allclose(ls.path[-1], t.network.params, rtol=0, atol=1e-15)
    fresh = L.app_trainer("lr-skip")
    np.testing.assert_allclose(ls.path[0], fresh.network.params, atol=1e-15)


@pytest.mark.parametrize("kind", ["random", "pca"])
def test_the_projected_path_ends_at_the_final_weights_projected(kind):
    t = L.app_trainer("xor")
    t.step(40)
    ls = LS.landscape(t, kind=kind, resolution=5)
    D = ls.slice.directions
    final = np.asarray(t.network.params, np.float64)
    coords, *_ = np.linalg.lstsq(D.T, final - ls.slice.origin, rcond=None)
    np.testing.assert_allclose(ls.path[-1], coords, atol=1e-9)
    if kind == "pca":  # through the final weights, orthonormal directions
        np.testing.assert_allclose(ls.path[-1], 0.0, atol=1e-9)
        np.testing.assert_allclose(D @ D.T, np.eye(2), atol=1e-12)
    a0, a1, b0, b1 = ls.extent
    assert np.all((ls.path[:, 0] >= a0) & (ls.path[:, 0] <= a1))
    assert np.all((ls.path[:, 1] >= b0) & (ls.path[:, 1] <= b1))


def test_fixed_seeds_give_the_same_filter_normalised_directions():
    t = L.app_trainer("xor")
    net, w = t.network, t.network.params.copy()
    one, again = LS.random_directions(net, w, 3), LS.random_directions(net, w, 3)
    np.testing.assert_array_equal(one, again)
    assert not np.allclose(one, LS.random_directions(net, w, 4))
    for d in one:  # each unit's part has the norm of that unit's weights and bias
        for (dW, db), (W, b) in zip(net.layer_views(d), net.layer_views(w.astype(np.float64))):
            np.testing.assert_allclose(np.sqrt((dW ** 2).sum(0) + db ** 2),
                                       np.sqrt((W ** 2).sum(0) + b ** 2), rtol=1e-12)


def test_lambda_max_matches_the_closed_form_of_a_linear_model():
    t = L.app_trainer("lr-skip")
    X, Y = t.train_set
    Xb = np.column_stack([X[:, 0], np.ones(X.shape[0])])
    H = 2.0 * Xb.T @ Xb / X.shape[0]  # MSE = mean (w x + b - y)^2
    np.testing.assert_allclose(LS.hessian(t), H, rtol=1e-6)
    assert LS.lambda_max(t) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-7)
    assert LS.critical_lr(t) == pytest.approx(2 / np.linalg.eigvalsh(H)[-1], rel=1e-7)


def lr_skip_run(factor: float):
    crit = LS.critical_lr(L.app_trainer("lr-skip"))
    t = L.app_trainer("lr-skip", {"training.lr": crit * factor})
    X, Y = t.train_set
    Xb = np.column_stack([X[:, 0], np.ones(X.shape[0])])
    best = np.linalg.lstsq(Xb, Y[:, 0], rcond=None)[0]
    steep = np.linalg.eigh(LS.hessian(t))[1][:, -1]
    snap = t.step(300)
    along = (snap.path.all_params() - best) @ steep  # distance from the bottom, steep way
    return along, snap, best


def test_just_below_two_over_lambda_the_path_zig_zags_into_the_valley():
    along, snap, best = lr_skip_run(0.97)
    assert np.all(np.sign(along[1:60]) == -np.sign(along[:59]))  # across the valley each step
    assert abs(along[-1]) < 1e-3 * abs(along[0])
    np.testing.assert_allclose(snap.path.current, best, atol=1e-3)


def test_just_above_two_over_lambda_the_path_zig_zags_out():
    along, snap, best = lr_skip_run(1.03)
    assert np.all(np.sign(along[1:]) == -np.sign(along[:-1]))
    assert np.all(np.abs(along[2::2]) > np.abs(along[:-2:2]))  # every crossing wider
    assert abs(along[-1]) > 1e3 * abs(along[0])
    assert snap.train_loss > 1e3 * L.app_trainer("lr-skip").evaluate()["train_loss"]


def test_the_recorded_path_is_bounded_and_evenly_strided():
    rec = P.PathRecorder()
    w = np.zeros(10)
    rec.start(0, w)
    early = rec.frozen(0, w)
    for step in range(1, 3001):
        rec.add(step, w + step)
    path = rec.frozen(3000, w + 3000)
    assert len(path.steps) <= P.MAX_POINTS
    assert path.stride == 4 and path.steps[0] == 0
    assert np.all(np.diff(path.steps) == path.stride)
    np.testing.assert_array_equal(path.params[:, 0], path.steps)
    assert path.all_steps()[-1] == 3000 and path.all_params()[-1, 0] == 3000
    np.testing.assert_array_equal(early.params, [w])  # an older record never changes
    assert not path.params.flags.writeable
    assert P.capacity(1000, 4) == P.MAX_POINTS
    assert P.capacity(1_000_000, 4) == P.MIN_POINTS  # 4 MB a row: 4 rows in 16 MB
    assert P.capacity(10_000_000, 4) == 0
    huge = P.PathRecorder()
    huge.start(0, np.zeros(5_000_000, np.float32))
    huge.add(1, np.zeros(5_000_000, np.float32))
    assert huge.frozen(1, np.zeros(5_000_000, np.float32)) is None  # nothing recorded


def test_a_large_split_is_sampled_to_bound_the_grid_cost(monkeypatch):
    t = L.app_trainer("xor")
    monkeypatch.setattr(LS, "MAX_CELL_ROWS", 25 * 50)
    ls = LS.landscape(t, kind="random", resolution=5)
    assert ls.sampled and ls.rows == 50


def test_refusals_are_one_line():
    t = L.app_trainer("xor")
    with pytest.raises(EngineError, match="at least 3 points"):
        LS.landscape(t, kind="pca")
    with pytest.raises(EngineError, match="3 to 101"):
        LS.landscape(t, resolution=500)
    with pytest.raises(EngineError, match="exactly 2"):
        LS.own_slice(t.network)
    with pytest.raises(EngineError, match="at most"):
        LS.hessian(t)
