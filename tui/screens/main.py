"""The main screen: status line, config pane, decision boundary, loss plot, gradient bars.

It listens to the app's ``snapshot_signal`` and hands each snapshot to the panes, each of
which redraws only when its part changed. Narrow terminals show the config pane in place
of the training panes (``c`` toggles); from 120 columns it sits beside them, and the view
pane (the network or the loss landscape, ``y``) joins the boundary from 150 columns.

Its length is the layout's: which pane shows at which width and toggle (config, weights,
view pane, sample images for image data), and the boundary's toggles and draw mode.
"""

from __future__ import annotations

import time
from functools import partial
from typing import NamedTuple

from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from engine.errors import EngineError
from engine.training.snapshot import Snapshot

from tui.format import plain_characters
from tui.commands import bindings
from tui.session import Session
from tui.widgets import BoundaryView, ConfigPane, GradientBars, LossPlot, StatusLine
from tui.widgets.samples import SamplesView
from tui.widgets.view_pane import MODES as VIEW_MODES, ViewPane
from tui.widgets.weights import WeightsView

WIDE = 120  #: from this many columns the config pane sits beside the training panes
STATUS_LAG_S = 0.04  #: after a pane drew, the status line follows in its own update
PREFILL_S = 8.0  #: a hidden config pane is built this long after the start, when idle
#: while training, the status line's numbers change at most this often (seconds): faster
#: than the eye can read them, they would only cost terminal traffic
STATUS_INTERVAL_S = 0.2
WEIGHTS_INTERVAL = 0.5  #: seconds between copies of the weights for the heatmap, while training
#: from this many columns the wide layout shows the view pane (the network) unless `y` hid it
VIEW_WIDE = 150


class _Panes(NamedTuple):
    status: StatusLine
    config: ConfigPane
    loss: LossPlot
    boundary: BoundaryView
    boundary_box: Widget
    grads: GradientBars
    grads_box: Widget
    weights_box: Widget
    watch: Widget


class MainScreen(Screen):
    """See the module docstring."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    AUTO_FOCUS = ""  # nothing focused: the training keys work from the first frame

    BINDINGS = bindings("main")

    config_toggled: reactive[bool] = reactive(False)
    weights_toggled: reactive[bool] = reactive(False)

    def __init__(self, session: Session) -> None:
        super().__init__(id="main")
        self.session = session
        self._weights_from = None  #: the weights (a snapshot's) the heatmap shows
        self._pane_refs: _Panes | None = None
        self._shown: Snapshot | None = None  #: the newest snapshot handed to the panes
        self._status_at = 0.0  #: when the status line last changed (perf_counter)
        self._status_state = ""  #: the run state the status line shows
        self._images: tuple[int, int] | None = None  #: the image shape the panes are set for
        #: what `y` chose for the wide layout's view pane: a mode, "hidden", or None (by width)
        self.view_choice: str | None = None

    def compose(self) -> ComposeResult:
        t = self.session
        preset = t.preset
        yield StatusLine(id="status")
        with Horizontal(id="body"):
            yield ConfigPane(t.config, title=preset.title if preset else "",
                             lesson=preset.lesson if preset else "", id="config")
            with Vertical(id="watch"):
                with Horizontal(id="top"):
                    with Container(id="boundary-box", classes="pane"):
                        yield BoundaryView(id="boundary")
                        yield SamplesView(id="samples")
                    yield ViewPane(t, id="view-box", classes="pane")
                    with Container(id="loss-box", classes="pane"):
                        yield LossPlot(id="loss")
                with Horizontal(id="bottom"):
                    with Container(id="grads-box", classes="pane"):
                        yield GradientBars(id="grads")
                    with VerticalScroll(id="weights-box", classes="pane"):
                        yield WeightsView(id="weights")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        plain = plain_characters(self.app)
        self.query_one(BoundaryView).set_plain(plain)
        self.query_one(GradientBars).plain = self.app.no_color
        self.query_one(LossPlot).plain = self.app.no_color
        # the heavy panes redraw less often than the frame rate, and less still at low rates
        slower = max(1.0, 15.0 / max(1.0, getattr(self.app, "fps", 15.0)))
        self.query_one(BoundaryView).budget.min_interval = 0.33 * slower
        self.query_one(LossPlot).budget.min_interval = 0.5 * slower
        self.query_one(GradientBars).budget.min_interval = 0.3 * slower
        self.query_one("#boundary-box").border_title = "Boundary"
        self._set_loss_title()
        self.query_one("#grads-box").border_title = "Gradients"
        self.query_one("#weights-box").border_title = "Weights"
        self.query_one("#weights-box").border_subtitle = "w hide"
        self.query_one(WeightsView).set_plain(plain)
        self.query_one(SamplesView).set_plain(plain)
        self.query_one(ViewPane).graph.set_plain(plain)
        self._use_images()
        pane = self.query_one(ConfigPane)
        pane.border_title = "Configuration"
        pane.border_subtitle = "tab: next field · enter: apply · esc: done"
        # the fields are built after the first frame: at once when the pane is on screen,
        # otherwise a little later (or when `c` shows the pane)
        self.call_after_refresh(self._populate_if_shown)
        self.set_timer(PREFILL_S, self._prefill_config)
        self.app.snapshot_signal.subscribe(self, self.show)
        self.app.theme_changed_signal.subscribe(self, lambda _: self.query_one(
            BoundaryView).invalidate())
        self.show(self.session.latest)

    # ----- snapshots -------------------------------------------------------------------
    def show(self, snap: Snapshot | None) -> None:
        if snap is None:
            return
        self._shown = snap
        panes = self._panes()
        data = self.session.data
        if data.image_shape != self._images:
            self._use_images()
        note = "" if data.extent is not None else (
            f"no 2-D view: '{data.name}' has {data.n_features} inputs")
        urgent = snap.state != "running"  # a still picture is drawn at once and completely
        # at most one of the two costly panes draws in a frame, so that no frame holds the
        # interpreter (and a key press waiting behind it) for long
        live = (snap.step, snap.epoch_progress, snap.train_loss, snap.test_loss)
        drew = panes.loss.show(snap.history, urgent=urgent, live=live)
        drew = panes.boundary.show(snap.boundary, snap.points, snap.n_classes, note,
                                   urgent=urgent, hold=drew) or drew
        if snap.samples is not None and data.image_shape is not None:
            drew = self._samples_view.show(snap.samples) or drew
        self._boundary_titles()
        drew = panes.grads.show(snap.layers, snap.flags, urgent=urgent) or drew
        flagged = panes.grads.flagged()  # on the border, where it always fits
        if panes.grads_box.border_subtitle != flagged:
            panes.grads_box.border_subtitle = flagged
        drew = self._show_weights(snap, urgent) or drew
        if drew and not urgent and panes.config.display and panes.watch.display:
            # the config pane is beside the training panes: the status line goes in a
            # screen update of its own, since a top-row change joined with the panes'
            # would make one update span all ~300 of the config pane's widgets, which
            # costs several times both apart
            self.set_timer(STATUS_LAG_S, partial(self._show_status, snap))
        else:
            self._show_status(snap)

    def _show_status(self, snap: Snapshot) -> None:
        if snap is self._shown:  # not overtaken by a newer frame meanwhile
            now = time.perf_counter()
            if (snap.state == self._status_state == "running"
                    and now - self._status_at < STATUS_INTERVAL_S):
                return  # a later frame shows it; a change of state always shows at once
            self._status_at, self._status_state = now, snap.state
            panes = self._panes()
            panes.status.show(snap, pending=panes.config.pending,
                              pace=self.session.pace)

    def _panes(self) -> _Panes:
        """The panes a frame updates, looked up once (a frame should not search the DOM)."""
        if self._pane_refs is None:
            self._pane_refs = _Panes(
                self.query_one(StatusLine), self.query_one(ConfigPane),
                self.query_one(LossPlot), self.query_one(BoundaryView),
                self.query_one("#boundary-box"), self.query_one(GradientBars),
                self.query_one("#grads-box"), self.query_one("#weights-box"),
                self.query_one("#watch"))
        return self._pane_refs

    # ----- image data ------------------------------------------------------------------
    def _use_images(self) -> None:
        """Image data has no 2-D boundary: its box shows sample images instead, and the
        weights pane draws the first layer's units as pictures."""
        shape = self.session.data.image_shape
        self._images = shape
        self._samples_view = self.query_one(SamplesView)
        self._samples_view.display = shape is not None
        self.query_one(BoundaryView).display = shape is None
        self.query_one(WeightsView).set_image_shape(shape)
        # the unit pictures are the lesson of image data: room for four a row, two rows
        self.query_one("#weights-box").styles.width = (
            None if shape is None else 2 + 4 * (shape[1] + 1) + 1)
        self.query_one("#bottom").styles.min_height = None if shape is None else "40%"
        self.call_after_refresh(self._square_boundary)

    # ----- the weights heatmap ---------------------------------------------------------
    @property
    def weights_shown(self) -> bool:
        """The heatmap is on screen (snapshots carry the weights only then)."""
        panes = self._panes()
        return bool(panes.weights_box.display and panes.watch.display)

    def _show_weights(self, snap: Snapshot, urgent: bool) -> bool:
        """The weights a snapshot carries (the trainer copies them a few times a second
        while the heatmap is on screen). Returns whether it drew."""
        if not self.weights_shown or snap.weights is None or snap.weights is self._weights_from:
            return False
        self._weights_from = snap.weights
        self.query_one(WeightsView).show(snap.weights, None)
        return True

    def action_toggle_weights(self) -> None:
        """Show or hide the weights heatmap (shown by default from 120 columns)."""
        self.weights_toggled = not self.weights_toggled
        self._arrange()
        self.call_after_refresh(self._refresh_weights)

    def _refresh_weights(self) -> None:
        self._weights_from = None
        snap = self.session.latest if self.session.running else self.session.refresh()
        if snap is not None:
            self._show_weights(snap, True)

    async def use_session(self, session: Session) -> None:
        """Show a different run (a preset or checkpoint was opened)."""
        self.session = session
        if not session.drawing and self.query_one(BoundaryView).drawing:
            self.query_one(BoundaryView).stop_drawing()
        self._arrange()
        await self.query_one(ViewPane).use_session(session)
        preset = session.preset
        await self.query_one(ConfigPane).load(session.config,
                                              title=preset.title if preset else "",
                                              lesson=preset.lesson if preset else "")
        self.show(session.latest)

    # ----- layout ----------------------------------------------------------------------
    def on_resize(self) -> None:
        self._arrange()
        self.call_after_refresh(self._populate_if_shown)

    async def _prefill_config(self) -> None:
        """Build the hidden config pane ahead of need, but never during a run: it holds
        the interpreter for a few hundred milliseconds, which training would lose."""
        pane = self.query_one(ConfigPane)
        if pane.populated:
            return
        if getattr(self.app, "training", False):
            self.set_timer(PREFILL_S, self._prefill_config)
            return
        await pane.populate()

    async def _populate_if_shown(self) -> None:
        pane = self.query_one(ConfigPane)
        if pane.region.width and not pane.populated:
            await pane.populate()

    def _square_boundary(self) -> None:
        """Keep the boundary pane about square: a cell is twice as tall as it is wide."""
        box = self.query_one("#boundary-box")
        top = self.query_one("#top")
        rows = max(4, top.size.height - 2)
        share = 3 if self.query_one(ViewPane).display else 2  # the view pane takes a third
        width = min(rows * 2 + 2, max(20, top.size.width // share))
        if self._images is not None:  # sample images: as many as half the row holds
            width = max(20, top.size.width // 2)
        if box.styles.width is None or box.styles.width.value != width:
            box.styles.width = width

    def watch_config_toggled(self) -> None:
        self._arrange()

    @property
    def wide(self) -> bool:
        return self.size.width >= WIDE

    def _arrange(self) -> None:
        """Show the config pane and/or the training panes for this width and toggle."""
        pane, watch = self.query_one(ConfigPane), self.query_one("#watch")
        show_config = self.config_toggled != self.wide
        if pane.display != show_config:
            pane.display = show_config
        if watch.display != (self.wide or not show_config):
            watch.display = self.wide or not show_config
        weights = self.query_one("#weights-box")
        show_weights = self.weights_toggled != self.wide
        self.session.want_weights(WEIGHTS_INTERVAL if show_weights and (
            self.wide or not show_config) else None)
        if weights.display != show_weights:
            weights.display = show_weights
            if show_weights:
                self.call_after_refresh(self._refresh_weights)
        if not show_config and self.focused is not None and pane in self.focused.ancestors_with_self:
            self.set_focus(None)
        self._arrange_view(show=self.wide)
        self.call_after_refresh(self._square_boundary)

    # ----- the view pane (wide layout) ----------------------------------------------------
    @property
    def view_mode(self) -> str:
        """What the wide layout's view pane shows: "network", "landscape" or "hidden"."""
        if self.view_choice is not None:
            return self.view_choice
        return VIEW_MODES[0] if self.size.width >= VIEW_WIDE else "hidden"

    def _arrange_view(self, show: bool) -> None:
        view = self.query_one(ViewPane)
        mode = self.view_mode
        shown = show and mode != "hidden"
        if view.display != shown:
            view.display = shown
        self.call_after_refresh(self._follow_view, shown, mode)

    async def _follow_view(self, shown: bool, mode: str) -> None:
        view = self.query_one(ViewPane)
        if shown and view.mode != mode:
            await view.set_mode(mode)
        await view.set_active(shown)

    def action_cycle_view(self) -> None:
        """Wide layout: the view pane shows the network, then the landscape, then nothing."""
        if not self.wide:
            self.notify(f"the view pane needs {WIDE} columns; g and k open the network and "
                        "the loss landscape full size", title="view pane")
            return
        order = (*VIEW_MODES, "hidden")
        self.view_choice = order[(order.index(self.view_mode) + 1) % len(order)]
        self._arrange()

    async def action_toggle_config(self) -> None:
        """Narrow: swap the config pane in or out. Wide: hide or show it."""
        await self.query_one(ConfigPane).populate()
        self.config_toggled = not self.config_toggled
        if self.config_toggled != self.wide:  # the pane just appeared
            self.call_after_refresh(self.query_one(ConfigPane).focus)

    def action_toggle_log(self) -> None:
        plot = self.query_one(LossPlot)
        plot.toggle_log()
        self._set_loss_title()

    def action_toggle_axis(self) -> None:
        self.query_one(LossPlot).toggle_axis()
        self._set_loss_title()

    def action_toggle_batches(self) -> None:
        self.query_one(LossPlot).toggle_batches()
        self._set_loss_title()

    def action_toggle_points(self) -> None:
        self.query_one(BoundaryView).toggle_points()
        self._boundary_titles()

    def action_toggle_test(self) -> None:
        self.query_one(BoundaryView).toggle_test()
        self._boundary_titles()

    def action_toggle_discrete(self) -> None:
        self.query_one(BoundaryView).toggle_discrete()
        self._boundary_titles()

    def action_toggle_draw(self) -> None:
        """Draw mode on or off (only for drawn data): see ``BoundaryView.start_drawing``."""
        view = self.query_one(BoundaryView)
        if view.drawing:
            view.stop_drawing()
        elif not self.session.drawing:
            self.notify("Drawing needs drawn data: open the draw preset (p), or set the "
                        "dataset to 'draw' and press r", title="Cannot draw", severity="warning")
            return
        else:
            view.start_drawing(lambda: (self.session.config.task,
                                        self.session.config.data.classes))
        self._boundary_titles()

    def on_boundary_view_draw_request(self, request: BoundaryView.DrawRequest) -> None:
        """Draw mode's changes go to the run, which applies them between two steps."""
        session = self.session
        try:
            if request.kind == "add":
                session.add_point(request.x, request.y, request.value)
            elif request.kind == "undo":
                session.undo_point()
            else:
                session.clear_points()
        except EngineError as exc:
            self.notify(str(exc), title="Not drawn", severity="warning", timeout=4)
            return
        if not session.running:
            self.app.redraw()

    def _boundary_titles(self) -> None:
        """The boundary pane's border: what draw mode draws, and the legend and toggles."""
        panes = self._panes()
        title, legend = panes.boundary.title(), panes.boundary.legend()
        if self._images is not None:
            title, legend = "Test images", SamplesView.legend()
        if panes.boundary_box.border_title != title:
            panes.boundary_box.border_title = title
        if panes.boundary_box.border_subtitle != legend:
            panes.boundary_box.border_subtitle = legend

    def _set_loss_title(self) -> None:
        plot = self.query_one(LossPlot)
        box = self.query_one("#loss-box")
        box.border_title = "Loss" + (" (log)" if plot.log_scale else "") + (
            " + batch" if plot.show_batches else "")
        box.border_subtitle = "l log · x axis · b batch"
