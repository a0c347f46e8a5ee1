"""The boundary pane keeps the data's aspect ratio: a circle data set is drawn round."""

from __future__ import annotations

import numpy as np
import pytest

from engine.training.snapshot import Boundary
from tui.widgets import BoundaryView
from tui.widgets.boundary import letterbox


def background(view: BoundaryView) -> tuple[int, int, int]:
    """The colour the pane paints where it draws nothing."""
    return tuple(int(v) for v in view._background())


def pixels(view: BoundaryView) -> np.ndarray:
    """The pane as (half-block rows, columns, RGB), read back from the strips it drew."""
    bg = background(view)
    rows = []
    for y in range(view.size.height):
        top, bottom = [], []
        for seg in view.render_line(y):
            style = seg.style
            below = tuple(style.bgcolor.get_truecolor()) if style and style.bgcolor else bg
            above = tuple(style.color.get_truecolor()) if style and style.color else below
            for ch in seg.text:
                top.append(above if ch == "▀" else below)
                bottom.append(below)
        rows += [top, bottom]
    return np.array(rows, dtype=np.int64)


def drawn_pixels(view: BoundaryView) -> np.ndarray:
    """(half-block rows, columns) mask of the pixels that differ from the background."""
    return np.any(pixels(view) != np.array(background(view)), axis=-1)


def box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the smallest box around the drawn pixels."""
    ys, xs = np.nonzero(mask)
    assert xs.size, "nothing drawn"
    return int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1


def assert_letterboxed(view: BoundaryView, extent) -> None:
    x0, x1, y0, y1 = extent
    aspect = (x1 - x0) / (y1 - y0)
    mask = drawn_pixels(view)
    rows, cols = mask.shape
    left, top, width, height = box(mask)
    assert abs(width - aspect * height) <= max(1.0, aspect), (width, height, aspect)
    assert width == cols or height == rows  # as large as the pane allows
    assert abs(left - (cols - left - width)) <= 1  # centred
    assert abs(top - (rows - top - height)) <= 1


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_circle_is_drawn_round(make_app, size):
    app = make_app("circle-features")
    async with app.run_test(size=size) as pilot:
        await pilot.press("n")
        await pilot.pause()
        view = app.main.query_one(BoundaryView)
        extent = app.trainer.latest.points.extent
        assert view.boundary is not None and view.boundary.extent == extent
        assert_letterboxed(view, extent)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_a_wide_extent_is_letterboxed_top_and_bottom(make_app, size):
    app = make_app("circle-features")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        view = app.main.query_one(BoundaryView)
        extent = (-6.0, 6.0, -1.0, 1.0)
        values = np.linspace(0.0, 1.0, 40 * 80).reshape(40, 80)
        view.show(Boundary("binary", values, None, extent, 0), None, 2)
        await pilot.pause()
        assert_letterboxed(view, extent)
        assert drawn_pixels(view).shape[0] > box(drawn_pixels(view))[3]  # blank rows


async def test_points_sit_in_the_drawn_area(make_app):
    app = make_app("circle-features")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        view = app.main.query_one(BoundaryView)
        with_points = pixels(view)
        view.toggle_points()  # the same picture without the points
        await pilot.pause()
        left, top, width, height = box(drawn_pixels(view))
        # the pixels the points changed: centred in the area, as the data is in its extent
        pl, pt, pw, ph = box(np.any(with_points != pixels(view), axis=-1))
        assert pl >= left and pt >= top and pl + pw <= left + width and pt + ph <= top + height
        assert abs((pl + pw / 2) - (left + width / 2)) <= 2
        assert abs((pt + ph / 2) - (top + height / 2)) <= 2


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
async def test_plain_characters_keep_the_aspect_too(make_app, size):
    app = make_app("circle-features", plain=True)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        view = app.main.query_one(BoundaryView)
        extent = app.trainer.latest.points.extent
        ones = np.ones((40, 80))  # class 1 everywhere: a mark in every drawn cell
        view.show(Boundary("binary", ones, None, extent, 0), None, 2)
        await pilot.pause()
        text = [line.text for line in view._lines]
        mask = np.array([[ch != " " for ch in line] for line in text])
        x0, x1, y0, y1 = extent
        left, top, width, height = box(mask)
        # a text row is as tall as two columns
        assert abs(width - 2 * height * (x1 - x0) / (y1 - y0)) <= 2, (width, height)
        assert width == mask.shape[1] or height == mask.shape[0]


def test_letterbox():
    assert letterbox(36, 56, 1.0) == (0, 10, 36, 36)
    assert letterbox(32, 32, 1.0) == (0, 0, 32, 32)
    assert letterbox(60, 20, 1.0) == (20, 0, 20, 20)
    assert letterbox(60, 20, 1.0, row_height=2) == (10, 0, 40, 20)  # whole text rows
    assert letterbox(36, 28, 1.0, row_height=2) == (0, 5, 36, 18)
    assert letterbox(10, 10, float("nan")) == (0, 0, 10, 10)
