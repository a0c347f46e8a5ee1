"""Line-level redraws: a pane that changed in three rows sends three rows, not all.

Over SSH the bytes per frame matter more than anything else. Textual repaints a whole
widget on ``refresh()``; ``refresh(region)`` repaints part of it. ``LinePane`` keeps the
strips it drew last and marks only the rows whose strips differ.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget


def text_strip(text: Text, width: int, console, style: Style,
               pad: Style | None = None) -> Strip:
    """One line of rich Text as a Strip exactly ``width`` cells wide, on ``style``; the
    cells after the text take ``pad`` (default ``style``)."""
    strip = Strip(list(text.render(console, end="")))
    return strip.apply_style(style).adjust_cell_length(width, style if pad is None else pad).simplify()


class LinePane(Widget):
    """A widget drawn as a list of strips (one per row), refreshed row by row."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._lines: list[Strip] = []
        self._lines_size = None

    def set_lines(self, lines: list[Strip], regions: list[Region] | None = None) -> int:
        """Show these rows; returns how many regions were marked for repaint.

        ``regions`` (parts of rows known to differ) may narrow it further than rows."""
        old, size = self._lines, self.size
        self._lines = lines
        if self._lines_size != size or len(old) != len(lines):
            self._lines_size = size
            self.refresh()
            return len(lines)
        if regions is not None:
            if regions:
                self.refresh(*regions)
            return len(regions)
        width = size.width
        changed = [Region(0, y, width, 1) for y, (a, b) in enumerate(zip(old, lines)) if a != b]
        if changed:
            self.refresh(*changed)
        return len(changed)

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width, self.rich_style)
