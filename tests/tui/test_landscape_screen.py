"""The landscape screen (k): the current point, the path and the slice it shows are the
engine's for the same run, live; d switches directions, reset recomputes; snapshots at
80x24 and 120x36, in colour and with plain characters."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.landscape import Landscape
from tests.tui.conftest import screen_text, wait_for
from tui.app import BackpropLab
from tui.screens.landscape import LandscapeScreen
from tui.widgets.boundary import extent_aspect, letterbox
from engine.opening import open_run


async def open_landscape(pilot, app, steps: int = 5) -> LandscapeScreen:
    await pilot.pause()
    if steps:
        await pilot.press(*["n"] * steps)
    await pilot.press("k")
    await wait_for(pilot, lambda: isinstance(app.screen, LandscapeScreen)
                   and app.screen.landscape is not None and not app.screen.computing)
    await pilot.pause()
    return app.screen


def expected_plain_cell(screen: LandscapeScreen, params: np.ndarray) -> tuple[int, int]:
    """Where the weights ``params`` fall in the plain view: its letterboxed window."""
    ls: Landscape = screen.landscape
    width, height = screen.view.size
    left, top, w, h = letterbox(width, height, extent_aspect(ls.extent), row_height=2)
    (x, y), = ls.slice.project(params)
    a0, a1, b0, b1 = ls.extent
    return top + int((b1 - y) / (b1 - b0) * h), left + int((x - a0) / (a1 - a0) * w)


def char_at(app, screen: LandscapeScreen, cell: tuple[int, int]) -> str:
    region = screen.view.region
    lines = screen_text(app).splitlines()
    return lines[region.y + cell[0]][region.x + cell[1]]


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_the_current_point_and_the_path_are_the_engines(make_app, size):
    app = make_app("lr-skip", plain=True)
    async with app.run_test(size=size) as pilot:
        screen = await open_landscape(pilot, app)
        snap = app.session.latest
        assert snap.step == 5 and screen.shown is snap
        params = app.trainer.network.params.copy()
        ls = screen.landscape
        assert ls.slice.kind == "params"  # two parameters: no projection
        np.testing.assert_allclose(screen.path_points()[-1], params, atol=1e-15)
        cell = expected_plain_cell(screen, params)
        assert screen.view.now_cell == cell
        assert char_at(app, screen, cell) == "X"
        start = expected_plain_cell(screen, snap.path.params[0])
        assert char_at(app, screen, start) == "S"
        text = screen_text(app)
        assert f"step {snap.step}" in text and f"path {len(snap.path)} points" in text
        assert f"loss {snap.train_loss:.4g}" in text
        assert all(len(line.rstrip()) <= size[0] for line in text.splitlines())


async def test_the_path_follows_a_live_run_and_reset_recomputes(make_app):
    app = make_app("lr-skip", plain=True, speed=200.0)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_landscape(pilot, app, steps=0)
        await pilot.press("space")
        await wait_for(pilot, lambda: app.session.latest.step >= 30)
        await pilot.press("space")
        await wait_for(pilot, lambda: not app.training and not screen.computing)
        await pilot.pause(0.1)
        snap = app.session.latest
        assert screen.shown is snap
        assert screen.path_points().shape[0] == len(snap.path) == snap.step + 1
        # the path left the first window on its way down: the window now holds all of it
        cell = expected_plain_cell(screen, app.trainer.network.params)
        assert screen.view.now_cell == cell and char_at(app, screen, cell) == "X"
        computed = screen.computed

        await pilot.press("plus", "r")  # rate 0.75, past 2/λ_max, and a fresh run
        await wait_for(pilot, lambda: screen.computed > computed and not screen.computing)
        await pilot.pause()
        assert len(app.session.latest.path) == 1 and "path 1 points" in screen_text(app)
        computed = screen.computed
        await pilot.press(*["n"] * 8)  # it climbs out: the window stays where it was
        await pilot.pause(0.2)
        snap = app.session.latest
        assert snap.step == 8 and snap.train_loss > 100 * snap.history.train_loss[0]
        assert screen.computed == computed and not screen.computing
        assert screen.view.now_cell is None  # the current point is outside the window
        assert "path 9 points" in screen_text(app)


async def test_d_switches_directions_and_says_which(make_app):
    app = make_app("xor", plain=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_landscape(pilot, app)
        assert screen.landscape.slice.kind == "random"
        assert "random (seed 0)" in screen_text(app)
        await pilot.press("d")
        await wait_for(pilot, lambda: screen.landscape is not None and not screen.computing)
        await pilot.pause()
        ls = screen.landscape
        assert ls.slice.kind == "pca" and "PCA of the path" in screen_text(app)
        np.testing.assert_allclose(screen.path_points()[-1], 0.0, atol=1e-6)  # through now
        await pilot.press("k")
        await wait_for(pilot, lambda: not isinstance(app.screen, LandscapeScreen))


async def test_pca_too_early_is_said_and_the_screen_stays(make_app):
    app = make_app("xor", plain=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_landscape(pilot, app, steps=1)
        await pilot.press("d")
        await wait_for(pilot, lambda: not screen.computing and screen.error)
        await pilot.pause()
        assert "at least 3 points" in screen_text(app)
        assert isinstance(app.screen, LandscapeScreen)


def snapshot_app(plain: bool) -> BackpropLab:
    return BackpropLab(open_run("lr-skip"), plain=plain)


async def _ready(pilot) -> None:
    await open_landscape(pilot, pilot.app, steps=8)


@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot(snap_compare, size, plain):
    assert snap_compare(snapshot_app(plain), run_before=_ready, terminal_size=size)


async def test_no_color_draws_the_landscape_in_plain_characters(monkeypatch):
    """The app left to decide (plain=None) follows NO_COLOR here as on every other pane."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = BackpropLab(open_run("lr-skip"))
    assert app.plain is None
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, LandscapeScreen)
                       and app.screen.landscape is not None)
        await pilot.pause()
        assert app.screen.view.plain
        assert "S start · * path · X now" in screen_text(app)
