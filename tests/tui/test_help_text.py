"""The help screen names the frame-rate setting that exists: BACKPROP_LAB_FPS."""

from __future__ import annotations

from textual.widgets import Static

from tui.screens.help import PANES, HelpScreen


def test_help_names_the_environment_variable():
    assert "BACKPROP_LAB_FPS" in PANES
    assert "--fps" not in PANES


async def test_help_screen_shows_it(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("#help-panes", Static).content)
        assert "BACKPROP_LAB_FPS" in shown
        assert "--fps" not in shown
