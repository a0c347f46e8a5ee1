"""The loss landscape panel: the loss over a 2-D slice of weight space and the optimizer's
path on it, live, with a head line that names the slice and the window.

The grid is computed in a thread worker (``engine.analysis.landscape.compute``, from the
parts the session hands out without stopping the run) and only when the slice changes:
when the panel is shown, when the directions switch, when it re-centres, when the
run is reset or rebuilt, and when the current point leaves the window on its way down (a
loss below the window's highest: the window is laid again to hold the whole path; random
directions then go through the current weights). A point that leaves climbing, as a
diverging run does, is let go, so the window keeps showing where it went wrong. A
two-parameter model's slice is the parameters themselves, never projected. Every
snapshot only projects its path onto the slice (a few dot products) and redraws the path.

The panel sits on the landscape screen (``k``) and, in the wide layout, in the main
screen's view pane.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from engine.analysis.landscape import Landscape, compute
from engine.errors import EngineError
from engine.training.snapshot import Snapshot

from tui.format import plain_characters
from tui.session import Session
from tui.widgets.landscape import LandscapeView

RESOLUTION = 49  #: grid points a side
KIND_NAMES = {"params": "exact, 2 params", "random": "random",
              "pca": "PCA of the path"}
HELP = "new grid: d, c, reset, and when the path leaves going down (not climbing)"


class LandscapePanel(Vertical):
    """The loss landscape of the run's slice, with its path; see the module docstring.

    ``compact``: two head lines instead of three and no help line, for a pane."""

    def __init__(self, session: Session, *, compact: bool = False, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.session = session
        self.compact = compact
        self.landscape: Landscape | None = None
        self.shown: Snapshot | None = None
        self.error = ""
        self.kinds = self._kinds()
        self.kind = self.kinds[0]
        self.computing = False
        self.computed = 0  #: grids computed so far
        self._again = False  #: a new grid was asked for while one was being computed
        self._first_step: int | None = None  #: the first step of the path the grid is for

    def _kinds(self) -> tuple[str, ...]:
        latest = self.session.latest
        two = latest is not None and latest.path is not None and latest.path.current.size == 2
        return ("params", "random", "pca") if two else ("random", "pca")

    def compose(self) -> ComposeResult:
        yield Static(classes="landscape-head")
        yield LandscapeView(classes="landscape-view")
        if not self.compact:
            yield Static(HELP, classes="landscape-help")

    @property
    def view(self) -> LandscapeView:
        return self.query_one(LandscapeView)

    def on_mount(self) -> None:
        self.view.set_plain(plain_characters(self.app))
        self.app.snapshot_signal.subscribe(self, self.show)
        self.shown = self.session.latest
        self.request()
        self.redraw()

    def use_session(self, session: Session) -> None:
        """Follow a different run (a preset or checkpoint was opened)."""
        self.session, self.landscape, self.shown = session, None, session.latest
        self.kinds = self._kinds()
        self.kind = self.kinds[0]
        self.request()
        self.redraw()

    # ----- the grid, in a thread -----------------------------------------------------------
    def request(self) -> None:
        """Compute a new grid for the current slice choice (after the one under way)."""
        if self.computing:
            self._again = True
            return
        snap = self.session.latest
        if snap is None:
            return
        if snap.path is None:
            self.error = "no path is recorded for a model this big: no landscape to draw"
            return
        self.computing, self._again = True, False
        kind, path = self.kind, snap.path
        parts = self.session.landscape_parts(RESOLUTION * RESOLUTION)

        def work() -> None:
            try:
                result = compute(*parts[:4], path, kind=kind, resolution=RESOLUTION,
                                 sampled=parts.sampled, penalty=parts.penalty)
            except EngineError as exc:
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self._computed, result)

        self.run_worker(work, thread=True, group="landscape", exit_on_error=False)

    def _computed(self, result: Landscape) -> None:
        self.computing = False
        self.computed += 1
        self.landscape, self.error = result, ""
        self._first_step = int(result.path_steps[0])
        if self._again:
            self.request()
        self.redraw()

    def _failed(self, message: str) -> None:
        self.computing = False
        self.error = message
        if self._again:
            self.request()
        self.redraw()

    # ----- snapshots -------------------------------------------------------------------
    def show(self, snap: Snapshot | None) -> None:
        if snap is None or snap is self.shown:
            return
        before, self.shown = self.shown, snap
        ls = self.landscape
        if ls is not None and snap.path is not None:
            reset = int(snap.path.all_steps()[0]) != self._first_step \
                or snap.path.current.size != ls.slice.origin.size \
                or (before is not None and snap.step < before.step)
            if reset:
                self.kinds = self._kinds()
                if self.kind not in self.kinds:
                    self.kind = self.kinds[0]
                self.request()
            elif self.left_window(ls, snap):
                self.request()
        self.redraw()

    @staticmethod
    def left_window(ls: Landscape, snap: Snapshot) -> bool:
        """Whether the current point left the window on its way down: outside it with a
        loss below the window's highest. A point that left climbing (a diverging run) is
        left to go, so the window keeps showing where it went wrong."""
        if ls.cell_of(ls.slice.project(snap.path.current)[0]) is not None:
            return False
        finite = ls.loss[np.isfinite(ls.loss)]
        return finite.size > 0 and snap.train_loss < float(finite.max())

    def path_points(self) -> np.ndarray | None:
        """The shown snapshot's path on the landscape's slice, (m, 2)."""
        ls, snap = self.landscape, self.shown
        if ls is None or snap is None or snap.path is None \
                or snap.path.current.size != ls.slice.origin.size:
            return None
        return ls.slice.project(snap.path.all_params())

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        ls, snap = self.landscape, self.shown
        head = self.query_one(".landscape-head", Static)
        points = self.path_points()
        if ls is None or points is None:
            note = self.error or "computing the landscape…"
            self.view.show(None, None, note)
            head.update(Text.assemble(("Loss landscape", "bold"), f" · {KIND_NAMES[self.kind]}"))
            return
        self.view.show(ls, points)
        s = ls.slice
        seed = f" (seed {s.seed})" if s.kind == "random" else ""
        legend = ("train loss, log bands: 0 low → 9 high · S start · * path · X now"
                  if self.view.plain else
                  "train loss, log bands: dark low → yellow high · white path · red now")
        if self.computing:
            legend = "recomputing the grid…"
        if self.error:
            legend = self.error
        a0, a1, b0, b1 = ls.extent
        if self.compact:
            head.update(Text.assemble(
                f"{KIND_NAMES[s.kind]}{seed} · loss {snap.train_loss:.4g} · "
                f"{points.shape[0]} pts\n",
                (f"→ {s.labels[0]} ↑ {s.labels[1]} · red now" if not self.computing
                 else "recomputing the grid…", "dim")))
            return
        head.update(Text.assemble(
            ("Loss landscape", "bold"), f" · {KIND_NAMES[s.kind]}{seed} · step {snap.step} · "
            f"loss {snap.train_loss:.4g} · path {points.shape[0]} points\n"
            f"→ {s.labels[0]} {a0:.3g}…{a1:.3g}   ↑ {s.labels[1]} {b0:.3g}…{b1:.3g}\n{legend}"))

    # ----- what the keys ask ---------------------------------------------------------------
    def next_directions(self) -> None:
        """Switch to the next kind of slice (exact, random, PCA) and compute its grid."""
        self.kind = self.kinds[(self.kinds.index(self.kind) + 1) % len(self.kinds)]
        self.landscape = None
        self.request()
        self.redraw()

    def recentre(self) -> None:
        """Lay the window again around the whole path, through the current weights."""
        self.request()
