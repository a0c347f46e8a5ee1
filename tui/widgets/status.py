"""The one-line status: run state, epoch, step, speed, losses and accuracy."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from engine.training.snapshot import Snapshot

from tui.format import num, pace as pace_text, pct, rate

STATE_LABELS = {
    "idle": ("○ ready", "status-idle"),
    "running": ("▶ training", "status-running"),
    "paused": ("‖ paused", "status-paused"),
    "finished": ("■ finished", "status-finished"),
    "diverged": ("✖ diverged", "status-diverged"),
}


def loss(value: float) -> str:
    return f"{value:.4f}" if 1e-3 <= value < 10 else num(value, 3)


#: why a run finished, in the fewest words (the trainer's reason, by its opening words)
FINISHED_SHORT = (("reached the target", "target reached"), ("trained its", "epochs done"),
                  ("took the", "steps done"))


def finished_words(reason: str | None, compact: bool) -> str:
    """Why a finished run stopped: the trainer's own words, or a short form of them."""
    if not reason:
        return ""
    if compact:
        for opening, short in FINISHED_SHORT:
            if reason.startswith(opening):
                return short
    return reason


def status_parts(snap: Snapshot, pending: bool = False, compact: bool = False,
                 pace: float | None | str = "") -> list[tuple[str, str]]:
    """The status line as (text, style class) pieces; pure, so tests can read it.

    ``compact`` drops the words that a narrow terminal cannot afford. ``pace``: the
    trainer's pace in epochs a second (None: full speed; "": not shown)."""
    label, _ = STATE_LABELS.get(snap.state, (snap.state, ""))
    parts: list[tuple[str, str]] = [(label, "state")]
    if snap.state == "diverged":
        reason = snap.reason or "the loss is not finite"
        where = f" at step {snap.diverged_step}" if snap.diverged_step is not None else ""
        hint = "; r resets" if compact else "; press r for fresh weights (- lowers the rate)"
        parts[0] = (label + (where if "step" not in reason else "") + ": " + reason + hint,
                    "state")
        return parts
    if snap.not_ready:  # the data cannot train yet: that is all there is to say
        parts[0] = (f"{label}: {snap.not_ready}", "state")
        return parts
    if snap.state == "finished" and snap.reason:
        words = finished_words(snap.reason, compact)
        parts[0] = (f"{label[:1]} {words}" if compact else f"{label}: {words}", "state")
    if pending:  # early in the line, so a narrow terminal still shows it
        parts.append(("✱ pending: r" if compact else "✱ pending: r applies", "pending"))
    parts.append((f"epoch {snap.epoch}", ""))
    parts.append((f"step {snap.step}", ""))
    # the pace always; the measured speed only at full speed while training (a paused run
    # has no speed, and a still frame stays still)
    if pace != "":
        shown = pace_text(pace)  # type: ignore[arg-type]
        if pace is None and snap.state == "running":
            shown += f" {rate(snap.steps_per_sec)} steps/s"
        parts.append((shown, "dim"))
    sep = "/" if compact else " test "
    about = "≈" if snap.sampled else ""  # measured on a subsample of a large split
    test = f"{sep}{about}{loss(snap.test_loss)}" if snap.test_loss == snap.test_loss else ""
    parts.append((f"loss {about}{loss(snap.train_loss)}{test}", "loss"))
    if snap.train_accuracy is not None:
        acc = f"acc {pct(snap.train_accuracy)}"
        if snap.test_accuracy is not None:
            acc += f"{sep}{pct(snap.test_accuracy)}"
        parts.append((acc, ""))
    parts.append((f"lr {num(snap.lr)}", "dim"))
    return parts


class StatusLine(Widget):
    """Renders ``status_parts``; refreshes only when the text changes."""


    COMPONENT_CLASSES = {"status--state", "status--dim", "status--loss", "status--pending"}

    text: reactive[str] = reactive("", layout=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._parts: list[tuple[str, str]] = []
        self._state = "idle"
        self._strip: Strip | None = None
        self._strip_key = None

    def show(self, snap: Snapshot, pending: bool = False, pace: float | None | str = ""
             ) -> None:
        parts = status_parts(snap, pending, pace=pace)
        if sum(len(p) + 2 for p, _ in parts) > self.content_size.width:
            parts = status_parts(snap, pending, compact=True, pace=pace)
        text = "  ".join(p for p, _ in parts)
        if text == self.text:
            return
        self._parts = parts
        self.set_class(snap.state == "diverged", "-diverged")
        self.set_class(snap.state == "running", "-running")
        self.text = text

    def watch_text(self) -> None:
        self._strip = None

    def render_line(self, y: int) -> Strip:
        """The line is built once per change of text (not per screen update), straight
        to a strip of segments: no markup parsing, wrapping or Rich rendering."""
        width = self.size.width
        style = self.rich_style
        if y != 0:
            return Strip.blank(width, style)
        key = (width, style, frozenset(self.classes), self.app.theme)
        if self._strip is None or self._strip_key != key:
            self._strip = self._build_strip(width, style)
            self._strip_key = key
        return self._strip

    def _build_strip(self, width: int, base: Style) -> Strip:
        styles = {kind: base + self.get_component_rich_style(f"status--{kind}")
                  for kind in {k for _, k in self._parts if k}}
        segments = []
        for i, (piece, kind) in enumerate(self._parts):
            if i:
                segments.append(Segment("  ", base))
            segments.append(Segment(piece, styles[kind] if kind else base))
        strip = Strip(segments).simplify()  # one style change per run of one style
        if strip.cell_length > width:
            strip = Strip.join([strip.crop(0, max(0, width - 1)), Strip([Segment("…", base)])])
        return strip.adjust_cell_length(width, base)

    def render_text(self) -> Text:
        """The line as rich Text (for tests and the non-cached ``render``)."""
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        for i, (piece, kind) in enumerate(self._parts):
            if i:
                out.append("  ")
            style = self.get_component_rich_style(f"status--{kind}") if kind else ""
            out.append(piece, style)
        out.truncate(self.size.width, overflow="ellipsis")
        return out

    def render(self) -> Text:
        return self.render_text()
