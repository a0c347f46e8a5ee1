"""The configuration pane's fields: which settings it shows (and when), and one row per
setting with its control, pending mark and refusal line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from engine.config import SECTIONS, Config, LayerSpec

from tui.format import config_value
from tui.widgets.choice import Choice, QuickChoice
from tui.widgets.toggles import Toggles

#: the input features as the toggles label them, in the engine's order (engine FEATURES)
FEATURE_OPTIONS = (("x1", "x1"), ("x2", "x2"), ("x1²", "x1^2"), ("x2²", "x2^2"),
                   ("x1·x2", "x1*x2"), ("sin x1", "sin(x1)"), ("sin x2", "sin(x2)"))


def rule_for(path: str):
    """The engine's Rule for a key path like 'training.lr' or 'model.layers[0].units'."""
    section, _, name = path.partition(".")
    if section == "model" and name.startswith("layers["):
        cls, name = LayerSpec, name.rsplit(".", 1)[1]
    else:
        cls = SECTIONS[section]
    for f in fields(cls):
        if f.name == name:
            return f.metadata.get("rule")
    return None


@dataclass(frozen=True)
class FieldSpec:
    """One editable setting: where it lives, its label, when it matters."""

    path: str
    label: str
    hint: str = ""
    relevant: Callable[[Config], bool] = lambda c: True
    quick: tuple = ()  #: values that ←/→ step through beside the typed field


def _opt(*names: str) -> Callable[[Config], bool]:
    return lambda c: c.training.optimizer in names


def _schedule(*names: str) -> Callable[[Config], bool]:
    return lambda c: c.training.lr_schedule in names


def _data(*names: str, invert: bool = False) -> Callable[[Config], bool]:
    return lambda c: (c.data.dataset in names) != invert


GROUPS: tuple[tuple[str, tuple[FieldSpec, ...]], ...] = (
    ("Model", (
        FieldSpec("model.output", "output"),
        FieldSpec("model.loss", "loss"),
        FieldSpec("model.init", "weight init"),
    )),
    ("Training (applies live)", (
        FieldSpec("training.optimizer", "optimizer"),
        FieldSpec("training.lr", "learning rate", "+/- ×3"),
        FieldSpec("training.lr_schedule", "lr schedule", "stepped once per epoch"),
        FieldSpec("training.lr_step_size", "lr step size", "epochs between decays",
                  relevant=_schedule("step")),
        FieldSpec("training.lr_gamma", "lr gamma", "factor per decay",
                  relevant=_schedule("step", "exponential")),
        FieldSpec("training.lr_t_max", "lr T_max", "epochs to the minimum",
                  relevant=_schedule("cosine")),
        FieldSpec("training.lr_eta_min", "lr minimum", relevant=_schedule("cosine")),
        FieldSpec("training.lr_warmup_start", "warm-up start", "factor at epoch 0",
                  relevant=_schedule("warmup")),
        FieldSpec("training.lr_warmup_end", "warm-up end", "factor after warm-up",
                  relevant=_schedule("warmup")),
        FieldSpec("training.lr_warmup_epochs", "warm-up epochs", relevant=_schedule("warmup")),
        FieldSpec("training.momentum", "momentum", relevant=_opt("sgd", "rmsprop")),
        FieldSpec("training.nesterov", "nesterov", relevant=_opt("sgd")),
        FieldSpec("training.alpha", "alpha", relevant=_opt("rmsprop")),
        FieldSpec("training.beta1", "beta1", relevant=_opt("adam")),
        FieldSpec("training.beta2", "beta2", relevant=_opt("adam")),
        FieldSpec("training.eps", "eps", relevant=_opt("rmsprop", "adam")),
        FieldSpec("training.weight_decay", "weight decay"),
        FieldSpec("training.batch_size", "batch size", "number or full; ‹› steps",
                  quick=(1, 4, 8, 16, 32, 64, 128, 256, 0)),
        FieldSpec("training.regularization", "regularization"),
        FieldSpec("training.reg_rate", "reg. rate",
                  relevant=lambda c: c.training.regularization != "none"),
        FieldSpec("training.epochs", "epochs", "stop after"),
        FieldSpec("training.seed", "weight seed", "used on reset"),
    )),
    ("Data (applies on reset)", (
        FieldSpec("data.dataset", "dataset"),
        FieldSpec("data.samples", "samples", relevant=_data("iris", "csv", "draw", invert=True)),
        FieldSpec("data.noise", "noise", "0 to 0.5; ‹› steps",
                  relevant=_data("iris", "csv", "draw", invert=True),
                  quick=tuple(round(0.05 * i, 2) for i in range(11))),
        FieldSpec("data.train_ratio", "train share", "above 0, up to 1; ‹› steps",
                  quick=tuple(round(0.1 * i, 1) for i in range(1, 10))),
        FieldSpec("data.classes", "classes", relevant=_data("spiral", "draw")),
        FieldSpec("data.features", "inputs", "←/→ move, space switches a feature on or off",
                  relevant=_data("iris", "csv", invert=True)),
        FieldSpec("data.path", "csv file", relevant=_data("csv", "draw")),
        FieldSpec("data.label", "label column", relevant=_data("csv")),
        FieldSpec("data.task", "task", relevant=_data("csv", "draw")),
        FieldSpec("data.seed", "data seed"),
    )),
)

SELECT_LABELS = {"": "auto"}


def field_text(path: str, value) -> str:
    """A value as its typed field shows it: ``config_value``, with batch size 0 as 'full'."""
    if path == "training.batch_size" and value == 0:
        return "full"
    return config_value(value)


def make_control(path: str, value) -> Widget:
    """A Choice for settings with a fixed set of values, else an Input."""
    if path == "data.features":
        return Toggles(FEATURE_OPTIONS, value, name=path, classes="control")
    rule = rule_for(path)
    if rule is not None and (rule.allowed or rule.kind == "bool"):
        allowed = rule.allowed if rule.allowed else ("true", "false")
        options = [(SELECT_LABELS.get(v, v), v) for v in allowed]
        current = config_value(value) if rule.kind == "bool" else value
        return Choice(options, current, name=path, classes="control")
    return Input(field_text(path, value), compact=True, name=path, classes="control",
                 select_on_focus=True)


def _quick_order(path: str) -> Callable[[object], float]:
    """How quick values rank: numbers by size, and batch size 0 ('full') above all."""
    if path == "training.batch_size":
        return lambda v: float("inf") if v == 0 else float(v)
    return float


def _quick_label(value) -> str:
    return "full" if value == 0 and not isinstance(value, float) else config_value(value)


class FieldRow(Horizontal):
    """A label and the control; the reason a value was refused goes on a line under it."""

    def __init__(self, spec: FieldSpec, value) -> None:
        super().__init__(classes="field")
        self.spec = spec
        self.value = value
        self.error = ""
        self._error_line: Static | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.spec.label, classes="field-label")
        if self.spec.quick:
            quick = QuickChoice([(config_value(v), v) for v in self.spec.quick], self.value,
                                order=_quick_order(self.spec.path), name=self.spec.path,
                                classes="quick")
            quick.tooltip = "←/→: " + ", ".join(_quick_label(v) for v in self.spec.quick)
            yield quick
        control = make_control(self.spec.path, self.value)
        if isinstance(control, Toggles):
            self.add_class("-tall")
        if self.spec.hint:
            control.tooltip = self.spec.hint
        yield control

    @property
    def control(self) -> Widget:
        return self.query_one(".control")

    def set_value(self, value) -> None:
        self.value = value
        for quick in self.query(QuickChoice):
            if quick.value != value:
                quick.set_reactive(QuickChoice.value, value)  # shown, not re-applied
                quick.refresh()
        control = self.control
        if isinstance(control, Toggles):
            control.set_value(value)
        elif isinstance(control, Choice):
            rule = rule_for(self.spec.path)
            v = config_value(value) if rule is not None and rule.kind == "bool" else value
            if control.value != v:
                control.value = v
        elif control.value != field_text(self.spec.path, value):
            control.value = field_text(self.spec.path, value)

    def set_pending(self, pending: bool) -> None:
        if pending != self.has_class("-pending"):
            self.set_class(pending, "-pending")
            self.query_one(".field-label", Label).update(
                ("*" if pending else "") + self.spec.label)

    def set_error(self, reason: str) -> None:
        text = f"✗ {reason}" if reason else ""
        if text == self.error:
            return
        self.error = text
        if self._error_line is not None:
            self._error_line.remove()
            self._error_line = None
        if text:  # the line exists only while there is something to say
            self._error_line = Static(text, classes="field-error -error", markup=False)
            self.parent.mount(self._error_line, after=self)
            self.call_after_refresh(self._error_line.scroll_visible, animate=False)

    def show(self, shown: bool) -> None:
        """Show or hide the row (and its error line) as the config makes it relevant."""
        if self.display != shown:
            self.display = shown
            if self._error_line is not None:
                self._error_line.display = shown
