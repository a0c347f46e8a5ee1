"""The network view (g): the network graph, the cursor's neuron's map large beside it
with its incoming weights and bias, or the cursor's link with its weight and gradient;
enter edits that weight or bias in place.

Every number is the snapshot's network state (``engine.training.neuron_maps``), which the
trainer makes a few times a second while this screen asks for it; an edit goes to the
trainer as a command (``Session.set_param``), checked there, applied between two steps,
and the run goes on from it. Training keys (space, n, +/-...) keep working here.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from engine.errors import EngineError
from engine.training.neuron_maps import NetworkState
from engine.training.snapshot import Snapshot

from tui.format import num, plain_characters
from tui.widgets.network import Cursor, MapView, NetworkGraph, legend, link_name, node_name

NETWORK_INTERVAL = 0.25  #: seconds between network states while a run goes
#: the maps' grid side: fine enough for the large map (it is resampled to the pane), and
#: 1024 grid points keep the forward pass over them about a millisecond for small networks
MAP_RESOLUTION = 32
HINT = "←/→ along links · ↑/↓ move · shift+↑/↓ link source · enter edit · esc close"


def value(v: float) -> str:
    """A weight, bias or gradient with its sign: ``+0.5321``, ``-1.2e-05``."""
    text = num(float(v))
    return text if text.startswith(("-", "n", "i")) or text == "0" else "+" + text


def edit_target(state: NetworkState, cursor: Cursor) -> tuple[str, float] | None:
    """What enter edits at ``cursor``: its name and value now (None: an input neuron)."""
    param = cursor.param()
    if param is None:
        return None
    layer, row, col = param
    if col is None:
        return f"bias of {node_name(state, layer + 1, row)}", float(state.b[layer][row])
    return f"weight {link_name(state, cursor)}", float(state.W[layer][row, col])


def detail_lines(state: NetworkState, cursor: Cursor, rows: int) -> Text:
    """The cursor's numbers in at most ``rows`` lines: a link's weight and gradient, or a
    neuron's bias and incoming weights (an input's outgoing ones)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    grads = (f"\n(gradients of step {state.grads_step})" if state.grads_step is not None
             else "\n(no step yet)")
    if cursor.is_link:
        layer, i, j = cursor.param()
        text.append(link_name(state, cursor), "bold")
        text.append(f"\nlayer {layer + 1} · row {i + 1}, col {j + 1}")
        text.append(f"\nw      {value(state.W[layer][i, j])}")
        g = "–" if state.dW is None else value(state.dW[layer][i, j])
        text.append(f"\n∂L/∂w  {g}{grads}")
        return text
    col, unit = cursor.column, cursor.unit
    text.append(node_name(state, col, unit), "bold")
    if col == 0:
        text.append(f"  input {unit + 1} of {state.sizes[0]}")
        pairs = [(node_name(state, 1, j), state.W[0][unit, j]) for j in range(state.sizes[1])]
        title = "outgoing weights"
    else:
        layer = col - 1
        text.append(f"  {state.activations[layer]}")
        text.append(f"\nlayer {col} · unit {unit + 1} of {state.sizes[col]}")
        g = "–" if state.db is None else value(state.db[layer][unit])
        text.append(f"\nb      {value(state.b[layer][unit])}")
        text.append(f"\n∂L/∂b  {g}{grads}")
        pairs = [(node_name(state, layer, i), state.W[layer][i, unit])
                 for i in range(state.sizes[layer])]
        title = "incoming weights"
    room = max(0, rows - len(text.plain.splitlines()) - 1)
    text.append(f"\n{title}:")
    shown = pairs if len(pairs) <= room else pairs[:max(0, room - 1)]
    for name, w in shown:
        text.append(f"\n  {name:<7} {value(w)}")
    if len(shown) < len(pairs):
        text.append(f"\n  +{len(pairs) - len(shown)} more")
    return text


class NetworkScreen(Screen):
    """See the module docstring."""

    CSS_PATH = "network.tcss"
    AUTO_FOCUS = "#net-graph"

    BINDINGS = [
        Binding("escape,g", "close", "Close"),
        Binding("enter", "edit", "Edit weight/bias"),
    ]

    def __init__(self) -> None:
        super().__init__(id="network")
        self.shown: Snapshot | None = None  #: the snapshot on screen
        self._asked = None  #: the session the network state was asked of
        self._before = None  #: what that session was asked before (restored on close)
        self.message = ""  #: the line under the detail: an edit's refusal or result

    def compose(self) -> ComposeResult:
        yield Static(id="net-head")
        with Horizontal(id="net-body"):
            yield NetworkGraph(id="net-graph")
            with Vertical(id="net-side"):
                yield MapView(id="net-map")
                yield Static(id="net-detail")
        with Horizontal(id="net-editbar"):
            yield Label(id="net-edit-label", markup=False)
            yield Input(id="net-edit", compact=True, select_on_focus=True)
        yield Static(id="net-message", markup=False)
        yield Footer()

    @property
    def graph(self) -> NetworkGraph:
        return self.query_one(NetworkGraph)

    def on_mount(self) -> None:
        plain = plain_characters(self.app)
        self.graph.set_plain(plain)
        self.query_one(MapView).plain = plain
        self.query_one("#net-editbar").display = False
        self.app.snapshot_signal.subscribe(self, self.show)
        self._ask()

    def _ask(self) -> None:
        """Ask the app's session for network states (again after a new run was opened)."""
        session = self.app.session
        if session is self._asked:
            return
        self._asked, self._before = session, session.network_wanted
        session.want_network(NETWORK_INTERVAL, MAP_RESOLUTION)
        self.show(session.latest if session.running else session.refresh())

    def on_unmount(self) -> None:
        self._restore()

    def _restore(self) -> None:
        if self._asked is not None:
            before = self._before
            self._asked.want_network(*(before if before else (None,)))
            self._asked = None

    # ----- snapshots -------------------------------------------------------------------
    def show(self, snap: Snapshot | None) -> None:
        if self.app.session is not self._asked:
            self._ask()
            return
        if snap is None or snap is self.shown:
            return
        before, self.shown = self.shown, snap
        drew = snap.network is not None and self.graph.show(snap)
        # frames come faster than network states: between two states only a change of
        # the run's state (running, paused...) is worth a redraw
        if drew or before is None or before.state != snap.state:
            self._detail()

    @on(NetworkGraph.Selected)
    def _selected(self, _event: NetworkGraph.Selected) -> None:
        if self.editing:
            self._stop_editing()
        self.message = ""
        self._detail()

    def on_resize(self) -> None:
        self._size_map()
        self.call_after_refresh(self._detail)

    def _size_map(self) -> None:
        """The big map about square, at most half the height; a line without maps."""
        side, body = self.query_one("#net-side"), self.query_one("#net-body")
        state = self.graph.state
        rows = 1 if state is not None and state.maps is None else max(
            4, min(side.size.width // 2, body.size.height // 2))
        view = self.query_one(MapView)
        if view.styles.height is None or view.styles.height.value != rows:
            view.styles.height = rows

    def _detail(self) -> None:
        if not self.is_mounted:
            return
        state = self.graph.state
        snap = self.shown
        head = self.query_one("#net-head", Static)
        detail = self.query_one("#net-detail", Static)
        if state is None or snap is None:
            head.update(Text.assemble(("Network", "bold"), "  waiting for the network state\n",
                                      HINT))
            detail.update("")
            return
        shape = " → ".join(str(n) for n in state.sizes)
        edits = f" · {state.edits} set by hand" if state.edits else ""
        head.update(Text.assemble(("Network", "bold"), f"  {shape} · step {state.step}{edits}"
                                  f" · {snap.state}\n", (HINT, "dim")))
        cursor = self.graph.cursor
        self._size_map()
        self.query_one(MapView).show(state, cursor)
        rows = max(3, detail.size.height or 8)
        text = detail_lines(state, cursor, rows)
        key = legend(self.graph.plain)
        if len(text.plain.splitlines()) + 1 + len(key.splitlines()) <= rows:  # room to spare
            text.append(f"\n\n{key}", "dim")
        detail.update(text)
        self._say()

    # ----- editing ---------------------------------------------------------------------
    def action_edit(self) -> None:
        state = self.graph.state
        if state is None:
            return
        target = edit_target(state, self.graph.cursor)
        if target is None:
            self.message = "✗ an input has no bias: → moves onto its links' weights"
            self._detail()
            return
        name, current = target
        field = self.query_one("#net-edit", Input)
        field.value = repr(current) if abs(current) < 1e-3 and current else f"{current:.6g}"
        self.query_one("#net-edit-label", Label).update(f"{name} =")
        self.query_one("#net-editbar").display = True
        self.graph.follow_mouse = False  # a hand on the mouse does not move what is typed for
        self.message = "enter sets it (a number from -100 to 100), esc keeps the old value"
        self._detail()
        field.focus()

    @on(NetworkGraph.Activated)
    def _activated(self, _event: NetworkGraph.Activated) -> None:
        self.action_edit()

    @on(Input.Submitted, "#net-edit")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        param = self.graph.cursor.param()
        state = self.graph.state
        if param is None or state is None:
            self._stop_editing()
            return
        name = edit_target(state, self.graph.cursor)[0]
        try:
            self.app.session.set_param(*param, event.value)
        except EngineError as exc:  # the engine names it by index; here by its name
            self.message = f"✗ {name}: {str(exc).split(': ', 1)[-1]}"
            self._say()
            return
        self.message = f"✓ {name} set to {event.value.strip()}"
        self._stop_editing()
        if not getattr(self.app, "training", False):
            self.app.redraw()  # the trainer already made the snapshot with the edit in it
        self._detail()

    def _say(self) -> None:
        """Show ``message`` under the graph (red when it is a refusal)."""
        line = self.query_one("#net-message", Static)
        line.update(self.message)
        line.set_class(self.message.startswith("✗"), "-error")

    def _stop_editing(self) -> None:
        self.query_one("#net-editbar").display = False
        self.graph.follow_mouse = True
        self.graph.focus()

    @property
    def editing(self) -> bool:
        return bool(self.query_one("#net-editbar").display)

    def action_close(self) -> None:
        if self.editing:
            self.message = ""
            self._stop_editing()
            self._detail()
            return
        self._restore()
        self.dismiss()
