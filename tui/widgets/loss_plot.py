"""Train and test loss against step or epoch, drawn with plotext.

The trainer records every epoch end (and every step's batch loss) in a bounded history
whose buckets keep their lowest and highest loss. This widget merges the buckets again to
about one per column and draws each as a vertical stroke from its lowest to its highest
value (min-max decimation), so a spike or a bounce is always on screen and the y range
covers the run's real peak, while drawing cost depends on the pane's width, never on
the length of the run. The batch loss is a faint series under the others (``b``).

plotext is called directly (not through ``textual-plotext``): its figure builds a
character matrix, and this widget turns that matrix into strips itself (skipping
plotext's ANSI string and Rich's ANSI parser), with one style per colour run, and
sends only the rows that changed. plotext is imported on the first draw, so it costs
nothing before the first frame.
"""

from __future__ import annotations

import math
import time

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from engine.training.snapshot import History

from tui.widgets.budget import Budget
from tui.widgets.lines import LinePane

COLOURS = {"train": (90, 170, 255), "test": (255, 170, 60), "batch": (110, 110, 120)}


def merge(x: np.ndarray, low: np.ndarray, high: np.ndarray,
          limit: int) -> tuple[np.ndarray, ...]:
    """Buckets (n,) merged into at most ``limit`` groups of neighbours, each keeping the
    x of its first and last bucket and the lowest and highest value:
    x_first, x_last, low, high, each (groups,)."""
    n = x.shape[0]
    if n <= limit or limit < 1:
        return x, x, low, high
    starts = np.unique(np.linspace(0, n, limit, endpoint=False).astype(np.intp))
    ends = np.append(starts[1:], n) - 1
    with np.errstate(invalid="ignore"):
        return x[starts], x[ends], np.fmin.reduceat(low, starts), np.fmax.reduceat(high, starts)


def envelope(x_first: np.ndarray, x_last: np.ndarray, low: np.ndarray, high: np.ndarray,
             keep=None) -> tuple[list[float], list[float]]:
    """A line through each group's lowest and highest value (in the order nearer the
    previous point, across the group's x range), so that a braille line shows a group's
    whole range as a stroke. ``keep(y)`` filters values (finite, > 0 on a log scale)."""
    xs: list[float] = []
    ys: list[float] = []
    for x0, x1, lo, hi in zip(x_first.tolist(), x_last.tolist(), low.tolist(), high.tolist()):
        pair = [v for v in ((lo, hi) if lo != hi else (lo,)) if keep is None or keep(v)]
        if len(pair) == 2 and ys and abs(ys[-1] - pair[1]) < abs(ys[-1] - pair[0]):
            pair.reverse()
        xs.extend((x0, x1)[:len(pair)] if len(pair) == 2 else (x1,) * len(pair))
        ys.extend(pair)
    return xs, ys


def _figure():
    """A fresh plotext figure (plotext is imported here, on the first draw)."""
    from plotext._figure import _figure_class

    return _figure_class()


class LossPlot(LinePane):
    """Loss curves; ``log_scale`` and ``x_axis`` ("step" or "epoch") are toggles."""


    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history: History | None = None
        self.live: tuple[int, float, float, float] | None = None  #: step, epoch, train, test now
        self.show_batches = False  #: the faint batch-loss series (``b``)
        self.log_scale = False
        self.x_axis = "step"
        self.plain = False
        self.budget = Budget(share=0.05, min_interval=0.5)  #: at most 2 draws a second
        self.draws = 0  #: plotext builds so far (tests read it)
        self._pending = False
        self._fig = None
        self._styles: dict[object, Style] = {}
        self._drawn_key = None
        self._base: Style | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _: self._restyle())

    def _restyle(self) -> None:
        self._styles.clear()
        self._drawn_key = None
        self.redraw()

    def show(self, history: History, urgent: bool = True, hold: bool = False,
             live: tuple[int, float, float, float] | None = None) -> bool:
        """Plot this history; unless ``urgent``, no sooner than the redraw budget allows.

        ``live`` (step, epoch, train loss, test loss) is the run's point now: drawn after
        the last epoch end while an epoch is under way. No timers: a draw that has to wait
        is made by a later ``show`` (the next frame), so every pane that changes lands in
        the same screen update. ``hold`` (another pane already drew in this frame) defers
        a non-urgent draw to a later frame. Returns whether it drew."""
        old = self.history
        same = (old is not None and history is not None and old.points == history.points
                and (old.batch.points if old.batch else 0)
                == (history.batch.points if history.batch else 0) and live == self.live)
        if same and not self._pending:
            return False
        self.history, self.live = history, live
        if urgent or (not hold and self.budget.wait() <= 0):
            self.redraw()
            return True
        self._pending = True
        return False

    def toggle_log(self) -> None:
        self.log_scale = not self.log_scale
        self.redraw()

    def toggle_batches(self) -> None:
        self.show_batches = not self.show_batches
        self.redraw()

    def toggle_axis(self) -> None:
        self.x_axis = "epoch" if self.x_axis == "step" else "step"
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def series(self) -> dict[str, tuple[list[float], list[float]]]:
        """What would be plotted now: name -> (x, y); only finite (and > 0 in log scale).

        "train" and "test" pass through every epoch bucket's lowest and highest loss;
        "batch" (when shown) does the same for the batch losses."""
        h = self.history
        if h is None or len(h) == 0:
            return {}
        log = self.log_scale

        def keep(v: float) -> bool:
            return math.isfinite(v) and (v > 0 or not log)

        epoch_axis = self.x_axis == "epoch"
        limit = max(8, self.size.width)
        x = np.asarray(h.epochs if epoch_axis else h.steps, dtype=np.float64)
        out = {}
        if self.show_batches and h.batch is not None and len(h.batch):
            b = h.batch
            bx = np.asarray(b.epochs if epoch_axis else b.steps, dtype=np.float64)
            xs, ys = envelope(*merge(bx, b.low, b.high, limit), keep=keep)
            if ys:
                out["batch"] = (xs, ys)
        live = self.live
        for name, last, low, high, now in (
                ("train", h.train_loss, h.train_low, h.train_high, live and live[2]),
                ("test", h.test_loss, h.test_low, h.test_high, live and live[3])):
            if low.shape != last.shape:  # a history without buckets: the values alone
                low = high = last
            xs, ys = envelope(*merge(x, low, high, limit), keep=keep)
            if live is not None and live[0] > h.steps[-1] and now is not None and keep(now):
                xs.append(float(live[1] if epoch_axis else live[0]))
                ys.append(now)
            if ys:
                out[name] = (xs, ys)
        return out

    # ----- drawing ---------------------------------------------------------------------
    def redraw(self) -> None:
        """Build the plot now and send the rows that differ from the last drawing."""
        self._pending = False
        width, height = self.size
        if width <= 0 or height <= 0 or not self.is_mounted:
            return
        series = self.series()
        key = (width, height, self.log_scale, self.x_axis, self.plain, self.show_batches,
               tuple((n, tuple(x), tuple(y)) for n, (x, y) in series.items()))
        if key == self._drawn_key:
            return
        start = time.perf_counter()
        lines = self._build(series, width, height)
        self._drawn_key = key
        self.draws += 1
        self.budget.spent(time.perf_counter() - start)
        self.set_lines(lines)

    def _build(self, series, width: int, height: int) -> list[Strip]:
        if self._fig is None:
            self._fig = _figure()
            self._fig.theme("clear")  # no colours of its own: the pane's style shows through
        plt = self._fig
        # the figure is kept and only its data cleared: clear_figure() rebuilds plotext's
        # settings from a deep copy, a third of a draw; every setting is made again below
        plt.clear_data()
        plt.plotsize(width, height)
        plt._set_size(width, height)
        markers = {"train": "dot", "test": "x", "batch": "."} if self.plain else {
            "train": "braille", "test": "braille", "batch": "braille"}
        for name, (x, y) in series.items():
            if len(x) > 1:  # one point (before any step) makes no curve
                plt.plot(x, y, label=name, marker=markers[name],
                         color="default" if self.plain else COLOURS[name])
        plt.yscale("log" if self.log_scale else "linear")
        plt.xlabel(self.x_axis + (" · log loss" if self.log_scale else ""))
        plt.title("space: train · n: one step"
                  if all(len(x) <= 1 for x, _ in series.values()) else None)
        plt._build_matrix()
        matrix = plt.monitor.matrix
        base = self.rich_style
        if base != self._base:
            self._base, self._styles = base, {}
        rows = []
        for marker, colour in zip(reversed(matrix.marker), reversed(matrix.fullground)):
            rows.append(self._strip(marker, colour, width, base))
        blank = Strip.blank(width, base)
        return (rows + [blank] * height)[:height]

    def _strip(self, marker: list[str], colour: list, width: int, base: Style) -> Strip:
        """One row of plotext's matrix as a strip: one segment per run of one colour."""
        segments = []
        n = min(width, len(marker))
        start = 0
        while start < n:
            c = colour[start]
            end = start + 1
            while end < n and colour[end] == c:
                end += 1
            segments.append(Segment("".join(marker[start:end]), self._style(c, base)))
            start = end
        if n < width:
            segments.append(Segment(" " * (width - n), base))
        return Strip(segments, width)

    def _style(self, colour, base: Style) -> Style:
        key = colour if isinstance(colour, (tuple, str, int)) else repr(colour)
        style = self._styles.get(key)
        if style is None:
            if isinstance(colour, tuple) and len(colour) == 3:
                style = base + Style(color=Color.from_rgb(*colour))
            else:
                style = base
            self._styles[key] = style
        return style
