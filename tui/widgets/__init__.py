"""The panes of the main screen, one module each."""

from tui.widgets.boundary import BoundaryView
from tui.widgets.config import ConfigPane
from tui.widgets.gradient_bars import GradientBars
from tui.widgets.loss_plot import LossPlot
from tui.widgets.status import StatusLine

__all__ = ["BoundaryView", "ConfigPane", "GradientBars", "LossPlot", "StatusLine"]
