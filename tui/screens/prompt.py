"""A one-line file path prompt for save, open and export."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class PathPrompt(ModalScreen[str | None]):
    """Asks for a path. ``attempt(path)`` does the work and returns an error line or None;
    on an error the prompt stays open with the reason shown under the field."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, default: str, attempt: Callable[[str], str | None],
                 hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.default = default
        self.attempt = attempt
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt"):
            yield Label(self.title_text, id="prompt-title")
            yield Input(self.default, id="prompt-path", select_on_focus=False)
            yield Static("", id="prompt-error", markup=False)
            yield Static(self.hint or "Enter to confirm, Esc to cancel", id="prompt-hint",
                         markup=False)

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        path = event.value.strip()
        if not path:
            self.query_one("#prompt-error", Static).update("✗ type a file name")
            return
        error = self.attempt(path)
        if error:
            self.query_one("#prompt-error", Static).update(f"✗ {error}")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
