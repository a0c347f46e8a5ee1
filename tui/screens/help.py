"""The help screen: every key, taken from the bindings themselves, and what the panes show."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.training.health import RULE

PANES = """\
Status line: state (and why a run finished), epoch, step, pace ([ and ] change it:
  e.g. 30 ep/s, or max with its steps a second), train/test loss and accuracy, lr.
Boundary: the model's output over the input plane (colour = predicted class, paler near
  the boundary); data points on top, test points paler. Regression: blue low, orange high.
Loss: train and test loss at every epoch end since step 0, with the live point between
  them; in a long run each column is drawn from its lowest to its highest loss, so a
  spike is never lost. b adds every step's batch loss, faint, underneath.
Gradients: the figures of the last step taken, on that step's mini-batch:
  |grad W| = the L2 norm of dL/dW (log scale, 1e-8 to 1e2); dead = share of ReLU units
  that are 0 on every sample of the batch; sat = share of sigmoid/tanh activations
  within 1% of a bound. – means not measured yet (no step taken).
{rule}
Config (c): edit any field, Enter or Tab to confirm; a refused value keeps the old one and
  says why. Training settings apply at once; data and layers are pending until r.
Over SSH: panes redraw only when they change, at most the frame rate (set it with the
  environment variable BACKPROP_LAB_FPS=N), so a slow link stays usable; NO_COLOR=1
  switches the boundary view to plain characters.""".format(
    rule="\n".join("  " + line for line in RULE))


def key_table(bindings: list[tuple[str, str]]) -> Table:
    """Keys right-aligned on the left, descriptions wrapping under themselves."""
    table = Table.grid(padding=(0, 2))
    table.add_column(justify="right", style="bold", no_wrap=True)
    table.add_column()
    for key, description in bindings:
        table.add_row(key, description)
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the keys of the screen underneath and explains the panes."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("backprop-lab keys  (Esc closes)", id="help-title")
            yield Static(key_table(self.bindings), id="help-keys")
            yield Static(PANES, id="help-panes", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
