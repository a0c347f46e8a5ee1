"""Drawing your own data on the boundary pane: the cursor, class keys, clicks, undo and
clear; the points train, export beside the preset and come back with it or a checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
from textual.css.query import NoMatches

from engine.data.drawn import read_drawn
from engine.opening import open_run
from tui.widgets import BoundaryView, ConfigPane
from tui.widgets.boundary import PALETTE, PLAIN_POINTS, letterbox

from tests.tui.conftest import press_live, screen_text, wait_for
from tests.tui.test_boundary_aspect import pixels

SIZES = [(80, 24), (120, 36)]
IDS = ["80x24", "120x36"]


def notes(app) -> str:
    """The messages of the notifications on screen."""
    return " | ".join(n.message for n in app._notifications)


def view_of(app) -> BoundaryView:
    return app.main.query_one(BoundaryView)


def drawn_points(app) -> list[tuple[float, float, int]]:
    """The points the run's latest snapshot carries: (x, y, class)."""
    p = app.session.latest.points
    return [(float(x), float(y), int(v)) for (x, y), v in zip(p.train_xy.tolist(), p.train_y)]


def pixel_of(view: BoundaryView, x: float, y: float) -> tuple[int, int]:
    """(pixel row, column) where the view draws a point at (x, y), by the extent's mapping."""
    x0, x1, y0, y1 = view.boundary.extent
    width, height = view.size
    left, top, w, h = letterbox(width, height * 2, (x1 - x0) / (y1 - y0))
    return (top + int(np.floor((y1 - y) / (y1 - y0) * h)),
            left + int(np.floor((x - x0) / (x1 - x0) * w)))


@pytest.mark.parametrize("size", SIZES, ids=IDS)
async def test_draw_with_the_keyboard_and_see_the_points(make_app, size):
    app = make_app("draw")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert "no points yet: press D" in screen_text(app).splitlines()[0]
        await pilot.press("D")
        view = view_of(app)
        assert view.drawing and view.has_focus
        assert app.main.query_one("#boundary-box").border_title == "Draw class 0 · 0 pts"
        start = view.cursor
        await pilot.press("left", "left", "up", "0")
        assert view.cursor == (start[0] - 1, start[1] - 2)
        first = view.data_point(*view.cursor)
        await pilot.press("right", "right", "right", "right", "down", "down", "1")
        second = view.data_point(*view.cursor)
        await pilot.pause()
        assert drawn_points(app) == [(*first, 0), (*second, 1)]
        assert app.trainer.drawn.xy.tolist() == [list(first), list(second)]
        assert app.main.query_one("#boundary-box").border_title == "Draw class 1 · 2 pts"
        # the cursor shows where the next point goes; away from it, the points are drawn
        row, col = view.cursor
        assert "+" in "".join(seg.text for seg in view.render_line(row))[col]
        await pilot.press("right", "right")
        await pilot.pause()
        image = pixels(view)
        for x, y, label in drawn_points(app):
            assert tuple(image[pixel_of(view, x, y)]) == tuple(PALETTE[label].astype(int))
        assert "no points yet" not in screen_text(app).splitlines()[0]


async def test_the_cursor_stays_on_its_spot_of_the_data_when_the_terminal_resizes(make_app):
    app = make_app("draw")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D", "left", "left", "left", "up", "up")
        view = view_of(app)
        x, y = view.data_point(*view.cursor)
        await pilot.resize_terminal(160, 48)
        await pilot.pause(0.3)
        nx, ny = view.data_point(*view.cursor)
        x0, x1, y0, y1 = view.boundary.extent
        # within the old cell: a cell of the small pane is several of the large one
        assert abs(nx - x) <= (x1 - x0) / 20 and abs(ny - y) <= (y1 - y0) / 10
        await pilot.press("0")
        await pilot.pause()
        assert drawn_points(app) == [(nx, ny, 0)]


async def test_a_click_draws_the_current_class_and_a_right_click_the_other(make_app):
    app = make_app("draw")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("D")
        view = view_of(app)
        await pilot.click(view, offset=(10, 5))
        await pilot.click(view, offset=(30, 20), button=3)
        await pilot.pause()
        assert drawn_points(app) == [(*view.data_point(5, 10), 0), (*view.data_point(20, 30), 1)]
        assert view.cursor == (20, 30)
        left, top, width, height = view._cell_area()
        await pilot.click(view, offset=(left + width, top))  # right of the plot: no point
        await pilot.pause()
        assert view.data_point(top, left + width) is None and len(drawn_points(app)) == 2


async def test_clicks_draw_nothing_outside_draw_mode(make_app):
    app = make_app("draw")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.click(view_of(app), offset=(10, 5))
        await pilot.press("0")
        await pilot.pause()
        assert drawn_points(app) == []


async def test_draw_train_export_and_reopen(make_app, tmp_path):
    app = make_app("draw")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D", "left", "left", "left", "0", "up", "0",
                          "right", "right", "right", "right", "right", "right", "1", "down", "1")
        await pilot.pause()
        assert len(drawn_points(app)) == 4
        await pilot.press("space")
        await wait_for(pilot, lambda: app.trainer.step_count >= 20)
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: not app.training)
        snap = app.session.latest
        assert snap.train_accuracy == app.trainer.evaluate()["train_accuracy"]
        drawn = app.trainer.drawn
        await pilot.press("e")
        await pilot.pause()
        field = app.screen.query_one("#prompt-path")
        field.value = str(tmp_path / "mine.toml")
        await pilot.press("enter")
        await pilot.pause()
        assert (tmp_path / "mine-points.csv").is_file()
        assert read_drawn(tmp_path / "mine-points.csv").same(drawn)
        opened = open_run(str(tmp_path / "mine.toml"))
        assert opened.preset.config.data.path == str(tmp_path / "mine-points.csv")
        await app.open(opened)
        await pilot.pause()
        assert app.trainer.drawn.same(drawn) and app.trainer.step_count == 0
        assert drawn_points(app) == [(x, y, int(v)) for (x, y), v in
                                     zip(drawn.xy.tolist(), drawn.values)]


async def test_reset_keeps_the_points_and_draws_fresh_weights(make_app):
    app = make_app("draw")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D", "0", "left", "left", "1", "n", "n", "n")
        await pilot.pause()
        drawn = app.trainer.drawn
        await pilot.press("r")
        await pilot.pause()
        assert app.trainer.drawn.same(drawn) and app.trainer.step_count == 0
        assert len(drawn_points(app)) == 2


async def test_a_checkpoint_reopens_with_the_same_points(make_app, tmp_path):
    app = make_app("draw")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D", "0", "left", "left", "left", "1", "n", "n")
        await pilot.pause()
        drawn, params = app.trainer.drawn, app.trainer.network.params.copy()
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#prompt-path").value = str(tmp_path / "run")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("u", "u")  # the run goes on without them ...
        await pilot.pause()
        assert drawn_points(app) == []
        await app.open(open_run(str(tmp_path / "run.npz")))  # ... and the file brings them back
        await pilot.pause()
        assert app.trainer.drawn.same(drawn) and app.trainer.step_count == 2
        assert np.array_equal(app.trainer.network.params, params)


async def test_points_drawn_while_training_join_the_run(make_app):
    app = make_app("draw")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D", "0", "left", "left", "left", "left", "1", "space")
        await wait_for(pilot, lambda: app.training and app.trainer.step_count > 2)
        await press_live(pilot, "up", "up", "1")
        await wait_for(pilot, lambda: len(drawn_points(app)) == 3)
        await press_live(pilot, "u")
        await wait_for(pilot, lambda: len(drawn_points(app)) == 2)
        assert app.training  # it trained on throughout
        await press_live(pilot, "u")  # class 1 has no point left: the run stops and says so
        await wait_for(pilot, lambda: not app.training)
        await pilot.pause()
        assert "class 1 has no point" in screen_text(app).splitlines()[0]


async def test_undo_and_clear_which_asks_first_when_there_are_many(make_app):
    app = make_app("draw")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D")
        for i in range(11):
            await pilot.press("left" if i % 2 else "up", str(i % 2))
        await pilot.pause()
        assert len(drawn_points(app)) == 11
        await pilot.press("u")
        await pilot.pause()
        assert len(drawn_points(app)) == 10
        await pilot.press("C")
        await pilot.pause()
        assert len(drawn_points(app)) == 10  # asked first
        await wait_for(pilot, lambda: "Press C again to clear all 10 points" in notes(app))
        await pilot.press("C")
        await pilot.pause()
        assert drawn_points(app) == []
        await pilot.press("1", "C")  # few points: no question
        await pilot.pause()
        assert drawn_points(app) == []


async def test_a_class_key_beyond_the_classes_is_refused_in_one_line(make_app):
    app = make_app("draw")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D", "7")
        await pilot.pause()
        assert drawn_points(app) == []
        await wait_for(pilot, lambda: "class 7 is not one of the 2 classes (0 to 1)" in notes(app))


async def test_draw_mode_needs_drawn_data_and_d_leaves_it(make_app):
    app = make_app("xor")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D")
        await pilot.pause()
        assert not view_of(app).drawing
        await wait_for(pilot, lambda: "Drawing needs drawn data" in notes(app))
    app = make_app("draw")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D", "D", "0")
        await pilot.pause()
        view = view_of(app)
        assert not view.drawing and not view.has_focus and drawn_points(app) == []
        assert app.main.query_one("#boundary-box").border_title == "Boundary"


async def test_plain_characters_show_the_cursor_and_the_points(make_app):
    app = make_app("draw", plain=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("D", "1", "left", "left", "0", "left", "left")
        await pilot.pause()
        view = view_of(app)
        lines = ["".join(seg.text for seg in view.render_line(y)) for y in range(view.size.height)]
        row, col = view.cursor
        assert lines[row][col] == PLAIN_POINTS[0]  # the cursor: the mark of the class drawn
        assert lines[row][col + 2] == PLAIN_POINTS[0] and lines[row][col + 4] == PLAIN_POINTS[1]


async def test_regression_draws_targets_with_minus_zero_plus(make_app, tmp_path):
    preset = tmp_path / "reg.toml"
    preset.write_text('title = "Targets"\nlesson = "Drawn targets."\n[data]\ndataset = "draw"\n'
                      'task = "regression"\n[model]\nlayers = [{units = 4}]\n')
    app = make_app(str(preset))
    async with app.run_test(size=(80, 24)) as pilot:
        lr = app.trainer.config.training.lr
        await pilot.press("D", "minus", "left", "0", "left", "plus")
        await pilot.pause()
        assert app.trainer.drawn.values.tolist() == [-1.0, 0.0, 1.0]
        assert app.main.query_one("#boundary-box").border_title == "Draw +1 · 3 pts"
        assert app.trainer.config.training.lr == lr  # + and - drew: the lr stayed


# ----- snapshots ---------------------------------------------------------------------
DRAWING = ["D", "left", "left", "left", "0", "up", "up", "0", "right", "right", "right",
           "right", "right", "right", "1", "down", "down", "down", "1", "left", "left", "n",
           "n", "n"]


def laid_out(app) -> bool:
    """The main screen is composed, and a wide one's config pane is filled in."""
    try:
        return bool(app.main.query(ConfigPane)) and (not app.main.wide or
                                                      app.config_pane.populated)
    except NoMatches:
        return False


@pytest.mark.parametrize("size", SIZES, ids=IDS)
@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
def test_snapshot_drawing(snap_compare, size, plain):
    from tui.app import BackpropLab

    app = BackpropLab(open_run("draw"), plain=plain)

    async def draw(pilot) -> None:
        # the layout settles first (the pane is squared, a wide config pane fills in): the
        # cursor's cells, and so the points drawn, are then those of the final layout
        await wait_for(pilot, lambda: laid_out(app))
        await pilot.pause(0.2)
        await pilot.press(*DRAWING)

    assert snap_compare(app, run_before=draw, terminal_size=size)


@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
def test_snapshot_empty_drawing_says_why_it_cannot_train(snap_compare, plain):
    from tui.app import BackpropLab

    app = BackpropLab(open_run("draw"), plain=plain)
    assert snap_compare(app, press=["space"], terminal_size=(80, 24))
