"""The configuration pane: every setting of the run, edited in place.

The pane keeps a *draft* config. Each edit goes through ``Config.with_value`` (the
engine's own validation): a refused value leaves the draft unchanged, puts the old
value back in the field and shows the reason under it. An accepted value replaces the
draft and posts ``ConfigPane.Changed``; the app decides what applies live (training
settings) and what waits for a reset (data and model: marked pending here).

Its length is the pane's edit handling: each kind of control commits, refuses and restores
in its own way.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from engine.config import Config, LayerSpec
from engine.errors import ConfigError

from tui.format import config_value
from tui.widgets.choice import Choice
from tui.widgets.toggles import Toggles

from tui.widgets.config.fields import GROUPS, FieldRow, field_text, rule_for
from tui.widgets.config.layers import MAX_LAYERS, LayerRow


class ConfigPane(VerticalScroll):
    """Edits a draft config; see the module docstring."""

    BINDINGS = [Binding("escape", "leave", "Leave pane", show=False,
                        tooltip="Leave the config fields: keys go back to training")]

    class Changed(Message):
        """The draft config changed (``path`` is the key that changed, or 'model.layers')."""

        def __init__(self, config: Config, path: str) -> None:
            super().__init__()
            self.config = config
            self.path = path

    def __init__(self, config: Config, *, title: str = "", lesson: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.draft = config
        self.applied = config
        self.preset_title = title
        self.lesson = lesson
        self._rows: dict[str, FieldRow] = {}
        self._populating: asyncio.Future | None = None
        self._layer_errors: dict[str, str] = {}

    # ----- building ------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(self.preset_title, id="preset-title", markup=False)
        yield Static(self.lesson, id="lesson", markup=False)
        yield Static("", id="pending-note", markup=False)
        yield Vertical(id="fields")

    @property
    def populated(self) -> bool:
        return bool(self._rows)

    async def populate(self) -> None:
        """Build the fields (about 300 widgets), the first time the pane is needed.

        Kept out of the first frame so that the app opens at once on a narrow terminal,
        where the pane starts hidden."""
        if self._rows:
            return
        if self._populating is None:
            self._populating = asyncio.ensure_future(self._build_fields())
        await asyncio.shield(self._populating)

    async def _build_fields(self) -> None:
        widgets: list[Widget] = [
            Static("Hidden layers (applies on reset)", classes="group-title"),
            Horizontal(
                Label("all", classes="layer-label"),
                Input(placeholder="width", compact=True, classes="all-control",
                      name="all.units", id="all-units"),
                Choice([("set every layer…", None)]
                       + [(a, a) for a in rule_for("model.layers[0].activation").allowed],
                       None, classes="all-control", name="all.activation",
                       id="all-activation"),
                classes="layer-row", id="all-layers"),
            Vertical(*self._layer_rows(), id="layers"),
            Static("", id="layer-error", classes="field-error", markup=False),
            Button("+ add layer", id="add-layer", compact=True),
        ]
        rows = {}
        for title, specs in GROUPS:
            widgets.append(Static(title, classes="group-title"))
            for spec in specs:
                row = rows[spec.path] = FieldRow(spec, self.draft.get(spec.path))
                row.display = spec.relevant(self.draft)
                widgets.append(row)
        await self.query_one("#fields", Vertical).mount_all(widgets)
        self._rows = rows
        self._update_visibility()
        self._update_pending()

    def on_mount(self) -> None:
        self._update_pending()

    def _layer_rows(self) -> list[LayerRow]:
        return [LayerRow(i, spec) for i, spec in enumerate(self.draft.model.layers)]

    async def _rebuild_layers(self) -> None:
        if not self.populated:
            return
        box = self.query_one("#layers", Vertical)
        focused = self.screen.focused
        kept = focused.name if focused is not None and box in focused.ancestors else None
        await box.remove_children()
        await box.mount_all(self._layer_rows())
        add = self.query_one("#add-layer", Button)
        add.disabled = len(self.draft.model.layers) >= MAX_LAYERS
        if kept is not None:
            self._refocus_layer(kept, add)

    def _refocus_layer(self, name: str, add: Button) -> None:
        """Keep the keyboard in the layer list after its rows were rebuilt.

        Without this, focus falls back to the control before the list, the "all layers"
        choice. It goes to the control called ``name`` (after a delete: the width field of
        the layer now in that place, where enter changes nothing), else that control on
        the last layer, else the add button."""
        what, _, index = name.partition(":")
        if what == "remove":
            name = f"model.layers[{index}].units"
        controls = [w for w in self.query_one("#layers", Vertical).query("*")
                    if w.can_focus and w.name]
        same = [w for w in controls if w.name == name] or \
               [w for w in controls if _control_kind(w.name) == _control_kind(name)][-1:]
        target = same[0] if same else (None if add.disabled else add)
        self.screen.set_focus(target)

    # ----- what the app calls --------------------------------------------------------
    async def load(self, config: Config, *, title: str | None = None,
                   lesson: str | None = None) -> None:
        """Show a new config (a preset was loaded, or a reset applied the draft)."""
        old_layers = self.draft.model.layers
        self.draft = self.applied = config
        if title is not None:
            self.preset_title = title
            self.query_one("#preset-title", Static).update(title)
        if lesson is not None:
            self.lesson = lesson
            self.query_one("#lesson", Static).update(lesson)
        for path, row in self._rows.items():
            row.set_value(config.get(path))
            row.set_error("")
        if old_layers != config.model.layers:
            await self._rebuild_layers()
        self._update_visibility()
        self._update_pending()

    def set_applied(self, config: Config) -> None:
        """The config the trainer now uses; fields that differ are marked pending."""
        self.applied = config
        self._update_pending()

    def set_value(self, path: str, value) -> None:
        """Put a value the app changed (e.g. the learning rate by +/-) into the draft."""
        self.draft = self.draft.with_value(path, value)
        if path in self._rows:
            self._rows[path].set_value(self.draft.get(path))
            self._rows[path].set_error("")

    @property
    def pending(self) -> bool:
        """True when the draft needs new weights that the trainer does not have yet."""
        return self.applied.needs_new_weights(self.draft)

    def row(self, path: str) -> FieldRow:
        return self._rows[path]

    def error_for(self, path: str) -> str:
        """The refusal shown next to a field ('' when none); for tests and the app."""
        if path in self._rows:
            return self._rows[path].error
        return self._layer_errors.get(path, "")

    # ----- editing -------------------------------------------------------------------
    def commit(self, path: str, raw) -> bool:
        """Try one edit; returns True when the draft changed."""
        old = self.draft.get(path)
        if raw == old or (isinstance(raw, str) and raw.strip() == field_text(path, old)):
            return False  # unchanged (or the old value put back after a refusal)
        try:
            new = self.draft.with_value(path, raw)
        except ConfigError as exc:
            reason = exc.reason if exc.path in (None, path) else f"{exc.path}: {exc.reason}"
            self._set_error(path, f"{reason}; kept {field_text(path, old)}")
            self._restore(path, old)
            return False
        self._set_error(path, "")
        self.draft = new
        if path in self._rows:  # a quick stepper beside a typed field follows it
            self._rows[path].set_value(new.get(path))
        self._update_visibility()
        self._update_pending()
        self.post_message(self.Changed(new, path))
        return True

    async def edit_layers(self, layers: list[LayerSpec], what: str) -> bool:
        try:
            new = self.draft.with_layers(layers)
        except ConfigError as exc:
            self.app.notify(exc.reason, title=f"cannot {what}", severity="error")
            return False
        self.draft = new
        await self._rebuild_layers()
        self._update_pending()
        self.post_message(self.Changed(new, "model.layers"))
        return True

    def _restore(self, path: str, value) -> None:
        if path in self._rows:
            self._rows[path].set_value(value)
            return
        for control in self.query(".control"):
            if control.name == path:
                if isinstance(control, Input):
                    control.value = field_text(path, value)
                elif control.value != value:
                    control.value = value

    def _set_error(self, path: str, reason: str) -> None:
        if path in self._rows:
            self._rows[path].set_error(reason)
            return
        if reason:
            self._layer_errors = {path: reason}
        else:
            self._layer_errors.pop(path, None)
        if not self.populated:
            return
        error = self.query_one("#layer-error", Static)
        shown = next(iter(self._layer_errors.items()), None)
        error.update(f"✗ L{_layer_number(shown[0])}: {shown[1]}" if shown else "")
        error.set_class(bool(shown), "-error")

    def _update_visibility(self) -> None:
        for row in self._rows.values():
            row.show(row.spec.relevant(self.draft))

    def _update_pending(self) -> None:
        for path, row in self._rows.items():
            row.set_pending(self.draft.get(path) != self.applied.get(path))
        for row in self.query(LayerRow):
            applied = self.applied.model.layers
            row.set_class(row.index >= len(applied) or applied[row.index] != row.spec, "-pending")
        note = self.query_one("#pending-note", Static)
        if self.pending:
            note.update("✱ pending changes: r resets the weights with them")
            note.display = True
        else:
            note.update("")
            note.display = False

    # ----- events ----------------------------------------------------------------------
    @on(Input.Submitted, ".control")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.commit(event.input.name, event.value)

    @on(Input.Blurred, ".control")
    def _blurred(self, event: Input.Blurred) -> None:
        self.commit(event.input.name, event.value)

    @on(Choice.Changed, ".control")
    def _selected(self, event: Choice.Changed) -> None:
        event.stop()
        self.commit(event.choice.name, event.value)

    @on(Choice.Changed, ".quick")
    def _stepped(self, event: Choice.Changed) -> None:
        """A quick value beside a typed field: applied, and shown in the field."""
        event.stop()
        path = event.choice.name
        if self.commit(path, event.value) and path in self._rows:
            self._rows[path].set_value(self.draft.get(path))

    @on(Toggles.Changed, ".control")
    def _toggled(self, event: Toggles.Changed) -> None:
        event.stop()
        path = event.toggles.name
        if not event.value:  # said in the toggles' own terms, not as a refused list
            old = self.draft.get(path)
            self._set_error(path, f"keep at least one input on; kept {config_value(old)}")
            self._restore(path, old)
            return
        self.commit(path, event.value)

    @on(Input.Submitted, ".all-control")
    async def _all_units(self, event: Input.Submitted) -> None:
        event.stop()
        await self._set_all("units", event.value.strip(), event.input)

    @on(Choice.Changed, ".all-control")
    async def _all_activation(self, event: Choice.Changed) -> None:
        event.stop()
        if event.value is not None:
            await self._set_all("activation", event.value, event.choice)

    async def _set_all(self, key: str, value, control) -> None:
        """Give every hidden layer the same width or activation."""
        if value == "" or not self.draft.model.layers:
            return
        path = f"model.layers[0].{key}"
        try:
            spec = self.draft.with_value(path, value).model.layers[0]
        except ConfigError as exc:
            self._set_error(path, exc.reason)
            return
        layers = [replace(l, **{key: getattr(spec, key)}) for l in self.draft.model.layers]
        self._layer_errors.clear()
        self._set_error(path, "")
        if await self.edit_layers(layers, f"set every layer's {key}"):
            control.value = "" if isinstance(control, Input) else None

    @on(Button.Pressed, "#add-layer")
    async def _add_layer(self, event: Button.Pressed) -> None:
        event.stop()
        layers = list(self.draft.model.layers)
        layers.append(layers[-1] if layers else LayerSpec(8, "tanh"))
        await self.edit_layers(layers, "add a layer")

    @on(Button.Pressed, ".layer-button")
    async def _layer_button(self, event: Button.Pressed) -> None:
        event.stop()
        what, _, index = (event.button.name or "").partition(":")
        i = int(index)
        layers = list(self.draft.model.layers)
        if what == "remove":
            del layers[i]
        elif what == "up" and i > 0:
            layers[i - 1], layers[i] = layers[i], layers[i - 1]
        elif what == "down" and i < len(layers) - 1:
            layers[i + 1], layers[i] = layers[i], layers[i + 1]
        else:
            return
        if await self.edit_layers(layers, f"{what} layer {i + 1}"):
            target = {"up": i - 1, "down": i + 1}.get(what)
            if target is not None:  # keep the keyboard on the layer that moved
                buttons = self.query(".layer-button")
                for b in buttons:
                    if b.name == f"{what}:{target}":
                        b.focus()

    def action_leave(self) -> None:
        """Give the keyboard back to the training keys."""
        self.screen.set_focus(None)


def _control_kind(name: str) -> str:
    """A layer control's name without its layer index: 'remove:2' -> 'remove:#'."""
    return re.sub(r"\d+", "#", name)


def _layer_number(path: str) -> int:
    return int(path.split("[", 1)[1].split("]", 1)[0]) + 1
