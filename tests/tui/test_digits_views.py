"""The views of image data (the 8×8 digits): sample images in place of the boundary, the
first layer's units as pictures, the inspector's sample as a picture. What each shows is
held against the engine's own numbers for the same run; snapshots at 80x24 and 120x36,
in colour and in plain characters."""

from __future__ import annotations

import numpy as np
import pytest
from rich.console import Console

from engine.config import Config
from engine.opening import open_run
from tui.app import BackpropLab
from tui.screens.inspector import InspectorScreen
from tui.widgets import BoundaryView
from tui.widgets.pixels import INK_LEVELS, PLAIN_INK, ink_colour
from tui.widgets.samples import SamplesView
from tui.widgets.weights import WeightsView, cell_colour, plain_char

from .conftest import screen_text, wait_for

STEPS = ["n"] * 5
CONSOLE = Console(color_system="truecolor", width=200)


def rgb(color) -> tuple[int, int, int]:
    return tuple(color.get_truecolor())


def cells(line, x: int, n: int) -> list:
    """The styles of ``n`` cells of a rich Text line from column ``x``."""
    return [line.get_style_at_offset(CONSOLE, x + k) for k in range(n)]


def tile_at(lines, top: int, left: int, rows: int, cols: int) -> np.ndarray:
    """The (rows, cols, 2, 3) top/bottom colours of a half-block picture drawn in
    ``lines`` from line ``top`` and column ``left`` (two pixel rows a line)."""
    out = np.zeros((rows, cols, 3), dtype=int)
    for r in range(0, rows, 2):
        for c, style in enumerate(cells(lines[top + r // 2], left, cols)):
            out[r, c] = rgb(style.color)
            if r + 1 < rows:
                out[r + 1, c] = rgb(style.bgcolor)
    return out


def engine_guesses(app, k: int) -> np.ndarray:
    """The classes the trainer's network predicts for the first ``k`` test rows now."""
    t = app.trainer
    return t.network.infer(np.asarray(t.data.X_test[:k], dtype=t.network.dtype))[1].argmax(axis=1)


# ----- the samples pane ------------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_the_boundary_box_shows_sample_images_with_the_engines_guesses(make_app, size):
    app = make_app("digits")
    async with app.run_test(size=size) as pilot:
        for key in STEPS:
            await pilot.press(key)
        await wait_for(pilot, lambda: app.trainer.latest.step == 5)
        await pilot.pause(0.2)
        view = app.screen.query_one(SamplesView)
        assert view.display and not app.screen.query_one(BoundaryView).display
        assert app.screen.query_one("#boundary-box").border_title == "Test images"
        s = view.samples
        assert s.step == 5
        shown = view.shown()
        assert len(shown) >= 8  # two rows of four at 80x24
        guesses, data = engine_guesses(app, len(s.rows)), app.trainer.data
        text = screen_text(app)
        right = 0
        for i in shown:
            guess, true = data.class_names[guesses[i]], data.class_names[data.y_test[i]]
            label, wrong = view.label(i)
            assert label == f"{guess}→{true}" + (" ✗" if guess != true else "")
            assert wrong == (guess != true)
            right += guess == true
        assert f"{right} of {len(shown)} test images right" in text
        labels = [view.label(i)[0] for i in shown]
        per_row = view.grid()[0]  # the labels are on screen a row of images at a time, in order
        for start in range(0, len(labels), per_row):
            row = " ".join(f"{label:<8}" for label in labels[start:start + per_row]).rstrip()
            assert row in text, row


async def test_each_image_is_the_test_rows_pixels(make_app):
    app = make_app("digits")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("n")
        await pilot.pause(0.2)
        view = app.screen.query_one(SamplesView)
        lines = view.render().split("\n")
        per_row = view.grid()[0]
        data = app.trainer.data
        for i in view.shown()[:2 * per_row]:
            top, left = 1 + (i // per_row) * 5, (i % per_row) * 9
            image = np.asarray(data.X_test[i]).reshape(8, 8)
            levels = np.round((image - image.min()) / (image.max() - image.min())
                              * (INK_LEVELS - 1)).astype(int)
            expected = np.array([[ink_colour(v) for v in row] for row in levels])
            assert np.array_equal(tile_at(lines, top, left, 8, 8), expected), i


async def test_training_changes_the_guesses_and_they_follow(make_app):
    app = make_app("digits", speed=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause(0.1)
        view = app.screen.query_one(SamplesView)
        before = np.array(view.samples.predicted)
        app.trainer.step(300)  # the run is paused: its steps are taken here
        await pilot.press("n")
        await wait_for(pilot, lambda: view.samples.step == 302)  # 1 + 300 + 1
        after = view.samples.predicted
        assert not np.array_equal(before, after)
        assert np.array_equal(after, engine_guesses(app, len(after)))


async def test_two_dimensional_data_keeps_its_boundary(make_app):
    app = make_app("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause(0.1)
        assert app.screen.query_one(BoundaryView).display
        assert not app.screen.query_one(SamplesView).display
        assert app.trainer.latest.samples is None
        assert app.screen.query_one(WeightsView).pictures(40) == []


# ----- the weights pane --------------------------------------------------------------------
@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_unit_pictures_are_the_first_layers_weights(make_app, size, plain):
    app = make_app("digits", plain=plain)
    async with app.run_test(size=size) as pilot:
        for key in STEPS + (["w"] if size[0] < 120 else []):  # narrow: w shows the weights
            await pilot.press(key)
        await wait_for(pilot, lambda: app.trainer.latest.step == 5)
        view = app.screen.query_one(WeightsView)
        await wait_for(pilot, lambda: view.weights and not view.weights[0].flags.writeable
                       and np.array_equal(view.weights[0], app.trainer.network.layers[0].W))
        W = app.trainer.network.layers[0].W
        pictures = view.pictures()
        assert [j for j, _ in pictures] == list(range(len(pictures))) and len(pictures) >= 12
        for j, picture in pictures:
            assert np.array_equal(picture, W[:, j].reshape(8, 8))
        scale = float(np.abs(W).max())
        lines = view.render().split("\n")
        assert lines[1].plain.startswith("W1 64×32") and "8×8 pictures" in lines[1].plain
        width = view.content_size.width
        per_row = view._tile_plan(width)[2]
        tile_h = 8 if plain else 4
        for j, picture in pictures[:per_row + 1]:  # the first row and one of the second
            top, left = 2 + (j // per_row) * (tile_h + 1), (j % per_row) * 9
            assert lines[top].plain[left:left + 8].strip() == str(j)
            if plain:
                drawn = [lines[top + 1 + r].plain[left:left + 8] for r in range(8)]
                assert drawn == ["".join(plain_char(w, scale) for w in row) for row in picture]
            else:
                expected = np.array([[cell_colour(w, scale) for w in row] for row in picture])
                assert np.array_equal(tile_at(lines, top + 1, left, 8, 8), expected), j
        units = W.shape[1]
        if len(pictures) < units:
            assert any(f"units 0–{len(pictures) - 1} of {units}, {units - len(pictures)} more"
                       in l.plain for l in lines)


async def test_a_selected_unit_beyond_the_drawn_ones_is_drawn(make_app):
    app = make_app("digits")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("n")
        view = app.screen.query_one(WeightsView)
        await wait_for(pilot, lambda: bool(view.weights))
        view.select(0, 30)
        pictures = view.pictures()
        assert 30 in [j for j, _ in pictures]
        W = app.trainer.network.layers[0].W
        assert np.array_equal(dict(pictures)[30], W[:, 30].reshape(8, 8))


def test_plain_weight_characters_show_the_sign():
    assert plain_char(0.9, 1.0) == "#" and plain_char(-0.9, 1.0) == "="
    assert plain_char(0.5, 1.0) == "+" and plain_char(-0.5, 1.0) == "-"
    assert plain_char(0.05, 1.0) == " " and plain_char(-0.05, 1.0) == " "


# ----- the inspector -----------------------------------------------------------------------
@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
async def test_the_inspector_shows_the_sample_as_its_picture(make_app, plain):
    app = make_app("digits", plain=plain)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectorScreen)
                       and app.screen.breakdown is not None)
        data = app.trainer.data
        for sample in (0, 1):
            if sample:
                await pilot.press("n")
                await wait_for(pilot, lambda: app.screen.breakdown.rows == (1,))
            screen = app.screen
            picture = screen.picture_text().split("\n")
            name = data.class_names[data.y_train[sample]]
            assert picture[0].plain == f"input x: sample {sample}, class {name}, as its 8×8 image"
            image = np.asarray(data.X_train[sample]).reshape(8, 8)
            assert np.array_equal(screen.breakdown.layers[0].x[0], data.X_train[sample])
            levels = np.round((image - image.min()) / (image.max() - image.min())
                              * (INK_LEVELS - 1)).astype(int)
            if plain:
                rows = [line.plain for line in picture[1:9]]
                assert rows == ["".join(PLAIN_INK[v] for v in row) for row in levels]
                assert all(ch == " " for ch, v in zip("".join(rows), image.ravel()) if v == 0)
                text = screen_text(app)
                assert all(row.rstrip() in text for row in rows if row.strip())
            else:
                expected = np.array([[ink_colour(v) for v in row] for row in levels])
                assert np.array_equal(tile_at(picture, 1, 0, 8, 8), expected)
            assert "as its 8×8 image" in screen_text(app)


async def test_the_inspector_on_two_dimensional_data_has_no_picture(make_app):
    app = make_app("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectorScreen)
                       and app.screen.breakdown is not None)
        assert app.screen.picture_text() is None
        assert not app.screen.query_one("#inspector-picture").display


# ----- snapshots ---------------------------------------------------------------------------
def digits_app(plain: bool) -> BackpropLab:
    return BackpropLab(open_run("digits"), plain=plain)


@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_main_screen(snap_compare, size, plain):
    assert snap_compare(digits_app(plain), press=STEPS, terminal_size=size)


@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
def test_weights_shown_narrow(snap_compare, plain):
    assert snap_compare(digits_app(plain), press=[*STEPS, "w"], terminal_size=(80, 24))


@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_inspector(snap_compare, size, plain):
    assert snap_compare(digits_app(plain), press=[*STEPS, "i", "n"], terminal_size=size)


async def test_a_new_config_on_images_swaps_the_panes_both_ways(make_app):
    app = make_app("xor")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("n")
        xor = app.trainer.config
        values = xor.to_dict()
        values["model"].update(output="softmax", loss="ce")
        values["data"]["dataset"] = "digits"
        digits = Config.from_dict(values)
        samples, boundary = app.screen.query_one(SamplesView), app.screen.query_one(BoundaryView)
        for config, images in ((digits, True), (xor, False)):
            assert app.trainer.apply_config(config)
            await pilot.press("n")
            await wait_for(pilot, lambda: samples.display == images
                           and boundary.display == (not images))
            weights = app.screen.query_one(WeightsView)
            assert weights.image_shape == ((8, 8) if images else None)
            title = app.screen.query_one("#boundary-box").border_title
            assert (title == "Test images") == images
