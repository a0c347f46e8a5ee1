"""A row of on/off toggles, one per option: ``■x1 ■x2 □x1² □x2² …``.

←/→ move between the options, space flips the one under the cursor, and a click flips the
one clicked. Like ``Choice`` it is one light widget rather than a checkbox per option, so
the configuration pane mounts quickly. Its value is the tuple of options switched on, in
the options' own order.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

ON, OFF = "■", "□"


class Toggles(Widget, can_focus=True):
    """Options each switched on or off; see the module docstring."""

    BINDINGS = [
        Binding("right", "move(1)", "Next", show=False),
        Binding("left", "move(-1)", "Previous", show=False),
        Binding("space", "flip", "On/off", show=False),
    ]

    value: reactive[tuple] = reactive((), init=False)
    cursor: reactive[int] = reactive(0)

    class Changed(Message):
        """The options switched on changed (by the user or by code)."""

        def __init__(self, toggles: Toggles, value: tuple) -> None:
            super().__init__()
            self.toggles = toggles
            self.value = value

        @property
        def control(self) -> Toggles:
            return self.toggles

    def __init__(self, options: Sequence[tuple[str, str]], value: Sequence[str], *,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        """``options``: (label, value) pairs in display order; ``value``: those on."""
        super().__init__(name=name, id=id, classes=classes)
        self.options = list(options)
        self.set_reactive(Toggles.value, self._ordered(value))

    @property
    def values(self) -> list[str]:
        return [v for _, v in self.options]

    def _ordered(self, chosen: Sequence[str]) -> tuple:
        chosen = set(chosen)
        return tuple(v for v in self.values if v in chosen)

    def is_on(self, value: str) -> bool:
        return value in self.value

    def _pieces(self) -> list[tuple[int, str]]:
        """(index, text) of each option as drawn, e.g. (2, "□x1²")."""
        return [(i, (ON if v in self.value else OFF) + label)
                for i, (label, v) in enumerate(self.options)]

    def _lines(self, width: int) -> list[list[tuple[int, str]]]:
        """The pieces wrapped into lines of at most ``width`` cells."""
        lines: list[list[tuple[int, str]]] = [[]]
        used = 0
        for piece in self._pieces():
            size = len(piece[1]) + (1 if lines[-1] else 0)
            if lines[-1] and used + size > width:
                lines.append([])
                used, size = 0, len(piece[1])
            lines[-1].append(piece)
            used += size
        return lines

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._lines(max(1, width)))

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        focused = self.has_focus
        for n, line in enumerate(self._lines(max(1, self.size.width or 80))):
            if n:
                text.append("\n")
            for k, (i, piece) in enumerate(line):
                if k:
                    text.append(" ")
                on = self.values[i] in self.value
                style = "bold" if on else "dim"
                if focused and i == self.cursor:
                    style += " reverse"
                text.append(piece, style=style)
        return text

    def watch_value(self) -> None:
        self.refresh(layout=True)
        self.post_message(self.Changed(self, self.value))

    def action_move(self, by: int) -> None:
        self.cursor = (self.cursor + by) % len(self.options)

    def action_flip(self) -> None:
        self.flip(self.values[self.cursor])

    def flip(self, value: str) -> None:
        """Switch one option on or off."""
        chosen = set(self.value) ^ {value}
        self.value = self._ordered(chosen)

    def set_value(self, value: Sequence[str]) -> None:
        """Show ``value`` (the options on), e.g. after a refusal put the old one back."""
        ordered = self._ordered(value)
        if ordered != self.value:
            self.value = ordered

    def _at(self, x: int, y: int) -> int | None:
        lines = self._lines(max(1, self.size.width))
        if not 0 <= y < len(lines):
            return None
        column = 0
        for k, (i, piece) in enumerate(lines[y]):
            column += 1 if k else 0
            if column <= x < column + len(piece):
                return i
            column += len(piece)
        return None

    def _on_click(self, event: events.Click) -> None:
        self.focus()
        index = self._at(event.x, event.y)
        if index is not None:
            self.cursor = index
            self.flip(self.values[index])

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
