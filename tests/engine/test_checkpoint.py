"""Checkpoints: round trip, atomic writes, shape checks."""

import os

import numpy as np
import pytest

import engine
from engine.checkpoint import load_checkpoint, restore, save_checkpoint
from engine.errors import CheckpointError
from engine.opening import open_run


def trained(steps=20, preset="xor"):
    tr = engine.Trainer(engine.load_preset(preset))
    tr.step(steps)
    return tr


def test_round_trip_restores_weights_optimizer_and_counters(tmp_path):
    tr = trained()
    path = tmp_path / "run.npz"
    save_checkpoint(tr, path)
    opened = open_run(str(path))
    tr2 = opened.trainer()
    assert np.array_equal(tr2.network.params, tr.network.params)
    assert tr2.step_count == 20 and tr2.epoch == tr.epoch
    for key, value in tr.optimizer.state.items():
        np.testing.assert_array_equal(tr2.optimizer.state[key], value)
    assert tr2.optimizer.steps == tr.optimizer.steps
    assert tr2.config == tr.config and opened.preset.title == tr.preset.title
    assert tr2.latest.state == "paused" and tr2.latest.step == 20


@pytest.mark.parametrize("steps", [14, 17])  # xor: 7 steps per epoch; 17 is mid-epoch
def test_continuing_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path, steps):
    a = trained(steps=steps)
    save_checkpoint(a, tmp_path / "a.npz")
    b = open_run(str(tmp_path / "a.npz")).trainer()
    a.step(10)
    b.step(10)
    assert np.array_equal(a.network.params, b.network.params)


def test_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    tr = trained()
    path = tmp_path / "run.npz"
    save_checkpoint(tr, path)
    before = path.read_bytes()
    tr.step(5)

    def crash(fh, **arrays):
        fh.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # the process is killed mid-write

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tr, path)
    assert path.read_bytes() == before
    assert load_checkpoint(path).counters["step"] == 20
    assert os.listdir(tmp_path) == ["run.npz"]  # no temporary file left behind


def test_loading_checks_shapes_against_the_config(tmp_path):
    tr = trained()
    save_checkpoint(tr, tmp_path / "run.npz")
    ckpt = load_checkpoint(tmp_path / "run.npz")
    other = engine.Trainer(tr.config.with_value("model.layers[1].units", 5))
    with pytest.raises(CheckpointError, match=r"run.npz: layer 1 W has shape \(8, 8\), the config's network has \(8, 5\)"):
        restore(other, ckpt, "run.npz")
    assert other.step_count == 0


@pytest.mark.parametrize("content,message", [
    (b"", "not a readable checkpoint"),
    (b"hello", "not a readable checkpoint"),
])
def test_broken_files_fail_clearly(tmp_path, content, message):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a backprop-lab checkpoint"):
        load_checkpoint(tmp_path / "other.npz")
    with pytest.raises(CheckpointError, match="nothere.npz: no such file"):
        load_checkpoint(tmp_path / "nothere.npz")
