"""Classification metrics: the confusion matrix of the test split (the train split with
``s``) and each class's accuracy, live.

Every number is the snapshot's own (``Snapshot.confusion_test`` / ``confusion_train``,
counted by ``engine.training.probe.evaluate`` from the same outputs as the accuracy); the
screen gets its snapshots from the app's ``snapshot_signal`` and only lays them out.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.training.probe import class_accuracy
from engine.training.snapshot import Snapshot

ACC_W = 9  #: the accuracy column: "  100.0%"
NAME_MAX = 14  #: a class name is cut to this many characters in the row labels


def cut(name: str, width: int) -> str:
    """``name`` in at most ``width`` characters (cut with an ellipsis), anything a terminal
    would act on (a CSV file's class may hold escapes) shown as ``?``."""
    name = "".join(c if c.isprintable() else "?" for c in name)
    return name if len(name) <= width else name[:max(1, width - 1)] + "…"


def matrix_text(matrix, names: list[str], width: int) -> Text:
    """The matrix as lines of plain characters within ``width`` columns: a header of the
    predicted classes, one row per true class ending in its accuracy; the diagonal bold.
    The columns are headed by the class names when they fit, else by the class numbers
    (each row then starts with its number)."""
    k = matrix.shape[0]
    cell = max(len(str(int(matrix.max()))) + 1, len(str(k - 1)) + 2, 4)
    rows = [cut(n, NAME_MAX) for n in names]
    longest = max(len(n) for n in names)
    lead = max(len(r) for r in rows) + 2
    if lead + k * max(cell, longest + 1) + ACC_W <= width:
        cell, heads = max(cell, longest + 1), names
    else:
        digits = len(str(k - 1))
        rows = [f"{i:>{digits}} {r}" for i, r in enumerate(rows)]
        lead += digits + 1
        heads = [str(i) for i in range(k)]
    recall = class_accuracy(matrix)
    text = Text(no_wrap=True, overflow="crop")
    text.append(" " * lead + "".join(f"{h:>{cell}}" for h in heads))
    text.append(f"{'accuracy':>{ACC_W}}\n")
    for i, (name, row, r) in enumerate(zip(rows, matrix, recall)):
        text.append(f"{name:<{lead}}")
        for j, v in enumerate(row):
            text.append(f"{int(v):>{cell}}", "bold" if i == j else "")
        text.append(f"{'-' if r != r else f'{r:.1%}':>{ACC_W}}")
        if i < k - 1:
            text.append("\n")
    return text


class MetricsScreen(Screen):
    """The confusion matrix and per-class accuracy of the run's latest snapshot."""

    CSS_PATH = "metrics.tcss"

    BINDINGS = [
        Binding("escape,q,m", "close", "Close"),
        Binding("s", "toggle_split", "Test/train"),
    ]

    def __init__(self, snapshot: Snapshot | None = None, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.split = "test"  #: the split shown: "test" or "train"
        self.shown: Snapshot | None = snapshot

    def compose(self) -> ComposeResult:
        yield Static(id="metrics-head")
        with VerticalScroll(id="metrics-body"):
            yield Static(id="metrics-matrix")
        yield Footer()

    def on_mount(self) -> None:
        self.app.snapshot_signal.subscribe(self, self.show)
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def show(self, snap: Snapshot | None) -> None:
        if snap is None or snap is self.shown:
            return
        self.shown = snap
        self.redraw()

    def matrix(self):
        """The matrix on screen (None: none for this split or run)."""
        snap = self.shown
        if snap is None:
            return None
        return snap.confusion_test if self.split == "test" else snap.confusion_train

    def class_names(self, k: int) -> list[str]:
        session = getattr(self.app, "session", None)
        names = tuple(session.data.class_names) if session is not None else ()
        return list(names) if len(names) == k else [str(i) for i in range(k)]

    def redraw(self) -> None:
        if not self.is_mounted:
            return
        head = self.query_one("#metrics-head", Static)
        body = self.query_one("#metrics-matrix", Static)
        snap, matrix = self.shown, self.matrix()
        if snap is None:
            head.update("Classification metrics: no snapshot yet")
            body.update("")
            return
        if snap.task != "classification":
            head.update(f"Classification metrics (step {snap.step})")
            body.update("This run is a regression: there are no classes to confuse.")
            return
        if matrix is None:
            head.update(f"Confusion matrix, {self.split} split (step {snap.step})")
            body.update(f"No {self.split} split in this run. s shows the other one.")
            return
        total, right = int(matrix.sum()), int(matrix.trace())
        sample = ", a fixed sample" if snap.sampled else ""
        head.update(Text.assemble(
            (f"Confusion matrix, {self.split} split", "bold"),
            f" (step {snap.step}, {total} rows{sample})  accuracy {right / total:.1%} "
            f"({right} of {total})\nrows: true class   columns: predicted   s: the "
            f"{'train' if self.split == 'test' else 'test'} split"))
        width = max(20, self.query_one("#metrics-body").size.width - 2)
        body.update(matrix_text(matrix, self.class_names(matrix.shape[0]), width))

    def action_toggle_split(self) -> None:
        self.split = "train" if self.split == "test" else "test"
        self.redraw()

    def action_close(self) -> None:
        self.dismiss()
