"""A one-line choice among a few values: ``‹ tanh ›``, changed with ←/→ (or a click).

A light stand-in for ``Select``: one widget instead of six, so a pane with thirty of
them mounts and restyles quickly, which matters on a slow machine or link.

Enter does not change a choice: in the configuration pane enter means "apply", and a
choice applies as soon as it changes, so there enter has nothing left to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class Choice(Widget, can_focus=True):
    """Shows the current option; left/right (or a click) pick another."""


    BINDINGS = [
        Binding("right", "move(1)", "Next", show=False),
        Binding("left", "move(-1)", "Previous", show=False),
    ]

    value: reactive[object] = reactive(None, init=False)

    class Changed(Message):
        """The value changed (by the user or by code)."""

        def __init__(self, choice: Choice, value) -> None:
            super().__init__()
            self.choice = choice
            self.value = value

        @property
        def control(self) -> Choice:
            return self.choice

    def __init__(self, options: Sequence[tuple[str, object]], value, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.options = list(options)
        self.set_reactive(Choice.value, value)

    @property
    def values(self) -> list:
        return [v for _, v in self.options]

    def label(self) -> str:
        for text, v in self.options:
            if v == self.value:
                return text
        return str(self.value)

    def render(self) -> Text:
        return Text.assemble(("‹ ", "dim"), self.label(), (" ›", "dim"),
                             no_wrap=True, overflow="ellipsis")

    def watch_value(self) -> None:
        self.post_message(self.Changed(self, self.value))

    def action_move(self, by: int) -> None:
        values = self.values
        index = values.index(self.value) if self.value in values else -by
        self.value = values[(index + by) % len(values)]

    def _on_click(self, event: events.Click) -> None:
        self.focus()
        self.action_move(-1 if event.x < 2 else 1)


class QuickChoice(Choice):
    """A two-character stepper, ``‹›``, beside a typed field: ←/→ (or a click on either
    half) move the value to the next quick value below or above it, in ``order``.

    The typed field beside it shows the value; a value typed in between two quick values
    steps to its neighbours."""

    def __init__(self, options: Sequence[tuple[str, object]], value, *, order=None,
                 name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(options, value, name=name, id=id, classes=classes)
        self.order = order or (lambda v: v)  #: maps a value to a number for "above/below"

    def render(self) -> Text:
        return Text("‹›", style="bold" if self.has_focus else "dim", no_wrap=True)

    def action_move(self, by: int) -> None:
        here = self.order(self.value)
        keys = [self.order(v) for v in self.values]
        ahead = [i for i, k in enumerate(keys) if (k > here if by > 0 else k < here)]
        if ahead:
            self.value = self.values[ahead[0] if by > 0 else ahead[-1]]

    def _on_click(self, event: events.Click) -> None:
        self.focus()
        self.action_move(-1 if event.x < 1 else 1)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
