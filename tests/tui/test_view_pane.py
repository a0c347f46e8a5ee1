"""The wide layout's view pane: the network graph or the loss landscape beside the boundary,
drawn from the same run's snapshots; `y` steps through them."""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis import landscape as LS
from tui.screens.main import MainScreen
from tui.widgets.view_pane import MAP_RESOLUTION, NETWORK_INTERVAL, ViewPane

from tests.tui.conftest import wait_for


def pane(app) -> ViewPane:
    return app.screen.query_one(ViewPane)


async def test_from_150_columns_the_pane_shows_the_runs_network(make_app):
    app = make_app("xor", speed=None)
    async with app.run_test(size=(160, 48)) as pilot:
        view = pane(app)
        await wait_for(pilot, lambda: view.active)  # it follows the layout after a refresh
        assert view.display and view.mode == "network"
        assert app.session.network_wanted == (NETWORK_INTERVAL, MAP_RESOLUTION)
        await pilot.press("n")
        await wait_for(pilot, lambda: view.graph.state is not None
                       and view.graph.state.grads_step == app.trainer.step_count)
        state = view.graph.state
        assert state.sizes == (2, 8, 8, 1)
        for k, layer in enumerate(app.trainer.network.layers):  # the weights the run has
            np.testing.assert_array_equal(state.W[k], layer.W)
            np.testing.assert_array_equal(state.b[k], layer.b)
        assert "Network" in str(view.border_title)


async def test_y_steps_network_landscape_hidden_and_the_landscape_is_the_engines(make_app):
    app = make_app("lr-skip", speed=None)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        view = pane(app)
        assert not view.display  # below 150 columns it waits for y
        assert app.session.network_wanted is None
        await pilot.press("y")
        await wait_for(pilot, lambda: view.active and view.mode == "network")
        assert view.display
        await pilot.press("y")
        await wait_for(pilot, lambda: view.landscape is not None
                       and view.landscape.landscape is not None
                       and not view.landscape.computing)
        assert app.session.network_wanted is None  # the pane took back what it asked
        ls = view.landscape.landscape
        assert ls.slice.kind == "params"
        engine = LS.landscape(app.trainer, resolution=ls.loss.shape[0], extent=ls.extent)
        np.testing.assert_allclose(ls.loss, engine.loss, rtol=1e-12)
        await pilot.press("y")
        await wait_for(pilot, lambda: not view.active and view.landscape is None)
        assert not view.display
        await pilot.press("y")  # and round again
        await wait_for(pilot, lambda: view.active and view.mode == "network")
        assert view.display


async def test_on_a_narrow_screen_y_says_where_the_views_are(make_app):
    app = make_app("xor", speed=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("y")
        await pilot.pause()
        assert not pane(app).display
        notes = [n.message for n in app._notifications]
        assert any("needs 120 columns" in m and "g and k" in m for m in notes)


async def test_the_g_screen_keeps_the_panes_network_feed(make_app):
    app = make_app("xor", speed=None)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: pane(app).active)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.pause()
        assert app.session.network_wanted == (NETWORK_INTERVAL, MAP_RESOLUTION)


@pytest.mark.parametrize("plain", [False, True])
def test_wide_layout_with_the_network_pane(snap_compare, make_app, plain):
    app = make_app("circle-features", speed=None, plain=plain, epochs=None)

    async def run_before(pilot):
        await pilot.press("n")
        await wait_for(pilot, lambda: pane(app).graph.state is not None)
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)
