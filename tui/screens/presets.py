"""The preset picker: a list of bundled presets, each shown with its title and lesson."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from engine.errors import EngineError
from engine.presets import Preset, bundled_names, load_preset


def describe(preset: Preset) -> str:
    """A short summary of what a preset sets up."""
    c = preset.config
    layers = " → ".join(f"{l.units} {l.activation}" for l in c.model.layers) or "no hidden layer"
    return (f"data: {c.data.dataset} ({c.data.samples} samples, noise {c.data.noise:g})\n"
            f"network: {layers}\n"
            f"training: {c.training.optimizer}, lr {c.training.lr:g}, "
            f"batch {c.training.batch_size or 'full'}")


class PresetPicker(ModalScreen[Preset | None]):
    """Pick a bundled preset; Enter loads it, Escape keeps the current run."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Cancel"),
        Binding("enter", "load", "Load", show=True),
    ]

    def __init__(self, current: str | None = None) -> None:
        super().__init__()
        self.current = current
        self.presets: list[Preset] = []
        self.problems: list[str] = []
        for name in bundled_names():
            try:
                self.presets.append(load_preset(name))
            except EngineError as exc:  # a broken file should not hide the others
                self.problems.append(str(exc))

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("Presets: ↑↓ choose, Enter load, Esc cancel", id="picker-title")
            yield OptionList(*[Option(p.title, id=p.name) for p in self.presets],
                             id="preset-list")
            with VerticalScroll(id="preset-detail"):
                yield Static("", id="preset-lesson", markup=False)
                yield Static("", id="preset-summary", markup=False)
                if self.problems:
                    yield Static("\n".join(self.problems), id="preset-problems", markup=False)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [p.name for p in self.presets]
        options.highlighted = names.index(self.current) if self.current in names else 0
        options.focus()

    @property
    def highlighted(self) -> Preset | None:
        index = self.query_one(OptionList).highlighted
        return self.presets[index] if index is not None and self.presets else None

    @on(OptionList.OptionHighlighted)
    def _show(self) -> None:
        preset = self.highlighted
        if preset is not None:
            self.query_one("#preset-lesson", Static).update(f"{preset.title}\n\n{preset.lesson}")
            self.query_one("#preset-summary", Static).update(describe(preset))

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.action_load()

    def action_load(self) -> None:
        self.dismiss(self.highlighted)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
