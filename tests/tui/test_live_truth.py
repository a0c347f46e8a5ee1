"""The panes show the run that happened: each figure on screen is checked against the
same run's headless record (``backprop-lab train NAME --jsonl``), never a constant."""

from __future__ import annotations

import json

import pytest

from cli import main as cli_main
from engine.presets import load_preset
from engine.training.trainer import Trainer
from tui.format import num
from tui.widgets import GradientBars, LossPlot

from tests.tui.conftest import screen_text, wait_for

SIZE = (80, 24)


def headless_record(name: str, capsys) -> list[dict]:
    """``train NAME --jsonl``: one record per epoch."""
    capsys.readouterr()
    assert cli_main(["train", name, "--jsonl"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def start_losses(name: str) -> tuple[float, float]:
    """Train and test loss at step 0 (the plot's first point; --jsonl starts at epoch 1)."""
    snap = Trainer(load_preset(name)).latest
    return snap.train_loss, snap.test_loss


@pytest.mark.parametrize("name", ["xor", "lr-too-high", "dead-relu", "vanishing-gradients"])
async def test_panes_match_the_headless_record(make_app, capsys, name):
    record = headless_record(name, capsys)
    train0, test0 = start_losses(name)
    last = record[-1]
    app = make_app(name, epochs=None, speed=None, pace=None)  # full speed, the preset's stop
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.start_training()
        await wait_for(pilot, lambda: not app.training, timeout=60)
        await pilot.pause(0.3)
        snap = app.trainer.latest
        assert snap.state == "finished"
        assert (snap.epoch, snap.step) == (last["epoch"], last["step"])

        # the loss plot: every epoch's extremes, the real peak included
        series = app.main.query_one(LossPlot).series()
        for split, start in (("train", train0), ("test", test0)):
            values = [start] + [r[f"{split}_loss"] for r in record]
            ys = series[split][1]
            assert max(ys) == pytest.approx(max(values), rel=1e-12)
            assert min(ys) == pytest.approx(min(values), rel=1e-12)

        # the gradient pane: the final step's figures and flags
        bars = app.main.query_one(GradientBars)
        assert snap.stats_step == last["stats_step"] == last["step"]
        assert [l.grad_norm for l in bars.stats] == pytest.approx(last["grad_norms"], rel=1e-12)
        assert [l.dead_fraction for l in bars.stats] == pytest.approx(last["dead_fraction"])
        assert bars.warnings() == last["flags"]
        text = screen_text(app)
        for value in last["grad_norms"]:
            assert num(value, 2) in text
        for layer, dead in zip(bars.stats, last["dead_fraction"]):
            if layer.activation == "relu":
                assert f"dead {dead * 100:.0f}%" in text


async def test_vanishing_is_flagged_from_the_first_frames(make_app, capsys):
    record = headless_record("vanishing-gradients", capsys)
    early = [i + 1 for i, f in enumerate(record[0]["flags"]) if f == "vanishing"]
    assert early and early[0] == 1  # the engine flags the first layers from epoch 1
    app = make_app("vanishing-gradients", epochs=None, speed=None, pace=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("n")
        bars = app.main.query_one(GradientBars)
        flagged = [i + 1 for i, f in enumerate(bars.warnings()) if f == "vanishing"]
        assert flagged[:1] == [1]
        assert bars.flagged() in screen_text(app)


async def test_converged_run_is_not_flagged(make_app, capsys):
    record = headless_record("xor", capsys)
    assert set(record[-1]["flags"]) == {"ok"}  # converged: small gradients are no warning
    app = make_app("xor", epochs=None, speed=None, pace=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.start_training()
        await wait_for(pilot, lambda: not app.training, timeout=60)
        await pilot.pause(0.2)
        assert "vanishing" not in screen_text(app) and "exploding" not in screen_text(app)


async def test_layer_figures_are_dashes_before_any_step(make_app):
    app = make_app("dead-relu")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        bars = app.main.query_one(GradientBars)
        assert all(l.grad_norm is None and l.dead_fraction is None for l in bars.stats)
        text = screen_text(app)
        assert "dead –" in text and "dead 0%" not in text


async def test_a_200_epoch_run_keeps_every_epoch(make_app, capsys):
    record = headless_record("lr-too-high", capsys)
    assert len(record) == 200
    app = make_app("lr-too-high", epochs=None, speed=None, pace=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.start_training()
        await wait_for(pilot, lambda: not app.training, timeout=60)
        h = app.trainer.latest.history
        assert h.points == 201 and len(h) == 201  # step 0 and each of the 200 epoch ends
        assert list(h.steps[1:]) == [r["step"] for r in record]
        assert list(h.train_loss[1:]) == pytest.approx([r["train_loss"] for r in record],
                                                       rel=1e-12)


async def test_the_default_run_goes_at_a_watchable_pace(make_app):
    """Space on the default preset: training goes at the preset's pace, still going after
    3 s, with new frames all along; the status line shows the pace."""
    import time

    app = make_app(None, epochs=None, speed=None, pace="preset")
    pace = app.trainer.pace
    epochs = app.trainer.config.training.epochs
    assert pace is not None and epochs / pace >= 3  # the whole run lasts at least 3 s
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.start_training()
        start = time.perf_counter()
        frames = [app.frames]
        for _ in range(6):  # 3 s in half-second windows
            await pilot.pause(0.5)
            frames.append(app.frames)
        elapsed = time.perf_counter() - start
        assert app.training and app.trainer.latest.state == "running"
        assert all(b > a for a, b in zip(frames, frames[1:]))  # frames keep coming
        done = app.trainer.epoch
        assert 0 < done <= pace * elapsed + 2  # no faster than the pace
        assert f"{pace:g} ep/s" in screen_text(app).splitlines()[0]
        await app.stop_training()


async def test_space_after_finished_trains_on_at_the_same_pace(make_app):
    import time

    app = make_app("xor", epochs=2, speed=None, pace=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.start_training()
        await wait_for(pilot, lambda: not app.training, timeout=30)
        assert app.trainer.latest.state == "finished" and app.trainer.epoch == 2
        assert "epochs done" in screen_text(app).splitlines()[0]
        app.trainer.pace = 10.0
        await pilot.press("space")
        start = time.perf_counter()
        await pilot.pause(1.0)
        assert app.training  # past the preset's stop, with no new limit
        elapsed = time.perf_counter() - start
        assert 2 < app.trainer.epoch <= 2 + 10 * elapsed + 2
        await app.stop_training()


async def test_epoch_key_goes_to_the_end_of_the_current_epoch(make_app):
    app = make_app("xor")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n")
        await pilot.press("N")
        await pilot.pause()
        assert app.trainer.epoch == 1 and app.trainer.step_count == app.trainer.steps_per_epoch
        await pilot.press("N")
        await pilot.pause()
        assert app.trainer.epoch == 2 and app.trainer.step_count == 2 * app.trainer.steps_per_epoch
