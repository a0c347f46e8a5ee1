"""A CSV data set shows its load's progress: headless on a terminal, and in the app."""

from __future__ import annotations

import sys

import numpy as np

from cli import main
from cli.train import load_progress


def test_train_shows_the_loads_progress_on_a_terminal(tmp_path, capsys, monkeypatch):
    rows = np.random.default_rng(0).normal(size=(30_000, 3))
    csv = tmp_path / "t.csv"
    csv.write_text("a,b,label\n" + "".join(f"{a:.5f},{b:.5f},{int(c > 0)}\n" for a, b, c in rows))
    preset = tmp_path / "t.toml"
    preset.write_text('title = "T"\nlesson = "A table."\n[data]\ndataset = "csv"\n'
                      'path = "t.csv"\nlabel = "label"\n[model]\nlayers = [{units = 4}]\n')
    calls = []
    real = load_progress

    def spy():
        manager = real()
        progress = manager.__enter__()

        class Wrapped:
            def __enter__(self):
                return lambda done, total: (calls.append((done, total)), progress(done, total))

            def __exit__(self, *exc):
                return manager.__exit__(*exc)

        return Wrapped()

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr("cli.train.load_progress", spy)
    assert main(["train", str(preset), "--epochs", "1"]) == 0
    size = csv.stat().st_size
    assert calls and calls[-1] == (size, size)
    assert "loading data" in capsys.readouterr().err


def test_no_progress_without_a_terminal(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with load_progress() as progress:
        assert progress is None
