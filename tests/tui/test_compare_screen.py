"""The comparison screen (tui/screens/compare.py), driven by Pilot; snapshots at 80x24
and 120x36. Runs are short (a few hundred steps, one seed) so the file stays quick."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from textual.app import App

from engine.opening import open_run
from engine.presets import load_preset
import tui.app as tui_app
from tui.app import BackpropLab
from tui.screens.compare import CompareCurves, CompareScreen, lr_values, parse_spec

from tests.tui.conftest import screen_text, wait_for

NUMBER = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?%?$")


class CompareApp(App):
    """A bare app that opens the comparison screen, as the real app does on ``v``, with
    the app's styles (the widgets' own live there)."""

    CSS_PATH = str(Path(tui_app.__file__).parent / BackpropLab.CSS_PATH)

    def __init__(self, screen: CompareScreen) -> None:
        super().__init__()
        self.plain = False
        self.compare_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.compare_screen)


async def finished(pilot, screen: CompareScreen, timeout: float = 8.0) -> None:
    await wait_for(pilot, lambda: not screen.running and screen.results
                   and all(r is not None for r in screen.results), timeout)
    await pilot.pause()


async def test_optimizer_race_from_the_app_shows_six_rows_with_numbers():
    app = BackpropLab(open_run("optimizer-race"), plain=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = CompareScreen(app.session.current_as_preset(), steps=300)
        app.push_screen(screen)
        await pilot.pause()
        assert app.screen is screen and screen.mode == "optimizers"
        await finished(pilot, screen)
        rows = screen.rows()
        assert [r[0] for r in rows] == ["full-batch GD", "SGD, batch 1", "mini-batch 16",
                                        "momentum 0.9", "RMSprop", "Adam"]
        for row in rows:
            assert all(NUMBER.match(cell) for cell in row[1:5]), row  # losses, acc, steps
            assert row[5] == "no"
        steps = {r[0]: int(r[4]) for r in rows}
        assert steps["momentum 0.9"] < steps["full-batch GD"] < steps["SGD, batch 1"]
        text = screen_text(app)
        for label in ("full-batch GD", "momentum 0.9", "Adam", "to target", "diverged"):
            assert label in text
        assert "target accuracy ≥ 95%" in screen.message
        assert len(screen.query_one(CompareCurves).series()) == 6
        await pilot.press("escape")
        assert app.screen is not screen and app.screen is app.main


async def test_learning_rate_set_on_lr_too_high():
    preset = load_preset("lr-too-high")  # lr 100, the config's maximum
    values, note = lr_values(preset.config)
    assert values == [1.0, 10.0, 100.0] and note.startswith("×10, ×100 skipped")
    app = CompareApp(CompareScreen(preset))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.compare_screen
        assert screen.mode == "lr"
        await finished(pilot, screen)
        table = screen.table_text().splitlines()
        assert [line.split()[0] for line in table] == ["lr=1", "lr=10", "lr=100"]
        losses = {line.split()[0]: line.split()[1] for line in table}
        biggest = table[-1]
        # the largest rate diverges, or ends far above the others
        assert "yes" in biggest or float(losses["lr=100"]) > 10 * max(
            float(losses["lr=1"]), float(losses["lr=10"]))
        assert "skipped" in screen.message


async def test_bad_typed_values_show_the_reason_and_run_nothing():
    app = CompareApp(CompareScreen(load_preset("xor"), autorun=False, steps=100))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.compare_screen
        field = screen.query_one("#cmp-vary")
        cases = [("training.lr=0.1,1000", "1000"),  # the config's own reason
                 ("training.nope=1,2", "no such setting"),
                 ("model.layers[*].activation=relu,wobbly", "wobbly"),
                 ("just words", "key.path=v1,v2")]
        field.focus()
        for spec, reason in cases:
            field.value = spec  # as if typed (typing is checked below)
            await pilot.pause()
            await pilot.press("enter")
            assert screen.mode == "custom"
            assert reason in screen.message and screen.message.startswith("✗"), screen.message
            assert "\n" not in screen.message.strip()
            assert not screen.running and screen.results == []
            assert app.screen is screen
        # a good one then runs
        field.value = "training.lr="
        field.cursor_position = len(field.value)
        await pilot.press(*"0.1,1", "enter")
        await finished(pilot, screen)
        assert [r[0] for r in screen.rows()] == ["lr=0.1", "lr=1"]
        # a refused step count is reported the same way
        screen.query_one("#cmp-steps").value = "0"
        screen.action_run()
        assert "steps" in screen.message and screen.message.startswith("✗")


async def test_activation_set_and_toggles():
    app = CompareApp(CompareScreen(load_preset("xor"), mode="activation", steps=100))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.compare_screen
        await finished(pilot, screen)
        labels = [r[0] for r in screen.rows()]
        assert labels == ["linear", "sigmoid", "tanh", "relu", "leaky_relu"]
        plot = screen.query_one(CompareCurves)
        await pilot.press("l", "t")
        assert plot.log_scale and plot.which == "test"
        assert all(y and min(y) > 0 for _, _, y in plot.series())
    # a network without hidden layers has no activation to vary
    app = CompareApp(CompareScreen(load_preset("circle-features"), mode="activation"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.compare_screen
        await pilot.pause()
        assert "no hidden layer" in screen.message and screen.results == []


async def test_escape_closes_and_stops_the_worker():
    app = CompareApp(CompareScreen(load_preset("optimizer-race"), steps=20000))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.compare_screen
        await wait_for(pilot, lambda: screen.running and "running" in screen.message)
        workers = [w for w in app.workers if w.group == "compare"]
        assert workers and not workers[0].is_finished
        await pilot.press("escape")
        assert app.screen is not screen
        # the thread stops after the run in progress (one variant, one seed)
        loop = asyncio.get_running_loop()
        end = loop.time() + 6
        while not all(w.is_finished for w in workers) and loop.time() < end:
            await pilot.pause(0.05)
        assert all(w.is_finished for w in workers)


def test_parse_spec():
    assert parse_spec("training.lr=0.1, 1,10") == ("training.lr", [0.1, 1, 10])
    assert parse_spec("model.layers[*].activation=relu,tanh")[1] == ["relu", "tanh"]


def _done_app(size_steps: int = 200) -> CompareApp:
    # lr-too-low's rates (0.001 to 0.1) train calmly: a chaotic run's last digits depend
    # on the machine's BLAS kernels, which a picture must not
    return CompareApp(CompareScreen(load_preset("lr-too-low"), steps=size_steps))


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_compare_screen_snapshot(snap_compare, size):
    async def run_before(pilot) -> None:
        screen = pilot.app.compare_screen
        await finished(pilot, screen)

    assert snap_compare(_done_app(), run_before=run_before, terminal_size=size)


async def test_v_pauses_training_and_opens_compare_on_the_current_config(make_app):
    app = make_app("optimizer-race")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space")
        await wait_for(pilot, lambda: app.trainer.step_count > 0)
        await pilot.press("v")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert not app.training and app.trainer.latest.state in ("paused", "finished")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CompareScreen))
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Compare" in titles
