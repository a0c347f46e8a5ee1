"""The confusion matrix: counted from the same outputs as the accuracy, in the same pass,
on the same rows (a sampled snapshot's on its subsamples), and per-class accuracy from it."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import engine
from engine.presets import load_preset
from engine.training import probe
from engine.training.trainer import LIVE_EVAL_ROWS, Trainer


def test_counts_and_per_class_accuracy_by_hand():
    true = np.array([0, 0, 1, 2, 2, 2])
    pred = np.array([0, 1, 1, 2, 0, 2])
    m = probe.confusion(true, pred, 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert probe.class_accuracy(m) == pytest.approx([1 / 2, 1 / 1, 2 / 3])
    empty = probe.class_accuracy(np.array([[3, 1], [0, 0]]))  # class 1 has no rows
    assert empty[0] == 0.75 and np.isnan(empty[1])


def test_binary_and_multiclass_outputs_are_read_as_the_accuracy_reads_them():
    assert probe.predicted_classes(np.array([[0.2], [0.5], [0.51]])).tolist() == [0, 0, 1]
    assert probe.true_classes(np.array([[0.0], [1.0]])).tolist() == [0, 1]
    out = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
    assert probe.predicted_classes(out).tolist() == [1, 0]


@pytest.mark.parametrize("name", ["xor", "iris", "softmax-spiral"])
def test_evaluate_matrix_matches_counting_each_row(name, monkeypatch):
    tr = Trainer(load_preset(name))
    tr.step(30, snapshot=False)
    X, Y = tr.train_set
    out = tr.network.infer(X)[1]
    k = max(2, Y.shape[1])
    expected = np.zeros((k, k), dtype=int)
    for o, y in zip(out, Y):  # one row at a time, as a person would count
        t = int(y[0] > 0.5) if k == 2 and Y.shape[1] == 1 else int(np.argmax(y))
        p = int(o[0] > 0.5) if k == 2 and Y.shape[1] == 1 else int(np.argmax(o))
        expected[t, p] += 1
    _, acc = probe.evaluate(tr.network, tr.loss_name, "classification", X, Y)
    assert acc.confusion.tolist() == expected.tolist()
    assert acc == np.trace(expected) / X.shape[0]
    monkeypatch.setattr(probe, "EVAL_CHUNK", 7)  # chunked: the same counts
    _, chunked = probe.evaluate(tr.network, tr.loss_name, "classification", X, Y)
    assert chunked.confusion.tolist() == expected.tolist() and chunked == acc


@pytest.mark.parametrize("name", ["xor", "iris"])
def test_snapshot_matrix_sums_to_the_split_and_its_diagonal_is_the_accuracy(name):
    tr = Trainer(load_preset(name))
    snap = tr.step(25)
    (X, _), n_test = tr.train_set, tr.data.X_test.shape[0]
    k = max(2, snap.n_classes)
    for matrix, acc, n in ((snap.confusion_train, snap.train_accuracy, X.shape[0]),
                           (snap.confusion_test, snap.test_accuracy, n_test)):
        assert matrix.shape == (k, k) and matrix.dtype.kind == "i"
        assert not matrix.flags.writeable
        assert int(matrix.sum()) == n
        assert np.trace(matrix) / matrix.sum() == acc
    assert type(snap.train_accuracy) is float and type(snap.test_accuracy) is float
    # measured on the snapshot's weights: the trainer's own evaluation agrees
    ev = tr.evaluate()
    assert ev["test_accuracy"].confusion.tolist() == snap.confusion_test.tolist()


def test_regression_has_no_matrix():
    snap = Trainer(load_preset("regression-plane")).step(3)
    assert snap.confusion_train is None and snap.confusion_test is None


def test_sampled_snapshots_count_the_rows_their_accuracy_was_measured_on():
    big = engine.Config.from_dict({
        "data": {"dataset": "circle", "samples": 3 * LIVE_EVAL_ROWS, "train_ratio": 0.5},
        "model": {"layers": [{"units": 4, "activation": "tanh"}]},
        "training": {"optimizer": "adam", "lr": 0.01, "batch_size": 256},
    })
    tr = Trainer(big, snapshot_hz=100_000)
    live, epochs = [], []
    tr.run(max_epochs=1, on_snapshot=live.append, on_epoch=epochs.append)
    mid = [s for s in live if s.sampled]
    assert mid
    for s in mid:
        assert int(s.confusion_train.sum()) == LIVE_EVAL_ROWS
        assert np.trace(s.confusion_train) / LIVE_EVAL_ROWS == s.train_accuracy
    whole = epochs[0]
    assert not whole.sampled and int(whole.confusion_train.sum()) == tr.train_set[0].shape[0]
    assert np.trace(whole.confusion_test) / whole.confusion_test.sum() == whole.test_accuracy


def test_the_accuracy_keeps_its_matrix_when_copied():
    tr = Trainer(load_preset("xor"))
    acc = tr.evaluate()["test_accuracy"]
    for other in (pickle.loads(pickle.dumps(acc)), copy.deepcopy(acc)):
        assert other == acc and other.confusion.tolist() == acc.confusion.tolist()
    snap = copy.deepcopy(tr.snapshot())
    assert snap.confusion_test.tolist() == acc.confusion.tolist()
