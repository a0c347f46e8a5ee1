"""The model's output over the 2-D input plane, drawn with half blocks, data on top.

Each cell holds two pixels (``▀``: foreground = top, background = bottom), so a pane
of W x H cells shows a W x 2H image; a cell is about twice as tall as wide, so these
pixels are square. The plot keeps the data's aspect ratio (a circle stays round): it
takes the largest centred part of the pane with that ratio and leaves the rest blank.

Binary and multi-class outputs tint each pixel with the winning class's colour
(stronger where the model is sure, pale near the boundary); regression uses a
diverging ramp. Data points are solid pixels.

With ``NO_COLOR`` (or a terminal of few colours) the view uses characters instead:
region marks for the predicted class, letters for the points.

Two toggles change the picture: ``discrete`` draws hard class regions (one tint per
class, no confidence shading; regression in ``BANDS`` bands) and ``show_test`` hides the
test points while the training points stay. In draw mode (``start_drawing``) a cursor
sits on the plot: arrow keys move it, a class key or a click asks for a point there
(``DrawRequest``; the screen sends it to the run).

Its length is one widget's two renderings, colour half-blocks and plain characters, and
the drawing cursor they share.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.color import Color
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip

from engine.training.snapshot import Boundary, Points

from tui.widgets.budget import Budget
from tui.widgets.lines import LinePane

#: one colour per class (Tableau 10: tells apart well, also for many colour-blind eyes)
PALETTE = np.array([
    (242, 142, 43), (78, 121, 167), (89, 161, 79), (225, 87, 89), (176, 122, 161),
    (118, 183, 178), (237, 201, 72), (255, 157, 167), (156, 117, 95), (186, 176, 172),
], dtype=np.float64)
LOW, HIGH = PALETTE[1], PALETTE[0]  #: regression ramp ends (blue = low, orange = high)
LEVELS = 4  #: tint steps; few distinct colours keep runs long and output small

#: plain-character mode
PLAIN_REGIONS = " .:-=+~*"  #: region mark per class
PLAIN_POINTS = "ox#@%&$?!="  #: train point per class (test points are upper case)
PLAIN_RAMP = " .:-=+*#%@"  #: regression shading, low to high
_STYLES: dict[tuple[int, int], Style] = {}  #: (top, bottom) colour -> Style, shared
BANDS = 5  #: discretized regression: this many bands from low to high
HARD_ALPHA = 0.35  #: discretized classification: every region's one tint
CLEAR_ASK = 10  #: clearing this many drawn points or more asks first (C again)
CLEAR_AGAIN_S = 5.0  #: how long the second C may wait
_CURSOR = -1 << 50  #: a cell value no colour or character takes: the drawing cursor
#: regression targets that keys draw
TARGET_KEYS = {"minus": -1.0, "underscore": -1.0, "0": 0.0, "plus": 1.0, "equals_sign": 1.0}
ARROWS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}


def letterbox(cols: int, rows: int, aspect: float,
              row_height: float = 1.0) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the largest centred area of a ``cols`` x ``rows``
    grid whose shape is ``aspect`` (data width / data height), when one row is as tall
    as ``row_height`` columns (1 for half-block pixels, 2 for whole text rows)."""
    if not (np.isfinite(aspect) and aspect > 0) or cols <= 0 or rows <= 0:
        return 0, 0, max(cols, 0), max(rows, 0)
    width = aspect * rows * row_height
    if width <= cols:
        w, h = max(1, min(cols, round(width))), rows
    else:
        w, h = cols, max(1, min(rows, round(cols / (aspect * row_height))))
    return (cols - w) // 2, (rows - h) // 2, w, h


def extent_aspect(extent: tuple[float, float, float, float]) -> float:
    """Width over height of a data extent (x_min, x_max, y_min, y_max)."""
    x0, x1, y0, y1 = extent
    return (x1 - x0) / (y1 - y0) if y1 != y0 else float("nan")


def changed_regions(old: np.ndarray | None, new: np.ndarray | None, gap: int = 4):
    """Regions (one per run of changed cells in a row) between two cell grids, or None
    when the grids cannot be compared. Runs closer than ``gap`` cells merge: a cursor
    move costs about as much as a few cells."""
    if old is None or new is None or old.shape != new.shape:
        return None
    out = []
    for y, row in enumerate(old != new):
        xs = np.flatnonzero(row)
        if xs.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(xs) > gap)
        starts = np.concatenate(([xs[0]], xs[breaks + 1]))
        ends = np.concatenate((xs[breaks], [xs[-1]])) + 1
        out.extend(Region(int(a), y, int(b - a), 1) for a, b in zip(starts, ends))
    return out


class BoundaryView(LinePane):
    """Draws the latest ``Boundary`` and the data ``Points``; redraws only on change."""

    class DrawRequest(Message):
        """Draw mode asks the run for a change of its drawn points: ``kind`` "add" (a point
        at ``x``, ``y`` with ``value``: a class number or a target), "undo" or "clear"."""

        def __init__(self, kind: str, x: float = 0.0, y: float = 0.0, value: float = 0.0):
            super().__init__()
            self.kind, self.x, self.y, self.value = kind, x, y, value

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.boundary: Boundary | None = None
        self.points: Points | None = None
        self.n_classes = 2
        self.plain = False
        self.show_points = True
        self.show_test = True  #: test points drawn (while ``show_points``)
        self.discrete = False  #: hard regions (bands for regression) instead of shading
        self.note = ""
        self.budget = Budget(share=0.05, min_interval=0.33)
        self._cells: np.ndarray | None = None  #: (rows, cols) what each cell showed last
        self._reuse = None  #: (cells, strips) of the last drawing, while redrawing
        self._pending = False
        self.drawing = False  #: draw mode: the cursor is shown and keys draw
        #: where the cursor is, as fractions of the plot's width and height from its top
        #: left: it stays on the same spot of the data when the pane changes size
        self._at: tuple[float, float] | None = None
        self.draw_value = 0.0  #: the class (or target) that keys and the left button draw
        self._spec: Callable[[], tuple[str, int]] = lambda: ("classification", 2)
        self._clear_asked = 0.0  #: when C asked to be pressed again (perf_counter)

    # ----- input -----------------------------------------------------------------------
    def show(self, boundary: Boundary | None, points: Points | None, n_classes: int,
             note: str = "", urgent: bool = True, hold: bool = False) -> bool:
        """Draw this boundary; unless ``urgent``, no sooner than the redraw budget allows
        (a draw that has to wait is made by a later ``show``, in step with the frames;
        ``hold`` defers it to a later frame). Returns whether it drew."""
        if boundary is self.boundary and points is self.points and note == self.note \
                and not self._pending:
            return False
        self.boundary, self.points, self.n_classes, self.note = boundary, points, n_classes, note
        if urgent or (not hold and self.budget.wait() <= 0):
            self.invalidate(full=False)
            return True
        self._pending = True
        return False

    def toggle_points(self) -> None:
        self.show_points = not self.show_points
        self.invalidate()

    def toggle_test(self) -> None:
        """Show or hide the test points (the training points stay)."""
        self.show_test = not self.show_test
        self.invalidate()

    def toggle_discrete(self) -> None:
        """Hard class regions (regression: bands) or confidence shading."""
        self.discrete = not self.discrete
        self.invalidate()

    def set_plain(self, plain: bool) -> None:
        if plain != self.plain:
            self.plain = plain
            self.invalidate()

    def invalidate(self, full: bool = True) -> None:
        """Draw again now; only cells that come out different are sent to the terminal.

        Unless ``full``, rows whose cells did not change keep their old strips (they
        are not even rebuilt)."""
        self._pending = False
        width, height = self.size
        if width <= 0 or height <= 0:
            return
        start = time.perf_counter()
        old = self._cells
        self._reuse = None if full or len(self._lines) != height else (old, self._lines)
        self._cells = None
        try:
            lines = self._draw(width, height)
        finally:
            self._reuse = None
        regions = changed_regions(old, self._cells)
        self.budget.spent(time.perf_counter() - start)
        self.set_lines(lines, regions)

    def on_resize(self) -> None:
        self.invalidate()

    def legend(self) -> str:
        b = self.boundary
        if b is None:
            return ""
        if self.drawing:
            task, classes = self._spec()
            keys = f"0-{classes - 1}" if task == "classification" else "- 0 +"
            text = f"{keys} · u undo · C clear"
        elif b.kind == "regression":
            text = "low → high" if not self.plain else f"'{PLAIN_RAMP[1]}' low … '{PLAIN_RAMP[-1]}' high"
        elif self.plain:
            k = min(max(2, self.n_classes), len(PLAIN_POINTS))
            marks = "/".join(PLAIN_POINTS[:k])
            text = f"{marks} train · {marks.upper()} test" if self.show_test else (
                f"{marks} train only")
        else:
            text = "colour = class" if self.show_test else "no test"
        hard = "hard" if b.kind != "regression" else f"{BANDS} bands"
        if self.discrete and text == "colour = class":
            return hard  # the toggles' words say enough, where the border is short
        return f"{hard} · {text}" if self.discrete else text

    def title(self) -> str:
        """The pane's title: what draw mode draws, or just the pane's name."""
        if not self.drawing:
            return "Boundary"
        n = 0 if self.points is None else int(self.points.train_xy.shape[0])
        return f"Draw {self._value_text()} · {n} pt{'s' if n != 1 else ''}"

    def _value_text(self) -> str:
        task, _ = self._spec()
        if task == "regression":
            return f"{self.draw_value:+g}"
        return f"class {int(self.draw_value)}"

    # ----- draw mode -------------------------------------------------------------------
    def start_drawing(self, spec: Callable[[], tuple[str, int]]) -> None:
        """Draw mode on: ``spec()`` tells the data's task and classes when a key asks."""
        self._spec = spec
        task, classes = spec()
        if task == "regression":
            if self.draw_value not in TARGET_KEYS.values():
                self.draw_value = 1.0
        elif not (0 <= self.draw_value < classes):
            self.draw_value = 0.0
        self.drawing = True
        self.can_focus = True
        if self._at is None:
            self._at = (0.5, 0.5)
        self.focus()
        self.invalidate()

    def stop_drawing(self) -> None:
        self.drawing = False
        if self.has_focus:
            self.blur()
        self.can_focus = False
        self.invalidate()

    @property
    def cursor(self) -> tuple[int, int] | None:
        """The drawing cursor's cell (row, col) in the pane (None: not placed yet)."""
        b = self.boundary
        width, height = self.size
        if self._at is None or b is None or width <= 0 or height <= 0:
            return None
        fx, fy = self._at
        if self.plain:
            left, top, w, h = letterbox(width, height, extent_aspect(b.extent), row_height=2)
            return top + min(int(fy * h), h - 1), left + min(int(fx * w), w - 1)
        left, top, w, h = letterbox(width, height * 2, extent_aspect(b.extent))
        return (top + min(int(fy * h), h - 1)) // 2, left + min(int(fx * w), w - 1)

    @cursor.setter
    def cursor(self, cell: tuple[int, int]) -> None:
        xy = self.data_point(*cell)
        if xy is not None:
            x0, x1, y0, y1 = self.boundary.extent
            self._at = ((xy[0] - x0) / (x1 - x0), (y1 - xy[1]) / (y1 - y0))

    def _cell_area(self) -> tuple[int, int, int, int]:
        """(left, top, width, height) in cells of the plot inside the pane."""
        width, height = self.size
        extent = self.boundary.extent if self.boundary is not None else (0.0, 1.0, 0.0, 1.0)
        if self.plain:
            return letterbox(width, height, extent_aspect(extent), row_height=2)
        left, top, w, h = letterbox(width, height * 2, extent_aspect(extent))
        return left, top // 2, w, (top + h + 1) // 2 - top // 2

    def _clamp(self, row: int, col: int) -> tuple[int, int]:
        left, top, w, h = self._cell_area()
        return (min(max(row, top), top + max(h, 1) - 1), min(max(col, left), left + max(w, 1) - 1))

    def data_point(self, row: int, col: int) -> tuple[float, float] | None:
        """The data coordinates a point drawn in cell (row, col) gets (None: outside the
        plot). In colour a cell holds two pixels: the point goes in its upper one (the
        lower one when the upper is in the margin)."""
        b = self.boundary
        width, height = self.size
        if b is None or width <= 0 or height <= 0:
            return None
        x0, x1, y0, y1 = b.extent
        if self.plain:
            left, top, w, h = letterbox(width, height, extent_aspect(b.extent), row_height=2)
            r = row - top
        else:
            left, top, w, h = letterbox(width, height * 2, extent_aspect(b.extent))
            r = 2 * row - top if 2 * row >= top else 2 * row + 1 - top
        c = col - left
        if not (0 <= r < h and 0 <= c < w):
            return None
        return x0 + (c + 0.5) / w * (x1 - x0), y1 - (r + 0.5) / h * (y1 - y0)

    def _request_at(self, row: int, col: int, value: float) -> bool:
        xy = self.data_point(row, col)
        if xy is None:
            return False
        self.post_message(self.DrawRequest("add", xy[0], xy[1], value))
        return True

    def on_key(self, event: events.Key) -> None:
        if not self.drawing or self.cursor is None:
            return
        key = event.key
        task, classes = self._spec()
        if key in ARROWS:
            dr, dc = ARROWS[key]
            self.cursor = self._clamp(self.cursor[0] + dr, self.cursor[1] + dc)
            self.invalidate(full=False)
        elif task == "classification" and key.isdigit() and len(key) == 1:
            if int(key) >= classes:
                self.notify(f"class {key} is not one of the {classes} classes (0 to "
                            f"{classes - 1})", severity="warning", timeout=3)
            else:
                self.draw_value = float(key)
                self._request_at(*self.cursor, self.draw_value)
        elif task == "regression" and key in TARGET_KEYS:
            self.draw_value = TARGET_KEYS[key]
            self._request_at(*self.cursor, self.draw_value)
        elif key == "u":
            self.post_message(self.DrawRequest("undo"))
        elif key == "C":
            self._clear()
        else:
            return
        event.stop()
        event.prevent_default()

    def _clear(self) -> None:
        n = 0 if self.points is None else int(self.points.train_xy.shape[0])
        now = time.perf_counter()
        if n >= CLEAR_ASK and now - self._clear_asked > CLEAR_AGAIN_S:
            self._clear_asked = now
            self.notify(f"Press C again to clear all {n} points", title="Clear?", timeout=4)
            return
        self._clear_asked = 0.0
        self.post_message(self.DrawRequest("clear"))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """Draw mode: the left button draws the current class (or target) where it
        points, the right button the next class (for regression, the opposite sign)."""
        if not self.drawing or event.button not in (1, 3):
            return
        row, col = int(event.y), int(event.x)
        value = self.draw_value
        if event.button == 3:
            task, classes = self._spec()
            value = -value if task == "regression" else float((int(value) + 1) % classes)
        if self._request_at(row, col, value):
            self.cursor = (row, col)
            self.invalidate(full=False)
        event.stop()

    # ----- drawing ---------------------------------------------------------------------
    def _background(self) -> np.ndarray:
        try:
            color = Color.parse(self.app.current_theme.background or "#1e1e1e")
        except Exception:  # a theme without a background colour
            color = Color(30, 30, 30)
        return np.array(color.rgb, dtype=np.float64)

    def _message(self, width: int, height: int, text: str) -> list[Strip]:
        style = self.rich_style
        lines = [Strip.blank(width, style) for _ in range(height)]
        if height:
            words = text[:width].center(width)
            lines[height // 2] = Strip([Segment(words, style)], width)
        return lines

    def _draw(self, width: int, height: int) -> list[Strip]:
        b = self.boundary
        if width <= 0 or height <= 0:
            return []
        if b is None:
            return self._message(width, height, self.note or "no 2-D view for this data")
        lines = (self._draw_plain if self.plain else self._draw_colour)(b, width, height)
        if self.drawing and self.cursor is not None:
            row, col = self.cursor
            lines[row] = self._with_cursor(lines[row], col, width)
            self._cells[row, col] = _CURSOR - int(self.draw_value * 1000)
        return lines

    def _with_cursor(self, line: Strip, col: int, width: int) -> Strip:
        """``line`` with the drawing cursor in cell ``col``: a + on the colour of the class
        being drawn (plain: its mark, in reverse video)."""
        task, _ = self._spec()
        if self.plain:
            if task == "regression":
                mark = {-1.0: "-", 0.0: "0", 1.0: "+"}.get(self.draw_value, "+")
            else:
                mark = PLAIN_POINTS[int(self.draw_value) % len(PLAIN_POINTS)]
            style = self.rich_style + Style(reverse=True, bold=True)
        else:
            if task == "regression":
                colour = LOW if self.draw_value < 0 else HIGH if self.draw_value > 0 else (
                    (LOW + HIGH) / 2)
            else:
                colour = PALETTE[int(self.draw_value) % len(PALETTE)]
            r, g, b = (int(v) for v in colour)
            mark = "+"
            style = Style(color="#ffffff", bgcolor=f"#{r:02x}{g:02x}{b:02x}", bold=True)
        parts = [line.crop(0, col), Strip([Segment(mark, style)], 1), line.crop(col + 1, width)]
        return Strip.join(parts).adjust_cell_length(width)

    def _sample(self, grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
        r = (np.arange(rows) + 0.5) * grid.shape[0] / rows
        c = (np.arange(cols) + 0.5) * grid.shape[1] / cols
        return grid[r.astype(np.intp)][:, c.astype(np.intp)]

    def _point_cells(self, rows: int, cols: int):
        """(row, col, label, is_test) of every point inside the view, train drawn last."""
        p, b = self.points, self.boundary
        if p is None or not self.show_points:
            return []
        x0, x1, y0, y1 = b.extent
        out = []
        splits = ((p.test_xy, p.test_y, True),) if self.show_test else ()
        for xy, labels, test in splits + ((p.train_xy, p.train_y, False),):
            if xy.shape[0] == 0:
                continue
            c = np.floor((xy[:, 0] - x0) / (x1 - x0) * cols).astype(np.intp)
            r = np.floor((y1 - xy[:, 1]) / (y1 - y0) * rows).astype(np.intp)
            keep = (c >= 0) & (c < cols) & (r >= 0) & (r < rows)
            out.append((r[keep], c[keep], np.asarray(labels)[keep], test))
        return out

    def _value_range(self) -> tuple[float, float]:
        p = self.points
        if p is not None and p.train_y.size:
            lo, hi = float(np.min(p.train_y)), float(np.max(p.train_y))
        else:
            lo, hi = float(np.min(self.boundary.values)), float(np.max(self.boundary.values))
        return (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0)

    def _ramp(self, vals: np.ndarray) -> np.ndarray:
        """Regression values as 0..1 of the value range; discretized, each band's middle."""
        lo, hi = self._value_range()
        t = np.clip((vals - lo) / (hi - lo), 0.0, 1.0)
        if self.discrete:
            t = (np.minimum(np.floor(t * BANDS), BANDS - 1) + 0.5) / BANDS
        return t

    def _draw_colour(self, b: Boundary, width: int, height: int) -> list[Strip]:
        bg = self._background()
        left, top, w, h = letterbox(width, height * 2, extent_aspect(b.extent))
        img = np.empty((height * 2, width, 3), dtype=np.float64)
        img[:] = bg  # the letterbox margins
        img[top:top + h, left:left + w] = self._image(b, bg, h, w)
        img = np.clip(img, 0, 255).astype(np.uint8)
        # what each cell shows, as one number: used to send only the cells that changed
        packed = (img[..., 0].astype(np.int64) << 16) | (img[..., 1].astype(np.int64) << 8) | img[..., 2]
        cells = self._cells = (packed[0::2] << 24) | packed[1::2]
        reuse = self._reuse
        if reuse is not None and reuse[0] is not None and reuse[0].shape == cells.shape:
            same = ~np.any(reuse[0] != cells, axis=1)
            old_lines = reuse[1]
            return [old_lines[y] if same[y] else self._row(img[2 * y], img[2 * y + 1])
                    for y in range(height)]
        return [self._row(img[2 * y], img[2 * y + 1]) for y in range(height)]

    def _image(self, b: Boundary, bg: np.ndarray, rows: int, cols: int) -> np.ndarray:
        """The plot as ``rows`` x ``cols`` RGB pixels (floats), points included."""
        vals = self._sample(np.asarray(b.values, dtype=np.float64), rows, cols)
        if b.kind == "regression":
            t = self._ramp(vals) * 2 - 1  # -1 .. 1
            colour = np.where((t < 0)[..., None], LOW, HIGH)
            strength = np.abs(t)
        elif b.kind == "binary":
            colour = np.where((vals >= 0.5)[..., None], PALETTE[1], PALETTE[0])
            strength = np.abs(vals * 2 - 1)
        else:
            cls = self._sample(np.asarray(b.classes), rows, cols)
            colour = PALETTE[cls % len(PALETTE)]
            k = max(2, self.n_classes)
            strength = np.clip((vals - 1 / k) / (1 - 1 / k), 0.0, 1.0)
        if self.discrete and b.kind != "regression":
            alpha = np.full(vals.shape, HARD_ALPHA)  # one tint a class: where, not how sure
        else:
            alpha = 0.12 + 0.5 * np.round(strength * (LEVELS - 1)) / (LEVELS - 1)
        img = bg + (colour - bg) * alpha[..., None]
        for r, c, labels, test in self._point_cells(rows, cols):
            if b.kind == "regression":
                lo, hi = self._value_range()
                t = np.clip((labels.astype(np.float64) - lo) / (hi - lo), 0.0, 1.0)
                pc = np.where((t < 0.5)[:, None], LOW, HIGH)
            else:
                pc = PALETTE[labels.astype(np.intp) % len(PALETTE)]
            if test:  # test points a little paler than training points
                pc = pc + (bg - pc) * 0.35
            img[r, c] = pc
        return img

    def _row(self, top: np.ndarray, bottom: np.ndarray) -> Strip:
        """One line of half blocks; cells of equal colours become one segment."""
        width = top.shape[0]
        kt = (top[:, 0].astype(np.int64) << 16) | (top[:, 1].astype(np.int64) << 8) | top[:, 2]
        kb = (bottom[:, 0].astype(np.int64) << 16) | (bottom[:, 1].astype(np.int64) << 8) | bottom[:, 2]
        kt = np.where(kt == kb, -1, kt)  # both halves alike: a space on the background
        key = (kt << 25) + kb
        starts = np.concatenate(([0], np.flatnonzero(np.diff(key)) + 1))
        ends = np.append(starts[1:], width)
        styles = _STYLES
        if len(styles) > 8192:
            styles.clear()
        segments = []
        for start, end, t, b in zip(starts.tolist(), ends.tolist(), kt[starts].tolist(),
                                    kb[starts].tolist()):
            style = styles.get((t, b))
            if style is None:
                fg = None if t < 0 else f"#{t:06x}"
                style = styles[(t, b)] = Style(color=fg, bgcolor=f"#{b:06x}")
            segments.append(Segment((" " if t < 0 else "▀") * (end - start), style))
        return Strip(segments, width)

    def _draw_plain(self, b: Boundary, width: int, height: int) -> list[Strip]:
        left, top, w, h = letterbox(width, height, extent_aspect(b.extent), row_height=2)
        grid = np.full((height, width), " ", dtype="<U1")  # the letterbox margins
        grid[top:top + h, left:left + w] = self._plain_grid(b, h, w)
        style = self.rich_style
        self._cells = grid.view(np.uint32).astype(np.int64)
        return [Strip([Segment("".join(row), style)], width) for row in grid]

    def _plain_grid(self, b: Boundary, rows: int, cols: int) -> np.ndarray:
        """The plot as ``rows`` x ``cols`` characters, points included."""
        vals = self._sample(np.asarray(b.values, dtype=np.float64), rows, cols)
        if b.kind == "regression":
            idx = self._ramp(vals) * (len(PLAIN_RAMP) - 1)
            grid = np.array(list(PLAIN_RAMP))[np.round(idx).astype(np.intp)]
            lo, hi = self._value_range()
            for r, c, targets, test in self._point_cells(rows, cols):
                high = (targets.astype(np.float64) - lo) / (hi - lo) >= 0.5
                marks = np.where(high, PLAIN_POINTS[1], PLAIN_POINTS[0])  # low o, high x
                grid[r, c] = np.char.upper(marks) if test else marks
            return grid
        if b.kind == "binary":
            grid = np.where(vals >= 0.5, PLAIN_REGIONS[1], PLAIN_REGIONS[0]).astype("<U1")
        else:
            cls = self._sample(np.asarray(b.classes), rows, cols)
            grid = np.array(list(PLAIN_REGIONS))[cls % len(PLAIN_REGIONS)]
        for r, c, labels, test in self._point_cells(rows, cols):
            marks = np.array(list(PLAIN_POINTS))[labels.astype(np.intp) % len(PLAIN_POINTS)]
            grid[r, c] = np.char.upper(marks) if test else marks
        return grid
