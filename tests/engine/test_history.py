"""The history keeps every epoch end and every batch loss within bounded memory, and a
bucket's min and max keep each spike."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.training.history import LossHistory, MinMaxSeries
from engine.presets import load_preset
from engine.training.trainer import Trainer
from tui.widgets.loss_plot import envelope, merge


def test_buckets_halve_and_keep_min_max():
    series = MinMaxSeries(8, 1)
    values = [math.sin(i) * (1 + i % 7) for i in range(1000)]
    for i, v in enumerate(values):
        series.add(i, i / 10, (v,))
    steps, _, last, low, high = series.arrays()
    assert len(series) <= 8 and series.points == 1000
    size = series.bucket_size
    for b, step in enumerate(steps):  # bucket b holds points [b*size, b*size+size)
        chunk = values[b * size: int(step) + 1]
        assert low[b, 0] == min(chunk) and high[b, 0] == max(chunk) and last[b, 0] == chunk[-1]
    assert low[:, 0].min() == min(values) and high[:, 0].max() == max(values)


def test_nan_channel_stays_nan_and_does_not_hide_numbers():
    h = LossHistory(4)
    for i in range(10):
        h.add_epoch(i, i, float(i), math.nan, None, None)
    f = h.frozen()
    assert np.isnan(f.test_loss).all() and np.isnan(f.train_accuracy).all()
    assert f.train_low.min() == 0.0 and f.train_high.max() == 9.0


def test_a_long_run_keeps_each_epoch_in_its_bucket_and_its_peak():
    preset = load_preset("lr-too-high")
    trainer = Trainer(preset, history_points=64)
    seen = [(0, trainer.latest.train_loss)]
    snap = trainer.run(max_epochs=200, on_epoch=lambda s: seen.append((s.step, s.train_loss)))
    h = snap.history
    assert h.points == 201 and len(h) <= 64
    for step, loss in seen:  # every epoch end lies within the bucket that holds its step
        i = int(np.argmax(h.steps >= step))
        assert h.train_low[i] <= loss <= h.train_high[i]
    assert h.train_high.max() == max(l for _, l in seen)
    assert h.train_low.min() == min(l for _, l in seen)
    # drawn at 30 columns: the plotted line still reaches the peak and the floor
    x = h.steps.astype(float)
    _, ys = envelope(*merge(x, h.train_low, h.train_high, 30))
    assert max(ys) == max(l for _, l in seen) and min(ys) == min(l for _, l in seen)
    # and every step's batch loss is in the batch series
    assert h.batch.points == 200 and len(h.batch) <= 64


def test_history_records_epochs_without_snapshots():
    """A run whose snapshots never fall due still records every epoch end."""
    trainer = Trainer(load_preset("xor"), snapshot_hz=0)
    snap = trainer.run(max_epochs=5)
    assert snap.history.points == 6 and snap.history.batch.points == 5 * trainer.steps_per_epoch
    stepped = Trainer(load_preset("xor"))
    stepped.step(5 * stepped.steps_per_epoch)
    assert list(stepped.latest.history.train_loss) == pytest.approx(list(snap.history.train_loss))
