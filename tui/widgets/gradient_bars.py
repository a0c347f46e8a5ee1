"""Per-layer gradient magnitude on a log scale, with dead and saturated unit shares.

Vanishing gradients span orders of magnitude, so the bar length is log10 of the
gradient norm of each layer's weights between ``LOG_LO`` and ``LOG_HI``. Every figure is
the snapshot's: measured on the last step before it (``engine.training.probe``), with the
flags of ``engine.training.health``; a figure not measured shows as ``–``.
"""

from __future__ import annotations

import math
import time

from rich.text import Text

from engine.training.health import flag_summary
from engine.training.snapshot import LayerStats

from tui.format import num
from tui.widgets.budget import Budget
from tui.widgets.lines import LinePane, text_strip

LOG_LO, LOG_HI = -8.0, 2.0  #: the bar spans 1e-8 .. 1e2
EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(value: float | None, width: int, ascii_only: bool = False) -> str:
    """A bar of ``width`` cells filled to log10(value) between LOG_LO and LOG_HI."""
    if width <= 0:
        return ""
    if value is None or not value > 0:
        return ("." if ascii_only else "·") * width
    frac = (math.log10(value) - LOG_LO) / (LOG_HI - LOG_LO) if math.isfinite(value) else 1.0
    frac = min(1.0, max(0.0, frac))
    if ascii_only:
        full = round(frac * width)
        return "#" * full + "." * (width - full)
    eighths = round(frac * width * 8)
    full, part = divmod(eighths, 8)
    out = "█" * full + (EIGHTHS[part] if part and full < width else "")
    return out + "·" * (width - len(out))


def unit_note(layer: LayerStats) -> str:
    """Dead share for ReLU, saturated share for sigmoid/tanh, blank otherwise."""
    if layer.activation == "relu":
        share, word = layer.dead_fraction, "dead"
    elif layer.activation in ("sigmoid", "tanh"):
        share, word = layer.saturated_fraction, "sat"
    else:
        return ""
    return f"{word} –" if share is None else f"{word} {share * 100:.0f}%"


class GradientBars(LinePane):
    """One line per layer: name, log-scale bar, |grad W|, dead/saturated share."""


    COMPONENT_CLASSES = {"gradient-bars--bar", "gradient-bars--warn", "gradient-bars--label",
                         "gradient-bars--dim"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.stats: tuple[LayerStats, ...] = ()
        self.flags: tuple[str, ...] = ()  #: per layer, from the snapshot
        self.plain = False
        self.budget = Budget(share=0.03, min_interval=0.25)  #: numbers at most 4 times a second
        self._pending = False
        #: the scale line did not fit (too many layers for the pane's height)
        self.scale_hidden = False

    def flagged(self) -> str:
        """The flagged layers in a few words, e.g. ``vanishing L1-L3`` ('' when none)."""
        return flag_summary(self.flags)

    def show(self, layers: tuple[LayerStats, ...], flags: tuple[str, ...],
             urgent: bool = True) -> bool:
        """Show these layer statistics and flags (a snapshot's); unless ``urgent``, within
        the redraw budget (a draw that has to wait is made by a later ``show``, in step
        with the frames). Returns whether it drew."""
        if layers == self.stats and flags == self.flags and not self._pending:
            return False
        resize = len(layers) != len(self.stats)
        self.stats, self.flags = layers, flags
        if resize:
            self.refresh(layout=True)
        if urgent or resize or self.budget.wait() <= 0:
            self.redraw()
            return True
        self._pending = True
        return False

    def redraw(self) -> None:
        self._pending = False
        width = self.size.width
        if width <= 0:
            return
        start = time.perf_counter()
        console, style = self.app.console, self.rich_style
        texts = self.text_lines(width)
        self.scale_hidden = 1 < self.size.height < len(texts)
        if self.scale_hidden:
            texts = texts[1:]  # too short for every layer: the layers before the scale line
        lines = [text_strip(t, width, console, style) for t in texts]
        self.budget.spent(time.perf_counter() - start)
        self.set_lines(lines)

    def on_resize(self) -> None:
        self.redraw()

    def warnings(self) -> list[str]:
        """Layer health words, one per layer ("ok" for all before any step)."""
        return list(self.flags) or ["ok"] * len(self.stats)

    def get_content_height(self, container, viewport, width: int) -> int:
        rows = max(1, len(self.stats)) + 1  # the scale line, then a row per layer
        if rows > container.height > 1:
            rows -= 1  # no room for every row: the scale line goes (see ``redraw``)
        return rows

    def text_lines(self, width: int) -> list[Text]:
        """The pane as one Text per row: a scale, then one row per layer."""
        out = Text(no_wrap=True, overflow="crop")
        wide = width >= 46
        longest = max((len(f"L{l.index + 1} {l.fan_in}→{l.fan_out} {l.activation}")
                       for l in self.stats), default=10)
        label_w = min(24, longest + 2) if wide else 12
        note_w = 10 if wide else 0
        num_w = 8
        bar_w = max(4, width - label_w - num_w - note_w - 1)
        dim = self.get_component_rich_style("gradient-bars--dim")
        warn_style = self.get_component_rich_style("gradient-bars--warn")
        states = self.warnings()
        out.append(f"{'|grad W|':<{label_w}}{'1e-8':<{max(1, bar_w - 3)}}1e2", dim)
        for layer, state in zip(self.stats, states):
            out.append("\n")
            warn = state != "ok"
            mark = {"ok": " ", "vanishing": "v" if self.plain else "▼",
                    "exploding": "^" if self.plain else "▲"}[state]
            if wide:
                label = f"{mark}L{layer.index + 1} {layer.fan_in}→{layer.fan_out} {layer.activation}"
            else:
                label = f"{mark}L{layer.index + 1} {layer.activation}"
            style = warn_style if warn else self.get_component_rich_style("gradient-bars--bar")
            out.append(f"{label[:label_w - 1]:<{label_w}}",
                       warn_style if warn else self.get_component_rich_style("gradient-bars--label"))
            out.append(bar(layer.grad_norm, bar_w, self.plain), style)
            out.append(f"{num(layer.grad_norm, 2):>{num_w}}", warn_style if warn else "")
            if note_w:
                out.append(f"{unit_note(layer):>{note_w}}", dim)
        return out.split("\n")
