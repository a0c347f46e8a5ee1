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


def test_help_states_the_flag_rule_with_its_thresholds():
    from engine.training import health

    for line in health.RULE:
        assert line.strip() in PANES
    assert f"{health.VANISHING_SHARE:g}" in PANES and f"{health.LEARNING_SHARE:.0%}" in PANES


async def test_every_key_is_in_the_footer_or_help(make_app):
    """At 80 columns the footer ends in whole words, and every binding is in help."""
    from tests.tui.conftest import screen_text

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer = screen_text(app).splitlines()[-1]
        assert footer.rstrip().endswith("Quit")
        described = {text for _, text in app.key_help()}
        bindings = [*app.BINDINGS, *type(app.main).BINDINGS]
        for binding in bindings:
            if binding.description and binding.key != "ctrl+c":
                assert (binding.tooltip or binding.description) in described, binding.key
        for hidden in ("ctrl+s", "ctrl+o", "e"):  # not in the footer, but in help
            assert any(b.key == hidden for b in app.BINDINGS)
