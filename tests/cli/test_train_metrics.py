"""``train`` carries the confusion matrix: in its summary and in every --jsonl record."""

from __future__ import annotations

import json

import numpy as np

from backprop_lab.entry import main
from cli.train import summary_lines
from engine.presets import load_preset
from engine.training.probe import class_accuracy
from engine.training.trainer import Trainer


def test_jsonl_records_carry_both_matrices(capsys):
    assert main(["train", "iris", "--epochs", "3", "--jsonl", "--seed", "1"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for r in rows:
        test, train = np.array(r["confusion_test"]), np.array(r["confusion_train"])
        assert test.shape == train.shape == (3, 3)
        assert np.trace(test) / test.sum() == r["test_acc"]
        assert np.trace(train) / train.sum() == r["train_acc"]
        assert test.sum() == 75 and train.sum() == 75  # iris: 150 rows, half for test


def test_jsonl_regression_has_null_matrices(capsys):
    assert main(["train", "regression-plane", "--epochs", "1", "--jsonl"]) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert row["confusion_test"] is None and row["confusion_train"] is None


def test_summary_shows_the_test_matrix_with_class_names_and_accuracies(capsys):
    assert main(["train", "iris", "--epochs", "3", "--seed", "1", "--jsonl"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[-1])  # the same run's end
    assert main(["train", "iris", "--epochs", "3", "--seed", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(l.strip().startswith("confusion, test (75 rows") for l in out)
    matrix = np.array(record["confusion_test"])
    names = ("setosa", "versicolor", "virginica")  # the iris table's classes
    at = next(i for i, l in enumerate(out) if l.split() == [*names, "accuracy"])
    for line, name, row, r in zip(out[at + 1:], names, matrix, class_accuracy(matrix)):
        assert line.split() == [name, *(str(int(v)) for v in row), f"{r:.1%}"]


def test_summary_of_a_regression_has_no_matrix():
    snap = Trainer(load_preset("regression-plane")).step(2)
    assert not any("confusion" in l for l in summary_lines(snap, "t"))
