"""A redraw budget for the expensive panes (plot, boundary).

Each such pane may spend at most ``share`` of the UI thread's time on drawing: after a
draw that took ``c`` seconds, the next one waits at least ``c / share`` seconds (and at
least ``min_interval``). The UI thread shares the interpreter with the training thread,
so every millisecond saved here is a millisecond of training.
"""

from __future__ import annotations

import time


class Budget:
    def __init__(self, share: float = 0.08, min_interval: float = 0.0) -> None:
        self.share = share
        self.min_interval = min_interval
        self.cost = 0.0  #: smoothed seconds per draw
        self.last = -1e9  #: when the last draw ended

    def wait(self, now: float | None = None) -> float:
        """Seconds until the next draw is allowed (0 when it may happen now)."""
        now = time.perf_counter() if now is None else now
        return max(0.0, self.last + max(self.min_interval, self.cost / self.share) - now)

    def spent(self, seconds: float) -> None:
        self.cost = seconds if self.cost == 0 else 0.7 * self.cost + 0.3 * seconds
        self.last = time.perf_counter()
