"""The inspector screen and the weights view, driven by Pilot; snapshots at 80x24 and 120x36."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from textual.app import App

from engine.analysis import explain as ex
from engine.opening import open_run
from engine.presets import load_preset
from engine.training.trainer import Trainer
import tui.app as tui_app
from tui.app import BackpropLab
from tui.screens.inspector import InspectorScreen, LayerText, LayerView
from tui.session import Session
from tui.widgets.weights import WeightsView, capture_weights, cell_text, pool


class InspectorApp(App):
    """A bare app that opens the inspector on a trainer, as the real app does on ``i``,
    with the app's styles (the widgets' own live there)."""

    CSS_PATH = str(Path(tui_app.__file__).parent / BackpropLab.CSS_PATH)

    def __init__(self, trainer: Trainer, sample: int | None = 0, plain: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.plain = plain  #: as BackpropLab: characters instead of colour
        self.trainer = trainer
        self.sample = sample
        self.applied: list[ex.StepResult] = []

    def on_mount(self) -> None:
        self.push_screen(InspectorScreen(Session(self.trainer), self.sample))

    def on_inspector_screen_step_applied(self, message: InspectorScreen.StepApplied) -> None:
        self.applied.append(message.result)


def xor_trainer() -> Trainer:
    return open_run("xor").trainer()


def screen_text(app: App) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_opens_on_sample_zero():
    app = InspectorApp(xor_trainer())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InspectorScreen)
        assert screen.breakdown.mode == "sample" and screen.breakdown.rows == (0,)
        text = screen_text(app)
        assert "Inspector · step 1 · sample 0/200" in text
        assert "z1 = x·W1 + b1" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, InspectorScreen)


async def test_moves_between_layers():
    app = InspectorApp(xor_trainer())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press("right")
        assert screen.layer_index == 1
        assert "layer 2: 8 → 8, tanh" in str(screen.query_one(LayerView).lines[0])
        await pilot.press("right")
        lines = "\n".join(str(l) for l in screen.query_one(LayerView).lines)
        assert "prediction − target" in lines and "sigmoid + bce fused" in lines
        await pilot.press("right")  # wraps round to the input layer
        assert screen.layer_index == 0
        await pilot.press("left")
        assert screen.layer_index == 2
        # the unit moves within the layer and the weights view follows
        await pilot.press("left", "j", "j")
        assert screen.unit == 2
        assert screen.query_one(WeightsView).selected == (1, 2)


async def test_moves_between_samples_and_the_batch():
    trainer = xor_trainer()
    app = InspectorApp(trainer)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press("n", "n")
        assert screen.breakdown.rows == (2,)
        x = screen.breakdown.layers[0].x
        assert np.array_equal(x, trainer._X[2:3])
        await pilot.press("p", "p", "p")
        assert screen.breakdown.rows == (199,)
        await pilot.press("b")
        bd = screen.breakdown
        assert bd.mode == "batch" and bd.n == 32
        assert "batch of 32, row 0" in screen_text(app)
        await pilot.press("n")
        assert screen.row == 1 and f"row 1 (sample {bd.rows[1]})" in screen_text(app)
        assert trainer.step_count == 0  # looking changes nothing


@pytest.mark.parametrize("mode_keys,counts", [((), 0), (("b",), 1)])
async def test_apply_moves_weights_by_exactly_the_shown_update(mode_keys, counts):
    trainer = xor_trainer()
    trainer.step(2)
    app = InspectorApp(trainer, sample=5)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press(*mode_keys)
        bd = screen.breakdown
        before = trainer.network.params.copy()
        await pilot.press("a")
        await pilot.pause()
        assert np.array_equal(trainer.network.params - before, bd.update)
        assert trainer.step_count == 2 + counts
        result = screen.last
        assert result.exact and result.loss_before == pytest.approx(bd.loss)
        assert app.applied == [result]
        text = screen.query_one("#inspector-summary").render()
        assert "applied" in str(text) and "exactly the shown update" in str(text)
        # the inspector now shows the next step, from the new weights
        assert np.array_equal(screen.breakdown.params_before, trainer.network.params)


async def test_running_trainer_is_refused():
    import threading
    import time

    trainer = xor_trainer()
    trainer.pace = 0.1  # a run that goes on slowly while the inspector opens
    thread = threading.Thread(target=trainer.run, daemon=True)
    thread.start()
    while not trainer.running:
        time.sleep(0.01)
    steps = trainer.step_count
    try:
        app = InspectorApp(trainer)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.screen.breakdown is None
            assert "Pause training" in screen_text(app)
            await pilot.press("a")
            assert trainer.step_count <= steps + 1  # no step applied by the inspector
    finally:
        trainer.pause()
        thread.join(5)


def test_dead_relu_and_large_layers_in_layer_text():
    config = load_preset("xor").config.with_layers([{"units": 12, "activation": "relu"}])
    trainer = Trainer(config)
    trainer.network.layers[0].b[3] = -100.0  # unit 3 never fires
    bd = ex.explain_trainer(trainer)
    lines = "\n".join(str(l) for l in LayerText(bd, 0, 0, 3, full=False, inline=True).lines())
    assert "dead units 3" in lines
    assert "(1×12)" in lines and "(2×12)" in lines and "unit 3: ‖·‖ 0" in lines  # summaries
    full = "\n".join(str(l) for l in LayerText(bd, 0, 0, 3, full=True, inline=False).lines())
    assert full.count("[") > lines.count("[")


async def test_large_layers_show_summaries_and_all_numbers_on_f():
    config = load_preset("xor").config.with_layers([{"units": 24, "activation": "relu"}])
    app = InspectorApp(Trainer(config))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        lines = lambda: "\n".join(str(l) for l in screen.query_one(LayerView).lines)  # noqa: E731
        assert "(1×24) ‖·‖" in lines()
        await pilot.press("f")
        await pilot.pause()
        assert "(1×24)" not in lines() and lines().count("[") > 10
        body = screen.query_one("#inspector-body")
        assert body.max_scroll_x > 0  # the matrix is wider than the pane: it scrolls
        await pilot.press("shift+right")
        await pilot.pause()
        assert body.scroll_x > 0


# ----- the weights view --------------------------------------------------------------
class WeightsApp(App):
    def __init__(self, weights, plain=False, **kwargs):
        super().__init__(**kwargs)
        self.weights, self.plain = weights, plain

    def compose(self):
        yield WeightsView()

    def on_mount(self):
        view = self.query_one(WeightsView)
        view.set_plain(self.plain)
        view.show(self.weights, step=1)


async def test_weights_view_plain_characters_and_highlight():
    trainer = xor_trainer()
    weights = capture_weights(trainer.network)
    app = WeightsApp(weights, plain=True)
    async with app.run_test(size=(40, 30)) as pilot:
        view = app.query_one(WeightsView)
        view.select(0, 2)
        await pilot.pause()
        text = screen_text(app)
        assert "W1 2×8" in text and "W2 8×8" in text and "W3 8×1" in text
        assert "+9" in text or "-9" in text  # the layer's largest weight
        assert "> 2" in text  # unit 2's outgoing weights: row 2 of W1
        # largest |w| of each layer is a 9, in the sign of the weight
        W = weights[1]
        j = np.unravel_index(np.abs(W).argmax(), W.shape)
        assert cell_text(W[j], np.abs(W).max()) == ("+9" if W[j] > 0 else "-9")


def test_pooling_keeps_the_largest_weight():
    W = np.zeros((40, 40))
    W[5, 37] = -3.0
    P, fr, fc = pool(W, 16, 10)
    assert P.shape[0] <= 16 and P.shape[1] <= 10 and P.min() == -3.0


# ----- snapshots ---------------------------------------------------------------------
def test_snapshot_80x24(snap_compare):
    assert snap_compare(InspectorApp(xor_trainer(), sample=3), terminal_size=(80, 24),
                        press=["right"])


def test_snapshot_120x36(snap_compare):
    trainer = xor_trainer()
    trainer.step(5)
    assert snap_compare(InspectorApp(trainer, sample=None), terminal_size=(120, 36),
                        press=["right", "right", "j"])


def test_snapshot_120x36_plain(snap_compare):
    assert snap_compare(InspectorApp(xor_trainer(), sample=1, plain=True),
                        terminal_size=(120, 36), press=["right", "j"])


def test_snapshot_120x36_after_apply(snap_compare):
    assert snap_compare(InspectorApp(xor_trainer(), sample=7), terminal_size=(120, 36),
                        press=["a", "right"])


# ----- in the real app ---------------------------------------------------------------
# The app wiring the inspector needs (binding ``i``, the palette entry, a redraw after an
# applied step), exactly as proposed for tui/app.py, on a subclass so this test does not
# depend on tui/app.py having it yet.
from textual.app import SystemCommand  # noqa: E402
from textual.binding import Binding  # noqa: E402



class WiredLab(BackpropLab):
    CSS_PATH = str(Path(tui_app.__file__).parent / BackpropLab.CSS_PATH)  # resolved from here
    BINDINGS = [Binding("i", "inspect", "Inspect", tooltip="One training step, number by number")]

    async def action_inspect(self) -> None:
        """Open the backprop inspector on the paused run (i)."""
        if isinstance(self.screen, InspectorScreen):
            return
        await self.stop_training()
        self.redraw()
        self.push_screen(InspectorScreen(self.session))

    def on_inspector_screen_step_applied(self, _: InspectorScreen.StepApplied) -> None:
        self.redraw()

    def get_system_commands(self, screen):
        yield from super().get_system_commands(screen)
        yield SystemCommand("Inspector", "One training step, number by number (i)",
                            self.action_inspect)


async def test_i_pauses_and_opens_the_inspector_in_the_app(tmp_path):
    app = WiredLab(open_run("xor"), plain=False, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        for _ in range(250):
            if app.trainer.step_count > 3:
                break
            await pilot.pause(0.02)
        await pilot.press("i")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, InspectorScreen) and not app.trainer.running
        steps = app.trainer.step_count
        assert screen.breakdown.step == steps
        await pilot.press("b", "a")
        await pilot.pause()
        assert app.trainer.step_count == steps + 1 and screen.last.exact
        await pilot.press("space")  # no training under the inspector
        await pilot.pause()
        assert not app.training
        await pilot.press("escape")
        assert not isinstance(app.screen, InspectorScreen)
        assert app.trainer.latest.step == steps + 1
