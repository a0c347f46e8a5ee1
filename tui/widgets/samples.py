"""Sample images with the network's guess and the true class, for data that is images.

The 2-D boundary cannot show 64 inputs; for image data (``Snapshot.samples``) its pane
shows this grid instead: a fixed set of test images, each drawn in half blocks (plain
mode: threshold blocks) over its label ``guess→true``, e.g. ``7→7``, or ``3→8 ✗`` when the
guess is wrong. The guesses are the engine's, made for the snapshot's step.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual.widget import Widget

from engine.training.snapshot import Samples

from tui.widgets.pixels import ink_blocks, ink_lines

GAP = 1  #: columns between two images
WRONG = "✗"  #: after the label of a wrong guess


class SamplesView(Widget):
    """A grid of the snapshot's sample images, each with ``guess→true``."""

    COMPONENT_CLASSES = {"samples-view--dim", "samples-view--right", "samples-view--wrong"}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.samples: Samples | None = None
        self.plain = False

    def set_plain(self, plain: bool) -> None:
        if plain != self.plain:
            self.plain = plain
            self.refresh()

    def show(self, samples: Samples | None) -> bool:
        """New samples (a snapshot's); redraws only when the guesses or images changed.
        Returns whether it will redraw."""
        old = self.samples
        if (old is not None and samples is not None and old.images is samples.images
                and np.array_equal(old.predicted, samples.predicted)):
            self.samples = samples
            return False
        self.samples = samples
        self.refresh()
        return True

    @staticmethod
    def legend() -> str:
        return f"guess→true · {WRONG} wrong"

    # ----- layout ----------------------------------------------------------------------
    def grid(self, width: int | None = None, height: int | None = None) -> tuple[int, int]:
        """(images a row, rows of images) that fit in ``width`` × ``height`` cells
        (default: the widget's size), one line kept for the header."""
        s = self.samples
        if s is None:
            return 0, 0
        width = self.content_size.width if width is None else width
        height = self.content_size.height if height is None else height
        tile_w, tile_h = s.shape[1], (s.shape[0] + 1) // 2 + 1
        per_row = max(1, (width + GAP) // (tile_w + GAP))
        rows = max(0, (height - 1) // tile_h)
        return per_row, rows

    def shown(self, width: int | None = None, height: int | None = None) -> list[int]:
        """Indices into ``samples`` of the images drawn, in reading order."""
        per_row, rows = self.grid(width, height)
        n = 0 if self.samples is None else len(self.samples.rows)
        return list(range(min(n, per_row * rows)))

    def label(self, i: int) -> tuple[str, bool]:
        """The label of sample ``i``, ``guess→true`` (``✗`` added when wrong), and
        whether the guess is wrong."""
        s = self.samples
        guess, true = int(s.predicted[i]), int(s.true[i])
        name = (lambda k: s.class_names[k] if k < len(s.class_names) else str(k))
        wrong = guess != true
        return f"{name(guess)}→{name(true)}" + (f" {WRONG}" if wrong else ""), wrong

    # ----- drawing ---------------------------------------------------------------------
    def render(self) -> Text:
        s = self.samples
        dim = self.get_component_rich_style("samples-view--dim")
        if s is None or not len(s.rows):
            return Text("no sample images", dim)
        width = self.content_size.width
        shown = self.shown()
        right = sum(not self.label(i)[1] for i in shown)
        out = Text(no_wrap=True, overflow="crop")
        out.append(f"{right} of {len(shown)} {s.split} images right"[:width], dim)
        if not shown:
            return out
        per_row, _ = self.grid()
        styles = {False: self.get_component_rich_style("samples-view--right"),
                  True: self.get_component_rich_style("samples-view--wrong")}
        tile_w, gap = s.shape[1], " " * GAP
        for start in range(0, len(shown), per_row):
            row = shown[start:start + per_row]
            pictures = [ink_blocks(s.images[i], s.shape) if self.plain
                        else ink_lines(s.images[i], s.shape, plain=False) for i in row]
            for r in range(len(pictures[0])):
                out.append("\n")
                out.append_text(Text(gap).join(p[r] for p in pictures))
            out.append("\n")
            for k, i in enumerate(row):
                text, wrong = self.label(i)
                out.append((gap if k else "") + f"{text:<{tile_w}}"[:tile_w], styles[wrong])
        return out
