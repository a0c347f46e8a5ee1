"""The boundary pane's toggles: z discretizes the output (hard regions; bands for
regression) and T shows or hides the test points. What the pane draws is compared with the
engine's own boundary grid, thresholded, for the same run."""

from __future__ import annotations

import numpy as np
import pytest

from engine.opening import open_run
from tui.app import BackpropLab
from tui.commands import help_rows
from tui.widgets import BoundaryView
from tui.widgets.boundary import (BANDS, HARD_ALPHA, HIGH, LEVELS, LOW, PALETTE, PLAIN_RAMP,
                                  letterbox)

from tests.tui.test_boundary_aspect import background, pixels

SIZES = [(80, 24), (120, 36)]
IDS = ["80x24", "120x36"]


def nearest(grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The engine's grid (R, C) sampled at the centres of rows x cols pixels."""
    r = np.floor((np.arange(rows) + 0.5) * grid.shape[0] / rows).astype(int)
    c = np.floor((np.arange(cols) + 0.5) * grid.shape[1] / cols).astype(int)
    return grid[np.ix_(r, c)]


def plot_area(view: BoundaryView, plain: bool = False) -> tuple[int, int, int, int]:
    x0, x1, y0, y1 = view.boundary.extent
    width, height = view.size
    if plain:
        return letterbox(width, height, (x1 - x0) / (y1 - y0), row_height=2)
    return letterbox(width, height * 2, (x1 - x0) / (y1 - y0))


def plot_pixels(view: BoundaryView) -> np.ndarray:
    left, top, w, h = plot_area(view)
    return pixels(view)[top:top + h, left:left + w]


def plain_plot(view: BoundaryView) -> np.ndarray:
    left, top, w, h = plot_area(view, plain=True)
    lines = ["".join(seg.text for seg in view.render_line(y)) for y in range(view.size.height)]
    return np.array([list(line[left:left + w]) for line in lines[top:top + h]])


def tint(colour: np.ndarray, alpha, bg: np.ndarray) -> np.ndarray:
    return np.clip(bg + (colour - bg) * np.asarray(alpha)[..., None], 0, 255).astype(np.uint8)


async def settled(pilot, app, *keys: str) -> tuple[BoundaryView, object]:
    """Press keys, then return the pane and the engine's snapshot it shows."""
    await pilot.press(*keys)
    await pilot.pause()
    view = app.main.query_one(BoundaryView)
    snap = app.session.latest
    assert view.boundary.step == snap.step  # the engine's grid for the step shown
    assert np.array_equal(view.boundary.values, snap.boundary.values)
    return view, snap


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_discretize_binary_shows_the_grid_thresholded_at_one_half(make_app, size):
    app = make_app("xor")
    async with app.run_test(size=size) as pilot:
        view, snap = await settled(pilot, app, "n", "n", "n", "d")  # points off: regions only
        shaded = plot_pixels(view)
        view, snap = await settled(pilot, app, "z")
        hard = plot_pixels(view)
        cls = nearest(snap.boundary.values, *hard.shape[:2]) >= 0.5
        bg = np.array(background(view), dtype=float)
        expected = np.where(cls[..., None], tint(PALETTE[1], HARD_ALPHA, bg),
                            tint(PALETTE[0], HARD_ALPHA, bg))
        assert cls.any() and (~cls).any()
        np.testing.assert_array_equal(hard, expected)
        # shading told confidence apart: more colours than the two regions
        assert len(np.unique(shaded.reshape(-1, 3), axis=0)) > 2
        assert "hard" in app.main.query_one("#boundary-box").border_subtitle
        await pilot.press("z")
        await pilot.pause()
        np.testing.assert_array_equal(plot_pixels(view), shaded)
        assert "hard" not in app.main.query_one("#boundary-box").border_subtitle


async def test_discretize_multiclass_colours_the_argmax(make_app):
    app = make_app("softmax-spiral")
    async with app.run_test(size=(120, 36)) as pilot:
        view, snap = await settled(pilot, app, *["n"] * 5, "d", "z")
        hard = plot_pixels(view)
        cls = nearest(snap.boundary.classes, *hard.shape[:2])
        bg = np.array(background(view), dtype=float)
        np.testing.assert_array_equal(hard, tint(PALETTE[cls], HARD_ALPHA, bg))
        assert len(np.unique(cls)) >= 2 and snap.n_classes == 3


def bands_of(view: BoundaryView, snap, rows: int, cols: int) -> np.ndarray:
    """Each pixel's band's middle (0..1) from the engine's predictions and the value range
    of the training targets (what the regression ramp spans)."""
    lo, hi = float(snap.points.train_y.min()), float(snap.points.train_y.max())
    t = np.clip((nearest(snap.boundary.values, rows, cols) - lo) / (hi - lo), 0, 1)
    return (np.minimum(np.floor(t * BANDS), BANDS - 1) + 0.5) / BANDS


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_discretize_regression_draws_bands(make_app, size):
    app = make_app("regression-plane")
    async with app.run_test(size=size) as pilot:
        view, snap = await settled(pilot, app, *["n"] * 20, "d", "z")
        hard = plot_pixels(view)
        band = bands_of(view, snap, *hard.shape[:2])
        s = band * 2 - 1
        alpha = 0.12 + 0.5 * np.round(np.abs(s) * (LEVELS - 1)) / (LEVELS - 1)
        bg = np.array(background(view), dtype=float)
        expected = np.where((s < 0)[..., None], tint(LOW, alpha, bg), tint(HIGH, alpha, bg))
        np.testing.assert_array_equal(hard, expected)
        assert 2 <= len(np.unique(hard.reshape(-1, 3), axis=0)) <= BANDS
        assert f"{BANDS} bands" in app.main.query_one("#boundary-box").border_subtitle


async def test_discretize_regression_in_plain_characters(make_app):
    app = make_app("regression-plane", plain=True)
    async with app.run_test(size=(80, 24)) as pilot:
        view, snap = await settled(pilot, app, *["n"] * 20, "d", "z")
        grid = plain_plot(view)
        band = bands_of(view, snap, *grid.shape)
        expected = np.array(list(PLAIN_RAMP))[np.round(band * (len(PLAIN_RAMP) - 1)).astype(int)]
        np.testing.assert_array_equal(grid, expected)


def point_pixels(view: BoundaryView, xy: np.ndarray, rows: int, cols: int) -> set:
    x0, x1, y0, y1 = view.boundary.extent
    c = np.floor((xy[:, 0] - x0) / (x1 - x0) * cols).astype(int)
    r = np.floor((y1 - xy[:, 1]) / (y1 - y0) * rows).astype(int)
    keep = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)  # on the extent's far edges: off
    return set(zip(r[keep].tolist(), c[keep].tolist()))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_show_test_data_hides_only_the_test_points(make_app, size):
    app = make_app("xor")
    async with app.run_test(size=size) as pilot:
        view, snap = await settled(pilot, app, "n")
        both = plot_pixels(view)
        view, snap = await settled(pilot, app, "T")
        train_only = plot_pixels(view)
        rows, cols = both.shape[:2]
        test = point_pixels(view, snap.points.test_xy, rows, cols)
        train = point_pixels(view, snap.points.train_xy, rows, cols)
        changed = set(zip(*np.nonzero(np.any(both != train_only, axis=-1))))
        changed = {(int(r), int(c)) for r, c in changed}
        assert changed == test - train  # test pixels went, train pixels stayed
        assert len(test - train) > 10
        for r, c in train:  # training points keep their solid class colour
            assert tuple(train_only[r, c]) in {tuple(p.astype(int)) for p in PALETTE[:2]}
        assert "no test" in app.main.query_one("#boundary-box").border_subtitle
        view, snap = await settled(pilot, app, "T")
        np.testing.assert_array_equal(plot_pixels(view), both)


async def test_show_test_data_in_plain_characters(make_app):
    app = make_app("xor", plain=True)
    async with app.run_test(size=(120, 36)) as pilot:
        view, _ = await settled(pilot, app, "n")
        before = plain_plot(view)
        view, _ = await settled(pilot, app, "T")
        after = plain_plot(view)
        assert np.char.isupper(before).any() and not np.char.isupper(after).any()
        assert app.main.query_one("#boundary-box").border_subtitle == "o/x train only"
        lower = np.isin(before, ["o", "x"])
        assert np.array_equal(after[lower], before[lower])  # training marks all stay


async def test_d_hides_all_points_whatever_t_says(make_app):
    app = make_app("xor", plain=True)
    async with app.run_test(size=(80, 24)) as pilot:
        view, _ = await settled(pilot, app, "n", "d")
        grid = plain_plot(view)
        assert not np.isin(grid, ["o", "x", "O", "X"]).any()


def test_help_and_palette_list_both_toggles():
    rows = dict(help_rows())
    assert "Discretize the output" in rows["z"] and "test points" in rows["T"]
    assert "Draw mode" in rows["D"]


# ----- snapshots ---------------------------------------------------------------------
@pytest.mark.parametrize("size", SIZES, ids=IDS)
@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
def test_snapshot_discrete_without_test_points(snap_compare, size, plain):
    app = BackpropLab(open_run("xor"), plain=plain)
    assert snap_compare(app, press=["n"] * 5 + ["z", "T"], terminal_size=size)
