"""The learning-rate range test (``L``): loss against an exponentially rising lr, from fresh
weights, for the run's config, with the steepest descent and the blow-up marked.

The test is ``engine.analysis.lr_find`` on the run's config and data set, in a thread
worker (its own network and optimizer: the run is only read), so the screen stays live;
a new test or closing the screen stops the old one between two steps. ``a`` sets the
run's lr to the steepest descent's (rounded to 3 digits) through the app, as ``+``/``-``
do, so the config pane shows it too.

Its length is one screen with its range fields, its worker, its plot and the two marks.
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from engine.analysis.lr_find import MAX_STEPS, LrFindResult, lr_find
from engine.config import Config
from engine.data import Dataset
from engine.errors import EngineError

from tui.format import num, plain_characters
from tui.widgets.message import MessageLine

COLOURS = {"batch": (120, 120, 130), "smoothed": (90, 170, 255), "steepest": (90, 200, 110),
           "blowup": (240, 90, 90)}
#: plain mode (no colours): a character per series
PLAIN = {"batch": ".", "smoothed": "o"}
LETTERS = {"steepest": "S", "blowup": "B"}  #: plain mode: the letter atop each line
DEFAULTS = (1e-5, 10.0, 100)  #: lr_min, lr_max, steps: those of ``backprop-lab lr-find``


def suggested(result: LrFindResult) -> float | None:
    """The lr ``a`` sets: the steepest descent's, to 3 significant digits."""
    return None if result.steepest_lr is None else float(f"{result.steepest_lr:.3g}")


class RangeCurve(PlotextPlot):
    """The batch loss (faint) and its smoothed average against lr on a log axis, with a
    vertical line at the steepest descent and one at the blow-up."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.result: LrFindResult | None = None
        self.plain = False

    def set_result(self, result: LrFindResult | None) -> None:
        self.result = result
        self.refresh()

    def y_range(self) -> tuple[float, float] | None:
        """The loss axis: from the lowest loss before the blow-up to the highest smoothed
        loss before it (or the first loss, if higher), so the curve keeps its shape however
        high the blow-up goes; batch losses above it leave the plot at the top."""
        r = self.result
        end = r.taken - 1 if r.blowup_index is not None else r.taken
        low = np.concatenate([r.losses[:end], r.smoothed[:end]])
        low = low[np.isfinite(low)]
        high = np.append(r.smoothed[:end], r.losses[:1])
        high = high[np.isfinite(high)]
        if low.size == 0 or high.size == 0:
            return None
        lo, hi = float(low.min()), float(high.max())
        pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
        return lo - pad, hi + pad

    def render(self):
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        r = self.result
        if r is None or r.taken < 2:
            plt.title("r: run the range test")
            return super().render()
        lrs = r.lrs.tolist()
        for name, y in (("batch", r.losses), ("smoothed", r.smoothed)):
            keep = np.isfinite(y)
            x = [lr for lr, k in zip(lrs, keep) if k]
            plt.plot(x, y[keep].tolist(), marker=PLAIN[name] if self.plain else "braille",
                     color="default" if self.plain else COLOURS[name])
        y = self.y_range()
        for name, lr in (("steepest", r.steepest_lr), ("blowup", r.blowup_lr)):
            if lr is not None:
                plt.vline(lr, "default" if self.plain else COLOURS[name])
                if self.plain and y is not None:  # no colours: a letter names each line
                    plt.text(LETTERS[name], lr, y[1], color="default")
        plt.xscale("log")
        decades = range(math.floor(math.log10(r.lrs[0])), math.ceil(math.log10(r.lrs[-1])) + 1)
        ticks = [10.0 ** d for d in decades]
        plt.xticks(ticks, [f"{t:g}" for t in ticks])
        if y is not None:
            plt.ylim(*y)
        plt.xlabel("lr (log) · " + (".: batch loss  o: smoothed" if self.plain else
                                      "grey: batch loss  blue: smoothed"))
        return super().render()


class LrFindScreen(ModalScreen[None]):
    """The range test on ``config`` (the run's) and ``data`` (its loaded data set)."""

    CSS_PATH = "lr_find.tcss"
    AUTO_FOCUS = ""  #: keys go to the screen; tab reaches the fields

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("r", "run", "Run"),
        Binding("a", "apply", "Set lr"),
    ]

    class Done(Message):
        def __init__(self, run: int, result: LrFindResult) -> None:
            super().__init__()
            self.run, self.result = run, result

    class Failed(Message):
        def __init__(self, run: int, reason: str) -> None:
            super().__init__()
            self.run, self.reason = run, reason

    class Apply(Message):
        """Set the run's lr to ``lr`` (the app does it, as ``+``/``-``)."""

        def __init__(self, lr: float) -> None:
            super().__init__()
            self.lr = lr

    def __init__(self, config: Config, data: Dataset | None = None, *, title: str = "",
                 autorun: bool = True, plain: bool | None = None) -> None:
        super().__init__()
        self.config = config
        self.data = data
        self.title_text = title or "this run"
        self.autorun = autorun
        self.plain = plain
        self.result: LrFindResult | None = None
        self.run_id = 0
        self.running = False

    def compose(self) -> ComposeResult:
        lo, hi, steps = DEFAULTS
        with Vertical(id="lrf"):
            yield Static(Text(f"Learning-rate range test · {self.title_text}", no_wrap=True,
                              overflow="ellipsis"), id="lrf-head")
            with Horizontal(classes="lrf-row"):
                yield Label("lr from", classes="lrf-label")
                yield Input(f"{lo:g}", id="lrf-min", select_on_focus=False)
                yield Label(" to", classes="lrf-label")
                yield Input(f"{hi:g}", id="lrf-max", select_on_focus=False)
                yield Label(" steps", classes="lrf-label")
                yield Input(str(steps), id="lrf-steps", type="integer", select_on_focus=False)
            yield MessageLine(id="lrf-message")
            yield RangeCurve(id="lrf-plot")
            yield Static("", id="lrf-marks")
        yield Footer()

    def on_mount(self) -> None:
        self.plain = plain_characters(self.app, self.plain)
        self.query_one(RangeCurve).plain = self.plain
        self.show_marks()
        self.say("from fresh weights (the run's seed), the lr raised exponentially; "
                 "r or Enter runs")
        if self.autorun:
            self.action_run()

    # ----- the form ----------------------------------------------------------------------
    def say(self, text: str, error: bool = False) -> None:
        self.query_one(MessageLine).say(text, error)

    @property
    def message(self) -> str:
        """The line under the fields (a refused value's reason, progress or a hint)."""
        return self.query_one(MessageLine).text

    def read_range(self) -> tuple[float, float, int]:
        """(lr_min, lr_max, steps) from the fields; EngineError says what is refused."""
        values = []
        for field, name in (("#lrf-min", "from"), ("#lrf-max", "to")):
            text = self.query_one(field, Input).value.strip()
            try:
                value = float(text)
            except ValueError:
                raise EngineError(f"lr {name}: type a number > 0, like 1e-5") from None
            if not (math.isfinite(value) and value > 0):
                raise EngineError(f"lr {name}: {text} is not a number > 0")
            values.append(value)
        text = self.query_one("#lrf-steps", Input).value.strip()
        try:
            steps = int(text)
        except ValueError:
            raise EngineError(f"steps: type a whole number from 2 to {MAX_STEPS:,}") from None
        if not 2 <= steps <= MAX_STEPS:
            raise EngineError(f"steps: {steps} is out of range; use 2 to {MAX_STEPS:,}")
        if not values[0] < values[1]:
            raise EngineError(f"lr from ({values[0]:g}) must be below lr to ({values[1]:g})")
        return values[0], values[1], steps

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    # ----- running -----------------------------------------------------------------------
    def action_run(self) -> None:
        try:
            lo, hi, steps = self.read_range()
        except EngineError as exc:
            self.say(str(exc), error=True)
            return
        self.cancel()
        self.run_id += 1
        self.running = True
        self.result = None
        self.query_one(RangeCurve).set_result(None)
        self.show_marks()
        self.say(f"running: lr {lo:g} → {hi:g} over {steps} steps…")
        self._run(self.run_id, lo, hi, steps)

    @work(thread=True, exclusive=True, group="lr-find", exit_on_error=False)
    def _run(self, run: int, lo: float, hi: float, steps: int) -> None:
        """Thread: the range test, stopped between two steps when cancelled."""
        worker = get_current_worker()
        try:
            result = lr_find(self.config, lr_min=lo, lr_max=hi, steps=steps, data=self.data,
                             should_stop=lambda: worker.is_cancelled)
        except EngineError as exc:
            self.post_message(self.Failed(run, str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.Done(run, result))

    def on_lr_find_screen_done(self, message: Done) -> None:
        if message.run != self.run_id:
            return
        self.running = False
        self.result = message.result
        self.query_one(RangeCurve).set_result(message.result)
        self.show_marks()
        self.say(self.stop_words(message.result))

    def on_lr_find_screen_failed(self, message: Failed) -> None:
        if message.run == self.run_id:
            self.running = False
            self.say(message.reason, error=True)

    def stop_words(self, r: LrFindResult) -> str:
        where = (f"stopped at step {r.taken} of {r.steps}: the smoothed loss passed "
                 f"{r.stop_factor:g} × its lowest" if r.stopped == "blow-up" else
                 f"stopped at step {r.taken} of {r.steps}: the loss was not finite"
                 if r.stopped == "not finite" else f"all {r.steps} steps, no blow-up")
        return f"lr {r.lr_min:g} → {r.lr_max:g} · smoothed: β {r.beta:g} · {where}"

    def marks_text(self) -> Text:
        """The two marked rates (and what ``a`` would set), with their colours as keys."""
        r = self.result
        text = Text(no_wrap=True, overflow="ellipsis")
        if r is None:
            text.append("…" if self.running else "no result yet", style="italic")
            return text

        def key(name: str) -> tuple[str, str]:
            if self.plain:
                return (f"{LETTERS[name]}│ ", "")
            red, green, blue = COLOURS[name]
            return ("│ ", f"bold rgb({red},{green},{blue})")

        text.append(*key("steepest"))
        if r.steepest_lr is None:
            text.append("steepest descent: too few steps to tell")
        else:
            text.append(f"steepest descent: lr {num(r.steepest_lr)} "
                        f"(step {r.steepest_index + 1})")
            text.append(f"   a: set the run's lr to {suggested(r):g}", style="bold")
        text.append("\n")
        text.append(*key("blowup"))
        if r.blowup_lr is None:
            text.append(f"blow-up: none up to lr {num(r.lr_max)}")
        else:
            text.append(f"blow-up: lr {num(r.blowup_lr)} (step {r.taken})")
        return text

    def show_marks(self) -> None:
        self.query_one("#lrf-marks", Static).update(self.marks_text())

    def action_apply(self) -> None:
        lr = None if self.result is None else suggested(self.result)
        if lr is None:
            self.say("no steepest descent to set yet: r runs the test", error=True)
            return
        try:
            self.config.with_value("training.lr", lr)
        except EngineError as exc:
            self.say(getattr(exc, "reason", str(exc)), error=True)
            return
        self.post_message(self.Apply(lr))
        self.say(f"the run's lr is now {lr:g} (the steepest descent); esc goes back")

    def cancel(self) -> None:
        self.running = False
        self.workers.cancel_group(self, "lr-find")

    def on_unmount(self) -> None:
        self.cancel()

    def action_close(self) -> None:
        """Leave a field (keys go back to the screen), else close the screen."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
            return
        self.cancel()
        self.dismiss(None)


__all__ = ["LrFindScreen", "RangeCurve", "suggested"]
