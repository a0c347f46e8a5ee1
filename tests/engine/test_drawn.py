"""Drawn data: points added, undone and cleared between steps, the minimum it trains from,
its CSV file (hostile ones refused in one line) and its place in checkpoints."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from engine.checkpoint import load_checkpoint, save_checkpoint
from engine.config import Config
from engine.data import feature_map, make_dataset
from engine.data.drawn import (MAX_DRAWN, MAX_DRAWN_BYTES, drawn_csv, make_drawn, not_ready,
                               read_drawn)
from engine.errors import CheckpointError, ConfigError, DataError, EngineError
from engine.opening import open_run
from engine.presets import load_preset
from engine.training.trainer import Trainer

POINTS = [(1.0, 1.5, 0), (-1.2, 0.5, 1), (0.3, -2.0, 1), (2.0, 2.5, 0), (-0.5, -0.5, 1)]


def config(**data) -> Config:
    training = data.pop("training", {})
    return Config.from_dict({
        "data": {"dataset": "draw", "train_ratio": 1.0, **data},
        "model": {"layers": [{"units": 6, "activation": "tanh"}]},
        "training": {"optimizer": "adam", "lr": 0.05, **training},
    })


def drawn_trainer(points=POINTS, **data) -> Trainer:
    trainer = Trainer(config(**data), grid=(8, 8))
    for x, y, v in points:
        trainer.add_point(x, y, v)
    return trainer


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


# ----- the points train --------------------------------------------------------------
def test_a_drawn_point_is_in_the_training_set_the_next_step_uses():
    trainer = drawn_trainer(features=["x1", "x2", "x1^2", "sin(x1)"])
    trainer.step(3)
    params = trainer.network.params.copy()
    trainer.add_point(-2.5, 2.25, 1)
    assert np.array_equal(trainer.network.params, params)  # the weights stay
    X, Y, rows = trainer.peek_batch()
    # the new point's features, mapped like any point: x1, x2, x1^2, sin(x1)
    expected = feature_map(np.array([[-2.5, 2.25]]), ["x1", "x2", "x1^2", "sin(x1)"])[0]
    assert len(rows) == len(POINTS) + 1 and rows[-1] == len(POINTS)
    np.testing.assert_allclose(X[-1], expected.astype(X.dtype))
    assert Y[-1, 0] == 1.0
    # the loss the step records is the loss on that batch, new point included
    fn = trainer.network.loss_function(trainer.loss_name)
    z, out = trainer.network.infer(X)
    want = fn.value(z, out, Y)
    snap = trainer.step(1)
    assert snap.history.batch.loss[-1] == pytest.approx(want, rel=1e-5)
    assert snap.points.train_xy[-1].tolist() == [-2.5, 2.25]
    assert snap.points.train_y.tolist() == [v for *_, v in POINTS] + [1]


def test_with_mini_batches_the_next_epoch_visits_the_new_point():
    trainer = drawn_trainer(training={"batch_size": 2})
    trainer.step(2)
    trainer.add_point(0.0, 0.0, 0)
    n = trainer.train_set[0].shape[0]
    assert n == len(POINTS) + 1 and trainer.steps_to_epoch_end == 3
    visited = set()
    for _ in range(trainer.steps_to_epoch_end):
        visited.update(trainer.peek_batch()[2])
        trainer.step(1)
    assert visited == set(range(n))


def test_a_point_drawn_while_training_runs_joins_between_steps():
    trainer = drawn_trainer()
    trainer.speed_limit = 200.0
    done = threading.Event()
    worker = threading.Thread(target=lambda: (trainer.run(max_steps=100_000), done.set()))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not trainer.running and time.monotonic() < deadline:
            time.sleep(0.01)
        trainer.add_point(2.5, -2.5, 0)
        trainer.add_point(-2.5, -2.5, 1)  # two quick points: both land, in order
        while trainer.latest.points.train_xy.shape[0] < len(POINTS) + 2:
            assert time.monotonic() < deadline, "the points never joined"
            time.sleep(0.01)
    finally:
        trainer.pause()
        worker.join(10)
    assert done.is_set()
    assert trainer.drawn.xy[-2:].tolist() == [[2.5, -2.5], [-2.5, -2.5]]
    assert trainer.train_set[0].shape[0] == len(POINTS) + 2


def test_undo_takes_the_last_point_and_clear_takes_all():
    trainer = drawn_trainer()
    trainer.undo_point()
    assert trainer.drawn.xy.tolist() == [[x, y] for x, y, _ in POINTS[:-1]]
    trainer.clear_points()
    assert len(trainer.drawn) == 0 and trainer.train_set[0].shape == (0, 2)
    trainer.undo_point()  # nothing to undo: still empty, no error
    assert len(trainer.drawn) == 0
    assert trainer.latest.not_ready.startswith("no points yet")


# ----- the minimum -------------------------------------------------------------------
def test_no_points_no_training_and_the_status_says_why():
    trainer = Trainer(config(), grid=(8, 8))
    assert trainer.latest.not_ready == ("no points yet: press D, then 0-1 to draw a point "
                                        "of that class")
    assert trainer.step(5).step == 0
    assert trainer.run(max_steps=10).step == 0 and trainer.step_count == 0


def test_a_class_without_a_point_blocks_training_and_is_named():
    trainer = drawn_trainer(points=[(0.0, 0.0, 0), (1.0, 1.0, 2)], classes=3)
    assert trainer.latest.not_ready == ("class 1 has no point; training needs at least 1 "
                                        "point of each of the 3 classes")
    assert trainer.step(3).step == 0
    trainer.add_point(-1.0, 1.0, 1)  # one point of each class: it trains
    snap = trainer.step(3)
    assert snap.not_ready is None and snap.step == 3 and np.isfinite(snap.train_loss)
    assert snap.n_classes == 3 and trainer.network.layers[-1].W.shape[1] == 3


def test_one_point_per_class_trains_and_learns_it():
    trainer = drawn_trainer(points=[(-1.5, 0.0, 0), (1.5, 0.0, 1)])
    snap = trainer.step(200)
    assert snap.step == 200 and snap.train_accuracy == 1.0


def test_regression_trains_from_one_point():
    trainer = Trainer(config(task="regression"), grid=(8, 8))
    assert "- 0 +" in trainer.latest.not_ready
    trainer.add_point(0.5, 0.5, 0.75)
    snap = trainer.step(100)
    assert snap.not_ready is None and snap.task == "regression"
    assert snap.train_loss < 1e-3  # one target, learnt
    with pytest.raises(DataError, match="the target must be a finite number"):
        trainer.add_point(0.0, 0.0, float("nan"))


def test_taking_a_class_away_mid_run_pauses_the_run():
    trainer = drawn_trainer(points=[(-1.5, 0.0, 0), (1.5, 0.0, 1)])
    trainer.speed_limit = 200.0
    worker = threading.Thread(target=lambda: trainer.run(max_steps=1_000_000))
    worker.start()
    deadline = time.monotonic() + 10
    while trainer.step_count < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    trainer.undo_point()
    worker.join(10)
    assert not worker.is_alive() and not trainer.running
    assert trainer.latest.not_ready.startswith("class 1 has no point")


@pytest.mark.parametrize("x, y, value, message", [
    (3.5, 0.0, 0, "x1 = 3.5 is outside the drawing area (-3 to 3)"),
    (0.0, -4.0, 0, "x2 = -4 is outside the drawing area (-3 to 3)"),
    (0.0, 0.0, 2, "class 2 is not one of the 2 classes (0 to 1)"),
    (0.0, 0.0, 0.5, "class 0.5 is not one of the 2 classes (0 to 1)"),
    (float("inf"), 0.0, 0, "x1 must be a finite number, not inf"),
    ("a", 0.0, 0, "x1 must be a number, not 'a'"),
])
def test_bad_points_are_refused_in_one_line_and_nothing_changes(x, y, value, message):
    trainer = drawn_trainer()
    before = trainer.drawn
    with pytest.raises(DataError) as exc:
        trainer.add_point(x, y, value)
    assert one_line(exc) == message
    assert trainer.drawn.same(before)


def test_drawing_on_data_that_is_not_drawn_is_refused():
    trainer = Trainer(load_preset("xor"), grid=(8, 8))
    with pytest.raises(ConfigError, match="only on drawn data, not on 'xor'"):
        trainer.add_point(0.0, 0.0, 0)


def test_a_new_config_keeps_the_points_and_maps_them_with_its_features():
    trainer = drawn_trainer()
    new = trainer.config.with_value("data.features", ["x1", "x2", "x1*x2"])
    assert trainer.apply_config(new)
    assert trainer.drawn.same(make_drawn([p[:2] for p in POINTS], [p[2] for p in POINTS]))
    xy = np.array([p[:2] for p in POINTS])
    np.testing.assert_allclose(trainer.train_set[0],
                               feature_map(xy, ["x1", "x2", "x1*x2"]).astype(np.float32))
    # fewer classes than the points have: refused, nothing changes
    trainer.add_point(0.0, 0.0, 1)
    three = Trainer(config(classes=3), grid=(8, 8))
    three.add_point(0.0, 0.0, 2)
    with pytest.raises(DataError, match="point 1: class 2 is not one of the 2 classes"):
        three.apply_config(three.config.with_value("data.classes", 2))
    assert three.config.data.classes == 3 and len(three.drawn) == 1


# ----- CSV files ---------------------------------------------------------------------
def test_csv_round_trip_is_exact(tmp_path):
    drawn = make_drawn([[0.1, -2.9999999], [1 / 3, 2.0], [-3.0, 3.0]], [1, 0, 1])
    path = tmp_path / "points.csv"
    path.write_text(drawn_csv(drawn))
    assert path.read_text().splitlines()[0] == "x1,x2,label"
    assert read_drawn(path).same(drawn)
    targets = make_drawn([[0.5, 0.25], [-1.0, 2.0]], [0.1 + 0.2, -1e-300])
    path.write_text(drawn_csv(targets, "regression"))
    assert read_drawn(path, task="regression").same(targets)


def test_a_preset_loads_its_points_from_a_csv_beside_it(tmp_path):
    drawn = make_drawn([p[:2] for p in POINTS], [p[2] for p in POINTS])
    (tmp_path / "mine-points.csv").write_text(drawn_csv(drawn))
    preset = tmp_path / "mine.toml"
    preset.write_text('title = "Mine"\nlesson = "Drawn."\n[data]\ndataset = "draw"\n'
                      'path = "mine-points.csv"\n')
    trainer = open_run(str(preset)).trainer(grid=(8, 8))
    assert trainer.drawn.same(drawn) and trainer.latest.not_ready is None


def test_a_dataset_from_csv_trains_every_point(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("label,x2,x1\n1,0.5,0.25\n0,-1,2\n")  # columns in any order
    data = make_dataset("draw", csv_path=str(path), train_ratio=0.5)
    assert data.n_train == 2 and data.n_test == 0
    assert data.points_train.tolist() == [[0.25, 0.5], [2.0, -1.0]]
    assert data.y_train.tolist() == [1, 0]


HOSTILE = [
    (b"x1,x2,label\n0,0,0\n0,0,2\n",
     "p.csv: point 2: class 2 is not one of the 2 classes (0 to 1)"),
    (b"x1,x2,label\n0,0,0.5\n", "p.csv: point 1: class 0.5 is not one of the 2 classes (0 to 1)"),
    (b"x1,x2,label\n9,0,0\n", "p.csv: point 1: x1 = 9 is outside the drawing area (-3 to 3)"),
    (b"x1,x2,label\nnan,0,0\n", "p.csv, line 2, column 1: NaN or infinite; every feature must "
                                "be a finite number"),
    (b"x1,x2,label\n0,zero,0\n", "p.csv, line 2, column 2: not a number; every feature must be "
                                 "a number"),
    (b"a,b,label\n0,0,0\n", "p.csv, line 1: the columns must be x1, x2 and label"),
    (b"x1,x2,x3,label\n0,0,0,0\n", "p.csv, line 1: the columns must be x1, x2 and label"),
    (b"x1,x2\n0,0\n", "p.csv: no column named 'label' in the header (line 1, 2 columns)"),
    (b"x1,x2,label\n0,0\n", "p.csv, line 2: 2 values, the header has 3 columns"),
    (b"x1,x2,label\n0,\xff,0\n", "p.csv, line 2: not UTF-8 text; a CSV file must be UTF-8"),
    (b"x1,x2,label\n0,0\x00,0\n", "p.csv, line 2: a NUL byte; this is not a text file"),
    (b"", "p.csv: the file is empty"),
    (b"x1,x2,label\n" + b"0,0,0\n" * (MAX_DRAWN + 1),
     f"p.csv: {MAX_DRAWN + 1:,} points, more than the {MAX_DRAWN:,} a drawn set may have"),
]


@pytest.mark.parametrize("content, message", HOSTILE)
def test_hostile_csv_files_are_refused_in_one_line(tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.csv").write_bytes(content)
    with pytest.raises(DataError) as exc:
        read_drawn("p.csv")
    assert one_line(exc) == message


def test_a_huge_csv_is_refused_from_its_size_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open("big.csv", "wb") as f:
        f.truncate(2 * MAX_DRAWN_BYTES)  # sparse: its bytes are never read
    with pytest.raises(DataError) as exc:
        read_drawn("big.csv")
    assert one_line(exc) == ("big.csv: the file is 2.0 MB, more than the 1.0 MB a "
                             "drawn-points CSV file may be")


@pytest.mark.parametrize("kind", ["folder", "fifo", "missing"])
def test_what_is_not_a_regular_file_is_refused(tmp_path, monkeypatch, kind):
    monkeypatch.chdir(tmp_path)
    if kind == "folder":
        os.mkdir("p.csv")
    elif kind == "fifo":
        os.mkfifo("p.csv")
    with pytest.raises(DataError) as exc:
        read_drawn("p.csv")
    assert one_line(exc) == {"folder": "p.csv: is a folder, not a file",
                             "fifo": "p.csv: is a FIFO; only a regular file can be read",
                             "missing": "p.csv: no such file"}[kind]


def test_a_bad_csv_named_by_a_preset_keeps_the_app_s_last_run(tmp_path):
    (tmp_path / "p.csv").write_bytes(b"x1,x2,label\n0,0,7\n")
    preset = tmp_path / "bad.toml"
    preset.write_text('title = "t"\nlesson = "l"\n[data]\ndataset = "draw"\npath = "p.csv"\n')
    with pytest.raises(EngineError) as exc:
        open_run(str(preset)).trainer()
    assert one_line(exc).endswith("p.csv: point 1: class 7 is not one of the 2 classes (0 to 1)")


# ----- checkpoints -------------------------------------------------------------------
def test_checkpoint_round_trip_gives_the_same_points_and_run(tmp_path):
    a = drawn_trainer(training={"batch_size": 2})
    a.step(4)  # mid-epoch: 3 steps an epoch
    path = tmp_path / "run.npz"
    save_checkpoint(a, path)
    b = open_run(str(path)).trainer(grid=(8, 8))
    assert b.drawn.same(a.drawn) and b.step_count == 4
    assert np.array_equal(b.network.params, a.network.params)
    assert b.config.data.path == ""  # the points travel in the checkpoint itself
    assert a.step(7).train_loss == b.step(7).train_loss


def test_a_checkpoint_of_an_empty_drawing_opens_empty(tmp_path):
    a = Trainer(config(), grid=(8, 8))
    save_checkpoint(a, tmp_path / "empty.npz")
    b = open_run(str(tmp_path / "empty.npz")).trainer(grid=(8, 8))
    assert len(b.drawn) == 0 and b.latest.not_ready.startswith("no points yet")


def rewrite(src, dst, **changes) -> None:
    with np.load(src) as f:
        arrays = {k: f[k] for k in f.files}
    for key, value in changes.items():
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value
    np.savez(dst, **arrays)


@pytest.mark.parametrize("changes, message", [
    ({"drawn_values": None}, "drawn_xy and drawn_values come together; one is missing"),
    ({"drawn_values": np.array([0.0, 1.0])},
     "drawn_xy must be (n, 2) and drawn_values (n,), got (5, 2) and (2,)"),
    ({"drawn_xy": np.zeros((5, 3))}, "drawn_xy must be (n, 2) and drawn_values (n,), got "
                                     "(5, 3) and (5,)"),
    ({"drawn_values": np.array([0.0, 1.0, 1.0, 5.0, 1.0])},
     "drawn points: point 4: class 5 is not one of the 2 classes (0 to 1)"),
    ({"drawn_xy": np.full((5, 2), 1e9)},
     "drawn points: point 1: x1 = 1e+09 is outside the drawing area (-3 to 3)"),
    ({"drawn_xy": np.full((5, 2), np.nan)},
     "drawn points: point 1: x1 must be a finite number, not nan"),
])
def test_hostile_drawn_fields_in_a_checkpoint_are_refused(tmp_path, changes, message):
    a = drawn_trainer()
    save_checkpoint(a, tmp_path / "good.npz")
    rewrite(tmp_path / "good.npz", tmp_path / "bad.npz", **changes)
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(tmp_path / "bad.npz")
    assert one_line(exc).endswith(message)


def test_drawn_points_in_a_checkpoint_of_other_data_are_refused(tmp_path):
    xor = Trainer(load_preset("xor"), grid=(8, 8))
    save_checkpoint(xor, tmp_path / "xor.npz")
    rewrite(tmp_path / "xor.npz", tmp_path / "bad.npz", drawn_xy=np.zeros((1, 2)),
            drawn_values=np.zeros(1))
    with pytest.raises(CheckpointError) as exc:
        load_checkpoint(tmp_path / "bad.npz")
    assert one_line(exc).endswith("drawn points, but its data is 'xor', not 'draw'")


def test_not_ready_messages():
    empty = make_drawn(np.empty((0, 2)), [])
    assert not_ready(empty, task="classification", classes=10) == (
        "no points yet: press D, then 0-9 to draw a point of that class")
    some = make_drawn([[0, 0]] * 2, [0, 3])
    assert not_ready(some, task="classification", classes=5) == (
        "classes 1, 2, 4 have no point; training needs at least 1 point of each of the 5 "
        "classes")
    assert not_ready(some, task="regression", classes=2) is None


def test_headless_train_says_why_drawn_data_cannot_train_and_trains_a_csv(capsys, tmp_path):
    from backprop_lab.entry import main

    assert main(["train", "draw"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == (
        "backprop-lab: draw: cannot train: no points yet: press D, then 0-1 to draw a point "
        "of that class (draw points in the app, or name a CSV of x1,x2,label with --set "
        "data.path=FILE)")
    (tmp_path / "p.csv").write_text("x1,x2,label\n1,1,0\n-1,-1,1\n")
    assert main(["train", "draw", "--epochs", "30", "--set",
                 f"data.path={tmp_path / 'p.csv'}"]) == 0
    assert "epochs: 30  steps: 30" in capsys.readouterr().out


def test_step_zero_is_measured_on_the_points_drawn_before_any_step():
    trainer = drawn_trainer()
    history = trainer.latest.history
    assert len(history) == 1 and history.train_loss[0] == trainer.evaluate()["train_loss"]
    trainer.step(2)
    trainer.add_point(0.0, 0.0, 0)  # after a step, the record goes on
    assert trainer.latest.history.points == 1 + trainer.epoch
