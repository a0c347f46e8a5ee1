"""One command table makes the bindings, the palette and help: they agree, and every
action exists."""

from __future__ import annotations

from tui.commands import COMMANDS, help_rows


async def test_bindings_palette_and_help_come_from_one_table(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        owners = {"app": app, "main": app.main}
        for command in COMMANDS:  # every action exists on its owner, bound to its keys
            assert callable(getattr(owners[command.owner], f"action_{command.action}"))
            bound = {b.key: b.action for b in type(owners[command.owner]).BINDINGS}
            assert bound[command.keys] == command.action
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {c.title for c in COMMANDS if c.title} <= titles
        rows = dict(help_rows())
        assert all(rows[c.shown] for c in COMMANDS if c.keys != "ctrl+c")  # q says it
        assert app.key_help() == help_rows()
