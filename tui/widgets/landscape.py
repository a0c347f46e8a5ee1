"""The loss over a 2-D slice of weight space, drawn with half blocks, the optimizer's path on
top and the current point marked.

Each cell holds two pixels (``▀``), as in the boundary view, and the plot keeps the
slice's aspect (its window is square, so equal steps along both axes look equal). The
colour is the contour band of the loss on a log scale (``log_bands``: dark blue lowest,
yellow highest), so the bands' edges are contour lines. The path is a white line through
the recorded points, the start a grey pixel, the current point red.

With plain characters (``NO_COLOR``, or ``plain``) the bands are the digits 0-9 (0
lowest), the path ``*``, the start ``S`` and the current point ``X``, as
``backprop-lab landscape`` prints them.

The widget draws what it is given (``show``): a ``Landscape`` and the path's points on
its slice, so it can sit on a screen of its own or as a pane.
"""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from textual.strip import Strip

from engine.analysis.landscape import Landscape, log_bands

from tui.widgets.boundary import BoundaryView, extent_aspect, letterbox

#: contour band colours, lowest loss first (viridis, sampled at ten points)
RAMP = np.array([
    (68, 1, 84), (72, 40, 120), (62, 74, 137), (49, 104, 142), (38, 130, 142),
    (31, 158, 137), (53, 183, 121), (110, 206, 88), (181, 222, 43), (253, 231, 37),
], dtype=np.float64)
PATH_RGB = np.array((255.0, 255.0, 255.0))
START_RGB = np.array((160.0, 160.0, 160.0))
NOW_RGB = np.array((230.0, 40.0, 40.0))
PLAIN_BANDS = "0123456789"
PLAIN_PATH, PLAIN_START, PLAIN_NOW = "*", "S", "X"


class LandscapeView(BoundaryView):
    """Draws a ``Landscape`` and a path on its slice; redraws only when given new ones."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.landscape: Landscape | None = None
        self.path: np.ndarray | None = None  #: (m, 2) points on the slice, oldest first
        self.now_cell: tuple[int, int] | None = None  #: (row, col) of the current point

    def show(self, landscape: Landscape | None, path: np.ndarray | None = None,
             note: str = "") -> bool:
        """Draw ``landscape`` with ``path`` (m, 2) on its slice (default: its own path);
        ``note`` is shown while there is no landscape. Returns whether it drew."""
        if path is None and landscape is not None:
            path = landscape.path
        if landscape is self.landscape and path is self.path and note == self.note:
            return False
        self.landscape, self.path, self.note = landscape, path, note
        self.invalidate()
        return True

    # ----- drawing ---------------------------------------------------------------------
    def _draw(self, width: int, height: int) -> list[Strip]:
        ls = self.landscape
        if width <= 0 or height <= 0:
            return []
        if ls is None:
            self.now_cell = None
            return self._message(width, height, self.note or "computing the landscape…")
        if self.plain:
            return self._draw_plain_landscape(ls, width, height)
        return self._draw_colour_landscape(ls, width, height)

    def _pixels(self, ls: Landscape, rows: int, cols: int) -> list[tuple[int, int]]:
        """(row, col) of each path point in a ``rows`` x ``cols`` image of the window
        (row 0 at the top), None for a point outside it."""
        a0, a1, b0, b1 = ls.extent
        out = []
        for x, y in (self.path if self.path is not None else np.empty((0, 2))):
            if not (np.isfinite(x) and np.isfinite(y)) or not (a0 <= x <= a1 and b0 <= y <= b1):
                out.append(None)
                continue
            c = min(cols - 1, int((x - a0) / (a1 - a0) * cols))
            r = min(rows - 1, int((b1 - y) / (b1 - b0) * rows))
            out.append((r, c))
        return out

    @staticmethod
    def _line(p: tuple[int, int], q: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        n = max(abs(q[0] - p[0]), abs(q[1] - p[1])) + 1
        return (np.linspace(p[0], q[0], n).round().astype(np.intp),
                np.linspace(p[1], q[1], n).round().astype(np.intp))

    def _bands(self, ls: Landscape, rows: int, cols: int) -> np.ndarray:
        grid = log_bands(ls.loss, len(RAMP))[::-1]  # row 0: the largest b, on top
        return self._sample(grid, rows, cols)

    def _draw_colour_landscape(self, ls: Landscape, width: int, height: int) -> list[Strip]:
        bg = self._background()
        left, top, w, h = letterbox(width, height * 2, extent_aspect(ls.extent))
        img = np.empty((height * 2, width, 3), dtype=np.float64)
        img[:] = bg
        plot = RAMP[self._bands(ls, h, w)]
        pix = self._pixels(ls, h, w)
        for p, q in zip(pix, pix[1:]):
            if p is not None and q is not None:
                plot[self._line(p, q)] = PATH_RGB
        if pix and pix[0] is not None:
            plot[pix[0]] = START_RGB
        self.now_cell = None
        if pix and pix[-1] is not None:
            plot[pix[-1]] = NOW_RGB
            self.now_cell = ((top + pix[-1][0]) // 2, left + pix[-1][1])
        img[top:top + h, left:left + w] = plot
        img = np.clip(img, 0, 255).astype(np.uint8)
        return [self._row(img[2 * y], img[2 * y + 1]) for y in range(height)]

    def _draw_plain_landscape(self, ls: Landscape, width: int, height: int) -> list[Strip]:
        left, top, w, h = letterbox(width, height, extent_aspect(ls.extent), row_height=2)
        grid = np.full((height, width), " ", dtype="<U1")
        plot = np.array(list(PLAIN_BANDS))[self._bands(ls, h, w)]
        pix = self._pixels(ls, h, w)
        for p, q in zip(pix, pix[1:]):
            if p is not None and q is not None:
                plot[self._line(p, q)] = PLAIN_PATH
        if pix and pix[0] is not None:
            plot[pix[0]] = PLAIN_START
        self.now_cell = None
        if pix and pix[-1] is not None:
            plot[pix[-1]] = PLAIN_NOW
            self.now_cell = (top + pix[-1][0], left + pix[-1][1])
        grid[top:top + h, left:left + w] = plot
        style = self.rich_style
        right = width - left - w
        return [Strip([Segment(" " * left, style), Segment("".join(row[left:left + w]), style),
                       Segment(" " * right, style)], width) for row in grid]

    def invalidate(self, full: bool = True) -> None:
        width, height = self.size
        if width <= 0 or height <= 0:
            return
        self._cells = None
        self.set_lines(self._draw(width, height))
