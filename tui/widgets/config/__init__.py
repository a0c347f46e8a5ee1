"""The configuration pane: fields, layer rows, and the pane that holds the draft config."""

from tui.widgets.config.pane import ConfigPane

__all__ = ["ConfigPane"]
