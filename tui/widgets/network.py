"""The network as TensorFlow Playground draws it: layers as columns of neurons, the input
features on the left and the output on the right, each neuron a small live map of its
activation over the input plane, each link coloured by its weight.

A map is a few cells of half blocks (two square pixels a cell) in the boundary's colour
scale (``tui.widgets.boundary``): blue where the unit's output is positive (above 0.5
for sigmoid and softmax), orange where negative, stronger the larger it is. Links are
braille lines, blue for a positive and orange for a negative weight, stronger and
thicker the larger |w| is against the layer's largest. With ``plain`` (NO_COLOR or few
colours) maps are shades from ``·`` (most negative) through ``▒`` (about 0) to ``█`` (most
positive) and links are ``+`` or ``-`` by sign, bold when |w| is at least half the
layer's largest (the faintest, under ``PLAIN_FAINT`` of it, are left out).

Columns too tall for the pane are elided around the cursor with a count (``+12``); the
maps grow with the terminal. A cursor (arrow keys, or the mouse) sits on a neuron or a
link: → and ← walk along links (neuron, link, neuron...), ↑ and ↓ move within a column
(on a link: its target), shift+↑/↓ a link's source; the mouse moves it by hovering or a
click, and a click on a link or a neuron with a bias also posts ``Activated`` (the screen
edits it).
``NetworkGraph.Selected`` tells the screen what the cursor is on. Feed it with
``show(snapshot)``: snapshots carry the network state only while someone asks for it
(``Session.want_network``), so a pane that shows this widget asks while it is shown.

Its length is one widget's layout, two renderings (colour and plain) and its cursor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.color import Color
from textual.message import Message
from textual.strip import Strip

from engine.training.neuron_maps import NetworkState
from engine.training.snapshot import Snapshot

from tui.widgets.boundary import LEVELS, PALETTE
from tui.widgets.lines import LinePane

POSITIVE, NEGATIVE = PALETTE[1], PALETTE[0]  #: blue, orange: the boundary's class colours
ACCENT = np.array((250, 250, 250), dtype=np.float64)  #: the cursor and the selected link
MAX_ROWS = 8  #: a map is at most this many rows tall (16 pixels)
MIN_GAP = 4  #: columns between two layers for their links, at least
MIN_SHOWN = 8  #: an elided column shows at least this many units when maps can be smaller
PRETTY = {"x1^2": "x1²", "x2^2": "x2²", "x1*x2": "x1·x2", "sin(x1)": "sin x1",
          "sin(x2)": "sin x2"}
BOUNDED = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0)}
BRAILLE = np.array([[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]])  #: dot bits
BRAILLE_CHARS = np.array([chr(0x2800 + code) for code in range(256)])
_STYLES: dict[tuple, Style] = {}


# ----- what the cursor is on ------------------------------------------------------------
@dataclass(frozen=True)
class Cursor:
    """A neuron (``target`` None) or a link. Neurons are (column, unit): column 0 the
    inputs, column c >= 1 layer c - 1's units. A link of layer l goes from unit ``unit``
    of column l to unit ``target`` of column l + 1: it is ``W_l[unit, target]``."""

    column: int
    unit: int
    target: int | None = None

    @property
    def is_link(self) -> bool:
        return self.target is not None

    def param(self) -> tuple[int, int, int | None] | None:
        """(layer, row, col) of the weight, (layer, unit, None) of the bias, None for an input."""
        if self.is_link:
            return self.column, self.unit, self.target
        return None if self.column == 0 else (self.column - 1, self.unit, None)


def legend(plain: bool) -> str:
    """What the colours or characters mean, in short lines."""
    if plain:
        return (f"maps: {PLAIN_SHADES[0]} low {PLAIN_SHADES[2]} 0 {PLAIN_SHADES[-1]} high\n"
                "links +/-, bold: big |w|")
    return "blue +  orange −\nlinks: w · maps: output"


def node_name(state: NetworkState, column: int, unit: int) -> str:
    """``x1²`` for an input, ``h2.3`` for unit 3 of hidden layer 2, the output's name."""
    if column == 0:
        name = state.input_names[unit]
        return PRETTY.get(name, name)
    if column == len(state.sizes) - 1:
        return state.output_names[unit]
    return f"h{column}.{unit + 1}"


def link_name(state: NetworkState, cursor: Cursor) -> str:
    return (f"{node_name(state, cursor.column, cursor.unit)} → "
            f"{node_name(state, cursor.column + 1, cursor.target)}")


def unit_map(state: NetworkState, column: int, unit: int) -> np.ndarray | None:
    """The (R, R) map of a neuron, None without maps."""
    if state.maps is None:
        return None
    return state.input_maps[unit] if column == 0 else state.maps[column - 1][unit]


def signed(values: np.ndarray, state: NetworkState, column: int) -> np.ndarray:
    """A map on the -1..1 scale the colours read: bounded activations by their range
    (0.5 is the middle of sigmoid and softmax), others by the largest |value| of the
    whole layer on the grid, so a layer's maps compare with each other."""
    if column == 0:
        scale = float(np.max(np.abs(values))) or 1.0
        return np.clip(values / scale, -1, 1)
    act = state.activations[column - 1]
    if act in BOUNDED:
        lo, hi = BOUNDED[act]
        return np.clip((values - lo) / (hi - lo) * 2 - 1, -1, 1)
    layer = state.maps[column - 1]
    scale = float(np.max(np.abs(layer))) if layer.size else 0.0
    return np.clip(values / scale, -1, 1) if scale > 0 else np.zeros_like(values)


def sample(grid: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``grid`` resampled to rows x cols by the nearest cell centre."""
    r = ((np.arange(rows) + 0.5) * grid.shape[0] / rows).astype(np.intp)
    c = ((np.arange(cols) + 0.5) * grid.shape[1] / cols).astype(np.intp)
    return grid[r][:, c]


def tint(t: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """RGB (…, 3) of signed values ``t`` (-1..1) over ``bg``, the boundary's scale."""
    colour = np.where((t >= 0)[..., None], POSITIVE, NEGATIVE)
    alpha = 0.12 + 0.5 * np.round(np.abs(t) * (LEVELS - 1)) / (LEVELS - 1)
    return bg + (colour - bg) * alpha[..., None]


#: plain links weaker than this share of the layer's largest |w| are left out (clutter)
PLAIN_FAINT = 0.15
PLAIN_SHADES = "·░▒▓█"  #: plain maps, most negative to most positive (▒: about 0)


def plain_marks(t: np.ndarray) -> np.ndarray:
    """Characters of signed values (-1..1), a shade each: ``·`` lowest … ``█`` highest."""
    idx = np.digitize(t, [-0.6, -0.2, 0.2, 0.6])
    return np.array(list(PLAIN_SHADES))[idx]


def pack(rgb: np.ndarray) -> np.ndarray:
    """RGB floats (…, 3) as one int each."""
    c = np.clip(np.round(rgb), 0, 255).astype(np.int64)
    return (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]


def background(widget) -> np.ndarray:
    """The widget's theme background as RGB floats (the tint's base)."""
    try:
        color = Color.parse(widget.app.current_theme.background or "#1e1e1e")
    except Exception:  # a theme without a background colour
        color = Color(30, 30, 30)
    return np.array(color.rgb, dtype=np.float64)


# ----- a grid of cells ------------------------------------------------------------------
class Canvas:
    """Characters with a colour (packed RGB, -1: the widget's own), a background and bold."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.chars = np.full((height, width), " ", dtype="<U1")
        self.fg = np.full((height, width), -1, dtype=np.int64)
        self.bg = np.full((height, width), -1, dtype=np.int64)
        self.style = np.zeros((height, width), dtype=np.int8)  #: 1 bold, 2 reverse

    def text(self, x: int, y: int, text: str, fg: int = -1, style: int = 0) -> None:
        if not 0 <= y < self.height:
            return
        for i, ch in enumerate(text):
            if 0 <= x + i < self.width:
                self.chars[y, x + i], self.fg[y, x + i], self.style[y, x + i] = ch, fg, style

    def strips(self, base: Style) -> list[Strip]:
        out = []
        # one number per cell's look: colour (25 bits with -1), background (25), flags (2)
        key = ((self.fg + 1) << 27) | ((self.bg + 1) << 2) | self.style
        styles: dict[tuple[int, int, int], Style] = {}
        for y in range(self.height):
            row = key[y]
            text = "".join(self.chars[y].tolist())
            starts = np.concatenate(([0], np.flatnonzero(np.diff(row)) + 1)).tolist()
            ends = starts[1:] + [self.width]
            fg, bg, flags = (self.fg[y, starts].tolist(), self.bg[y, starts].tolist(),
                             self.style[y, starts].tolist())
            segments = []
            for a, b, look in zip(starts, ends, zip(fg, bg, flags)):
                style = styles.get(look)
                if style is None:
                    style = styles[look] = base + cell_style(*look)
                segments.append(Segment(text[a:b], style))
            out.append(Strip(segments, self.width))
        return out


def paint(canvas: Canvas, x: int, y: int, t: np.ndarray, bg: np.ndarray, plain: bool,
          box: bool = False) -> None:
    """Signed values ``t`` as a map at (x, y): half blocks (two rows of ``t`` a cell) or,
    ``plain``, characters (one row a cell); ``box``: a neuron without a map."""
    if plain:
        marks = plain_marks(t)
        if box:
            marks[:] = "o"
        for r, row in enumerate(marks):
            canvas.text(x, y + r, "".join(row))
        return
    rgb = pack(tint(t, bg))
    top, bottom = rgb[0::2], rgb[1::2]
    h = min(top.shape[0], bottom.shape[0], canvas.height - y)
    w = min(t.shape[1], canvas.width - x)
    canvas.chars[y:y + h, x:x + w] = "▀"
    canvas.fg[y:y + h, x:x + w] = top[:h, :w]
    canvas.bg[y:y + h, x:x + w] = bottom[:h, :w]


def cell_style(fg: int, bg: int, flags: int) -> Style:
    key = (fg, bg, flags)
    style = _STYLES.get(key)
    if style is None:
        if len(_STYLES) > 4096:
            _STYLES.clear()
        style = _STYLES[key] = Style(color=None if fg < 0 else f"#{fg:06x}",
                                     bgcolor=None if bg < 0 else f"#{bg:06x}",
                                     bold=bool(flags & 1) or None, reverse=bool(flags & 2) or None)
    return style


# ----- the layout -----------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    """One place in a column: a unit's neuron, or a count of units left out."""

    top: int  #: first row
    unit: int | None  #: None: the elision mark
    hidden: int = 0  #: units the mark stands for


@dataclass(frozen=True)
class Layout:
    rows: int  #: a map's height in cells
    cols: int  #: a map's width in cells (2 x rows: square pixels)
    xs: tuple[int, ...]  #: each column's left edge
    slots: tuple[tuple[Slot, ...], ...]  #: each column's places, top to bottom


def column_slots(n: int, rows: int, height: int, first: int) -> tuple[tuple[Slot, ...], int]:
    """A column of ``n`` neurons ``rows`` tall, centred in ``height``; when they do not
    all fit, a window starting near ``first`` with a mark (a row and a gap) for the
    units above it and one for those below. Returns the slots and the window's first unit."""
    if n * (rows + 1) - 1 <= height:
        top = (height - (n * (rows + 1) - 1)) // 2
        return tuple(Slot(top + i * (rows + 1), i) for i in range(n)), 0
    fit = lambda marks: max(1, (height - 2 * marks + 1) // (rows + 1))  # noqa: E731
    first = max(0, first)
    shown = fit(1)
    if first > 0:  # a mark above; one below too unless the window reaches the end
        shown = fit(2)
        if first + shown >= n:
            shown = fit(1)
            first = n - shown
    first = max(0, min(first, n - shown))
    marks = (first > 0) + (first + shown < n)
    y = max(0, (height - (shown * (rows + 1) - 1 + 2 * marks)) // 2)
    slots = []
    if first:
        slots.append(Slot(y, None, first))
        y += 2
    slots += [Slot(y + i * (rows + 1), first + i) for i in range(shown)]
    if first + shown < n:
        slots.append(Slot(y + shown * (rows + 1), None, n - first - shown))
    return tuple(slots), first


def plan(width: int, height: int, sizes, label_w: int, out_w: int,
         firsts: list[int]) -> tuple[Layout, list[int]]:
    """The largest maps that fit every column whole, else the smallest that fit the
    width, with tall columns elided; columns spread evenly across ``width``."""
    n_cols = len(sizes)
    usable = max(1, width - label_w - out_w)
    fits = [r for r in range(MAX_ROWS, 0, -1)
            if n_cols * 2 * r + (n_cols - 1) * MIN_GAP <= usable]
    # maps of one row (2 x 2 pixels) say nothing: below two rows, columns are elided
    whole = [r for r in fits if r >= 2 and max(sizes) * (r + 1) - 1 <= height]
    # else the largest maps that still show MIN_SHOWN units of the tallest column
    enough = [r for r in fits if r >= 2 and (height - 4 + 1) // (r + 1) >= MIN_SHOWN]
    rows = whole[0] if whole else enough[0] if enough else min(2, fits[0]) if fits else 1
    cols = 2 * rows
    gap = max(1, (usable - n_cols * cols) // max(1, n_cols - 1)) if n_cols > 1 else 0
    span = n_cols * cols + (n_cols - 1) * gap
    left = label_w + max(0, (usable - span) // 2)
    xs = tuple(left + c * (cols + gap) for c in range(n_cols))
    slots, starts = [], []
    for n, first in zip(sizes, firsts):
        s, f = column_slots(n, rows, height, first)
        slots.append(s)
        starts.append(f)
    return Layout(rows, cols, xs, tuple(slots)), starts


# ----- the widget -----------------------------------------------------------------------
class NetworkGraph(LinePane):
    """See the module docstring."""

    can_focus = True

    BINDINGS = [
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("left", "move(-1, 0)", "Left", show=False),
        Binding("right", "move(1, 0)", "Right", show=False),
        Binding("shift+up", "source(-1)", "Source up", show=False),
        Binding("shift+down", "source(1)", "Source down", show=False),
    ]

    class Selected(Message):
        """The cursor moved onto a neuron or a link."""

        def __init__(self, graph: NetworkGraph, cursor: Cursor) -> None:
            super().__init__()
            self.graph = graph
            self.cursor = cursor

    class Activated(Message):
        """A click on a weight or a bias (the screen edits it)."""

        def __init__(self, graph: NetworkGraph, cursor: Cursor) -> None:
            super().__init__()
            self.graph = graph
            self.cursor = cursor

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.state: NetworkState | None = None
        self.plain = False
        self.follow_mouse = True  #: hovering moves the cursor (off while a value is typed)
        self.cursor = Cursor(1, 0)
        self._trail: Cursor | None = None  #: the link the cursor last left, to walk back
        self.layout_: Layout | None = None
        self._firsts: list[int] = []
        self._owner: np.ndarray | None = None  #: (height, width) index into _items, -1 none
        self._items: list[Cursor] = []

    # ----- input -----------------------------------------------------------------------
    def show(self, snapshot: Snapshot | NetworkState | None) -> bool:
        """Draw a snapshot's network state (or a state); returns whether it drew."""
        state = getattr(snapshot, "network", snapshot)
        if state is None or state is self.state:
            return False
        shape_changed = self.state is None or self.state.sizes != state.sizes
        self.state = state
        if shape_changed:
            self._firsts = [0] * len(state.sizes)
            self.cursor = self._valid(self.cursor)
        self.redraw()
        return True

    def set_plain(self, plain: bool) -> None:
        if plain != self.plain:
            self.plain = plain
            self.redraw()

    def select(self, cursor: Cursor) -> None:
        """Put the cursor on ``cursor`` (made valid for the network shown)."""
        cursor = self._valid(cursor)
        if cursor != self.cursor:
            self.cursor = cursor
            self.redraw()
        self.post_message(self.Selected(self, self.cursor))

    def _valid(self, c: Cursor) -> Cursor:
        if self.state is None:
            return c
        sizes = self.state.sizes
        last = len(sizes) - 1
        if c.is_link:
            col = max(0, min(c.column, last - 1))
            return Cursor(col, max(0, min(c.unit, sizes[col] - 1)),
                          max(0, min(c.target, sizes[col + 1] - 1)))
        col = max(0, min(c.column, last))
        return Cursor(col, max(0, min(c.unit, sizes[col] - 1)))

    # ----- keys and mouse ----------------------------------------------------------------
    def action_move(self, dx: int, dy: int) -> None:
        c = self.cursor
        if dy:
            self.select(Cursor(c.column, c.unit, c.target + dy) if c.is_link
                        else Cursor(c.column, c.unit + dy))
        elif c.is_link:  # off a link onto one of its ends
            self._trail = c
            self.select(Cursor(c.column + 1, c.target) if dx > 0 else Cursor(c.column, c.unit))
        elif self.state is not None:  # off a neuron onto one of its links
            last, trail = len(self.state.sizes) - 1, self._trail
            if trail is not None and (  # back onto the link the cursor came along
                    (dx < 0 and (trail.column + 1, trail.target) == (c.column, c.unit))
                    or (dx > 0 and (trail.column, trail.unit) == (c.column, c.unit))):
                self.select(trail)
                return
            if dx > 0 and c.column < last:
                self.select(Cursor(c.column, c.unit, min(c.unit, self.state.sizes[c.column + 1] - 1)))
            elif dx < 0 and c.column > 0:
                src = min(c.unit, self.state.sizes[c.column - 1] - 1)
                self.select(Cursor(c.column - 1, src, c.unit))

    def action_source(self, dy: int) -> None:
        c = self.cursor
        if c.is_link:
            self.select(Cursor(c.column, c.unit + dy, c.target))
        else:
            self.action_move(0, dy)

    def item_at(self, x: int, y: int) -> Cursor | None:
        """What is drawn at cell (x, y): a neuron, the strongest link there, or None."""
        owner = self._owner
        if owner is None or not (0 <= y < owner.shape[0] and 0 <= x < owner.shape[1]):
            return None
        i = int(owner[y, x])
        return self._items[i] if i >= 0 else None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if not self.follow_mouse:
            return
        item = self.item_at(event.x, event.y)
        if item is not None and item != self.cursor:
            self.select(item)

    def on_click(self, event: events.Click) -> None:
        item = self.item_at(event.x, event.y)
        if item is None:
            return
        self.select(item)
        if item.param() is not None:  # a weight or a bias: edit it, as Playground's click does
            self.post_message(self.Activated(self, self.cursor))

    # ----- drawing -----------------------------------------------------------------------
    def on_resize(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        width, height = self.size
        if width <= 0 or height <= 0:
            return
        canvas = Canvas(width, height)
        self._items, self._owner = [], np.full((height, width), -1, dtype=np.int64)
        if self.state is None:
            canvas.text(max(0, (width - 20) // 2), height // 2, "no network state yet")
        else:
            self._draw(canvas, self.state)
        self.set_lines(canvas.strips(self.rich_style))

    def _window(self, state: NetworkState) -> None:
        """Keep the cursor's units inside their columns' windows."""
        c = self.cursor
        wanted = [(c.column, c.unit)] + ([(c.column + 1, c.target)] if c.is_link else [])
        for col, unit in wanted:
            f = self._firsts[col]
            slots = self.layout_.slots[col] if self.layout_ else ()
            shown = [s.unit for s in slots if s.unit is not None]
            if shown and not shown[0] <= unit <= shown[-1]:
                self._firsts[col] = unit if unit < shown[0] else unit - len(shown) + 1
            elif not shown:
                self._firsts[col] = f

    def _draw(self, canvas: Canvas, state: NetworkState) -> None:
        names_in = [node_name(state, 0, i) for i in range(state.sizes[0])]
        names_out = [node_name(state, len(state.sizes) - 1, j) for j in range(state.sizes[-1])]
        cap = max(4, min(12, canvas.width // 6))  # labels take a share of the width
        label_w = min(cap, max(len(n) for n in names_in)) + 1
        out_w = min(cap, max(len(n) for n in names_out)) + 2
        args = (canvas.width, canvas.height, state.sizes, label_w, out_w)
        self.layout_, self._firsts = plan(*args, self._firsts)
        self._window(state)
        self.layout_, self._firsts = plan(*args, self._firsts)
        layout = self.layout_
        bg = background(self)
        for layer in range(len(state.sizes) - 1):
            self._draw_links(canvas, state, layout, layer, bg)
        for col, slots in enumerate(layout.slots):
            for slot in slots:
                self._draw_slot(canvas, state, layout, col, slot, bg, label_w, out_w)

    def _centre(self, layout: Layout, col: int, unit: int) -> int | None:
        """The row of a shown unit's middle (None: elided)."""
        for s in layout.slots[col]:
            if s.unit == unit:
                return s.top + layout.rows // 2 if layout.rows > 1 else s.top
        return None

    def _draw_links(self, canvas: Canvas, state: NetworkState, layout: Layout, layer: int,
                    bg: np.ndarray) -> None:
        x0 = layout.xs[layer] + layout.cols  # the gap: from the right edge of one column
        x1 = min(layout.xs[layer + 1] - 1, canvas.width - 1)  # to the cell left of the next
        if x1 < x0:
            return
        W = state.W[layer]
        scale = float(np.max(np.abs(W))) if W.size else 0.0
        src = [(s.unit, self._centre(layout, layer, s.unit)) for s in layout.slots[layer]
               if s.unit is not None]
        dst = [(s.unit, self._centre(layout, layer + 1, s.unit))
               for s in layout.slots[layer + 1] if s.unit is not None]
        links = [(abs(float(W[i, j])), i, j, yi, yj) for i, yi in src for j, yj in dst]
        links.sort()
        c = self.cursor
        chosen = (c.unit, c.target) if c.is_link and c.column == layer else None
        links.sort(key=lambda l: (l[1], l[2]) == chosen)  # the selected link on top
        dots_h, dots_w = canvas.height * 4, (x1 - x0 + 1) * 2
        rank = np.full((dots_h, dots_w), -1, dtype=np.int64)
        if links:  # every link sampled at once; in each dot the strongest wins (max rank)
            y_from = np.array([l[3] for l in links], dtype=np.float64)[:, None]
            y_to = np.array([l[4] for l in links], dtype=np.float64)[:, None]
            span = int(np.max(np.abs(y_to - y_from))) * 4
            s = np.linspace(0.0, 1.0, 2 * (dots_w + span) + 2)[None, :]
            ease = s * s * (3 - 2 * s)  # leaves and enters each neuron level, as Playground's
            ys = np.clip(np.round((y_from + (y_to - y_from) * ease) * 4 + 1.5), 0, dots_h - 1)
            xs = np.broadcast_to(np.round(s * (dots_w - 1)), ys.shape)
            k = np.broadcast_to(np.arange(len(links))[:, None], ys.shape)
            thick = np.array([(l[0] / scale if scale > 0 else 0.0) >= 0.5
                              or (l[1], l[2]) == chosen for l in links])
            ys, xs, k = ys.astype(np.intp), xs.astype(np.intp), k
            np.maximum.at(rank, (ys.ravel(), xs.ravel()), k.ravel())
            t_ys = np.clip(ys[thick] + 1, 0, dots_h - 1)
            np.maximum.at(rank, (t_ys.ravel(), xs[thick].ravel()), k[thick].ravel())
        cells = rank.reshape(canvas.height, 4, x1 - x0 + 1, 2)
        best = cells.max(axis=(1, 3))  # (height, gap cols): the strongest link in each cell
        ys, xs = np.nonzero(best >= 0)
        if not links or ys.size == 0:
            return
        base = len(self._items)
        self._items.extend(Cursor(layer, i, j) for _, i, j, _, _ in links)
        k = best[ys, xs]
        mags = np.array([l[0] for l in links])
        t = (mags / scale if scale > 0 else np.zeros_like(mags))[k]
        positive = np.array([W[i, j] >= 0 for _, i, j, _, _ in links])[k]
        selected = np.array([(i, j) == chosen for _, i, j, _, _ in links])[k]
        cx = xs + x0
        self._owner[ys, cx] = base + k
        if self.plain:
            keep = (t >= PLAIN_FAINT) | selected
            ys, cx, t, positive, selected = (a[keep] for a in (ys, cx, t, positive, selected))
            canvas.chars[ys, cx] = np.where(positive, "+", "-")
            canvas.style[ys, cx] = np.where(selected, 2, np.where(t >= 0.5, 1, 0))
            return
        bits = cells >= 0  # (height, 4, gap, 2)
        codes = (bits * BRAILLE[None, :, None, :]).sum(axis=(1, 3))[ys, xs]
        canvas.chars[ys, cx] = BRAILLE_CHARS[codes]
        colour = bg + (np.where(positive[:, None], POSITIVE, NEGATIVE) - bg) * (
            0.3 + 0.7 * t)[:, None]
        colour[selected] = ACCENT
        canvas.fg[ys, cx] = pack(colour)

    def _draw_slot(self, canvas: Canvas, state: NetworkState, layout: Layout, col: int,
                   slot: Slot, bg: np.ndarray, label_w: int, out_w: int) -> None:
        x, rows, cols = layout.xs[col], layout.rows, layout.cols
        if slot.unit is None:
            mark = f"+{slot.hidden}"
            canvas.text(x + max(0, (cols - len(mark)) // 2), slot.top, mark[:max(cols, 3)])
            return
        unit, last = slot.unit, len(state.sizes) - 1
        item = len(self._items)
        self._items.append(Cursor(col, unit))
        y0, y1 = slot.top, min(canvas.height, slot.top + rows)
        self._owner[y0:y1, x:x + cols] = item
        values = unit_map(state, col, unit)
        per_cell = 1 if self.plain else 2
        if values is None:  # no maps: the neuron tinted by its bias
            t = np.zeros((rows * per_cell, cols))
            if col > 0:
                b = state.b[col - 1]
                scale = float(np.max(np.abs(b))) or 1.0
                t[:] = np.clip(b[unit] / scale, -1, 1)
            paint(canvas, x, y0, t[: (y1 - y0) * per_cell], bg, self.plain, box=True)
        else:
            t = signed(sample(values, rows * per_cell, cols), state, col)
            paint(canvas, x, y0, t[: (y1 - y0) * per_cell], bg, self.plain)
        selected = self.cursor == Cursor(col, unit) or (
            self.cursor.is_link and ((self.cursor.column, self.cursor.unit) == (col, unit)
                                     or (self.cursor.column + 1, self.cursor.target) == (col, unit)))
        name_row = min(slot.top + (rows - 1) // 2, canvas.height - 1)
        if col == 0:
            label = node_name(state, 0, unit)[: label_w - 1]
            canvas.text(x - len(label) - 1, name_row, label, style=1 if selected else 0)
            self._owner[name_row, max(0, x - len(label) - 1):x] = item
        elif col == last:
            label = node_name(state, col, unit)[: out_w - 2]
            canvas.text(x + cols + 2, name_row, label, style=1 if selected else 0)
            self._owner[name_row, x + cols:x + cols + 2 + len(label)] = item
        if selected:
            on_node = self.cursor == Cursor(col, unit)
            fg = int(pack(ACCENT)) if not self.plain else -1
            for y in range(y0, y1):
                left, right = ("▶", "◀") if on_node and not self.plain else (
                    (">", "<") if on_node else ("·", "·"))
                if col > 0 or on_node:
                    canvas.text(x - 1, y, left, fg, 1)
                if col < last or on_node:
                    canvas.text(x + cols, y, right, fg, 1)


class MapView(LinePane):
    """One neuron's map, as large as the widget allows (square pixels), same colours."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.state: NetworkState | None = None
        self.cursor: Cursor | None = None
        self.plain = False
        self.note = ""

    def show(self, state: NetworkState | None, cursor: Cursor | None, note: str = "") -> None:
        self.state, self.cursor, self.note = state, cursor, note
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def map_cursor(self) -> tuple[int, int] | None:
        """The neuron whose map is shown: the cursor's, or a link's target."""
        c = self.cursor
        if c is None or self.state is None:
            return None
        return (c.column + 1, c.target) if c.is_link else (c.column, c.unit)

    def redraw(self) -> None:
        width, height = self.size
        if width <= 0 or height <= 0:
            return
        canvas = Canvas(width, height)
        where = self.map_cursor()
        values = unit_map(self.state, *where) if where else None
        if values is None:
            note = self.note or ("no maps: data is not 2-D" if self.state else "")
            canvas.text(max(0, (width - len(note)) // 2), height // 2, note[:width])
        else:  # square pixels: a half-block cell holds two, a character is one tall pixel pair
            cols = min(width, height * 2)
            rows = cols // 2 if self.plain else cols
            t = signed(sample(values, rows, cols), self.state, where[0])
            paint(canvas, (width - cols) // 2, 0, t, background(self), self.plain)
        self.set_lines(canvas.strips(self.rich_style))
