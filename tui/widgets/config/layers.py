"""The configuration pane's hidden-layer rows: width, activation, move and remove."""

from __future__ import annotations


from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Label

from engine.config import LayerSpec


from tui.widgets.config.fields import make_control

MAX_LAYERS = 32


class LayerRow(Horizontal):
    """One hidden layer: width, activation, and buttons to move or remove it."""

    def __init__(self, index: int, spec: LayerSpec) -> None:
        super().__init__(classes="layer-row")
        self.index = index
        self.spec = spec

    def compose(self) -> ComposeResult:
        i = self.index
        yield Label(f"L{i + 1}", classes="layer-label")
        yield make_control(f"model.layers[{i}].units", self.spec.units)
        yield make_control(f"model.layers[{i}].activation", self.spec.activation)
        yield Button("↑", name=f"up:{i}", classes="layer-button", compact=True, tooltip="move up")
        yield Button("↓", name=f"down:{i}", classes="layer-button", compact=True,
                     tooltip="move down")
        yield Button("✕", name=f"remove:{i}", classes="layer-button", compact=True,
                     tooltip="remove this layer")
