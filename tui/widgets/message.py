"""The one line under a screen's fields: a hint, progress, or why a value was refused."""

from __future__ import annotations

from textual.widgets import Static


class MessageLine(Static):
    """A line of text; ``say(..., error=True)`` marks it ``✗`` and styles it ``-error``."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)

    def say(self, text: str, error: bool = False) -> None:
        self.update(("✗ " if error else "") + text)
        self.set_class(error, "-error")

    @property
    def text(self) -> str:
        """What the line says now."""
        return str(self.render())
