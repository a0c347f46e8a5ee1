"""Train and test loss against step or epoch, drawn with plotext.

The trainer keeps a bounded, evenly thinned history; this widget thins it again to
about two points per column, so drawing cost depends on the pane's width, never on
the length of the run.
"""

from __future__ import annotations

import time

import numpy as np
from textual_plotext import PlotextPlot

from engine.snapshot import History

from .budget import Budget


def thin(x: np.ndarray, *ys: np.ndarray, limit: int) -> tuple[np.ndarray, ...]:
    """Every k-th point so that at most ``limit`` remain (always keeping the last)."""
    n = x.shape[0]
    if n <= limit or limit < 2:
        return (x, *ys)
    idx = np.unique(np.append(np.linspace(0, n - 1, limit).astype(np.intp), n - 1))
    return (x[idx], *(y[idx] for y in ys))


class LossPlot(PlotextPlot):
    """Loss curves; ``log_scale`` and ``x_axis`` ("step" or "epoch") are toggles."""

    DEFAULT_CSS = """
    LossPlot { width: 1fr; height: 1fr; min-height: 5; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history: History | None = None
        self.log_scale = False
        self.x_axis = "step"
        self.plain = False
        self.budget = Budget(share=0.08, min_interval=0.5)  #: at most 2 draws a second
        self._timer = None

    def show(self, history: History, urgent: bool = True) -> None:
        """Plot this history; unless ``urgent``, no sooner than the redraw budget allows."""
        old = self.history
        if old is not None and history is not None and len(history) == len(old) \
                and len(history) and history.steps[-1] == old.steps[-1] \
                and history.train_loss[-1] == old.train_loss[-1]:
            return
        self.history = history
        if self._timer is not None:  # a later draw is already due: it will use this history
            if not urgent:
                return
            self._timer.stop()
            self._timer = None
        wait = 0.0 if urgent else self.budget.wait()
        if wait > 0:
            self._timer = self.set_timer(wait, self._redraw)
        else:
            self.refresh()

    def _redraw(self) -> None:
        self._timer = None
        self.refresh()

    def toggle_log(self) -> None:
        self.log_scale = not self.log_scale
        self.refresh()

    def toggle_axis(self) -> None:
        self.x_axis = "epoch" if self.x_axis == "step" else "step"
        self.refresh()

    def series(self) -> dict[str, tuple[list[float], list[float]]]:
        """What would be plotted now: name -> (x, y); only finite (and > 0 in log scale)."""
        h = self.history
        if h is None or len(h) == 0:
            return {}
        x = np.asarray(h.epochs if self.x_axis == "epoch" else h.steps, dtype=np.float64)
        x, train, test = thin(x, h.train_loss, h.test_loss, limit=max(8, 2 * self.size.width))
        out = {}
        for name, y in (("train", train), ("test", test)):
            keep = np.isfinite(y) & (y > 0 if self.log_scale else True)
            if np.any(keep):
                out[name] = (x[keep].tolist(), y[keep].tolist())
        return out

    def render(self):
        start = time.perf_counter()
        try:
            return self._render_plot()
        finally:
            self.budget.spent(time.perf_counter() - start)

    def _render_plot(self):
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        series = self.series()
        markers = {"train": "dot", "test": "x"} if self.plain else {"train": "braille",
                                                                      "test": "braille"}
        colors = {"train": (90, 170, 255), "test": (255, 170, 60)}
        for name, (x, y) in series.items():
            if len(x) > 1:  # one point (before any step) makes no curve
                plt.plot(x, y, label=name, marker=markers[name],
                         color=None if self.plain else colors[name])
        plt.yscale("log" if self.log_scale else "linear")
        plt.xlabel(self.x_axis + (" · log loss" if self.log_scale else ""))
        if all(len(x) <= 1 for x, _ in series.values()):
            plt.title("space: train · n: one step")
        return super().render()
