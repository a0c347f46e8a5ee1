"""Every action of the app in one table: the key bindings, the command palette and the
help screen are all made from it, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Command:
    """One action: where it lives, its keys, and its words in the footer, palette and help."""

    owner: str  #: "app" or "main" (the main screen)
    action: str  #: the ``action_*`` method's name, without the prefix
    keys: str  #: Textual key names, comma-separated
    shown: str  #: the key as help and the palette write it
    label: str  #: the footer's word
    help: str  #: one line for help and the tooltip
    title: str = ""  #: the command palette's entry ("": not in the palette)
    footer: bool = True
    priority: bool = False


COMMANDS: tuple[Command, ...] = (
    Command("main", "toggle_config", "c", "c", "Config", "Show or hide the configuration pane",
            "Toggle config pane"),
    Command("app", "toggle_run", "space", "space", "Play", "Play / pause training",
            "Play / pause"),
    Command("app", "step", "n", "n", "Step", "One training step (one mini-batch)", "Step"),
    Command("app", "step_epoch", "N", "N", "Epoch",
            "Train to the end of the current epoch (shift+n)", "Epoch", footer=False),
    Command("app", "reset", "r", "r", "Reset",
            "Reset: new weights from the seed, pending changes applied", "Reset"),
    Command("app", "lr_up", "plus,equals_sign", "+", "lr", "Learning rate ×3 (live)",
            "Learning rate ×3"),
    Command("app", "lr_down", "minus,underscore", "-", "lr÷3", "Learning rate ÷3 (live)",
            "Learning rate ÷3", footer=False),
    Command("app", "faster", "right_square_bracket", "]", "Pace",
            "Faster pace: more epochs a second, up to full speed (max)", "Faster pace"),
    Command("app", "slower", "left_square_bracket", "[", "Slower",
            "Slower pace: fewer epochs a second, to watch each change", "Slower pace",
            footer=False),
    Command("app", "presets", "p", "p", "Presets", "Pick a preset (shows each lesson)",
            "Presets"),
    Command("app", "help", "question_mark", "?", "Help", "Keys and what each pane shows",
            "Help"),
    Command("app", "quit", "q", "q", "Quit", "Quit (also ctrl+c), even mid-training"),
    Command("app", "save", "ctrl+s", "ctrl+s", "Save", "Save a checkpoint (.npz)",
            "Save checkpoint", footer=False),
    Command("app", "open", "ctrl+o", "ctrl+o", "Open",
            "Open a preset (.toml) or checkpoint (.npz)", "Open", footer=False),
    Command("app", "export", "e", "e", "Export",
            "Export the configuration as a preset (.toml), or the run as a PyTorch script (.py)",
            "Export preset or PyTorch script", footer=False),
    Command("main", "toggle_log", "l", "l", "Log loss", "Log scale for the loss plot",
            "Log-scale loss", footer=False),
    Command("main", "toggle_axis", "x", "x", "Step/epoch", "Plot the loss against steps or epochs",
            "Loss x axis", footer=False),
    Command("main", "toggle_batches", "b", "b", "Batch loss",
            "Show or hide every step's batch loss, faint, under the epoch curves",
            "Batch loss", footer=False),
    Command("main", "toggle_points", "d", "d", "Points",
            "Show or hide the data points on the boundary", "Data points", footer=False),
    Command("main", "toggle_test", "T", "T", "Test pts",
            "Show or hide the test points on the boundary (d: all points)", "Show test data",
            footer=False),
    Command("main", "toggle_discrete", "z", "z", "Discrete",
            "Discretize the output: hard class regions (regression: bands), not confidence "
            "shading", "Discretize output", footer=False),
    Command("main", "toggle_draw", "D", "D", "Draw",
            "Draw mode on the boundary pane (draw data): your own points, keys below",
            "Draw points", footer=False),
    Command("main", "toggle_weights", "w", "w", "Weights", "Show or hide the weights heatmap",
            "Weights heatmap", footer=False),
    Command("main", "cycle_view", "y", "y", "View",
            "Wide layout: the view pane beside the boundary shows the network, then the loss "
            "landscape, then nothing (shown from 150 columns)", "View pane", footer=False),
    Command("app", "toggle_theme", "t", "t", "Theme", "Light or dark theme", "Light / dark",
            footer=False),
    Command("app", "inspect", "i", "i", "Inspect",
            "Inspector: one step's forward and backward pass, number by number", "Inspector",
            footer=False),
    Command("app", "compare", "v", "v", "Compare",
            "Compare variants of this run (optimizers, learning rates, ...): loss curves "
            "overlaid", "Compare", footer=False),
    Command("app", "metrics", "m", "m", "Metrics",
            "Classification metrics: the confusion matrix and each class's accuracy, test "
            "split (s: train)", "Confusion matrix", footer=False),
    Command("app", "network", "g", "g", "Network",
            "Network view: neurons with live maps, links by weight; the cursor shows a "
            "neuron's map, weights and bias or a link's weight and gradient (enter: edit)",
            "Network view", footer=False),
    Command("app", "landscape", "k", "k", "Landscape",
            "Loss landscape: the loss over a 2-D slice of weight space and the optimizer's "
            "path on it, live (d: directions, c: re-centre)", "Loss landscape",
            footer=False),
    Command("app", "lr_find", "L", "L", "LR find",
            "Learning-rate range test: loss against a rising lr from fresh weights, the "
            "steepest descent and the blow-up marked (a: use it)", "Learning-rate range test",
            footer=False),
    Command("app", "quit", "ctrl+c", "ctrl+c", "Quit", "Quit", footer=False, priority=True),
)

#: the keys of draw mode (D), which the boundary pane answers while it draws
DRAW_KEYS = (
    ("←↑↓→", "Draw mode: move the cursor on the boundary pane"),
    ("0-9", "Draw mode: add a point of that class at the cursor (regression: - 0 + "
            "add -1, 0, +1)"),
    ("click", "Draw mode: left adds the current class there, right the next class"),
    ("u", "Draw mode: take back the last point"),
    ("C", "Draw mode: clear every point (C twice when there are many)"),
)

#: the footer shows ``+`` and ``[`` for the pairs +/- and [/]
PAIRS = {"lr_up": "+/-", "faster": "[/]"}


def bindings(owner: str) -> list[Binding]:
    """The key bindings of ``owner`` ("app" or "main")."""
    out = []
    for c in COMMANDS:
        if c.owner == owner:
            out.append(Binding(c.keys, c.action, c.label, show=c.footer,
                               key_display=PAIRS.get(c.action, c.shown), tooltip=c.help,
                               priority=c.priority))
    return out


def help_rows() -> list[tuple[str, str]]:
    """(key, what it does) for the help screen: every command once."""
    seen: set[str] = set()
    rows = []
    for c in COMMANDS:
        if c.action == "quit" and c.action in seen:
            continue
        seen.add(c.action)
        rows.append((c.shown, c.help))
    rows.extend(DRAW_KEYS)
    rows.append(("ctrl+p", "Command palette: every action by name"))
    rows.append(("tab", "Move between fields; enter or tab confirms a value"))
    rows.append(("esc", "Leave the config fields: keys go back to training"))
    return rows


def palette() -> Iterator[Command]:
    """The commands the palette lists, in table order."""
    return (c for c in COMMANDS if c.title)
