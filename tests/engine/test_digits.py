"""The bundled 8×8 digits: the file as shipped, the loader's split and scaling, the
configs that name it, its preset's settings and its headless run."""

from __future__ import annotations

import csv
import gzip
import importlib.resources
import json

import numpy as np
import pytest

from backprop_lab.entry import main
from engine.config import Config
from engine.data import DATASETS, digits, make_dataset, read_digits
from engine.errors import ConfigError, DataError
from engine.presets import load_preset
from engine.resources import data_shape
from engine.training.build import build_dataset

#: images per digit 0..9 in the UCI test set's description (optdigits.names), as
#: restated in DIGITS-LICENSE
DOCUMENTED_COUNTS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)


def file_rows() -> list[list[int]]:
    """The shipped file read independently of the loader: plain gzip and csv."""
    resource = importlib.resources.files("engine.data") / "digits.csv.gz"
    with resource.open("rb") as raw, gzip.open(raw, "rt") as f:
        return [[int(float(v)) for v in row] for row in csv.reader(f)]


def test_the_table_has_1797_images_of_64_pixels_in_ten_documented_classes():
    table = read_digits()
    assert table.X.shape == (1797, 64) and table.y.shape == (1797,)
    assert table.class_names == tuple(str(d) for d in range(10))
    assert tuple(np.bincount(table.y, minlength=10)) == DOCUMENTED_COUNTS
    assert table.X.min() == 0 and table.X.max() == 16
    assert np.array_equal(table.X, np.round(table.X))  # whole counts of inked pixels


def test_the_table_is_the_file_row_by_row():
    rows = file_rows()
    table = read_digits()
    first = rows[0]
    assert table.X[0, 2] == first[2] and table.X[0].tolist() == first[:64]
    assert int(table.class_names[table.y[0]]) == first[64]
    assert np.array_equal(table.X, np.array([r[:64] for r in rows], dtype=float))
    assert [int(table.class_names[k]) for k in table.y] == [r[64] for r in rows]


def test_the_licence_note_ships_next_to_the_file():
    text = (importlib.resources.files("engine.data") / "DIGITS-LICENSE").read_text("utf-8")
    assert "CC BY 4.0" in text and "BSD 3-Clause" in text
    assert "178, 1: 182" in text  # the documented counts the test above holds


def test_the_dataset_is_the_pixels_over_16_split_as_iris_is():
    data = make_dataset("digits", train_ratio=0.7, seed=3, standardize=False)
    table = read_digits()
    order = np.random.default_rng(3).permutation(1797)
    n_train = round(1797 * 0.7)
    assert data.name == "digits" and data.n_classes == 10 and data.image_shape == (8, 8)
    assert (data.n_train, data.n_test, data.n_features) == (n_train, 1797 - n_train, 64)
    assert np.array_equal(data.X_train, table.X[order[:n_train]] / 16)
    assert np.array_equal(data.X_test, table.X[order[n_train:]] / 16)
    assert np.array_equal(data.y_test, table.y[order[n_train:]])
    assert data.X_train.min() == 0 and data.X_train.max() == 1
    assert data.points_train is None and data.extent is None  # no 2-D view
    iris = make_dataset("iris", train_ratio=0.7, seed=3)
    assert iris.image_shape is None


def test_standardize_uses_the_train_statistics():
    data = make_dataset("digits", train_ratio=0.5, seed=0, standardize=True)
    raw = make_dataset("digits", train_ratio=0.5, seed=0, standardize=False)
    mean, std = raw.X_train.mean(axis=0), raw.X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    assert np.allclose(data.X_test, (raw.X_test - mean) / std)
    assert np.allclose(data.X_train.mean(axis=0), 0, atol=1e-12)


def test_an_oversized_file_is_refused_in_one_line_before_it_is_read(monkeypatch):
    monkeypatch.setattr(digits, "MAX_GZ_BYTES", 1000)
    with pytest.raises(DataError) as err:
        read_digits()
    assert "\n" not in str(err.value) and "digits" in str(err.value)
    monkeypatch.setattr(digits, "MAX_GZ_BYTES", 1_000_000)
    monkeypatch.setattr(digits, "MAX_TEXT_BYTES", 10_000)
    with pytest.raises(DataError, match="more than the 10 KB of text"):
        read_digits()


def test_configs_name_it_with_its_shape_and_classes():
    assert "digits" in DATASETS
    config = Config.from_dict({"data": {"dataset": "digits", "train_ratio": 0.7}})
    data = build_dataset(config)
    assert config.n_classes() == data.n_classes == 10
    assert data_shape(config) == (data.n_train, data.n_test, data.n_features)
    with pytest.raises(ConfigError, match="'digits' uses its own columns"):
        Config.from_dict({"data": {"dataset": "digits", "features": ["x1"]}})


def test_the_preset_states_its_settings():
    p = load_preset("digits")
    c = p.config
    assert "70% train, 30% held back" in p.lesson and c.data.train_ratio == 0.7
    assert "target of 95% test accuracy" in p.lesson and c.training.target_accuracy == 0.95
    assert "by epoch 30" in p.lesson and c.training.epochs == 30
    assert "give the hidden layer 8 units" in p.lesson
    assert [(l.units, l.activation) for l in c.model.layers] == [(32, "relu")]
    assert c.data.standardize is False and p.pace is not None


def test_train_digits_runs_headless_with_a_ten_class_matrix(capsys):
    assert main(["train", "digits", "--epochs", "2", "--jsonl"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[-1])
    matrix = np.array(record["confusion_test"])
    assert matrix.shape == (10, 10) and matrix.sum() == 1797 - round(1797 * 0.7)
    assert np.trace(matrix) / matrix.sum() == record["test_acc"]
    assert main(["train", "digits", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "confusion, test (539 rows" in out
    assert "Traceback" not in out


def test_snapshots_carry_the_first_test_images_with_the_networks_predictions():
    from engine.training.trainer import Trainer

    trainer = Trainer(load_preset("digits"))
    snap = trainer.step(50)
    s = snap.samples
    data = trainer.data
    k = len(s.rows)
    assert s.split == "test" and s.shape == (8, 8) and k == 40 and s.step == snap.step == 50
    assert np.array_equal(s.images, data.X_test[:k]) and np.array_equal(s.true, data.y_test[:k])
    out = trainer.network.infer(data.X_test[:k])[1]
    assert np.array_equal(s.predicted, out.argmax(axis=1))
    assert s.class_names == data.class_names
    assert not s.images.flags.writeable and not s.predicted.flags.writeable
    later = trainer.step(200).samples
    assert later.step == 250 and np.array_equal(later.images, s.images)
    assert np.array_equal(later.predicted, trainer.network.infer(data.X_test[:k])[1].argmax(axis=1))
    assert Trainer(load_preset("xor")).snapshot().samples is None  # not images
