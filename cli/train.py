"""``backprop-lab train``, ``presets`` and ``check``: a preset trained headless, listed or
validated."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from engine.checkpoint import save_checkpoint
from engine.errors import DataError, EngineError
from engine.errors import cut
from engine.opening import is_checkpoint, open_run
from engine.presets import list_presets, load_preset
from engine.training.build import build_dataset
from engine.training.probe import class_accuracy
from engine.training.trainer import Trainer

from .output import json_line, sci, share
from .usage import apply_sets, fail


def epoch_record(snap) -> dict:
    """One --jsonl line. The layer figures are those of step ``stats_step`` (the epoch's
    last step; null before any step), by the definition in ``engine.training.probe``."""
    return {
        "epoch": snap.epoch, "step": snap.step,
        "train_loss": snap.train_loss, "test_loss": snap.test_loss,
        "train_acc": snap.train_accuracy, "test_acc": snap.test_accuracy,
        "confusion_train": _rows(snap.confusion_train),
        "confusion_test": _rows(snap.confusion_test),
        "stats_step": snap.stats_step,
        "grad_norms": [l.grad_norm for l in snap.layers],
        "update_ratios": [l.update_ratio for l in snap.layers],
        "dead_fraction": [l.dead_fraction for l in snap.layers],
        "saturated_fraction": [l.saturated_fraction for l in snap.layers],
        "flags": list(snap.flags),
        "diverged": snap.diverged,
    }


def _rows(matrix) -> list[list[int]] | None:
    return None if matrix is None else [[int(v) for v in row] for row in matrix]


#: characters of a class name in the summary's confusion matrix
NAME_W = 12


def confusion_lines(matrix, class_names=(), split: str = "test") -> list[str]:
    """A confusion matrix (rows the true class, columns the predicted one) with each
    class's accuracy (recall) at the end of its row."""
    k = matrix.shape[0]
    names = [cut_name(class_names[i] if i < len(class_names) else str(i)) for i in range(k)]
    width = max(5, len(str(int(matrix.max()))) + 1, *(len(n) + 1 for n in names))
    lead = max(len(n) for n in names) + 4
    recall = class_accuracy(matrix)
    lines = [f"  confusion, {split} ({int(matrix.sum())} rows; rows: true class, columns: "
             f"predicted):",
             " " * lead + "".join(f"{n:>{width}}" for n in names) + "  accuracy"]
    for name, row, r in zip(names, matrix, recall):
        acc = "–" if r != r else f"{r:.1%}"
        lines.append(f"    {name:<{lead - 4}}" + "".join(f"{int(v):>{width}}" for v in row)
                     + f"  {acc:>8}")
    return lines


def cut_name(name: str) -> str:
    return name if len(name) <= NAME_W else name[:NAME_W - 1] + "…"


def test_loss_text(loss: float | None) -> str:
    """``test 0.123``, or what stands in its place when there is no test split (a drawn
    set trains on every point; train_ratio 1)."""
    if loss is None or loss != loss:  # None or NaN: nothing to measure it on
        return "no test split"
    return f"test {loss:.5g}"


def summary_lines(snap, title: str, class_names=()) -> list[str]:
    """The human summary printed after ``train``; for classification, the test split's
    confusion matrix (the train split's when there is no test split)."""
    acc = ""
    if snap.train_accuracy is not None:
        test = f", test {snap.test_accuracy:.1%}" if snap.test_accuracy is not None else ""
        acc = f"  accuracy: train {snap.train_accuracy:.1%}{test}"
    lines = [
        f"{title}",
        f"  state: {snap.state}" + (f" ({snap.reason})" if snap.reason else ""),
        f"  epochs: {snap.epoch}  steps: {snap.step}  steps/s: {snap.steps_per_sec:,.0f}",
        f"  loss: train {snap.train_loss:.5g}, " + test_loss_text(snap.test_loss)
        + (f" (penalty {snap.penalty:.3g} not included)" if snap.penalty else ""),
    ]
    if acc:
        lines.append(acc)
    if snap.confusion_test is not None:
        lines += confusion_lines(snap.confusion_test, class_names, "test")
    elif snap.confusion_train is not None:
        lines += confusion_lines(snap.confusion_train, class_names, "train")
    if snap.stats_step is not None:
        lines.append(f"  layers, as measured on step {snap.stats_step}:")
    flags = snap.flags or ("",) * len(snap.layers)
    for layer, flag in zip(snap.layers, flags):
        note = f"  {flag}" if flag and flag != "ok" else ""
        lines.append(
            f"  layer {layer.index} {layer.fan_in}->{layer.fan_out} {layer.activation:<10} "
            f"|grad| {sci(layer.grad_norm)}  dead {share(layer.dead_fraction)}  "
            f"saturated {share(layer.saturated_fraction)}{note}")
    return lines


@contextmanager
def stop_on_interrupt(enabled: bool) -> Iterator[list[bool]]:
    """While a run goes, a first Ctrl+C asks it to stop after the current step (the run
    then returns normally, so what it trained can be saved); a second one interrupts at
    once. Yields a list that holds True once Ctrl+C was pressed."""
    pressed: list[bool] = []
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield pressed
        return

    def on_sigint(signum, frame):  # only a flag: pausing takes locks the run may hold
        pressed.append(True)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def open_trainer(args):
    """The trainer ``train`` runs, from a preset or a checkpoint, and its preset; a CSV
    data set shows its load's progress on a terminal."""
    with load_progress() as progress:
        if is_checkpoint(args.preset):
            opened = open_run(args.preset)
            opened = replace(opened, preset=apply_sets(opened.preset, args.set, args.seed))
            return opened.trainer(progress=progress), opened.preset
        preset = apply_sets(load_preset(args.preset), args.set, args.seed)
        return Trainer(preset, progress=progress), preset


@contextmanager
def load_progress():
    """A progress bar on stderr for a data set's load (None when stderr is no terminal)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    with Progress(TextColumn("loading data"), BarColumn(), DownloadColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("load", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def save_after_run(trainer, path: str, snap, *, interrupted: bool, quiet: bool) -> int:
    """Save at the end of a run, the summary already printed (``quiet``: none is), so a
    refused save still leaves it on screen. Returns the exit status."""
    try:
        save_checkpoint(trainer, path)
    except EngineError as exc:
        lead = f"interrupted at step {snap.step}; not saved: " if interrupted else ""
        return fail(f"{lead}{exc}")
    if not quiet:
        print(f"  saved to {path}")
    if interrupted:
        print(f"backprop-lab: interrupted at step {snap.step} (epoch {snap.epoch}); saved what "
              f"was trained to {cut(path, 120)}", file=sys.stderr)
        return 130
    return 0


def cmd_train(args) -> int:
    trainer, preset = open_trainer(args)
    if trainer.not_ready:  # drawn data without the points it needs
        raise DataError(f"{cut(args.preset, 80)}: cannot train: {trainer.not_ready} (draw "
                        f"points in the app, or name a CSV of x1,x2,label with --set "
                        f"data.path=FILE)")
    epochs = args.epochs if args.epochs is not None else preset.config.training.epochs
    if is_checkpoint(args.preset) and args.epochs is not None:
        epochs += trainer.epoch  # from a checkpoint, --epochs counts the epochs to add
    t = preset.config.training
    targets = {"target_loss": t.target_loss, "target_accuracy": t.target_accuracy}
    with stop_on_interrupt(args.save is not None) as pressed:
        def stop_if_pressed(snap) -> None:
            if pressed:
                trainer.pause()

        if args.jsonl:
            def on_epoch(snap):
                print(json_line(epoch_record(snap)), flush=True)

            snap = trainer.run(max_epochs=epochs, on_epoch=on_epoch,
                               on_snapshot=stop_if_pressed, **targets)
            if snap.diverged:
                print(json_line(epoch_record(snap)), flush=True)
        elif sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            columns = (TextColumn("epoch {task.completed:>.0f}/{task.total:.0f}"), BarColumn(),
                       TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn())
            with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("train", total=epochs, loss="-")

                def show(s):
                    bar.update(task, completed=s.epoch, loss=f"{s.train_loss:.4g}")
                    stop_if_pressed(s)

                snap = trainer.run(max_epochs=epochs, **targets, on_snapshot=show)
        else:
            snap = trainer.run(max_epochs=epochs, on_snapshot=stop_if_pressed, **targets)
    if not args.jsonl:
        # a CSV file's classes are its content, which the command never prints: numbered
        names = () if preset.config.data.dataset == "csv" else trainer.data.class_names
        print("\n".join(summary_lines(snap, preset.title, names)), flush=True)
    if args.save is None:
        return 0
    return save_after_run(trainer, args.save, snap, interrupted=bool(pressed),
                          quiet=args.jsonl)


def cmd_presets(args) -> int:
    for preset in list_presets():
        print(f"{preset.name:<24} {preset.title}")
    return 0


def cmd_check(args) -> int:
    preset = load_preset(args.file)
    try:
        data = build_dataset(preset.config)  # the data must load and fit the model too
    except DataError as exc:
        raise DataError(f"{args.file}: data: {exc}") from None
    preset.config.check(source=args.file, n_classes=data.n_classes)
    print(f"{args.file}: ok ({preset.title})")
    return 0


def add_parsers(sub) -> None:
    """Register ``train``, ``presets`` and ``check`` on the command line's subparsers."""
    p = sub.add_parser("train", help="train a preset headless and print a summary")
    p.add_argument("preset", metavar="PRESET_OR_FILE")
    p.add_argument("--epochs", type=int,
                   help="epochs to train (from a checkpoint: epochs to add to it)")
    p.add_argument("--seed", type=int)
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per epoch on stdout")
    p.add_argument("--save", metavar="FILE.npz",
                   help="save a checkpoint at the end; Ctrl+C stops the run and saves it")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("presets", help="list the bundled presets")
    p.set_defaults(func=cmd_presets)
    p = sub.add_parser("check", help="validate a preset file")
    p.add_argument("file", metavar="FILE.toml")
    p.set_defaults(func=cmd_check)
