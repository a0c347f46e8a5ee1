"""The panes of the main screen, one module each."""

from .boundary import BoundaryView
from .config_pane import ConfigPane
from .gradient_bars import GradientBars
from .loss_plot import LossPlot
from .status import StatusLine

__all__ = ["BoundaryView", "ConfigPane", "GradientBars", "LossPlot", "StatusLine"]
