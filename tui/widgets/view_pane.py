"""The wide layout's view pane: the network graph or the loss landscape, live, beside the
decision boundary.

It shows one view at a time (``y`` steps network → landscape → hidden on the main
screen). The network graph here is for watching: no cursor follows the mouse and it takes
no keys (``g`` opens it full size, where the cursor, the big map and editing live). The
landscape panel is built only while it is shown, since each new grid it lays costs a
thread's work (``k`` opens it full size, with its keys).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container

from engine.training.snapshot import Snapshot

from tui.session import Session
from tui.widgets.landscape_panel import LandscapePanel
from tui.widgets.network import NetworkGraph

MODES = ("network", "landscape")
TITLES = {"network": "Network", "landscape": "Loss landscape"}
SUBTITLES = {"network": "y next · g explore, edit", "landscape": "y next · k full size"}
NETWORK_INTERVAL = 0.5  #: seconds between network states for the pane, while a run goes
MAP_RESOLUTION = 16  #: the pane's maps are small: a coarse grid is as good and cheaper


class ViewPane(Container):
    """One live view of the run (see the module docstring)."""

    def __init__(self, session: Session, *, plain: bool = False, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.session = session
        self.plain = plain
        self.mode = MODES[0]
        self.active = False  #: on screen (the trainer makes network states only then)

    def compose(self) -> ComposeResult:
        graph = NetworkGraph(id="view-network")
        graph.can_focus = False  # the keys stay with training (and drawing) here
        graph.follow_mouse = False
        graph.set_plain(self.plain)
        yield graph

    @property
    def graph(self) -> NetworkGraph:
        return self.query_one(NetworkGraph)

    @property
    def landscape(self) -> LandscapePanel | None:
        found = self.query(LandscapePanel)
        return found.first() if found else None

    def on_mount(self) -> None:
        self.app.snapshot_signal.subscribe(self, self.show)
        self._titles()

    def _titles(self) -> None:
        self.border_title = TITLES[self.mode]
        self.border_subtitle = SUBTITLES[self.mode]

    # ----- what the main screen calls ----------------------------------------------------
    async def set_active(self, active: bool) -> None:
        """The pane came on screen (or left it): ask for what its view needs, or stop."""
        if active == self.active:
            return
        self.active = active
        await self._follow()

    async def set_mode(self, mode: str) -> None:
        """Show ``mode`` ("network" or "landscape")."""
        self.mode = mode
        self._titles()
        await self._follow()

    async def use_session(self, session: Session) -> None:
        """Follow a different run (a preset or checkpoint was opened)."""
        self.session = session
        panel = self.landscape
        if panel is not None:
            panel.use_session(session)
        await self._follow()

    def show(self, snap: Snapshot | None) -> None:
        if self.active and self.mode == "network" and snap is not None:
            self.graph.show(snap)

    # ----- inside ------------------------------------------------------------------------
    async def _follow(self) -> None:
        network = self.active and self.mode == "network"
        landscape = self.active and self.mode == "landscape"
        self.graph.display = network
        # only what this pane asked is taken back: the g screen restores its own on close
        if network:
            wanted = self.session.network_wanted
            if wanted is None or wanted[0] > NETWORK_INTERVAL:
                self.session.want_network(NETWORK_INTERVAL, MAP_RESOLUTION)
            self.graph.show(self.session.refresh())
        elif self.session.network_wanted == (NETWORK_INTERVAL, MAP_RESOLUTION):
            self.session.want_network(None)
        panel = self.landscape
        if landscape and panel is None:
            await self.mount(LandscapePanel(self.session, compact=True, id="view-landscape"))
        elif not landscape and panel is not None:
            await panel.remove()
