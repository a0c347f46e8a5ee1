"""Playground's quick controls in the configuration pane: the input features as on/off
toggles, and ←/→ steppers beside the typed noise, train share and batch size."""

from __future__ import annotations

import pytest

from tui.widgets.choice import QuickChoice
from tui.widgets.toggles import Toggles

from tests.tui.conftest import wait_for

SIZES = [(80, 24), (120, 36)]


async def open_pane(app, pilot):
    if not app.screen.wide:
        await pilot.press("c")
    pane = app.config_pane
    await pane.populate()
    await pilot.pause()
    return pane


@pytest.mark.parametrize("size", SIZES)
async def test_features_are_toggles_that_build_the_network_inputs(make_app, size):
    app = make_app("circle-features", speed=None)
    async with app.run_test(size=size) as pilot:
        pane = await open_pane(app, pilot)
        toggles = pane.row("data.features").control
        assert isinstance(toggles, Toggles)
        assert toggles.value == app.trainer.config.data.features
        # the keyboard: move onto sin x1 and switch it on
        toggles.focus()
        toggles.cursor = 0
        await pilot.pause()
        target = toggles.values.index("sin(x1)")
        for _ in range(target):
            await pilot.press("right")
        await pilot.press("space")
        await pilot.pause()
        wanted = tuple(f for f in toggles.values
                       if f in set(app.trainer.config.data.features) | {"sin(x1)"})
        assert pane.draft.data.features == wanted
        assert pane.row("data.features").has_class("-pending")
        # the screen shows it on
        assert "■sin x1" in str(toggles.render())
        # a reset builds the network on exactly those inputs
        app.set_focus(None)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.trainer.config.data.features == wanted)
        assert app.trainer.network.layers[0].W.shape[0] == len(wanted)
        assert app.session.data.n_features == len(wanted)


async def test_switching_every_feature_off_is_refused_and_the_last_one_stays(make_app):
    app = make_app("xor", speed=None)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        toggles = pane.row("data.features").control
        assert toggles.value == ("x1", "x2")
        toggles.flip("x1")
        await pilot.pause()
        assert pane.draft.data.features == ("x2",)
        toggles.flip("x2")
        await pilot.pause()
        assert pane.draft.data.features == ("x2",)
        assert toggles.value == ("x2",)
        assert "keep at least one input on; kept x2" in pane.error_for("data.features")


async def test_a_click_flips_the_feature_under_it(make_app):
    app = make_app("xor", speed=None)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_pane(app, pilot)
        toggles = pane.row("data.features").control
        pane.scroll_to_widget(toggles, animate=False)
        await pilot.pause()
        # "■x1 ■x2 □x1²": x1² starts at column 8
        await pilot.click(toggles, offset=(9, 0))
        await pilot.pause()
        assert pane.draft.data.features == ("x1", "x2", "x1^2")


def stepped(values, order, start, by: int):
    """The quick value ``by`` steps from ``start`` (ranked by ``order``)."""
    ranked = sorted(values, key=order)
    return ranked[min(len(ranked) - 1, max(0, ranked.index(start) + by))]


@pytest.mark.parametrize("path,by", [
    ("data.noise", 2), ("data.train_ratio", -1), ("training.batch_size", 2)])
async def test_steppers_move_through_quick_values_and_the_field_shows_it(make_app, path, by):
    app = make_app("xor", speed=None)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        row = pane.row(path)
        quick = row.query_one(QuickChoice)
        start = pane.draft.get(path)
        assert quick.value == start
        expected = stepped(row.spec.quick, quick.order, start, by)
        assert expected != start
        quick.focus()
        await pilot.pause()
        for _ in range(abs(by)):
            await pilot.press("right" if by > 0 else "left")
        await pilot.pause()
        assert pane.draft.get(path) == pytest.approx(expected)
        assert row.control.value == f"{expected:g}"
        if path.startswith("training."):  # applied live
            await wait_for(pilot, lambda: app.trainer.config.get(path) == expected)


async def test_a_typed_value_between_quick_values_steps_to_its_neighbours(make_app):
    app = make_app("xor", speed=None)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        assert pane.commit("data.noise", "0.07")
        quick = pane.row("data.noise").query_one(QuickChoice)
        assert quick.value == pytest.approx(0.07)
        quick.action_move(1)
        await pilot.pause()
        assert pane.draft.data.noise == pytest.approx(0.1)
        assert pane.commit("data.noise", "0.07")
        quick.action_move(-1)
        await pilot.pause()
        assert pane.draft.data.noise == pytest.approx(0.05)


async def test_batch_size_steps_up_to_full_and_stops_there(make_app):
    app = make_app("xor", speed=None)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_pane(app, pilot)
        quick = pane.row("training.batch_size").query_one(QuickChoice)
        for _ in range(12):
            quick.action_move(1)
            await pilot.pause()
        assert pane.draft.training.batch_size == 0
        assert pane.row("training.batch_size").control.value == "full"
        await wait_for(pilot, lambda: app.trainer.batch_size == app.session.data.n_train)
