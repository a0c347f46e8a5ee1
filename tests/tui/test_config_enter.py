"""Enter in the configuration pane applies a typed value and never changes a choice."""

from __future__ import annotations

from textual.widgets import Input

from tui.widgets.choice import Choice

SIZE = (80, 24)


def control(app, name: str):
    """The pane's input, choice or button called ``name``."""
    return next(w for w in app.config_pane.query("Input, Choice, Button") if w.name == name)


def layers(app) -> list[tuple[int, str]]:
    """(units, activation) of each hidden layer in the pane's draft."""
    return [(spec.units, spec.activation) for spec in app.config_pane.draft.model.layers]


async def open_pane(pilot, app) -> None:
    await pilot.press("c")
    await app.config_pane.populate()
    await pilot.pause()


async def type_width(pilot, app, name: str, text: str) -> None:
    units = control(app, name)
    assert isinstance(units, Input)
    units.focus()
    await pilot.pause()
    units.value = ""
    await pilot.press(*text, "enter")
    await pilot.pause()


async def test_enter_after_a_width_and_a_delete_keeps_the_activations(make_app):
    app = make_app("xor")
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, app)
        assert layers(app) == [(8, "tanh"), (8, "tanh")]

        await type_width(pilot, app, "model.layers[0].units", "12")
        await pilot.press("enter")
        await pilot.pause()
        assert layers(app) == [(12, "tanh"), (8, "tanh")]

        control(app, "remove:1").focus()
        await pilot.pause()
        await pilot.press("enter")  # the button: removes layer 2
        await pilot.pause()
        assert layers(app) == [(12, "tanh")]
        await pilot.press("enter", "enter")  # used to set every layer to linear
        await pilot.pause()
        assert layers(app) == [(12, "tanh")]
        assert app.config_pane.draft.model.layers[0].activation == "tanh"


async def test_delete_leaves_the_keyboard_on_the_next_layer(make_app):
    app = make_app("xor")
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, app)
        await type_width(pilot, app, "model.layers[1].units", "16")
        control(app, "remove:0").focus()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert layers(app) == [(16, "tanh")]
        # the width of the layer now first, not the "all layers" choice before the list
        assert app.main.focused is control(app, "model.layers[0].units")
        await pilot.press("enter")
        await pilot.pause()
        assert layers(app) == [(16, "tanh")]

        control(app, "remove:0").focus()
        await pilot.pause()
        await pilot.press("enter")  # the last layer: the add button takes the keyboard
        await pilot.pause()
        assert layers(app) == []
        assert app.main.focused is app.config_pane.query_one("#add-layer")


async def test_enter_on_a_choice_leaves_it_alone(make_app):
    app = make_app("xor")
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot, app)
        for name in ("model.layers[0].activation", "all.activation", "training.optimizer"):
            choice = control(app, name)
            assert isinstance(choice, Choice)
            before = choice.value
            choice.focus()
            await pilot.pause()
            await pilot.press("enter", "enter")
            await pilot.pause()
            assert choice.value == before, name
        assert layers(app) == [(8, "tanh"), (8, "tanh")]
        assert app.config_pane.draft.training.optimizer == "adam"
        assert not app.config_pane.pending

        control(app, "model.layers[0].activation").focus()
        await pilot.press("right")  # the arrows still change it
        await pilot.pause()
        assert layers(app)[0][1] != "tanh" and layers(app)[1] == (8, "tanh")
