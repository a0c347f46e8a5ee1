"""The loss landscape screen (k): the landscape panel full size (``tui.widgets.
landscape_panel``), with its keys: ``d`` the next kind of directions, ``c`` re-centre."""

from __future__ import annotations

import numpy as np
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from engine.analysis.landscape import Landscape
from engine.training.snapshot import Snapshot

from tui.session import Session
from tui.widgets.landscape import LandscapeView
from tui.widgets.landscape_panel import LandscapePanel


class LandscapeScreen(Screen):
    """The loss landscape of the run's slice, with its path."""

    CSS_PATH = "landscape.tcss"

    BINDINGS = [
        Binding("escape,k", "close", "Close"),
        Binding("d", "directions", "Directions"),
        Binding("c", "recentre", "Re-centre"),
    ]

    def __init__(self, session: Session, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.panel = LandscapePanel(session, id="landscape-panel")

    def compose(self) -> ComposeResult:
        yield self.panel
        yield Footer()

    # what the panel shows, for tests and callers
    @property
    def landscape(self) -> Landscape | None:
        return self.panel.landscape

    @property
    def computing(self) -> bool:
        return self.panel.computing

    @property
    def computed(self) -> int:
        return self.panel.computed

    @property
    def view(self) -> LandscapeView:
        return self.panel.view

    @property
    def error(self) -> str:
        return self.panel.error

    @property
    def shown(self) -> Snapshot | None:
        return self.panel.shown

    def path_points(self) -> np.ndarray | None:
        """The shown snapshot's path on the landscape's slice, (m, 2)."""
        return self.panel.path_points()

    def action_directions(self) -> None:
        self.panel.next_directions()

    def action_recentre(self) -> None:
        self.panel.recentre()

    def action_close(self) -> None:
        self.dismiss()
