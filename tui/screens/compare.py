"""The comparison screen: variants of one run (same data and seeds, one setting changed)
with their loss curves overlaid and their final figures side by side.

Pick what to vary: the optimizer set (the optimizer race), the learning rate (the
current one ×0.01 … ×100: the learning-rate lessons), the hidden activation, or a typed
``key.path=v1,v2,...`` as for ``backprop-lab compare --vary``. Each value is checked by
the config first; a refused one shows the config's own one-line reason under the field.

The runs use ``engine.analysis.compare.compare`` in a thread worker, one (variant, seed) at a
time, so the screen fills in as results arrive, stays responsive, and a new run or
closing the screen stops the old one after the run in progress.

Its length is one screen with its form (mode, steps, seeds, values), its worker and its
table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from engine.analysis import compare as cmp
from engine.nn.activations import HIDDEN_ACTIVATIONS
from engine.config import parse_value
from engine.config import Config
from engine.errors import EngineError
from engine.analysis.lessons import make_trainer
from engine.presets import Preset

from tui.format import plain_characters
from tui.widgets.choice import Choice
from tui.widgets.message import MessageLine

#: learning-rate multiples of the current rate (those the config refuses are skipped)
LR_FACTORS = (0.01, 0.1, 1.0, 10.0, 100.0)
#: one colour per variant (the table's marks double as the plot's legend)
COLORS = [(90, 170, 255), (255, 170, 60), (120, 220, 120), (240, 90, 90), (190, 130, 250),
          (80, 220, 220), (250, 220, 90), (250, 130, 200), (170, 170, 170), (160, 110, 60)]
#: markers for plain mode (no colours): one character per variant
PLAIN_MARKERS = ["•", "x", "+", "o", "*", "#", "@", "%", "=", "~"]
MAX_STEPS = 20000
MAX_SEEDS = 10
POINTS = 120  #: curve points per variant (about two per plot column at 80 wide)

MODES = [("optimizers (race)", "optimizers"), ("learning rate", "lr"),
         ("hidden activation", "activation"), ("typed key.path=…", "custom")]


@dataclass(frozen=True)
class Plan:
    """What a run will do: the variants (all validated) and a note on skipped values."""

    variants: list[cmp.Variant]
    note: str = ""


def fmt(v) -> str:
    """A value as typed: ``0.3``, ``1e-05``, ``relu``."""
    return cmp.format_value(v)


def lr_values(config: Config) -> tuple[list[float], str]:
    """The current learning rate times LR_FACTORS, and a note on the multiples the config
    refuses (with its reason), e.g. ``×10, ×100 skipped: 1000.0 is not allowed; ...``."""
    lr = config.training.lr
    keep, skipped, reason = [], [], ""
    for factor in LR_FACTORS:
        value = float(f"{lr * factor:.3g}")
        try:
            config.with_value("training.lr", value)
        except EngineError as exc:
            skipped.append(f"×{factor:g}")
            reason = reason or getattr(exc, "reason", str(exc))
            continue
        if value not in keep:
            keep.append(value)
    note = f"{', '.join(skipped)} skipped: {reason}" if skipped else ""
    return keep, note


def parse_spec(text: str) -> tuple[str, list]:
    """``key.path=v1,v2,...`` -> (key, values); raises EngineError with a one-line reason."""
    key, eq, rest = text.partition("=")
    key = key.strip()
    if not eq or not key or not rest.strip():
        raise EngineError("type key.path=v1,v2,... (for example training.lr=0.1,1,10)")
    values = [parse_value(v) for v in cmp.split_values(rest)]
    if any(v == "" for v in values):
        raise EngineError(f"{key}: empty value in '{rest.strip()}'")
    return key, values


def num(x, spec: str = ".4g") -> str:
    if x is None:
        return "—"
    x = float(x)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "inf"
    return format(x, spec)


class ModeChoice(Choice):
    """The set picker: ←/→ change it; Enter is left to the screen (it runs)."""

    inherit_bindings = False
    BINDINGS = [Binding("right", "move(1)", "Next", show=False),
                Binding("left", "move(-1)", "Previous", show=False)]


class CompareCurves(PlotextPlot):
    """One loss curve per variant (train or test loss), optionally on a log scale."""


    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.results: list[cmp.VariantResult] = []
        self.log_scale = False
        self.which = "train"  #: "train" or "test"
        self.plain = False

    def set_results(self, results: Sequence[cmp.VariantResult]) -> None:
        self.results = list(results)
        self.refresh()

    def series(self) -> list[tuple[str, list[float], list[float]]]:
        """(label, x, y) per variant: finite values only (and > 0 on a log scale)."""
        out = []
        for r in self.results:
            x = np.asarray(r.steps, dtype=np.float64)
            y = np.asarray(r.train_loss if self.which == "train" else r.test_loss, dtype=np.float64)
            keep = np.isfinite(y) & ((y > 0) if self.log_scale else True)
            out.append((r.label, x[keep].tolist(), y[keep].tolist()))
        return out

    def render(self):
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        series = self.series()
        legend = self.size.height >= len(series) + 10
        for i, (label, x, y) in enumerate(series):
            if not x:
                continue
            marker = PLAIN_MARKERS[i % len(PLAIN_MARKERS)] if self.plain else "braille"
            color = None if self.plain else COLORS[i % len(COLORS)]
            if len(x) == 1:
                plt.scatter(x, y, marker=marker, color=color, label=label if legend else None)
            else:
                plt.plot(x, y, marker=marker, color=color, label=label if legend else None)
        plt.yscale("log" if self.log_scale else "linear")
        plt.xlabel(f"step · {self.which} loss" + (" (log)" if self.log_scale else ""))
        if not any(x for _, x, _ in series):
            plt.title("r: run the comparison")
        return super().render()


class CompareScreen(ModalScreen[None]):
    """Run variants of ``source`` (a preset or config) and overlay their curves.

    ``mode``: "optimizers", "lr", "activation" or "custom" (then ``vary`` is the typed
    ``key.path=v1,v2,...``); None picks one that suits the preset. ``steps`` per run
    (default: the run's own length, at most 1000 steps), ``seeds`` seeds per variant
    (medians). ``autorun`` starts the default comparison at once.
    """

    CSS_PATH = "compare.tcss"  #: this screen's styles, its widgets' included


    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "run", "Run", show=False),
        Binding("r", "run", "Run"),
        Binding("l", "toggle_log", "Log scale"),
        Binding("t", "toggle_which", "Train/test"),
    ]

    class VariantDone(Message):
        """A variant finished (all its seeds); ``index`` of ``total``."""

        def __init__(self, run: int, index: int, total: int, result: cmp.VariantResult) -> None:
            super().__init__()
            self.run, self.index, self.total, self.result = run, index, total, result

    class Progress(Message):
        def __init__(self, run: int, text: str) -> None:
            super().__init__()
            self.run, self.text = run, text

    class Failed(Message):
        def __init__(self, run: int, reason: str) -> None:
            super().__init__()
            self.run, self.reason = run, reason

    def __init__(self, source, *, title: str | None = None, mode: str | None = None,
                 vary: str | None = None, steps: int | None = None, seeds: int = 1,
                 autorun: bool = True, plain: bool | None = None) -> None:
        super().__init__()
        preset = None
        if isinstance(source, Preset):
            preset, config = source, source.config
        elif isinstance(source, Config):
            config = source
        else:
            raise EngineError(f"cannot compare a {type(source).__name__}")
        self.config: Config = config
        self.preset_name = preset.name if preset is not None else ""
        self.title_text = title or (preset.title if preset is not None else "this run")
        if mode is None:
            mode = "custom" if vary else self.suggested_mode()
        self.mode = mode
        self.custom_spec = vary or ""
        self.default_steps = steps if steps is not None else self._default_steps(source)
        self.default_seeds = seeds
        self.autorun = autorun
        self.plain = plain
        self.results: list[cmp.VariantResult | None] = []
        self.plan: Plan | None = None
        self.run_id = 0
        self.running = False
        self.run_steps = self.default_steps
        self.run_seeds = seeds

    # ----- defaults ----------------------------------------------------------------------
    def suggested_mode(self) -> str:
        name = self.preset_name.lower()
        if "optim" in name:
            return "optimizers"
        if any(w in name for w in ("relu", "sigmoid", "tanh", "linear", "vanishing")) \
                and self.config.model.layers:
            return "activation"
        return "lr"

    def _default_steps(self, source) -> int:
        """The run's own length (epochs × steps per epoch), between 50 and 1000 steps."""
        try:
            spe = source.steps_per_epoch if hasattr(source, "steps_per_epoch") else \
                make_trainer(self.config).steps_per_epoch
        except EngineError:
            spe = 1
        return int(max(50, min(1000, self.config.training.epochs * spe)))

    def spec_for(self, mode: str) -> str:
        """The typed form of a set (empty for the optimizer set, which changes several keys)."""
        if mode == "lr":
            values, _ = lr_values(self.config)
            return "training.lr=" + ",".join(fmt(v) for v in values)
        if mode == "activation":
            return "model.layers[*].activation=" + ",".join(HIDDEN_ACTIVATIONS)
        if mode == "custom":
            return self.custom_spec
        return ""

    # ----- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="cmp"):
            yield Static(Text(f"Compare · {self.title_text}", no_wrap=True, overflow="ellipsis"),
                         id="cmp-head")
            with Horizontal(classes="cmp-row"):
                yield Label("vary", classes="cmp-label")
                yield ModeChoice(MODES, self.mode, id="cmp-mode")
                yield Label(" steps", classes="cmp-label")
                yield Input(str(self.default_steps), id="cmp-steps", type="integer",
                            select_on_focus=False)
                yield Label("seeds", classes="cmp-label")
                yield Input(str(self.default_seeds), id="cmp-seeds", type="integer",
                            select_on_focus=False)
            yield Input(self.spec_for(self.mode), id="cmp-vary", select_on_focus=False,
                        placeholder="key.path=v1,v2,...  (typing here makes a custom set)")
            yield MessageLine(id="cmp-message")
            yield CompareCurves(id="cmp-plot")
            with VerticalScroll(id="cmp-table-box"):
                yield Static("", id="cmp-table")
        yield Footer()

    def on_mount(self) -> None:
        self.plain = plain_characters(self.app, self.plain)
        self.query_one(CompareCurves).plain = self.plain
        self.query_one(ModeChoice).focus()
        self.show_table()
        self.say(self.describe_mode())
        if self.autorun:
            self.action_run()

    # ----- controls ----------------------------------------------------------------------
    def describe_mode(self) -> str:
        if self.mode == "optimizers":
            return ("GD, SGD (batch 1), mini-batch, momentum, RMSprop and Adam on the same data and "
                    "seed · r or Enter runs")
        if self.mode == "lr":
            _, note = lr_values(self.config)
            return f"current lr {self.config.training.lr:g} × 0.01 … × 100" + (
                f" · {note}" if note else "")
        if self.mode == "activation":
            return "every hidden layer's activation · r or Enter runs"
        return "type key.path=v1,v2,... and press Enter"

    @on(ModeChoice.Changed, "#cmp-mode")
    def _mode_changed(self, event: Choice.Changed) -> None:
        event.stop()
        if event.value == self.mode:
            return
        self.mode = event.value
        field = self.query_one("#cmp-vary", Input)
        spec = self.spec_for(self.mode)
        if self.mode != "custom" or not field.value.strip():
            field.value = spec
        self.say(self.describe_mode())

    @on(Input.Changed, "#cmp-vary")
    def _vary_typed(self, event: Input.Changed) -> None:
        """Typing a different spec makes it a custom set."""
        event.stop()
        if self.mode != "custom" and event.value != self.spec_for(self.mode):
            self.custom_spec = event.value
            self.mode = "custom"
            choice = self.query_one(ModeChoice)
            with choice.prevent(Choice.Changed):
                choice.value = "custom"
            self.say(self.describe_mode())
        elif self.mode == "custom":
            self.custom_spec = event.value

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    def say(self, text: str, error: bool = False) -> None:
        self.query_one(MessageLine).say(text, error)

    @property
    def message(self) -> str:
        """The line under the field (a refused value's reason, progress or a hint)."""
        return self.query_one(MessageLine).text

    def make_plan(self) -> Plan:
        """The variants to run, each validated; EngineError says what is refused."""
        if self.mode == "optimizers":
            variants = list(cmp.VARIANT_SETS["optimizers"])
            note = ""
        elif self.mode == "activation" and not self.config.model.layers:
            raise EngineError("this network has no hidden layer: no activation to vary")
        else:
            key, values = parse_spec(self.query_one("#cmp-vary", Input).value)
            variants = cmp.variants_for(key, values)
            note = ""
            if self.mode == "lr":
                note = lr_values(self.config)[1]
            elif key == "model.layers[*].activation":  # the name alone says it
                variants = [cmp.Variant(fmt(v), {key: v}) for v in values]
        for variant in variants:
            cmp.check_variant(self.config, variant)
        return Plan(variants, note)

    def read_int(self, field_id: str, name: str, low: int, high: int) -> int:
        text = self.query_one(field_id, Input).value.strip()
        try:
            value = int(text)
        except ValueError:
            raise EngineError(f"{name}: type a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise EngineError(f"{name}: {value} is out of range; use {low} to {high}")
        return value

    # ----- running -----------------------------------------------------------------------
    def action_run(self) -> None:
        try:
            steps = self.read_int("#cmp-steps", "steps", 1, MAX_STEPS)
            seeds = self.read_int("#cmp-seeds", "seeds", 1, MAX_SEEDS)
            plan = self.make_plan()
        except EngineError as exc:
            self.say(str(exc), error=True)
            return
        self.run_id += 1
        self.plan, self.run_steps, self.run_seeds = plan, steps, seeds
        self.results = [None] * len(plan.variants)
        self.running = True
        self.say(f"running {len(plan.variants)} variants, {steps} steps each…")
        self.show_results()
        self._run(self.run_id, self.config, plan.variants, steps, seeds)

    @work(thread=True, exclusive=True, group="compare", exit_on_error=False)
    def _run(self, run: int, config: Config, variants: list[cmp.Variant], steps: int,
             seeds: int) -> None:
        """Thread: one (variant, seed) at a time, stopping between them when cancelled."""
        worker = get_current_worker()
        seed_list = [config.training.seed + i for i in range(seeds)]
        for index, variant in enumerate(variants):
            runs, result = [], None
            for seed in seed_list:
                if worker.is_cancelled:
                    return
                self.post_message(self.Progress(
                    run, f"running {index + 1}/{len(variants)}: {variant.label}"
                         + (f", seed {seed}" if seeds > 1 else "") + " …"))
                try:
                    (result,) = cmp.compare(config, variants=[variant], steps=steps,
                                            seeds=[seed], points=POINTS)
                except EngineError as exc:
                    self.post_message(self.Failed(run, f"{variant.label}: {exc}"))
                    return
                runs.extend(result.runs)
            if len(runs) > 1:
                s, tr, te = cmp.median_curve(runs)
                result = cmp.VariantResult(variant, result.config, result.steps_per_epoch,
                                           tuple(runs), s, tr, te)
            if worker.is_cancelled:
                return
            self.post_message(self.VariantDone(run, index, len(variants), result))

    def on_compare_screen_progress(self, message: Progress) -> None:
        if message.run == self.run_id and self.running:
            self.say(message.text)

    def on_compare_screen_failed(self, message: Failed) -> None:
        if message.run == self.run_id:
            self.running = False
            self.say(message.reason, error=True)

    def on_compare_screen_variant_done(self, message: VariantDone) -> None:
        if message.run != self.run_id:
            return
        self.results[message.index] = message.result
        if all(r is not None for r in self.results):
            self.running = False
            done = f"{len(self.results)} variants, {self.run_steps} steps" + (
                f", medians over {self.run_seeds} seeds" if self.run_seeds > 1 else "")
            target = f" · target {self.target_text()}" if self.has_target else ""
            note = f" · {self.plan.note}" if self.plan and self.plan.note else ""
            self.say(done + target + note)
        self.show_results()

    def cancel(self) -> None:
        self.running = False
        self.run_id += 1
        self.workers.cancel_group(self, "compare")

    def on_unmount(self) -> None:
        self.cancel()

    def action_close(self) -> None:
        self.cancel()
        self.dismiss(None)

    # ----- drawing -----------------------------------------------------------------------
    def action_toggle_log(self) -> None:
        plot = self.query_one(CompareCurves)
        plot.log_scale = not plot.log_scale
        plot.refresh()

    def action_toggle_which(self) -> None:
        plot = self.query_one(CompareCurves)
        plot.which = "test" if plot.which == "train" else "train"
        plot.refresh()

    def show_results(self) -> None:
        self.query_one(CompareCurves).set_results(r for r in self.results if r is not None)
        self.show_table()

    @property
    def has_target(self) -> bool:
        t = self.config.training
        return t.target_loss is not None or t.target_accuracy is not None

    def rows(self) -> list[list[str]]:
        """The table's cells as text, one row per variant (pending ones say so)."""
        out = []
        labels = [v.label for v in self.plan.variants] if self.plan else []
        for label, r in zip(labels, self.results):
            if r is None:
                out.append([label, "…", "", "", "", ""])
                continue
            acc = r.test_accuracy if r.test_accuracy is not None else r.train_accuracy
            n = len(r.runs)
            if r.steps_to_target is not None:
                target = num(r.steps_to_target, ".0f")
            else:
                target = "not reached" if self.has_target else "—"
            div = ("yes" if r.diverged else "no") if n == 1 else f"{r.diverged}/{n}"
            if r.diverged and n == 1 and r.runs[0].diverged_step is not None:
                div = f"yes, step {r.runs[0].diverged_step}"
            out.append([label, num(r.final_train_loss), num(r.final_test_loss),
                        num(acc, ".1%"), target, div])
        return out

    def table_text(self) -> str:
        """The table as plain text (tests read it)."""
        return "\n".join("  ".join(row) for row in self.rows())

    def target_text(self) -> str:
        t = self.config.training
        parts = []
        if t.target_loss is not None:
            parts.append(f"train loss ≤ {t.target_loss:g}")
        if t.target_accuracy is not None:
            parts.append(f"accuracy ≥ {t.target_accuracy:.0%}")
        return " or ".join(parts)

    def show_table(self) -> None:
        table = Table(box=None, padding=(0, 1), expand=False, header_style="bold")
        table.add_column("variant", no_wrap=True, overflow="ellipsis", max_width=28)
        table.add_column("train loss", justify="right", no_wrap=True)
        table.add_column("test loss", justify="right", no_wrap=True)
        table.add_column("accuracy", justify="right", no_wrap=True)
        table.add_column("to target", justify="right", no_wrap=True)
        table.add_column("diverged", justify="right", no_wrap=True)
        rows = self.rows()
        for i, (row, result) in enumerate(zip(rows, self.results)):
            if self.plain:
                mark = Text(PLAIN_MARKERS[i % len(PLAIN_MARKERS)] + " ")
            else:
                r, g, b = COLORS[i % len(COLORS)]
                mark = Text("━━ ", style=f"bold rgb({r},{g},{b})")
            bad = result is not None and result.diverged > 0
            table.add_row(mark + Text(row[0]), *row[1:-1],
                          Text(row[-1], style="bold red" if bad else ""))
        if not rows:
            table.add_row(Text("no results yet", style="italic"), "", "", "", "", "")
        self.query_one("#cmp-table", Static).update(table)


__all__ = ["CompareCurves", "CompareScreen", "lr_values", "parse_spec"]
