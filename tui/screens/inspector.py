"""The backprop inspector: one training step laid open, number by number.

Pick a training sample (a one-sample step) or the trainer's next mini-batch and walk
through the layers: forward (x, z = xW + b, a = f(z)), the loss and the output error,
δ = (δ_next · Wᵀ) ⊙ f′(z) with both factors, ∂L/∂W = a_prevᵀ δ, ∂L/∂b and the update
the optimizer will apply with the state that shaped it. ``a`` applies exactly that
step and shows the loss before and after.

Every number comes from ``engine.analysis.explain`` (the engine's own pass and the optimizer's
own step on copies); this module only lays them out.

Its length is one screen and its layer view: the text of each stage of a step.
"""

from __future__ import annotations

import numpy as np
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from engine.analysis import explain as ex
from engine.errors import EngineError

from tui.format import plain_characters
from tui.session import Session
from tui.widgets.pixels import ink_lines
from tui.widgets.weights import WeightsView

NUM_W = 7  #: characters per number
LABEL_W = 18  #: label column when labels sit beside the numbers


def short(v: float) -> str:
    """A number in at most 7 characters (8 for exponents beyond ±9): ``-0.0123``, ``-1.2e-5``."""
    v = float(v)
    if v == 0:
        return "0"
    if not np.isfinite(v):
        return str(v)
    a = abs(v)
    if 1e-2 <= a < 1e3:
        return f"{v:.3g}"
    mant, exp = f"{v:.1e}".split("e")
    return f"{mant}e{int(exp)}"


class LayerView(Widget):
    """Lines of labelled numbers; as wide as its longest line (the container scrolls)."""


    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[Text] = []

    def set_lines(self, lines: list[Text]) -> None:
        self.lines = lines
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.lines))

    def get_content_width(self, container, viewport) -> int:
        return max((l.cell_len for l in self.lines), default=1)

    def render(self) -> Text:
        return Text("\n").join(self.lines) if self.lines else Text("")


class InspectorScreen(Screen):
    """Inspect one training step of the session's run (which must be paused)."""

    CSS_PATH = "inspector.tcss"  #: this screen's styles, its widgets' included

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]


    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("left,h", "layer(-1)", "Layer ←", key_display="←", priority=True),
        Binding("right,l", "layer(1)", "Layer →", key_display="→", priority=True),
        Binding("shift+left", "scroll_body(-8)", "Scroll ←", show=False),
        Binding("shift+right", "scroll_body(8)", "Scroll →", show=False),
        Binding("n", "sample(1)", "Next sample"),
        Binding("p", "sample(-1)", "Prev sample"),
        Binding("N", "sample(10)", "+10", show=False),
        Binding("P", "sample(-10)", "-10", show=False),
        Binding("b", "toggle_batch", "Sample/batch"),
        Binding("j", "unit(1)", "Unit"),
        Binding("k", "unit(-1)", "Unit -1", show=False),
        Binding("f", "toggle_full", "All numbers"),
        Binding("a", "apply", "Apply step"),
        Binding("space", "training_note", "", show=False),
    ]

    class StepApplied(Message):
        """The inspector applied a step to the trainer (the app may refresh its panes)."""

        def __init__(self, result: ex.StepResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, session: Session, sample: int | None = 0, *, layer: int = 0,
                 name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.session = session
        self.mode = "batch" if sample is None else "sample"
        self.sample = 0 if sample is None else int(sample)
        self.row = 0  #: the batch row shown in batch mode
        self.layer_index = layer
        self.unit = 0
        self.full = False
        self.plain = False  #: characters instead of colours (set on mount)
        self.breakdown: ex.Breakdown | None = None
        self.error: str | None = None
        self.last: ex.StepResult | None = None
        self.last_label = ""

    # ----- layout ----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(id="inspector-head", markup=False)
        with Horizontal(id="inspector-main"):
            with ScrollableContainer(id="inspector-body"):
                yield Static(id="inspector-picture", markup=False)
                yield Static(id="inspector-summary", markup=False)
                yield LayerView(id="inspector-layer")
            with VerticalScroll(id="inspector-side"):
                yield WeightsView(id="inspector-weights")
        yield Footer()

    def on_mount(self) -> None:
        plain = plain_characters(self.app)
        self.query_one(WeightsView).set_plain(plain)
        self.plain = plain
        signal = getattr(self.app, "snapshot_signal", None)
        if signal is not None:  # the app tells its screens when the run changed
            signal.subscribe(self, self.on_snapshot)
        self.recompute()

    def on_snapshot(self, snap=None) -> None:
        """The app drew a new snapshot: follow a new trainer or new weights."""
        session = getattr(self.app, "session", None)
        if session is not None and not session.same_run(self.session):
            self.session, self.last = session, None
            self.sample = min(self.sample, session.n_samples() - 1)
            self.recompute()
            return
        bd = self.breakdown
        if self.session.running:
            return
        if bd is None or not self.session.is_current(bd):
            self.recompute()

    def on_resize(self) -> None:
        self.redraw()

    # ----- state -----------------------------------------------------------------------
    @property
    def n_train(self) -> int:
        return self.session.n_samples()

    def recompute(self) -> None:
        """Run the breakdown for the current choice (the trainer is left untouched)."""
        try:
            self.breakdown = self.session.explain(None if self.mode == "batch" else self.sample)
            self.error = None
        except EngineError as exc:
            self.breakdown, self.error = None, str(exc)
        bd = self.breakdown
        if bd is not None:
            self.layer_index = min(max(self.layer_index, 0), len(bd.layers) - 1)
            self.unit = min(self.unit, bd.layers[self.layer_index].fan_out - 1)
            self.row = min(self.row, bd.n - 1)
            self.query_one(WeightsView).show(
                tuple(l.W.astype(np.float64) for l in bd.layers), step=None)
        self.redraw()

    # ----- actions ---------------------------------------------------------------------
    def action_close(self) -> None:
        self.app.pop_screen()

    def action_training_note(self) -> None:
        self.notify("The inspector works on a paused run: press a to take the step shown, "
                    "Esc to go back and train.", timeout=4)

    def action_layer(self, delta: int) -> None:
        if self.breakdown is None:
            return
        self.layer_index = (self.layer_index + delta) % len(self.breakdown.layers)
        self.unit = min(self.unit, self.breakdown.layers[self.layer_index].fan_out - 1)
        self.redraw()
        self.query_one("#inspector-body").scroll_home(animate=False)

    def action_scroll_body(self, dx: int) -> None:
        body = self.query_one("#inspector-body")
        body.scroll_to(x=body.scroll_x + dx, animate=False)

    def action_sample(self, delta: int) -> None:
        if self.mode == "batch":
            if self.breakdown is not None:
                self.row = (self.row + delta) % self.breakdown.n
                self.redraw()
            return
        self.sample = (self.sample + delta) % self.n_train
        self.recompute()

    def action_toggle_batch(self) -> None:
        self.mode = "sample" if self.mode == "batch" else "batch"
        self.row = 0
        self.recompute()

    def action_unit(self, delta: int) -> None:
        if self.breakdown is None:
            return
        self.unit = (self.unit + delta) % self.breakdown.layers[self.layer_index].fan_out
        self.redraw()

    def action_toggle_full(self) -> None:
        self.full = not self.full
        self.redraw()

    def action_apply(self) -> None:
        if self.breakdown is None:
            self.recompute()
            if self.breakdown is None:
                self.notify(self.error or "nothing to apply", severity="warning")
                return
        bd = self.breakdown
        try:
            result = self.session.apply(bd)
        except EngineError as exc:
            self.notify(str(exc), severity="warning")
            self.recompute()
            return
        self.last = result
        self.last_label = ("this sample" if bd.mode == "sample" else "this mini-batch")
        self.post_message(self.StepApplied(result))
        self.recompute()

    # ----- drawing ---------------------------------------------------------------------
    def redraw(self) -> None:
        if not self.is_mounted:
            return
        self.query_one("#inspector-head", Static).update(self.head_text())
        self.query_one("#inspector-summary", Static).update(self.summary_text())
        picture = self.picture_text()
        self.query_one("#inspector-picture", Static).display = picture is not None
        if picture is not None:
            self.query_one("#inspector-picture", Static).update(picture)
        self.query_one(WeightsView).set_image_shape(self.session.data.image_shape)
        self.query_one(LayerView).set_lines(self.layer_lines())
        weights = self.query_one(WeightsView)
        weights.select(self.layer_index, self.unit) if self.breakdown else weights.select(None)

    def head_text(self) -> Text:
        bd = self.breakdown
        out = Text("Inspector", style="bold")
        if bd is None:
            out.append(f"  {self.error or ''}")
            return out
        out.append(f" · step {bd.step + 1} · ")
        if bd.mode == "sample":
            out.append(f"sample {self.sample}/{self.n_train}")
        else:
            out.append(f"batch of {bd.n}, row {self.row} (sample {bd.rows[self.row]})")
        l = bd.layers[self.layer_index]
        out.append(f" · layer {self.layer_index + 1}/{len(bd.layers)} {l.fan_in}→{l.fan_out} "
                   f"{l.activation} · unit {self.unit}")
        return out

    def picture_text(self) -> Text | None:
        """The input of the row shown, as the image it is (image data only; None otherwise):
        the pixels the network reads, with the sample's class."""
        bd, data = self.breakdown, self.session.data
        if bd is None or data.image_shape is None:
            return None
        row = self.row if bd.n > 1 else 0
        sample = bd.rows[row] if bd.mode == "batch" else self.sample
        label = int(data.y_train[sample])
        name = data.class_names[label] if label < len(data.class_names) else str(label)
        shape = "×".join(map(str, data.image_shape))
        out = Text(f"input x{'' if bd.n == 1 else f' (row {row})'}: sample {sample}, "
                   f"class {name}, as its {shape} image", style="bold", no_wrap=True,
                   overflow="crop")  # wrapping would eat a picture row's leading blanks
        for line in ink_lines(bd.layers[0].x[row], data.image_shape, plain=self.plain):
            out.append("\n")
            out.append_text(line)
        return out

    def summary_text(self) -> Text:
        bd = self.breakdown
        if bd is None:
            return Text("Pause training to inspect a step." if self.error and "running" in self.error
                        else "", style="italic")
        out = Text()
        o = bd.output
        out.append("loss ", "bold")
        if bd.n == 1:
            out.append(f"L = {short(bd.data_loss)}  ({bd.loss_name} of this one sample)")
        else:
            out.append(f"L = {short(bd.data_loss)} = mean of {bd.n} per-sample losses; "
                       f"row {self.row}: {short(bd.sample_losses[self.row])}")
        if bd.penalty:
            out.append(f"  + {bd.regularization} penalty {short(bd.penalty)}")
        out.append("\noutput error ", "bold")
        if o.fused:
            out.append(f"δ = (prediction − target)/{o.divisor}  ({o.activation} + {o.loss} fused)")
        else:
            out.append(f"δ = 2(prediction − target)/{o.divisor} ⊙ f′(z)  (mse, {o.activation})")
        out.append("\nδ norms ", "bold")
        out.append("  →  ".join(f"δ{i + 1} {short(n)}" for i, n in reversed(list(enumerate(bd.delta_norms)))))
        if len(bd.layers) > 1 and bd.delta_norms[-1] > 0:
            ratio = bd.delta_norms[0] / bd.delta_norms[-1]
            out.append(f"  (input/output {short(ratio)})")
        out.append("\nupdate ", "bold")
        out.append(bd.optimizer.formula)
        if self.last is not None:
            r = self.last
            out.append("\napplied ", "bold")
            out.append(f"loss on {self.last_label} {short(r.loss_before)} → {short(r.loss_after)}; "
                       f"training loss {short(r.train_loss_before)} → {short(r.train_loss_after)}"
                       + ("  (weights moved by exactly the shown update)" if r.exact else
                          "  (WARNING: differs from the shown update)"))
        return out

    # the layer's numbers
    def layer_lines(self) -> list[Text]:
        bd = self.breakdown
        if bd is None:
            return []
        width = self.query_one("#inspector-body").content_size.width or 78
        widest = max(bd.sizes) if (self.full or bd.small) else 0
        need = 2 + LABEL_W + widest * (NUM_W + 1) + 3
        return LayerText(bd, self.layer_index, self.row if bd.n > 1 else 0, self.unit,
                         full=self.full or bd.small, inline=width >= need).lines()


class LayerText:
    """The lines for one layer; per-row arrays show row ``row`` of the step."""

    def __init__(self, bd: ex.Breakdown, i: int, row: int, unit: int, *, full: bool,
                 inline: bool) -> None:
        self.bd, self.i, self.row, self.unit = bd, i, row, unit
        self.full, self.inline = full, inline
        self.out: list[Text] = []

    def heading(self, text: str) -> None:
        self.out.append(Text(text, style="bold underline"))

    def note(self, text: str, style: str = "italic") -> None:
        self.out.append(Text("  " + text, style=style))

    def numbers(self, values: np.ndarray, units: bool) -> Text:
        t = Text("[")
        for j, v in enumerate(np.ravel(values)):
            style = Style(dim=True) if v == 0 else Style()
            if units and j == self.unit:
                style += Style(reverse=True)
            t.append(" ")
            t.append(f"{short(v):>{NUM_W}}", style)
        t.append(" ]")
        return t

    def array(self, label: str, arr: np.ndarray, units: bool = True) -> None:
        """A vector or matrix: every number (full) or a summary; ``units`` marks the
        selected unit's column."""
        arr = np.asarray(arr)
        if not self.full:
            s = ex.Stats.of(arr)
            shape = "×".join(str(d) for d in arr.shape)
            text = (f"({shape}) ‖·‖ {short(s.norm)}  min {short(s.min)}  max {short(s.max)}"
                    + (f"  zeros {s.zeros}/{s.size}" if s.zeros else ""))
            if units and arr.ndim == 2 and arr.shape[1] > self.unit:
                text += f"  unit {self.unit}: ‖·‖ {short(np.linalg.norm(arr[:, self.unit].astype(float)))}"
            self.row_line(label, Text(text))
            return
        if arr.ndim == 1 or arr.shape[0] == 1:
            self.row_line(label, self.numbers(arr, units))
            return
        self.out.append(Text("  " + label, style="bold"))
        for r in arr:
            self.out.append(Text("  ") + self.numbers(r, units))

    def row_line(self, label: str, numbers: Text) -> None:
        if self.inline and len(label) <= LABEL_W:
            self.out.append(Text(f"  {label:<{LABEL_W}}", style="bold") + numbers)
        else:
            self.out.append(Text("  " + label, style="bold"))
            self.out.append(Text("  ") + numbers)

    def rowsel(self, arr: np.ndarray) -> np.ndarray:
        return arr[self.row:self.row + 1]

    def lines(self) -> list[Text]:
        bd, i = self.bd, self.i
        l = bd.layers[i]
        k = i + 1  # layers count from 1; a0 = x is the input
        nx = "x" if i == 0 else f"a{i}"
        where = "" if bd.n == 1 else f" (row {self.row} of the batch)"
        self.heading(f"layer {k}: {l.fan_in} → {l.fan_out}, {l.activation}")
        self.heading(f"forward{where}")
        self.array(f"input {nx}", self.rowsel(l.x), units=False)
        self.array(f"z{k} = {nx}·W{k} + b{k}", self.rowsel(l.z))
        self.array(f"a{k} = {l.activation}(z{k})", self.rowsel(l.a))
        self.heading(f"backward{where}")
        last = i == len(bd.layers) - 1
        if last:
            o = bd.output
            how = (f"{o.activation} + {o.loss} fused: ∂L/∂z = prediction − target, over {o.divisor}"
                   if o.fused else f"mse: ∂L/∂z = 2(prediction − target)/{o.divisor} ⊙ f′(z)")
            self.note(how)
            self.array("prediction a", self.rowsel(o.prediction))
            self.array("target t", self.rowsel(o.target))
            self.array("prediction − target", self.rowsel(o.difference))
            if o.fprime is not None:
                self.array(f"× {short(o.scale)} ⊙ f′(z{k})", self.rowsel(o.fprime))
            else:
                self.note(f"× 1/{o.divisor} (the loss is a mean over {o.divisor} term"
                          f"{'s' if o.divisor != 1 else ''})")
            self.array(f"δ{k} = ∂L/∂z{k}", self.rowsel(o.delta))
        else:
            self.array(f"δ{k + 1}·W{k + 1}ᵀ", self.rowsel(l.upstream))
            self.array(f"⊙ f′(z{k})", self.rowsel(l.fprime))
            self.array(f"= δ{k}", self.rowsel(l.delta))
        if bd.n > 1:
            cols = np.linalg.norm(l.delta.astype(np.float64), axis=0)
            self.array(f"‖δ{k}‖ per unit, batch", cols)
        if l.dead_units:
            self.note(f"dead units {', '.join(map(str, l.dead_units))}: a = 0 on every row, "
                      "so their δ column is all zeros", "bold")
        self.heading("gradient" + (" (summed over the batch)" if bd.n > 1 else ""))
        pen = " + penalty" if l.penalty_grad is not None else ""
        self.array(f"∂L/∂W{k} = {nx}ᵀ·δ{k}{pen}", l.dW)
        self.array(f"∂L/∂b{k} = Σ δ{k}", l.db)
        self.heading(f"update ({bd.optimizer.name}, t = {bd.optimizer.t})")
        for name, (sw, sb) in l.state_after.items():
            label = ex.STATE_NAMES.get(name, name)
            self.array(f"{label} W{k}", sw)
            self.array(f"{label} b{k}", sb)
        self.array(f"ΔW{k}", l.update_W)
        self.array(f"Δb{k}", l.update_b)
        return self.out


__all__ = ["InspectorScreen", "LayerView"]
