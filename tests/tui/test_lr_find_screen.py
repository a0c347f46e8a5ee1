"""The learning-rate range test screen (L): what it marks is the engine's range test of the
run's config; a sets the run's lr to it; bad fields say so and keep the last result.
Snapshots at 80x24 and 120x36, in colour and in plain characters."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import numpy as np
import pytest
from textual.app import App

from engine.analysis.lr_find import lr_find
from engine.presets import load_preset
from tui.commands import help_rows
from tui.format import num
from tui.screens.lr_find import LrFindScreen, RangeCurve, suggested

from tests.tui.conftest import screen_text, wait_for


async def open_screen(pilot, app) -> LrFindScreen:
    await pilot.press("L")
    await wait_for(pilot, lambda: isinstance(app.screen, LrFindScreen))
    screen = app.screen
    await wait_for(pilot, lambda: screen.result is not None and not screen.running)
    await pilot.pause()
    return screen


def marks_of(result) -> list[str]:
    """The two lines the screen must show for ``result``, from the engine's numbers."""
    return [f"steepest descent: lr {num(result.steepest_lr)} (step {result.steepest_index + 1})",
            f"blow-up: lr {num(result.blowup_lr)} (step {result.taken})"
            if result.blowup_lr is not None else f"blow-up: none up to lr {num(result.lr_max)}"]


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
@pytest.mark.parametrize("preset", ["dead-relu", "lr-good"])
async def test_the_marked_rates_are_the_engines(make_app, size, preset):
    app = make_app(preset)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("n", "n")  # the run has moved on: the test still starts afresh
        screen = await open_screen(pilot, app)
        expect = lr_find(load_preset(preset).config.with_value("training.epochs", 1_000_000))
        got = screen.result
        np.testing.assert_array_equal(got.lrs, expect.lrs)
        np.testing.assert_array_equal(got.losses, expect.losses)
        assert (got.steepest_lr, got.blowup_lr) == (expect.steepest_lr, expect.blowup_lr)
        text = screen_text(app)
        for line in marks_of(expect):
            assert line in text
        assert f"a: set the run's lr to {suggested(expect):g}" in text
        assert all(len(line.rstrip()) <= size[0] for line in text.splitlines())
        assert app.trainer.step_count == 2  # the run itself was not touched
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, LrFindScreen))


async def test_opening_it_pauses_training_and_it_tests_the_current_config(make_app):
    app = make_app("xor")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space")
        await wait_for(pilot, lambda: app.trainer.step_count > 0)
        app.trainer.set_hyper(batch_size=8)  # a live change: the test uses it too
        await pilot.pause()
        screen = await open_screen(pilot, app)
        assert not app.training
        config = app.session.config
        assert config.training.batch_size == 8
        expect = lr_find(config)
        np.testing.assert_array_equal(screen.result.losses, expect.losses)


async def test_a_sets_the_runs_lr_to_the_suggestion(make_app):
    app = make_app("lr-good")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = await open_screen(pilot, app)
        lr = suggested(screen.result)
        assert lr == float(f"{screen.result.steepest_lr:.3g}") and lr != 3.0
        await pilot.press("a")
        await pilot.pause()
        assert app.trainer.config.training.lr == lr
        assert app.config_pane.draft.training.lr == lr
        assert f"the run's lr is now {lr:g}" in screen.message
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, LrFindScreen))
        await pilot.press("n")
        assert app.trainer.latest.lr == lr  # the next step used it


async def test_a_suggestion_the_config_refuses_is_said_and_the_lr_kept(make_app):
    app = make_app("lr-good")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = await open_screen(pilot, app)
        # no preset's range test suggests more than the config allows: stand one in
        screen.result = replace(screen.result, steepest_lr=150.0)
        await pilot.press("a")
        await pilot.pause()
        assert screen.message.startswith("✗ ") and "<= 100" in screen.message
        assert app.trainer.config.training.lr == 3.0


def test_the_screen_command_and_engine_share_one_default_range():
    import inspect

    from cli.main import build_parser
    from tui.screens.lr_find import DEFAULTS

    args = build_parser().parse_args(["lr-find", "xor"])
    params = inspect.signature(lr_find).parameters
    engine = tuple(params[k].default for k in ("lr_min", "lr_max", "steps"))
    assert DEFAULTS == (args.min, args.max, args.steps) == engine


async def test_bad_fields_say_what_and_keep_the_last_result(make_app):
    app = make_app("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = await open_screen(pilot, app)
        before = screen.result
        for field, typed, words in (
                ("#lrf-min", "abc", "lr from: type a number > 0, like 1e-5"),
                ("#lrf-min", "-1", "lr from: -1 is not a number > 0"),
                ("#lrf-max", "1e-9", "lr from (1e-05) must be below lr to (1e-09)"),
                ("#lrf-steps", "1", "steps: 1 is out of range; use 2 to 10,000")):
            field_widget = screen.query_one(field)
            old = field_widget.value
            field_widget.value = typed
            field_widget.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert screen.message == "✗ " + words and "\n" not in screen.message
            assert screen.result is before
            field_widget.value = old
        await pilot.press("escape")  # leaves the field first
        assert isinstance(app.screen, LrFindScreen) and screen.focused is None
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, LrFindScreen))


async def test_a_new_range_from_the_fields(make_app):
    app = make_app("lr-good")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = await open_screen(pilot, app)
        assert screen.result.blowup_lr is None  # up to 10 lr-good does not blow up
        await pilot.press("tab", "tab", "end", "0", "enter")  # to: 10 -> 100
        await wait_for(pilot, lambda: screen.result is not None and not screen.running
                       and screen.result.lr_max == 100.0)
        await pilot.pause()
        expect = lr_find(load_preset("lr-good"), lr_max=100.0)
        assert screen.result.blowup_lr == expect.blowup_lr is not None
        for line in marks_of(expect):
            assert line in screen_text(app)


async def test_closing_mid_run_stops_the_thread(make_app):
    app = make_app("digits")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, LrFindScreen))
        screen = app.screen
        screen.query_one("#lrf-steps").value = "10000"
        screen.action_run()
        workers = [w for w in app.workers if w.group == "lr-find"]
        assert workers and not all(w.is_finished for w in workers)
        await pilot.press("escape")
        loop = asyncio.get_running_loop()
        end = loop.time() + 10
        while not all(w.is_finished for w in workers) and loop.time() < end:
            await pilot.pause(0.05)
        assert all(w.is_finished for w in workers)


async def test_L_is_in_help_and_the_palette(make_app):
    assert any(key == "L" and "range test" in text for key, text in help_rows())
    app = make_app("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Learning-rate range test" in titles


async def test_plain_mode_names_the_lines_with_letters(make_app):
    app = make_app("dead-relu", plain=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = await open_screen(pilot, app)
        assert screen.query_one(RangeCurve).plain
        text = screen_text(app)
        assert "S│ steepest descent" in text and "B│ blow-up" in text
        assert ".: batch loss  o: smoothed" in text


# ----- snapshots -----------------------------------------------------------------------
class LrFindApp(App):
    """A bare app that opens the screen on a preset, as the real app does on L."""

    def __init__(self, preset: str, plain: bool) -> None:
        super().__init__()
        self.plain = plain
        p = load_preset(preset)
        self.lr_screen = LrFindScreen(p.config, title=p.title)

    def on_mount(self) -> None:
        self.push_screen(self.lr_screen)


@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot(snap_compare, size, plain):
    async def run_before(pilot) -> None:
        screen = pilot.app.lr_screen
        await wait_for(pilot, lambda: screen.result is not None and not screen.running)
        await pilot.pause()

    # lr-good over the default range stays calm to the end: a run that blows up (dead-relu,
    # or lr-good taken to 100) ends differently on each BLAS kernel, and a picture must not
    assert snap_compare(LrFindApp("lr-good", plain), run_before=run_before, terminal_size=size)
