"""Snapshot tests of the main screen in a fixed, paused state (after five steps)."""

from __future__ import annotations

import pytest

from engine.opening import open_run
from tui.app import BackpropLab

STEPS = ["n"] * 5


def app() -> BackpropLab:
    return BackpropLab(open_run("xor"), plain=False)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_main_screen(snap_compare, size):
    assert snap_compare(app(), press=STEPS, terminal_size=size)


def test_config_pane_narrow(snap_compare):
    assert snap_compare(app(), press=[*STEPS, "c"], terminal_size=(80, 24))


def test_plain_characters(snap_compare):
    plain = BackpropLab(open_run("xor"), plain=True)
    assert snap_compare(plain, press=STEPS, terminal_size=(80, 24))
