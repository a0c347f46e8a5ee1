"""The backprop-lab app: composition and routing only.

Training runs in a thread worker inside ``Trainer.run``. The trainer makes at most
``fps`` snapshots a second and hands each to ``_on_snapshot`` (training thread), which
posts one ``FrameReady`` message unless one is already waiting: the UI always draws the
newest snapshot and never a backlog. The UI shares the interpreter with training, so
frames are paced by their cost: while training, drawing takes at most ``UI_SHARE`` of the
main thread's time (fewer frames on a slow machine, ``fps`` on a fast one). Screens get
snapshots from ``snapshot_signal``
(subscribe to it from any new screen, e.g. an inspector). Commands go the other way,
straight to the trainer, which applies them between two steps.

Its length is the actions: each command's handler is a few lines of routing to the trainer
or a screen.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from textual import events, on
from textual.app import App, SystemCommand
from textual.message import Message
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from engine.atomic import write_atomic
from engine.checkpoint import save_checkpoint
from engine.data.drawn import drawn_csv
from engine.errors import EngineError
from engine.opening import Opened, open_run
from engine.presets import Preset, save_preset
from engine.training.snapshot import Snapshot
from engine.training.trainer import Trainer

from tui.commands import bindings, help_rows, palette
from tui.session import Session
from tui.format import pace as pace_words
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen
from tui.screens.presets import PresetPicker
from tui.screens.prompt import PathPrompt
from tui.widgets.config import ConfigPane

DEFAULT_FPS = 20.0
#: while training at full speed, drawing may take at most this share of the main thread's
#: time: the UI shares the interpreter with training, so frames come less often than
#: ``fps`` a second when they cost more (a slow or busy machine), and at ``fps`` when cheap
UI_SHARE = 0.06
#: at a watchable pace training leaves the interpreter mostly idle: drawing may take more
PACED_UI_SHARE = 0.5
MAX_FRAME_WAIT = 1.0  #: but at least one frame a second while training
KEY_HOLD_S = 0.1  #: longest that training stands aside while a key press is answered
LR_STEP = 3.0
QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
LOAD_NOTE_S = 0.3  #: seconds between progress notes while a data set loads
#: the paces ] and [ step through: epochs a second, None for full speed ("max")
PACES: tuple[float | None, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 60.0, 100.0, 300.0, None)


class FrameReady(Message):
    """A new snapshot is waiting in ``trainer.latest`` (posted at most once per frame)."""


class BackpropLab(App):
    """Build or load a network and watch it train."""

    CSS_PATH = "app.tcss"
    TITLE = "backprop-lab"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = bindings("app")

    #: app actions that only make sense on a full screen (not under a modal dialog)
    TRAINING_ACTIONS = {"toggle_run", "step", "step_epoch", "reset", "lr_up", "lr_down",
                        "presets", "save", "open", "export", "help", "toggle_theme", "inspect",
                        "slower", "faster", "compare", "lr_find"}

    def __init__(self, opened: Opened | None = None, *, fps: float = DEFAULT_FPS,
                 grid: tuple[int, int] = (40, 80), save_dir: str | os.PathLike | None = None,
                 plain: bool | None = None):
        """``plain``: draw the boundary with characters (None: when NO_COLOR is set or the
        terminal has few colours)."""
        super().__init__()
        self.fps = fps
        self.plain = plain
        self.grid = grid
        self.save_dir = Path(save_dir) if save_dir is not None else Path.cwd()
        self.opened = opened or open_run(None)
        self.trainer = self._make_trainer(self.opened)
        self.session = Session(self.trainer)  #: what the screens hold of the run
        self.snapshot_signal: Signal[Snapshot] = Signal(self, "snapshot")
        self._worker: Worker | None = None
        self._want_running = False
        self._frame_pending = False
        self.frames = 0  #: frames drawn (tests and the benchmark read it)
        self.frame_cost = 0.0  #: smoothed main-thread CPU seconds per frame
        self._next_frame_at = 0.0  #: no running frame before this time (perf_counter)
        self._frame_clock: float | None = None  #: main-thread CPU time at the last frame

    def _make_trainer(self, opened: Opened, progress=None) -> Trainer:
        trainer = opened.trainer(snapshot_hz=self.fps, boundary_hz=min(5.0, self.fps),
                                 grid=self.grid, progress=progress)
        trainer.pace = opened.preset.pace  # each preset is watched at its own pace
        return trainer

    def get_default_screen(self) -> Screen:
        return MainScreen(self.session)

    @property
    def main(self) -> MainScreen:
        return self.screen_stack[0]  # type: ignore[return-value]

    @property
    def config_pane(self) -> ConfigPane:
        return self.main.query_one(ConfigPane)

    def on_mount(self) -> None:
        if not self.is_headless:  # a real terminal: signals end the app cleanly
            loop = asyncio.get_running_loop()
            for sig in QUIT_SIGNALS:
                loop.add_signal_handler(sig, self._quit_on_signal, sig)

    def _quit_on_signal(self, sig: int) -> None:
        """SIGINT, SIGTERM or SIGHUP: stop training at once, then quit as q does, which
        restores the terminal (alternate screen off, mouse off, cursor on)."""
        self.trainer.pause()
        self._want_running = False
        self.run_worker(self._quit_with(128 + sig), group="quit", exclusive=True)

    async def _quit_with(self, code: int) -> None:
        await self.stop_training()
        self.exit(return_code=code)

    async def on_event(self, event: events.Event) -> None:
        # Training and the display share one interpreter: while a key is answered, training
        # stands aside until the screen has shown the answer, so keys feel immediate.
        if isinstance(event, events.Key) and self.training:
            self.trainer.hold(KEY_HOLD_S)
            self.call_after_refresh(self.trainer.release_hold)
        await super().on_event(event)

    # ----- the training worker -----------------------------------------------------------
    def _train(self) -> None:
        """Runs in the worker thread until paused, stopped or diverged."""
        trainer = self.trainer
        if not self._want_running:
            return
        t = trainer.config.training
        limits = {}
        if trainer.latest is None or trainer.latest.state != "finished":
            limits = {"max_epochs": t.epochs if trainer.epoch < t.epochs else None,
                      "target_loss": t.target_loss, "target_accuracy": t.target_accuracy}
        trainer.run(on_snapshot=self._on_snapshot, **limits)

    def _on_snapshot(self, snap: Snapshot) -> None:
        """Training thread: ask for one frame; never queue more than one."""
        if not self._want_running:
            self.trainer.pause()
        if self._frame_pending:
            return
        if snap.state == "running" and time.perf_counter() < self._next_frame_at:
            return  # over the frame budget: the timer set by the last frame draws it
        self._frame_pending = True
        self.post_message(FrameReady())

    def on_frame_ready(self, _: FrameReady) -> None:
        self._frame_pending = False
        self._pace_frames()
        self.redraw()

    def _pace_frames(self) -> None:
        """Set when the next running frame may come, from the main thread's CPU time since
        the previous frame (the frame's drawing, its screen update and whatever else the UI
        did): at most ``UI_SHARE`` of the time, and no more than ``fps`` frames a second.

        Snapshots arrive ``fps`` times a second; when the budget makes one wait, a timer
        draws the newest snapshot as soon as the wait ends."""
        now, cpu = time.perf_counter(), time.thread_time()
        if self._frame_clock is not None and self.training:
            cost = cpu - self._frame_clock
            self.frame_cost = cost if self.frame_cost == 0 else 0.7 * self.frame_cost + 0.3 * cost
        self._frame_clock = cpu
        share = UI_SHARE if self.trainer.pace is None else PACED_UI_SHARE
        wait = min(MAX_FRAME_WAIT, self.frame_cost / share)
        self._next_frame_at = now + wait
        if wait > 1.0 / self.fps and self.training:
            self.set_timer(wait, self._due_frame)

    def _due_frame(self) -> None:
        if (self.training and not self._frame_pending
                and time.perf_counter() >= self._next_frame_at - 0.005):
            self._frame_pending = True
            self.post_message(FrameReady())

    def redraw(self) -> None:
        """Show the trainer's newest snapshot on every screen that listens."""
        self.frames += 1
        self.snapshot_signal.publish(self.trainer.latest)

    @property
    def training(self) -> bool:
        return self._worker is not None and self._worker.state in (WorkerState.PENDING,
                                                                   WorkerState.RUNNING)

    def start_training(self) -> None:
        if self.training:
            return
        if self.trainer.latest is not None and self.trainer.latest.diverged:
            self.notify("The run diverged: lower the learning rate (-) and press r to reset.",
                        severity="warning")
            return
        self._want_running = True
        self._frame_clock = None  # the UI's work while stopped is not a frame's cost
        self._next_frame_at = 0.0  # the run's first frame shows at once
        self._worker = self.run_worker(self._train, name="training", group="training",
                                       thread=True, exit_on_error=True)

    async def stop_training(self) -> None:
        """Pause the trainer and wait for the worker thread to end (one step at most)."""
        self._want_running = False
        self.trainer.pause()
        worker = self._worker
        if worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
            await worker.wait()
        self._worker = None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is self._worker and event.state in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self._worker = None
            self._want_running = False
            self.redraw()

    # ----- actions -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.TRAINING_ACTIONS and self.screen.is_modal:
            return False
        return True

    async def action_toggle_run(self) -> None:
        if self.training:
            await self.stop_training()
            self.redraw()
        else:
            self.start_training()

    async def _steps(self, n: int) -> None:
        await self.stop_training()
        if self.trainer.latest is not None and self.trainer.latest.diverged:
            self.notify("The run diverged: lower the learning rate and press r.", severity="warning")
            return
        self.trainer.step(n)
        self.redraw()

    async def action_step(self) -> None:
        """One optimizer step (one mini-batch)."""
        await self._steps(1)

    async def action_step_epoch(self) -> None:
        """Steps until the end of the current epoch."""
        await self._steps(self.trainer.steps_to_epoch_end)

    async def action_reset(self) -> None:
        """Fresh weights from the seed; pending data/model changes take effect now."""
        await self.stop_training()
        pane = self.config_pane
        try:
            if not self.trainer.apply_config(pane.draft):  # True: it built new weights
                self.trainer.reset()
        except EngineError as exc:
            self.notify(str(exc), title="Cannot apply", severity="error", timeout=8)
            return
        pane.set_applied(self.trainer.config)
        self.redraw()

    def _change_lr(self, factor: float) -> None:
        self._set_lr(float(f"{self.config_pane.draft.training.lr * factor:.6g}"))

    def _set_lr(self, lr: float) -> None:
        """The run's lr, live, and in the config pane; a refused one is said in a note."""
        pane = self.config_pane
        try:
            self.trainer.set_lr(lr)
        except EngineError as exc:
            self.notify(exc.reason if hasattr(exc, "reason") else str(exc),
                        title="Learning rate kept", severity="warning")
            return
        pane.set_value("training.lr", lr)
        if not self.training:
            self.redraw()

    def _change_pace(self, by: int) -> None:
        self.trainer.pace = next_pace(self.trainer.pace, by)
        self.frame_cost = 0.0  # the frame budget follows the new pace at once
        self.clear_notifications()
        self.notify(pace_words(self.trainer.pace), title="Pace", timeout=2)
        self.redraw()

    def action_slower(self) -> None:
        self._change_pace(-1)

    def action_faster(self) -> None:
        self._change_pace(+1)

    def action_lr_up(self) -> None:
        self._change_lr(LR_STEP)

    def action_lr_down(self) -> None:
        self._change_lr(1 / LR_STEP)

    @on(ConfigPane.Changed)
    def _config_changed(self, event: ConfigPane.Changed) -> None:
        """Training settings apply at once; data and model changes wait for a reset."""
        live = replace(self.trainer.config, training=event.config.training)
        if live.training != self.trainer.config.training:
            try:
                self.trainer.apply_config(live)
            except EngineError as exc:
                self.notify(str(exc), severity="error")
        if not self.training:
            self.redraw()
        else:  # the status line's pending mark
            self.main.show(self.trainer.latest)

    def action_presets(self) -> None:
        current = self.trainer.preset.name if self.trainer.preset else None
        self.push_screen(PresetPicker(current), self._preset_chosen)

    async def _preset_chosen(self, preset: Preset | None) -> None:
        if preset is not None:
            await self.open(Opened(preset, source=preset.name))

    async def open(self, opened: Opened) -> None:
        """Replace the run with a preset or checkpoint."""
        await self.stop_training()
        try:  # in a thread: a large CSV loads while the screen stays live and says how far
            trainer = await asyncio.to_thread(self._make_trainer, opened, self._load_progress())
        except EngineError as exc:
            self.notify(str(exc), title="Cannot open", severity="error", timeout=8)
            return
        except Exception as exc:  # noqa: BLE001 - a stranger's file never takes the run down
            self.notify(f"{opened.source}: cannot be opened ({type(exc).__name__})",
                        title="Cannot open", severity="error", timeout=8)
            return
        old_interval = self.trainer.weights_interval
        self.opened, self.trainer = opened, trainer
        trainer.weights_interval = old_interval  # the heatmap, if shown, stays fed
        self.session = Session(trainer)
        await self.main.use_session(self.session)
        self.redraw()
        self.notify(opened.preset.title, title="Loaded", timeout=3)

    def _load_progress(self) -> Callable[[int, int], None]:
        """A CSV load's progress (called on the loading thread), shown a few times a second."""
        shown = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if total and now - shown[0] >= LOAD_NOTE_S:
                shown[0] = now
                self.call_from_thread(self._show_load, done, total)

        return progress

    def _show_load(self, done: int, total: int) -> None:
        self.clear_notifications()
        self.notify(f"{done / total:.0%} of {total / 1e6:,.1f} MB", title="Loading data",
                    timeout=2)

    def _default_path(self, suffix: str) -> str:
        name = self.trainer.preset.name if self.trainer.preset else "run"
        name = Path(name).stem
        if suffix == ".npz":
            name += f"-step{self.trainer.step_count}"
        return str(self.save_dir / f"{name}{suffix}")

    async def action_save(self) -> None:
        """Save weights, optimizer state and config to a checkpoint (.npz)."""
        await self.stop_training()
        self.redraw()

        replace_ok = confirm_replace()

        def attempt(path: str) -> str | None:
            if not path.endswith(".npz"):
                path += ".npz"
            if (refusal := replace_ok(path)) is not None:
                return refusal
            try:
                save_checkpoint(self.trainer, path)
            except (EngineError, OSError) as exc:
                return str(exc)
            self.notify(path, title="Checkpoint saved", timeout=4)
            return None

        self.push_screen(PathPrompt("Save checkpoint to", self._default_path(".npz"), attempt,
                                    "weights, optimizer state and config in one .npz file"))

    def action_open(self) -> None:
        """Open a preset (.toml, or a bundled name) or a checkpoint (.npz)."""
        found: list[Opened] = []

        def attempt(ref: str) -> str | None:
            try:
                found.append(open_run(ref))
            except (EngineError, OSError) as exc:
                return str(exc)
            return None

        async def opened(path: str | None) -> None:
            if path is not None and found:
                await self.open(found[-1])

        self.push_screen(PathPrompt("Open a preset (.toml or name) or checkpoint (.npz)",
                                    str(self.save_dir) + os.sep, attempt), opened)

    async def action_export(self) -> None:
        """Write the configuration in the pane (pending changes included) as a preset, or
        (a .py path) the run as it stands as a PyTorch script; training pauses first."""
        await self.stop_training()
        self.redraw()
        base = self.trainer.preset
        config = self.config_pane.draft

        replace_ok = confirm_replace()

        # drawn points go in a CSV file beside the preset, which names it
        drawn = self.trainer.drawn if config.data.dataset == "draw" else None

        def attempt(path: str) -> str | None:
            if path.endswith(".py"):
                return self._export_torch(path, replace_ok)
            if not path.endswith(".toml"):
                path += ".toml"
            points = str(Path(path).with_name(f"{Path(path).stem}-points.csv"))
            for target in (path, points) if drawn is not None else (path,):
                if (refusal := replace_ok(target)) is not None:
                    return refusal
            exported = config
            if drawn is not None:
                exported = replace(config, data=replace(config.data, path=Path(points).name))
            preset = Preset(name=Path(path).stem,
                            title=base.title if base else "My experiment",
                            lesson=base.lesson if base else "An experiment made in backprop-lab.",
                            config=exported, pace=self.trainer.pace)
            try:
                if drawn is not None:
                    write_atomic(points, drawn_csv(drawn, config.task).encode("utf-8"))
                save_preset(preset, path)
            except (EngineError, OSError) as exc:
                return str(exc)
            self.notify(path + (f" and {len(drawn)} points in {Path(points).name}"
                                if drawn is not None else ""), title="Preset exported", timeout=4)
            return None

        self.push_screen(PathPrompt("Export a preset (.toml) or a PyTorch script (.py)",
                                    self._default_path("-custom.toml"), attempt,
                                    "name.toml: the configuration as a preset; name.py: the run "
                                    "as it stands as a PyTorch script, its state in name.npz"
                                    + ("; drawn points: name-points.csv beside the preset"
                                       if drawn is not None else "")))

    def _export_torch(self, path: str, replace_ok: Callable[[str], str | None]) -> str | None:
        """The paused run as a PyTorch script at ``path`` and its state beside it (.npz);
        returns the refusal, if any, as one line."""
        from engine.export.torch_script import export_torch

        state = str(Path(path).with_suffix(".npz"))
        for target in (path, state):
            if (refusal := replace_ok(target)) is not None:
                return refusal
        try:
            export = export_torch(self.trainer, source=self.trainer.preset.name
                                  if self.trainer.preset else "the app's run",
                                  script_name=Path(path).name, state_file=Path(state).name)
            write_atomic(state, export.sidecar_bytes())
            write_atomic(path, export.script.encode("utf-8"))
        except (EngineError, OSError) as exc:
            return str(exc)
        self.notify(f"{path} and its state in {Path(state).name}", title="PyTorch script exported",
                    timeout=4)
        return None

    # ----- further screens: pause training, push the screen, redraw when it changed the run
    async def action_inspect(self) -> None:
        """Open the inspector (tui/screens/inspector.py) on the paused run."""
        try:
            from tui.screens.inspector import InspectorScreen
        except ImportError as exc:  # the inspector is optional
            self.notify(f"The inspector is not available ({exc})", severity="warning")
            return
        await self.stop_training()
        self.redraw()
        self.push_screen(InspectorScreen(self.session, 0))

    def on_inspector_screen_step_applied(self, _message) -> None:
        self.redraw()

    async def action_compare(self) -> None:
        """Open the comparison screen (tui/screens/compare.py) on the run's current config."""
        from tui.screens.compare import CompareScreen

        await self.stop_training()  # the variants train in their own thread
        self.redraw()
        self.push_screen(CompareScreen(self.session.current_as_preset()))

    def action_metrics(self) -> None:
        """Open the classification metrics (tui/screens/metrics.py); training goes on."""
        from tui.screens.metrics import MetricsScreen

        self.push_screen(MetricsScreen(self.session.latest))

    def action_network(self) -> None:
        """Open the network view (tui/screens/network.py); training goes on."""
        from tui.screens.network import NetworkScreen

        if not isinstance(self.screen, NetworkScreen):
            self.push_screen(NetworkScreen())

    async def action_lr_find(self) -> None:
        """Open the learning-rate range test (tui/screens/lr_find.py) on the run's config."""
        from tui.screens.lr_find import LrFindScreen

        await self.stop_training()  # the test trains its own network in its own thread
        self.redraw()
        preset = self.session.preset
        self.push_screen(LrFindScreen(self.session.config, self.session.data,
                                      title=preset.title if preset else "this run"))

    def on_lr_find_screen_apply(self, message) -> None:
        self._set_lr(message.lr)

    def action_landscape(self) -> None:
        """Open the loss landscape (tui/screens/landscape.py); training goes on."""
        from tui.screens.landscape import LandscapeScreen

        self.push_screen(LandscapeScreen(self.session))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.key_help()))

    def key_help(self) -> list[tuple[str, str]]:
        """(key, what it does) for every command (``tui.commands``)."""
        return help_rows()

    async def action_quit(self) -> None:
        """Quit at any moment: pause the trainer, let the worker end, restore the terminal."""
        await self.stop_training()
        self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for command in palette():
            owner = self if command.owner == "app" else self.main
            yield SystemCommand(command.title, f"{command.help} ({command.shown})",
                                getattr(owner, f"action_{command.action}"))


SSH_FPS = 8.0  #: frame rate when the terminal is at the other end of an SSH link


def next_pace(pace: float | None, by: int) -> float | None:
    """The listed pace ``by`` places faster (+) or slower (-) than ``pace``; a pace that is
    not listed (a preset's own) moves to the nearest listed one in that direction."""
    if pace in PACES:
        index = PACES.index(pace) + by
    elif by > 0:
        index = next(i for i, p in enumerate(PACES) if p is None or p > pace) + by - 1
    else:
        slower = [i for i, p in enumerate(PACES) if p is not None and p < pace]
        if not slower:
            return pace  # already slower than any listed pace
        index = slower[-1] + by + 1
    return PACES[max(0, min(len(PACES) - 1, index))]


def confirm_replace() -> Callable[[str], str | None]:
    """A check for a save prompt: the first attempt at a path that exists returns the
    question (shown under the field); the same path entered again goes ahead (None)."""
    asked: set[str] = set()

    def check(path: str) -> str | None:
        if os.path.lexists(path) and path not in asked:
            asked.add(path)
            return f"{path} exists: press enter again to replace it"
        return None

    return check


def default_fps(environ=os.environ) -> float:
    """BACKPROP_LAB_FPS if set, else fewer frames over SSH (bytes cost more there)."""
    try:
        return float(environ["BACKPROP_LAB_FPS"])
    except (KeyError, ValueError):
        return SSH_FPS if environ.get("SSH_CONNECTION") or environ.get("SSH_TTY") else DEFAULT_FPS


def run_app(opened: Opened, *, fps: float | None = None) -> int | None:
    """Run the app on an opened preset or checkpoint; the console script calls this."""
    if fps is None:
        fps = default_fps()
    app = BackpropLab(opened, fps=max(1.0, min(60.0, fps)))
    app.run()
    return app.return_code
