"""The network view (g): what it shows is the trainer's (weights, biases, the last step's
gradients, computed again here), the cursor moves by keys and mouse, enter edits a weight
or bias and the next step trains from it, refusals are one line, wide layers are elided
with a count; snapshots at 80x24 and 120x36, colour and plain."""

from __future__ import annotations

import re

import numpy as np
import pytest
from textual.widgets import Input

from engine.config import Config
from engine.opening import Opened, open_run
from engine.presets import Preset
from engine.training.trainer import Trainer
from tests.tui.conftest import screen_text, wait_for
from tui.app import BackpropLab
from tui.screens.network import NetworkScreen, value
from tui.widgets.network import Cursor, MapView, NetworkGraph

WIDE = Config.from_dict({
    "data": {"dataset": "circle", "samples": 100, "features": ["x1", "x2", "x1^2"]},
    "model": {"layers": [{"units": 30, "activation": "tanh"}, {"units": 4}]},
    "training": {"optimizer": "sgd", "lr": 0.1, "batch_size": 10},
})


def wide() -> Opened:
    return Opened(Preset("wide", "Thirty units", "A wide layer.", WIDE), source="wide")


async def open_view(app, pilot, steps: int = 3) -> NetworkScreen:
    await pilot.pause()
    for _ in range(steps):
        await pilot.press("n")
    await pilot.press("g")
    await wait_for(pilot, lambda: isinstance(app.screen, NetworkScreen)
                   and app.screen.graph.state is not None)
    await pilot.pause()
    return app.screen


def twin(app, steps: int) -> Trainer:
    """A trainer on the same config, trained the same number of steps."""
    other = Trainer(app.trainer.config)
    if steps:
        other.step(steps)
    return other


async def test_a_neurons_detail_is_the_trainers_bias_and_weights(make_app):
    app = make_app("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_view(app, pilot)
        graph = screen.graph
        assert graph.cursor == Cursor(1, 0) and graph.state.step == 3
        layer = app.trainer.network.layers[0]
        text = screen_text(app)
        assert "h1.1" in text and "tanh" in text
        assert f"b      {value(layer.b[0])}" in text
        for i, name in enumerate(("x1", "x2")):
            assert re.search(rf"{name}\s+{re.escape(value(layer.W[i, 0]))}", text)
        # the bias gradient is the one step 3 computed, found again on a twin run
        other = twin(app, 2)
        X, Y, _ = other.peek_batch()
        _, grads = other.network.loss_and_grads(X, Y, other.loss_name)
        assert f"∂L/∂b  {value(grads[0][1][0])}" in text and "gradients of step 3" in text
        # the big map is that neuron's
        assert screen.query_one(MapView).map_cursor() == (1, 0)


async def test_the_cursor_walks_along_links_and_a_link_shows_weight_and_gradient(make_app):
    app = make_app("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_view(app, pilot)
        graph = screen.graph
        await pilot.press("down", "down")
        assert graph.cursor == Cursor(1, 2)
        await pilot.press("right")  # onto a link from h1.3
        assert graph.cursor == Cursor(1, 2, 2)
        await pilot.press("down", "shift+up")  # its target, then its source
        assert graph.cursor == Cursor(1, 1, 3)
        await pilot.pause()
        text = screen_text(app)
        W = app.trainer.network.layers[1].W
        assert "h1.2 → h2.4" in text and "layer 2 · row 2, col 4" in text
        assert f"w      {value(W[1, 3])}" in text
        other = twin(app, 2)
        X, Y, _ = other.peek_batch()
        _, grads = other.network.loss_and_grads(X, Y, other.loss_name)
        assert f"∂L/∂w  {value(grads[1][0][1, 3])}" in text and "gradients of step 3" in text
        await pilot.press("right")  # off the link onto its target
        assert graph.cursor == Cursor(2, 3)
        await pilot.press("left", "left")  # back along the link, onto its source
        assert graph.cursor == Cursor(1, 1)
        await pilot.press("left", "left")
        assert graph.cursor == Cursor(0, 1)  # an input: x2
        await pilot.press("up")
        assert graph.cursor == Cursor(0, 0)
        assert "x1" in screen_text(app) and "outgoing weights" in screen_text(app)
        for _ in range(9):
            await pilot.press("up")
        assert graph.cursor == Cursor(0, 0)  # stays inside the column


async def test_enter_edits_a_weight_and_the_next_step_trains_from_it(make_app):
    app = make_app("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(app, pilot)
        await pilot.press("right")  # h1.1 → h2.1: W2[0, 0]
        await pilot.press("enter")
        field = screen.query_one("#net-edit", Input)
        W = app.trainer.network.layers[1].W
        assert screen.editing and float(field.value) == pytest.approx(float(W[0, 0]), rel=1e-5)
        field.value = "0.625"
        await pilot.press("enter")
        await pilot.pause()
        assert not screen.editing and W[0, 0] == np.float32(0.625)
        assert screen.graph.state.W[1][0, 0] == 0.625 and screen.graph.state.edits == 1
        text = screen_text(app)
        assert "w      +0.625" in text and "1 set by hand" in text
        await pilot.press("n")  # space/n work here: the run goes on from the edit
        await wait_for(pilot, lambda: app.trainer.step_count == 4)
        other = twin(app, 3)
        other.network.layers[1].W[0, 0] = 0.625
        other.step(1)
        np.testing.assert_array_equal(app.trainer.network.params, other.network.params)


async def test_enter_on_a_neuron_edits_its_bias(make_app):
    app = make_app("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(app, pilot, steps=0)
        await pilot.press("down", "enter")  # h1.2
        screen.query_one("#net-edit", Input).value = "-3"
        await pilot.press("enter")
        await pilot.pause()
        assert app.trainer.network.layers[0].b[1] == -3
        assert "b      -3" in screen_text(app)


async def test_refused_values_say_why_in_one_line_and_change_nothing(make_app):
    app = make_app("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(app, pilot)
        before = app.trainer.network.params.copy()
        await pilot.press("right", "enter")
        field = screen.query_one("#net-edit", Input)
        for typed, reason in (("abc", "'abc' is not allowed"), ("1e999", "is not allowed"),
                              ("nan", "is not allowed"), ("250", "'250' is not allowed")):
            field.value = typed
            await pilot.press("enter")
            await pilot.pause()
            assert screen.editing  # still editing, the reason under the field
            assert screen.message.startswith("✗ weight h1.1 → h2.1: ") and reason in screen.message
            assert "use a number >= -100 and <= 100" in screen.message
            assert screen.message in screen_text(app).splitlines()[-2]
        np.testing.assert_array_equal(app.trainer.network.params, before)
        await pilot.press("escape")  # leaves the field, keeps the screen
        assert not screen.editing and isinstance(app.screen, NetworkScreen)
        await pilot.press("left", "left", "left", "enter")  # an input: nothing to edit
        assert screen.graph.cursor == Cursor(0, 0)
        assert "an input has no bias" in screen.message and not screen.editing
        await pilot.press("escape")
        assert not isinstance(app.screen, NetworkScreen)
        assert app.session.network_wanted is None  # closed: no more network states


async def test_an_edit_during_a_run_lands_and_the_run_goes_on(make_app):
    app = make_app("xor", speed=200.0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(app, pilot, steps=0)
        await pilot.press("space")
        await wait_for(pilot, lambda: app.training and app.trainer.step_count > 5)
        await pilot.press("enter")
        screen.query_one("#net-edit", Input).value = "7.5"
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.graph.state.edits == 1, timeout=10)
        assert app.training
        await pilot.press("space")
        await wait_for(pilot, lambda: not app.training)
        assert screen.graph.state.step > 5


async def test_the_mouse_selects_what_is_under_it_and_a_click_edits_it(make_app):
    app = make_app("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_view(app, pilot)
        graph = screen.graph
        layout = graph.layout_
        await pilot.hover(NetworkGraph, offset=(layout.xs[0] + 1, layout.slots[0][1].top))
        assert graph.cursor == Cursor(0, 1) and not screen.editing  # hovering shows
        slot = layout.slots[2][3]  # h2.4
        await pilot.click(NetworkGraph, offset=(layout.xs[2] + 1, slot.top + 1))
        assert graph.cursor == Cursor(2, 3) and screen.editing  # a click edits its bias
        field = screen.query_one("#net-edit", Input)
        b = app.trainer.network.layers[1].b[3]
        assert float(field.value) == pytest.approx(float(b), rel=1e-5)
        await pilot.hover(NetworkGraph, offset=(layout.xs[0] + 1, layout.slots[0][0].top))
        assert graph.cursor == Cursor(2, 3)  # while typing, the mouse moves nothing
        await pilot.press("escape")
        # a link cell: the middle of the gap between the inputs and layer 1
        x = (layout.xs[0] + layout.cols + layout.xs[1]) // 2
        ys = [y for y in range(graph.size.height) if graph.item_at(x, y) is not None]
        assert ys
        item = graph.item_at(x, ys[0])
        await pilot.click(NetworkGraph, offset=(x, ys[0]))
        assert graph.cursor == item and item.is_link and item.column == 0 and screen.editing
        W = app.trainer.network.layers[0].W
        assert float(field.value) == pytest.approx(float(W[item.unit, item.target]), rel=1e-5)


async def test_wide_layers_are_elided_with_a_count_that_follows_the_cursor():
    app = BackpropLab(wide(), plain=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(app, pilot, steps=1)
        graph = screen.graph
        slots = graph.layout_.slots[1]
        shown = [s.unit for s in slots if s.unit is not None]
        marks = [s for s in slots if s.unit is None]
        assert shown == list(range(len(shown))) and len(shown) < 30
        assert [m.hidden for m in marks] == [30 - len(shown)]
        assert f"+{30 - len(shown)}" in screen_text(app)
        assert len(graph.layout_.slots[0]) == 3  # the inputs fit whole
        for _ in range(20):
            await pilot.press("down")
        assert graph.cursor == Cursor(1, 20)
        slots = graph.layout_.slots[1]
        units = [s.unit for s in slots if s.unit is not None]
        above, below = slots[0], slots[-1]
        assert 20 in units and above.unit is None and above.hidden == units[0]
        hidden_below = below.hidden if below.unit is None else 0
        assert above.hidden + len(units) + hidden_below == 30
        text = screen_text(app)
        assert f"+{above.hidden}" in text and "h1.21" in text
        for line in text.splitlines():
            assert len(line.rstrip()) <= 80


async def test_data_that_is_not_2d_shows_the_graph_without_maps():
    app = BackpropLab(open_run("iris"), plain=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(app, pilot, steps=1)
        assert screen.graph.state.maps is None
        assert "no maps: data is not 2-D" in screen_text(app)
        names = app.trainer.data.class_names
        assert all(n[:5] in screen_text(app) for n in names)  # cut to fit the width


async def test_g_again_closes_and_the_main_screen_keeps_its_weights(make_app):
    app = make_app("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        wanted = app.trainer.weights_interval
        await open_view(app, pilot, steps=0)
        assert app.session.network_wanted is not None
        await pilot.press("g")
        assert not isinstance(app.screen, NetworkScreen)
        assert app.session.network_wanted is None and app.trainer.weights_interval == wanted


# ----- snapshots --------------------------------------------------------------------------
def app_for(plain: bool) -> BackpropLab:
    return BackpropLab(open_run("xor"), plain=plain)


STEPS = ["n"] * 5


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
def test_snapshot(snap_compare, size, plain):
    assert snap_compare(app_for(plain), press=[*STEPS, "g", "down"], terminal_size=size)


def test_snapshot_a_link_being_edited(snap_compare):
    assert snap_compare(app_for(False), press=[*STEPS, "g", "right", "down", "enter"],
                        terminal_size=(80, 24))


async def test_a_run_opened_meanwhile_is_shown_and_a_network_without_hidden_layers_too(make_app):
    app = make_app("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_view(app, pilot, steps=1)
        await app.open(open_run("circle-features"))
        await wait_for(pilot, lambda: screen.graph.state is not None
                       and screen.graph.state.sizes == (4, 1))
        assert app.trainer.network_interval is not None  # the new run was asked too
        graph = screen.graph
        assert graph.cursor == Cursor(1, 0)  # the output, the one layer
        await pilot.press("left")  # onto the link x1 → out
        assert graph.cursor == Cursor(0, 0, 0)
        await pilot.pause()
        W = app.trainer.network.layers[0].W
        assert f"w      {value(W[0, 0])}" in screen_text(app)


@pytest.mark.parametrize("size, preset", [((24, 6), "softmax-spiral"), ((40, 12), "regression-bumps"),
                                          ((200, 60), "relu-deep")])
async def test_any_terminal_size_and_network_draws_and_moves(size, preset):
    app = BackpropLab(open_run(preset), plain=False)
    async with app.run_test(size=size) as pilot:
        screen = await open_view(app, pilot, steps=1)
        keys = ["down"] * 5 + ["right", "down", "shift+down", "right", "right", "left", "up"]
        await pilot.press(*keys)
        graph = screen.graph
        assert graph.state.sizes == tuple(app.trainer.network.sizes)
        assert graph._valid(graph.cursor) == graph.cursor  # always on something that exists
        await pilot.press("enter", "escape", "escape")
        assert not isinstance(app.screen, NetworkScreen)


async def test_the_inspector_opened_after_an_edit_lays_open_the_edited_weights(make_app):
    from tui.screens.inspector import InspectorScreen

    app = make_app("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_view(app, pilot, steps=2)
        await pilot.press("right", "enter")  # W2[0, 0]
        screen.query_one("#net-edit", Input).value = "-4.5"
        await pilot.press("enter")
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectorScreen)
                       and app.screen.breakdown is not None)
        bd = app.screen.breakdown
        W2 = app.trainer.network.layer_views(bd.params_before)[1][0]
        assert W2[0, 0] == np.float32(-4.5)
        np.testing.assert_array_equal(bd.params_before, app.trainer.network.params)
