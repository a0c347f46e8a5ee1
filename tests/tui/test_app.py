"""Pilot tests: every binding, config editing, training, divergence, presets, files."""

from __future__ import annotations

import numpy as np
import pytest
from textual.events import Resize
from textual.geometry import Size

from engine.presets import load_preset
from engine.training.trainer import Trainer
from tui.screens.help import HelpScreen
from tui.screens.presets import PresetPicker
from tui.screens.prompt import PathPrompt
from tui.widgets import BoundaryView, ConfigPane, GradientBars, LossPlot, StatusLine

from tests.tui.conftest import press_live, screen_text, wait_for

SIZE = (80, 24)
WIDE = (120, 36)


def status(app) -> str:
    return app.main.query_one(StatusLine).text


async def test_opens_on_the_preset_idle(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "ready" in status(app) and "step 0" in status(app)
        text = screen_text(app)
        assert "Boundary" in text and "Loss" in text and "Gradients" in text
        assert "space Play" in text  # the footer
        assert app.main.focused is None  # keys go to the app from the first frame


async def test_step_changes_loss_and_gradient_bars(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        bars = app.main.query_one(GradientBars)
        plot = app.main.query_one(LossPlot)
        before = status(app)
        assert "–" in screen_text(app)  # gradients not measured yet
        await pilot.press("n")
        assert "step 1" in status(app) and status(app) != before
        assert all(s.grad_norm > 0 for s in bars.stats)
        first = [s.grad_norm for s in bars.stats]
        await pilot.press("n", "n")
        await pilot.pause()
        assert "step 3" in status(app)
        assert [s.grad_norm for s in bars.stats] != first
        # xor has 7 steps an epoch: the curve is step 0 and the live point at step 3 ...
        assert plot.series()["train"][0] == [0.0, 3.0]
        await pilot.press("b")  # ... and the batch loss has every step
        assert plot.series()["batch"][0] == [1.0, 2.0, 3.0]
        assert plot.series()["batch"][1] == pytest.approx(
            list(app.trainer.latest.history.batch.loss))
        assert "sat" in screen_text(app)  # tanh layers show their saturated share


async def test_epoch_key(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N")
        await pilot.pause()
        assert app.trainer.step_count == app.trainer.steps_per_epoch
        assert "epoch 1" in status(app)


async def test_play_and_pause(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: app.trainer.step_count > 40 and "training" in status(app))
        assert "max" in status(app) and "steps/s" in status(app)  # full pace, its speed
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: not app.training)
        await pilot.pause()
        step = app.trainer.step_count
        assert "paused" in status(app) and f"step {step}" in status(app)
        assert "max" in status(app) and "steps/s" not in status(app)  # no speed while paused
        await pilot.pause(0.1)
        assert app.trainer.step_count == step  # really paused
        plot = app.main.query_one(LossPlot)
        assert len(plot.series()["train"][0]) >= 2
        assert app.frames >= 2


async def test_frames_slow_down_when_drawing_costs_more_than_its_share(make_app, monkeypatch):
    import time

    import tui.app

    # a budget so small that every frame is over it: frames come at the one-a-second floor
    monkeypatch.setattr(tui.app, "UI_SHARE", 1e-6)
    app = make_app(fps=10, speed=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.start_training()
        await wait_for(pilot, lambda: app.frames >= 3 and app.frame_cost > 0)
        frames, start = app.frames, time.perf_counter()
        try:
            await pilot.pause(2.2)
        finally:
            elapsed = time.perf_counter() - start
            running = app.frames - frames
            await app.stop_training()
        assert app.trainer.step_count > 100
        assert 1 <= running <= elapsed / tui.app.MAX_FRAME_WAIT + 1.5
        # stopping still shows the final state at once
        assert "paused" in status(app)
        # and starting again shows the run at once, whatever the last frame cost
        start = time.perf_counter()
        app.start_training()
        try:
            await wait_for(pilot, lambda: "training" in status(app), timeout=3)
            shown_after = time.perf_counter() - start
        finally:
            await app.stop_training()
        assert shown_after < 0.5 * tui.app.MAX_FRAME_WAIT


async def test_the_hidden_config_pane_is_not_built_during_a_run(make_app, monkeypatch):
    import tui.screens.main

    monkeypatch.setattr(tui.screens.main, "PREFILL_S", 60.0)  # not during the test's start
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.config_pane.populated  # hidden at 80 columns: built later
        monkeypatch.setattr(tui.screens.main, "PREFILL_S", 0.2)  # the retry after a refusal
        app.start_training()
        await wait_for(pilot, lambda: app.training)
        await app.main._prefill_config()  # the timer's call, made during the run
        built_while_training = app.config_pane.populated
        await app.stop_training()
        assert not built_while_training  # it would hold up training for a while
        await wait_for(pilot, lambda: app.config_pane.populated)  # retried once stopped


async def test_frames_are_capped_and_coalesced(make_app):
    import time

    app = make_app(fps=10)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        frames = app.frames
        start = time.perf_counter()
        app.start_training()
        await pilot.pause(0.6)
        await app.stop_training()
        elapsed = time.perf_counter() - start
        steps = app.trainer.step_count
        assert steps > 20
        assert app.frames - frames <= elapsed * 10 * 1.3 + 3  # the cap, not one per step
        assert app.frames - frames < steps


async def test_reset_is_reproducible(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        fresh = Trainer(load_preset("xor")).network.params.copy()
        await pilot.press("n", "n", "n")
        assert not np.array_equal(app.trainer.network.params, fresh)
        await pilot.press("r")
        await pilot.pause()
        assert app.trainer.step_count == 0 and "step 0" in status(app)
        np.testing.assert_array_equal(app.trainer.network.params, fresh)


async def test_reset_mid_training(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: app.trainer.step_count > 10)
        await press_live(pilot, "r")
        await pilot.pause()
        assert not app.training and app.trainer.step_count == 0


async def test_learning_rate_keys(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus")
        assert app.trainer.config.training.lr == 0.09
        assert app.trainer.optimizer.lr == 0.09
        assert "lr 0.09" in status(app)
        await pilot.press("minus", "minus")
        assert app.trainer.config.training.lr == 0.01
        assert app.config_pane.draft.training.lr == 0.01
        await pilot.press("c")  # the fields are built when first shown, with the new value
        assert app.config_pane.row("training.lr").control.value == "0.01"


async def test_learning_rate_changes_live_while_training(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: app.trainer.step_count > 5)
        await press_live(pilot, "minus")
        await wait_for(pilot, lambda: app.trainer.optimizer.lr == 0.01)
        assert app.training  # still running
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: not app.training)
        assert app.trainer.latest.lr == 0.01


async def test_learning_rate_limit_is_refused(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(8):
            await pilot.press("plus")
        assert app.trainer.config.training.lr <= 100
        assert app.config_pane.draft.training.lr == app.trainer.config.training.lr


async def edit(pilot, app, path: str, text: str) -> None:
    """Type ``text`` into a config field and press enter."""
    if not app.main.has_class("-wide") and not app.main.config_toggled:
        await pilot.press("c")
    control = app.config_pane.row(path).control
    control.focus()
    await pilot.pause()
    control.value = ""
    await pilot.press(*list(text), "enter")
    await pilot.pause()


async def test_invalid_value_is_refused_in_place(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await edit(pilot, app, "training.lr", "-1")
        error = app.config_pane.error_for("training.lr")
        assert "not allowed" in error and "kept 0.03" in error
        assert app.trainer.config.training.lr == 0.03
        assert app.config_pane.row("training.lr").control.value == "0.03"
        assert "not allowed" in screen_text(app)
        await edit(pilot, app, "training.batch_size", "abc")
        assert "'full'" in app.config_pane.error_for("training.batch_size")
        assert app.trainer.config.training.batch_size == 32
        # a good value clears the reason and applies at once: training settings are live
        await edit(pilot, app, "training.lr", "0.1")
        assert app.config_pane.error_for("training.lr") == ""
        assert app.trainer.config.training.lr == 0.1
        await edit(pilot, app, "training.batch_size", "full")
        assert app.trainer.config.training.batch_size == 0 and app.trainer.steps_per_epoch == 1
        assert app.config_pane.error_for("training.batch_size") == ""
        assert not app.config_pane.pending


async def test_select_changes_optimizer_live(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        row = app.config_pane.row("training.optimizer")
        row.control.value = "sgd"
        await pilot.pause()
        assert app.trainer.optimizer.name == "sgd"
        assert app.config_pane.row("training.momentum").display  # sgd's own settings appear
        assert not app.config_pane.row("training.beta1").display
        # a choice that does not fit the others is refused too: ce needs a softmax output
        app.config_pane.row("model.loss").control.value = "ce"
        await pilot.pause()
        assert "softmax" in app.config_pane.error_for("model.loss")
        assert app.config_pane.draft.model.loss == "bce"
        assert app.config_pane.row("model.loss").control.value == "bce"


def layer_control(app, name: str):
    """The config pane's input for one layer setting (layer rows are not field rows)."""
    return next(c for c in app.config_pane.query(".control") if c.name == name)


async def test_architecture_change_is_pending_until_reset(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        units = layer_control(app, "model.layers[0].units")
        units.focus()
        units.value = "3"
        await pilot.press("enter")
        await pilot.pause()
        assert app.config_pane.pending
        assert app.trainer.config.model.layers[0].units == 8  # not yet
        assert "pending" in status(app)
        await pilot.press("escape")
        assert app.main.focused is None
        await pilot.press("r")
        await pilot.pause()
        assert app.trainer.config.model.layers[0].units == 3
        assert app.trainer.network.layers[0].W.shape[1] == 3
        assert not app.config_pane.pending and "pending" not in status(app)


async def test_invalid_layer_width_is_refused(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        units = layer_control(app, "model.layers[1].units")
        units.focus()
        units.value = "0"
        await pilot.press("enter")
        await pilot.pause()
        assert "not allowed" in app.config_pane.error_for("model.layers[1].units")
        assert units.value == "8"
        assert app.config_pane.draft.model.layers[1].units == 8
        assert "not allowed" in screen_text(app)


async def test_dataset_change_is_pending(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        app.config_pane.row("data.dataset").control.value = "circle"
        await pilot.pause()
        assert app.config_pane.pending and app.trainer.config.data.dataset == "xor"
        assert "*dataset" in screen_text(app) or app.config_pane.row("data.dataset").has_class("-pending")
        await pilot.press("c", "r")
        await pilot.pause()
        assert app.trainer.config.data.dataset == "circle"


async def test_layer_buttons(make_app):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        pane = app.config_pane
        await pane.populate()
        pane.query_one("#add-layer").press()
        await pilot.pause()
        assert len(pane.draft.model.layers) == 3 and pane.pending
        first = [b for b in pane.query(".layer-button") if b.name == "remove:0"][0]
        first.press()
        await pilot.pause()
        assert len(pane.draft.model.layers) == 2
        pane_layers = pane.draft.model.layers
        pane_layers_units = [l.units for l in pane_layers]
        await edit(pilot, app, "training.lr", "0.02")  # training edits keep the pending layers
        assert [l.units for l in pane.draft.model.layers] == pane_layers_units
        down = [b for b in pane.query(".layer-button") if b.name == "down:0"][0]
        down.press()
        await pilot.pause()
        assert pane.draft.model.layers == (pane_layers[1], pane_layers[0])
        await pilot.press("escape", "r")
        await pilot.pause()
        assert len(app.trainer.network.layers) == 3  # 2 hidden + output


async def test_divergence_is_shown(make_app, diverging):
    app = make_app(diverging)
    async with app.run_test(size=SIZE) as pilot:
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: "diverged" in status(app))
        text = status(app)
        assert "step 4" in text and app.trainer.latest.reason in text
        assert "diverged" in screen_text(app)
        assert app.main.query_one(StatusLine).has_class("-diverged")
        await pilot.press("space")  # refuses to train on
        await pilot.pause()
        assert not app.training
        await pilot.press("minus", "minus", "minus", "minus", "r")
        await pilot.pause()
        assert "ready" in status(app)


async def test_exploding_gradient_is_flagged(make_app, diverging):
    app = make_app(diverging)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        await pilot.pause()
        bars = app.main.query_one(GradientBars)
        assert "exploding" in bars.warnings()
        assert "exploding" in screen_text(app)


async def test_preset_picker_loads_a_preset(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus", "n", "n")
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, PresetPicker)
        text = screen_text(app)
        assert "XOR" in text and "hidden layer" in text  # title and lesson
        await pilot.press("space")  # training keys do nothing under the dialog
        assert not app.training
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, PresetPicker)
        assert app.trainer.step_count == 0 and app.trainer.config.training.lr == 0.03
        assert app.config_pane.draft.training.lr == 0.03


async def test_preset_picker_cancel(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "p")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.is_modal and app.trainer.step_count == 1


async def type_path(pilot, app, path: str) -> None:
    field = app.screen.query_one("#prompt-path")
    field.value = path
    await pilot.press("enter")
    await pilot.pause()


async def test_save_and_open_checkpoint(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n", "n", "ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        assert app.screen.query_one("#prompt-path").value.endswith("xor-step3.npz")
        target = tmp_path / "run.npz"
        await type_path(pilot, app, str(target))
        assert target.is_file() and not app.screen.is_modal
        saved = app.trainer.network.params.copy()
        await pilot.press("n", "n")
        await pilot.press("ctrl+o")
        await pilot.pause()
        await type_path(pilot, app, str(tmp_path / "missing.npz"))
        assert app.screen.is_modal and "no such file" in screen_text(app)
        await type_path(pilot, app, str(target))
        assert not app.screen.is_modal
        assert app.trainer.step_count == 3 and "step 3" in status(app)
        np.testing.assert_array_equal(app.trainer.network.params, saved)


async def test_save_while_training(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: app.trainer.step_count > 5)
        await press_live(pilot, "ctrl+s")
        await pilot.pause()
        assert not app.training  # paused for a consistent save
        await type_path(pilot, app, str(tmp_path / "mid"))
        assert (tmp_path / "mid.npz").is_file()


async def test_export_preset(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("plus", "e")
        await pilot.pause()
        await type_path(pilot, app, str(tmp_path / "mine.toml"))
        preset = load_preset(str(tmp_path / "mine.toml"))
        assert preset.config == app.config_pane.draft
        assert preset.config.training.lr == 0.09


async def test_open_preset_file_with_escape_cancels(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.is_modal


async def test_help_lists_keys(make_app):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for word in ("space", "ctrl+s", "ctrl+o", "Learning rate", "Reset", "Log scale", "Quit",
                     "Export"):
            assert word in text, word
        await pilot.press("escape")
        assert not app.screen.is_modal


async def test_view_toggles(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        main = app.main
        await pilot.press("n")
        plot = main.query_one(LossPlot)
        await pilot.press("l")
        assert plot.log_scale and "log" in main.query_one("#loss-box").border_title
        await pilot.press("x")
        assert plot.x_axis == "epoch"
        boundary = main.query_one(BoundaryView)
        await pilot.press("d")
        assert not boundary.show_points
        await pilot.press("c")
        await pilot.pause()
        assert main.query_one(ConfigPane).display and main.query_one(ConfigPane).region.width
        assert main.query_one("#watch").region.width == 0  # narrow: config replaces the panes
        await pilot.press("escape", "c")
        await pilot.pause()
        assert main.query_one(ConfigPane).region.width == 0
        dark = app.current_theme.dark
        await pilot.press("t")
        assert app.current_theme.dark != dark


async def test_wide_layout_shows_config_beside(make_app):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        main = app.main
        assert main.query_one(ConfigPane).region.width > 30
        assert main.query_one("#watch").region.width > 60
        assert "XOR" in screen_text(app)  # the lesson is on screen
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert main.query_one(ConfigPane).region.width == 0


async def test_resize_mid_training(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: app.trainer.step_count > 5)
        app.post_message(Resize(Size(160, 48), Size(160, 48)))
        await pilot.pause(0.2)
        assert app.main.wide and app.main.query_one(ConfigPane).region.width
        app.post_message(Resize(Size(80, 24), Size(80, 24)))
        frames = app.frames
        await wait_for(pilot, lambda: app.frames > frames + 2 and not app.main.wide)
        assert app.training
        await press_live(pilot, "space")


async def test_quit_mid_training(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: app.trainer.step_count > 5)
        await press_live(pilot, "q")
        await pilot.pause()
    assert not app.trainer.running
    assert app.return_code in (0, None)


async def test_ctrl_c_quits(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: app.trainer.step_count > 5)
        await press_live(pilot, "ctrl+c")
        await pilot.pause()
    assert not app.trainer.running


async def test_command_palette_lists_the_controls(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Play / pause", "Step", "Reset", "Presets", "Save checkpoint", "Open",
                      "Export preset or PyTorch script", "Help", "Learning rate ×3"):
            assert title in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Reset")
        await pilot.pause(0.3)
        assert "Reset" in screen_text(app)


async def test_plain_characters_without_colour(make_app):
    app = make_app(plain=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await pilot.pause()
        text = screen_text(app)
        assert "▀" not in text
        assert "o" in text and "x" in text and "o/x train" in text


async def test_non_2d_data_says_so(make_app):
    from engine.config import Config
    from engine.opening import Opened
    from engine.presets import Preset

    config = Config.from_dict({"data": {"dataset": "iris"}, "model": {"layers": [{"units": 4}]}})
    app = make_app(Opened(Preset("iris", "Iris", "Flowers.", config)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "no 2-D view" in screen_text(app)


async def test_pace_keys(make_app):
    app = make_app(speed=None)  # full speed to start with
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*["left_square_bracket"] * 6)  # max → 300 → 100 → 60 → 30 → 10 → 3
        assert app.trainer.pace == 3
        assert "3 ep/s" in status(app)
        await press_live(pilot, "space")
        await pilot.pause(1.0)
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: not app.training)
        epochs = app.trainer.step_count / app.trainer.steps_per_epoch
        assert 1 <= epochs <= 6  # about three epochs a second, not hundreds
        await pilot.press(*["right_square_bracket"] * 7)
        assert app.trainer.pace is None and "max" in status(app)


async def test_weights_toggle(make_app):
    from tui.widgets.weights import WeightsView

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        main = app.main
        box = main.query_one("#weights-box")
        view = main.query_one(WeightsView)
        await pilot.pause()
        assert not box.display and app.trainer.weights_interval is None  # narrow: no copies
        assert app.trainer.latest.weights is None
        await pilot.press("n")
        await pilot.press("w")
        await pilot.pause()
        assert box.display and box.region.width and app.trainer.weights_interval is not None
        assert "Weights" in screen_text(app)
        assert len(view.weights) == len(app.trainer.network.layers)
        assert np.array_equal(view.weights[0], app.trainer.network.layers[0].W)
        # while training, the heatmap follows the weights the snapshots carry
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: app.trainer.latest.weights is not None
                       and app.trainer.latest.weights is view.weights
                       and app.trainer.latest.weights_step > 1)
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: not app.training)
        await pilot.pause()
        # paused: exactly the network's weights
        assert np.array_equal(view.weights[1], app.trainer.network.layers[1].W)
        await pilot.press("w")
        await pilot.pause()
        assert not box.display and app.trainer.weights_interval is None
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = app.main
        box = main.query_one("#weights-box")
        await pilot.pause()
        assert box.display and box.region.width  # wide: shown by default
        # drawn after the layout settles (a refresh later)
        await wait_for(pilot, lambda: bool(main.query_one(WeightsView).weights))
        await pilot.press("w")
        await pilot.pause()
        assert not box.display


def test_flag_summary_groups_layers_into_runs():
    from tui.widgets.gradient_bars import flag_summary

    states = ["vanishing", "vanishing", "vanishing", "ok", "vanishing", "ok", "exploding"]
    assert flag_summary(states) == "vanishing L1-L3,L5, exploding L7"
    assert flag_summary(["ok", "ok"]) == ""


async def test_a_deep_network_shows_every_layer_at_80x24(make_app):
    app = make_app("vanishing-gradients")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.press("n")
        await wait_for(pilot, lambda: app.trainer.step_count == 3)
        await pilot.pause(0.3)
        text = screen_text(app)
        rows = text.splitlines()
        # all nine layers and the pane's closing border are on screen
        assert all(f"L{i} " in text for i in range(1, 10))
        box = app.main.query_one("#grads-box")
        assert box.region.bottom <= SIZE[1] - 1  # above the footer
        assert rows[box.region.bottom - 1].lstrip().startswith("╰")
        # the scale line gave way; the flagged layers moved to the border
        bars = app.main.query_one(GradientBars)
        assert bars.scale_hidden and "|grad W|" not in text
        assert bars.flagged().startswith("vanishing L1") and bars.flagged() in text


async def test_saving_over_a_file_asks_first(make_app, tmp_path):
    target = tmp_path / "keep.npz"
    target.write_bytes(b"someone else's file")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "ctrl+s")
        await pilot.pause()
        await type_path(pilot, app, str(target))
        assert app.screen.is_modal and "exists: press enter again" in screen_text(app)
        assert target.read_bytes() == b"someone else's file"  # nothing replaced yet
        await pilot.press("enter")
        await pilot.pause()
        assert not app.screen.is_modal and target.read_bytes().startswith(b"PK")


async def test_opening_a_broken_checkpoint_keeps_the_run(make_app, tmp_path, monkeypatch):
    from engine.opening import Opened

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        params = app.trainer.network.params.copy()
        bad = Opened(app.opened.preset, source="broken.npz")
        monkeypatch.setattr(Opened, "trainer", lambda self, **kw: (_ for _ in ()).throw(
            ValueError("a reader gave up")))
        await app.open(bad)
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(m.startswith("broken.npz: cannot be opened") for m in messages)
        assert app.trainer.step_count == 2
        np.testing.assert_array_equal(app.trainer.network.params, params)


async def test_opening_a_large_csv_preset_loads_with_progress(make_app, tmp_path, monkeypatch):
    import tui.app

    rows = np.random.default_rng(0).normal(size=(60_000, 4))
    csv = tmp_path / "big.csv"
    with open(csv, "w") as f:
        f.write("a,b,c,label\n")
        for r in rows:
            f.write(f"{r[0]:.6f},{r[1]:.6f},{r[2]:.6f},{int(r[3] > 0)}\n")
    preset = tmp_path / "big.toml"
    preset.write_text('title = "Big"\nlesson = "A big table."\n[data]\ndataset = "csv"\n'
                      'path = "big.csv"\nlabel = "label"\n[model]\nlayers = [{units = 4}]\n')
    monkeypatch.setattr(tui.app, "LOAD_NOTE_S", 0.0)  # every progress call is shown
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        from engine.opening import open_run

        shown = []
        app._show_load = lambda done, total: shown.append((done, total))
        await app.open(open_run(str(preset)))
        await pilot.pause()
        size = csv.stat().st_size
        assert len(shown) >= 2 and shown[-1] == (size, size)  # as it went, to the end
        assert [d for d, _ in shown] == sorted(d for d, _ in shown)
        assert app.trainer.data.n_train + app.trainer.data.n_test == 60_000
