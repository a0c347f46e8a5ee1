"""Every layer's weight matrix W as a heatmap: sign and magnitude, one cell per weight.

Rows are a layer's inputs, columns its units (W is fan_in × fan_out, z = x W + b). In
colour a cell is blue for a positive and red for a negative weight, stronger the larger
|w| is against the layer's largest |w|. With ``NO_COLOR`` (``plain``) each cell is a sign
and a digit, ``+9`` for the layer's largest positive weight down to ``+0``/``-0``, so the
picture reads the same without colour.

A selected unit (layer ``i``, unit ``j``) highlights its incoming weights (column j of
W_i) and its outgoing weights (row j of W_{i+1}). Matrices wider or taller than the pane
are pooled: each cell then shows the weight of largest |w| in its block.

For image data (``set_image_shape``, e.g. 8×8 digits) the first layer is drawn as one
picture per unit instead: its incoming weights W1[:, j] laid out as the image, in half
blocks on the same diverging scale (plain: ``#``/``+`` positive, ``=``/``-`` negative, one
character a weight). Units that do not fit in MAX_TILE_ROWS rows of pictures are left out
with a count; a selected unit's row of pictures is always the one shown.

Its length is the two drawings of a layer, the heatmap and the unit pictures.

Feed it with ``show(capture_weights(network), step)``; call ``capture_weights`` where the
weights are consistent (in the training thread's snapshot callback, or while paused).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from tui.widgets.lines import text_strip
from tui.widgets.pixels import signed_lines

POSITIVE = (78, 121, 167)  #: blue
NEGATIVE = (225, 87, 89)  #: red
LEVELS = 9  #: magnitude steps (digits 0..9 in plain mode)
CELL = 2  #: characters per weight
MAX_ROWS = 16  #: rows per layer before pooling
MAX_TILE_ROWS = 3  #: rows of unit pictures before the other units are counted, not drawn
TILE_GAP = 1  #: columns between two unit pictures


def capture_weights(network) -> tuple[np.ndarray, ...]:
    """Copies of every layer's W (read-only), taken now."""
    out = []
    for layer in network.layers:
        w = np.array(layer.W, dtype=np.float64, copy=True)
        w.flags.writeable = False
        out.append(w)
    return tuple(out)


def pool(W: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, int, int]:
    """W shrunk to at most rows × cols by keeping the largest-|w| entry of each block.

    Returns the pooled matrix and the block height and width (1, 1 when not pooled)."""
    r, c = W.shape
    fr = max(1, math.ceil(r / max(1, rows)))
    fc = max(1, math.ceil(c / max(1, cols)))
    if fr == 1 and fc == 1:
        return W, 1, 1
    R, C = math.ceil(r / fr), math.ceil(c / fc)
    padded = np.zeros((R * fr, C * fc))
    padded[:r, :c] = W
    blocks = padded.reshape(R, fr, C, fc).transpose(0, 2, 1, 3).reshape(R, C, fr * fc)
    idx = np.abs(blocks).argmax(axis=2)
    return np.take_along_axis(blocks, idx[..., None], axis=2)[..., 0], fr, fc


def level(w: float, scale: float) -> int:
    """0..LEVELS: |w| against the layer's scale."""
    if not scale > 0 or not math.isfinite(w):
        return 0
    return int(min(LEVELS, round(abs(w) / scale * LEVELS)))


def cell_text(w: float, scale: float) -> str:
    """The plain-character cell: sign then magnitude digit (``+7``, ``-2``, `` 0``)."""
    lv = level(w, scale)
    if lv == 0 and abs(w) < 1e-12:
        return " 0"
    return ("+" if w >= 0 else "-") + str(lv)


def cell_colour(w: float, scale: float) -> tuple[int, int, int]:
    base = POSITIVE if w >= 0 else NEGATIVE
    t = level(w, scale) / LEVELS
    bg = (24, 24, 24)
    return tuple(int(round(b + (c - b) * (0.15 + 0.85 * t) if t else b)) for b, c in zip(bg, base))


def plain_char(w: float, scale: float) -> str:
    """One character for a weight in a plain unit picture: blank at magnitude levels 0
    and 1, then ``+``/``-``, and ``#``/``=`` from level 5 of 9."""
    lv = level(w, scale)
    if lv <= 1:
        return " "
    strong = lv >= 5
    if w >= 0:
        return "#" if strong else "+"
    return "=" if strong else "-"


class WeightsView(Widget):
    """All layers' W, stacked, with the selected unit's weights highlighted."""


    COMPONENT_CLASSES = {"weights-view--title", "weights-view--dim", "weights-view--mark"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.weights: tuple[np.ndarray, ...] = ()
        self.step: int | None = None
        self.plain = False
        self.selected: tuple[int, int] | None = None  #: (layer, unit) whose weights stand out
        self._strips: list[Strip] | None = None  #: the rows drawn last (None: draw again)
        self._strips_key = None
        self._cell_styles: dict[tuple, Style] = {}
        self.image_shape: tuple[int, int] | None = None  #: (rows, cols) of image inputs

    # ----- input -----------------------------------------------------------------------
    def set_image_shape(self, shape: tuple[int, int] | None) -> None:
        """Inputs that are images of this (rows, cols) shape (None: not images); the
        first layer is then drawn as one picture per unit."""
        shape = None if shape is None else (int(shape[0]), int(shape[1]))
        if shape != self.image_shape:
            self.image_shape = shape
            self._strips = None
            self.refresh(layout=True)

    def show(self, weights: Sequence[np.ndarray], step: int | None = None) -> None:
        """New weights (from ``capture_weights``); redraws when they changed."""
        weights = tuple(weights)
        if step is not None and step == self.step and len(weights) == len(self.weights):
            return
        resize = [w.shape for w in weights] != [w.shape for w in self.weights]
        self.weights, self.step = weights, step
        self._strips = None
        self.refresh(layout=resize)

    def show_network(self, network, step: int | None = None) -> None:
        self.show(capture_weights(network), step)

    def select(self, layer: int | None, unit: int | None = None) -> None:
        """Highlight unit ``unit`` of layer ``layer`` (None clears the highlight)."""
        sel = None if layer is None or unit is None else (int(layer), int(unit))
        if sel != self.selected:
            self.selected = sel
            self._strips = None
            self.refresh()

    def set_plain(self, plain: bool) -> None:
        if plain != self.plain:
            self.plain = plain
            self._strips = None
            self.refresh()

    # ----- drawing ---------------------------------------------------------------------
    def _geometry(self, width: int) -> list[tuple[np.ndarray, int, int]]:
        cols = max(1, (max(width, 8) - 3) // CELL)
        return [pool(W, MAX_ROWS, cols) for W in self.weights]

    def get_content_height(self, container, viewport, width: int) -> int:
        if not self.weights:
            return 1
        heights = [p.shape[0] for p, _, _ in self._geometry(width)]
        if self._tile_plan(width) is not None:
            heights[0] = len(self._tile_lines(width))
        return 1 + sum(1 + h for h in heights)

    # ----- the first layer as pictures (image inputs) ----------------------------------
    def _tile_plan(self, width: int) -> tuple[int, int, int] | None:
        """(first unit shown, units shown, pictures a row) of the first layer's pictures;
        None when the inputs are not images of the first layer's fan-in."""
        shape = self.image_shape
        if shape is None or not self.weights or self.weights[0].shape[0] != shape[0] * shape[1]:
            return None
        units = self.weights[0].shape[1]
        per_row = max(1, (max(width, shape[1]) + TILE_GAP) // (shape[1] + TILE_GAP))
        room = per_row * MAX_TILE_ROWS
        first = 0
        sel_layer, sel_unit = self.selected if self.selected else (None, None)
        if sel_layer == 0 and sel_unit is not None and sel_unit >= room:
            first = min(sel_unit - sel_unit % per_row, max(0, units - room))
        return first, min(room, units - first), per_row

    def pictures(self, width: int | None = None) -> list[tuple[int, np.ndarray]]:
        """The unit pictures drawn at ``width`` (default: the widget's): (unit, its
        incoming weights W1[:, unit] as a (rows, cols) image), in drawing order."""
        plan = self._tile_plan(self.content_size.width if width is None else width)
        if plan is None:
            return []
        first, count, _ = plan
        W = self.weights[0]
        return [(j, W[:, j].reshape(self.image_shape)) for j in range(first, first + count)]

    def _tile_lines(self, width: int) -> list[Text]:
        """The first layer's pictures, ``per_row`` a row, each under its unit's number,
        then the count of units left out."""
        first, count, per_row = self._tile_plan(width)
        W = self.weights[0]
        scale = float(np.max(np.abs(W))) if W.size else 0.0
        dim = self.get_component_rich_style("weights-view--dim")
        mark = self.get_component_rich_style("weights-view--mark")
        sel = self.selected[1] if self.selected and self.selected[0] == 0 else None
        cols = self.image_shape[1]
        gap = " " * TILE_GAP
        lines: list[Text] = []
        pictures = self.pictures(width)
        for start in range(0, count, per_row):
            row = pictures[start:start + per_row]
            label = Text(no_wrap=True)
            drawn = [signed_lines(p, scale, cell_colour, plain_char, plain=self.plain)
                     for _, p in row]
            for k, (j, _) in enumerate(row):
                text = (">" if j == sel else "") + str(j)
                label.append((gap if k else "") + f"{text:<{cols}}"[:cols],
                             mark if j == sel else dim)
            lines.append(label)
            for r in range(len(drawn[0])):
                lines.append(Text(gap, no_wrap=True).join(d[r] for d in drawn))
        units = W.shape[1]
        if count < units:
            lines.append(Text(f"units {first}–{first + count - 1} of {units}, "
                              f"{units - count} more", dim))
        return lines

    def get_content_width(self, container, viewport) -> int:
        if not self.weights:
            return 20
        return max(24, 3 + CELL * max(w.shape[1] for w in self.weights))

    def render_line(self, y: int) -> Strip:
        """Rows are built once per change of weights, selection, size or style, straight
        to strips (a heatmap is hundreds of styled cells: Textual's generic text path
        takes several times longer for them)."""
        width, base = self.size.width, self.rich_style
        key = (width, base, self.app.theme)
        if self._strips is None or key != self._strips_key:
            console = self.app.console
            pad = Style(bgcolor=base.bgcolor)  # padding as Textual pads: background only
            self._strips = [text_strip(line, width, console, base, pad)
                            for line in self.render().split("\n")]
            self._strips_key = key
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, base)

    def render(self) -> Text:
        """The heatmap as rich Text, one line per row."""
        width = max(8, self.content_size.width)
        out = Text(no_wrap=True, overflow="crop")
        title = self.get_component_rich_style("weights-view--title")
        dim = self.get_component_rich_style("weights-view--dim")
        mark = self.get_component_rich_style("weights-view--mark")
        if not self.weights:
            out.append("no weights yet", dim)
            return out
        legend = ("+9 largest w … -9 most negative" if self.plain
                  else "blue +  red −")
        if self.plain and self._tile_plan(width) is not None:
            legend = "pictures: # + positive, = - negative; " + legend
        out.append(legend[:width], dim)
        sel_layer, sel_unit = self.selected if self.selected else (None, None)
        for i, (P, fr, fc) in enumerate(self._geometry(width)):
            W = self.weights[i]
            scale = float(np.max(np.abs(W))) if W.size else 0.0
            pooled = f" pooled {fr}×{fc}" if fr > 1 or fc > 1 else ""
            out.append("\n")
            if i == 0 and self._tile_plan(width) is not None:
                shape = "×".join(map(str, self.image_shape))
                out.append(f"W1 {W.shape[0]}×{W.shape[1]} max|w| {scale:.3g} · {shape} "
                           f"pictures"[:width], title)
                for line in self._tile_lines(width):
                    out.append("\n")
                    out.append_text(line)
                continue
            out.append(f"W{i + 1} {W.shape[0]}×{W.shape[1]} max|w| {scale:.3g}{pooled}"[:width], title)
            # incoming: column sel_unit of W_i; outgoing: row sel_unit of W_{i+1}
            in_col = sel_unit // fc if sel_layer == i and sel_unit is not None else None
            out_row = sel_unit // fr if sel_layer == i - 1 and sel_unit is not None else None
            for r in range(P.shape[0]):
                out.append("\n")
                lead = ">" if r == out_row else " "
                out.append(f"{lead}{r:>2}"[-3:], mark if r == out_row else dim)
                for c in range(P.shape[1]):
                    w = float(P[r, c])
                    hot = r == out_row or c == in_col
                    out.append(*self._cell(w, scale, hot))
        return out

    def _cell(self, w: float, scale: float, hot: bool) -> tuple[str, Style]:
        if self.plain:
            return cell_text(w, scale), self._style(None, hot)
        colour = cell_colour(w, scale)
        return (cell_text(w, scale) if hot else " " * CELL), self._style(colour, hot)

    def _style(self, colour: tuple[int, int, int] | None, hot: bool) -> Style:
        """One Style per (colour, highlight): a heatmap has few distinct cells."""
        key = (colour, hot)
        style = self._cell_styles.get(key)
        if style is None:
            if colour is None:
                style = Style(reverse=True, bold=True) if hot else Style()
            else:
                bg = Color.from_rgb(*colour)
                style = (Style(bgcolor=bg, color="white", bold=True) if hot
                         else Style(bgcolor=bg))
            self._cell_styles[key] = style
        return style
