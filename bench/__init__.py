"""``backprop-lab bench``: the engine against PyTorch, then what the app costs training.

``bench.engine`` times training steps (in pinned worker processes, with an optional
PyTorch reference); ``bench.app`` measures the app's overhead, frame rate and terminal
traffic. Figures are ratios against references measured in the same run.
"""

from .app import main

__all__ = ["main"]
