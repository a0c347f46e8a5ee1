"""Headless commands of ``backprop-lab``: train, presets, check, compare, explain.

Bad input exits with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tomllib

from .errors import EngineError

SUBCOMMANDS = ("train", "presets", "check", "compare", "explain", "bench")


class UsageError(Exception):
    """A command line that cannot be run."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr and exit status 2."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")


def fail(message: str) -> int:
    """Print one line to stderr and return the bad-input status."""
    print(f"backprop-lab: {message}" if not message.startswith("backprop-lab") else message,
          file=sys.stderr)
    return 2


def parse_value(text: str):
    """A --set value: TOML syntax when it parses (numbers, true, lists...), else the text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_sets(preset, sets: list[str], seed: int | None):
    """The preset with ``--set key.path=value`` and ``--seed`` applied (validated)."""
    from dataclasses import replace

    config = preset.config
    for item in sets:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--set needs key.path=value, got '{item}'")
        config = config.with_value(key.strip(), parse_value(value.strip()), source="--set")
    if seed is not None:
        config = config.with_value("training.seed", seed, source="--seed")
    return replace(preset, config=config)


def _clean(x):
    """JSON has no NaN: not-a-number becomes null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def epoch_record(snap) -> dict:
    """One --jsonl line. The layer figures are those of step ``stats_step`` (the epoch's
    last step; null before any step), by the definition in ``engine.layer_stats``."""
    return {
        "epoch": snap.epoch, "step": snap.step,
        "train_loss": _clean(snap.train_loss), "test_loss": _clean(snap.test_loss),
        "train_acc": snap.train_accuracy, "test_acc": snap.test_accuracy,
        "stats_step": snap.stats_step,
        "grad_norms": [_clean(l.grad_norm) for l in snap.layers],
        "update_ratios": [_clean(l.update_ratio) for l in snap.layers],
        "dead_fraction": [l.dead_fraction for l in snap.layers],
        "saturated_fraction": [l.saturated_fraction for l in snap.layers],
        "flags": list(snap.flags),
        "diverged": snap.diverged,
    }


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def summary_lines(snap, title: str) -> list[str]:
    """The human summary printed after ``train``."""
    acc = ""
    if snap.train_accuracy is not None:
        test = f", test {snap.test_accuracy:.1%}" if snap.test_accuracy is not None else ""
        acc = f"  accuracy: train {snap.train_accuracy:.1%}{test}"
    lines = [
        f"{title}",
        f"  state: {snap.state}" + (f" ({snap.reason})" if snap.reason else ""),
        f"  epochs: {snap.epoch}  steps: {snap.step}  steps/s: {snap.steps_per_sec:,.0f}",
        f"  loss: train {snap.train_loss:.5g}, test {snap.test_loss:.5g}"
        + (f" (penalty {snap.penalty:.3g} not included)" if snap.penalty else ""),
    ]
    if acc:
        lines.append(acc)
    if snap.stats_step is not None:
        lines.append(f"  layers, as measured on step {snap.stats_step}:")
    flags = snap.flags or ("",) * len(snap.layers)
    for layer, flag in zip(snap.layers, flags):
        grad = "–" if layer.grad_norm is None else f"{layer.grad_norm:.2e}"
        note = f"  {flag}" if flag and flag != "ok" else ""
        lines.append(
            f"  layer {layer.index} {layer.fan_in}->{layer.fan_out} {layer.activation:<10} "
            f"|grad| {grad}  dead {_share(layer.dead_fraction)}  "
            f"saturated {_share(layer.saturated_fraction)}{note}")
    return lines


def cmd_train(args) -> int:
    from .checkpoint import save_checkpoint
    from .presets import load_preset
    from .trainer import Trainer

    preset = apply_sets(load_preset(args.preset), args.set, args.seed)
    trainer = Trainer(preset)
    epochs = args.epochs if args.epochs is not None else preset.config.training.epochs
    t = preset.config.training
    targets = {"target_loss": t.target_loss, "target_accuracy": t.target_accuracy}
    if args.jsonl:
        def on_epoch(snap):
            print(json.dumps(epoch_record(snap)), flush=True)

        snap = trainer.run(max_epochs=epochs, on_epoch=on_epoch, **targets)
        if snap.diverged:
            print(json.dumps(epoch_record(snap)), flush=True)
    elif sys.stderr.isatty():
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("epoch {task.completed:>.0f}/{task.total:.0f}"), BarColumn(),
                   TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("train", total=epochs, loss="-")
            snap = trainer.run(max_epochs=epochs, **targets, on_snapshot=lambda s: bar.update(
                task, completed=s.epoch, loss=f"{s.train_loss:.4g}"))
    else:
        snap = trainer.run(max_epochs=epochs, **targets)
    if args.save:
        save_checkpoint(trainer, args.save)
    if not args.jsonl:
        print("\n".join(summary_lines(snap, preset.title)))
        if args.save:
            print(f"  saved to {args.save}")
    return 0


def cmd_presets(args) -> int:
    from .presets import list_presets

    for preset in list_presets():
        print(f"{preset.name:<24} {preset.title}")
    return 0


def cmd_check(args) -> int:
    from .presets import load_preset
    from .trainer import build_dataset

    from .errors import DataError

    preset = load_preset(args.file)
    try:
        data = build_dataset(preset.config)  # the data must load and fit the model too
    except DataError as exc:
        raise DataError(f"{args.file}: data: {exc}") from None
    preset.config.check(source=args.file, n_classes=data.n_classes)
    print(f"{args.file}: ok ({preset.title})")
    return 0


def build_parser() -> Parser:
    from importlib.metadata import PackageNotFoundError, version

    try:
        own_version = version("backprop-lab")
    except PackageNotFoundError:  # running from a source tree that is not installed
        own_version = "unknown"
    parser = Parser(prog="backprop-lab", description="Watch backpropagation work.",
                    epilog="With no command, or a preset or checkpoint, it opens the app; "
                           "'backprop-lab bench' measures speed.")
    parser.add_argument("--version", action="version", version=f"backprop-lab {own_version}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    p = sub.add_parser("train", help="train a preset headless and print a summary")
    p.add_argument("preset", metavar="PRESET_OR_FILE")
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per epoch on stdout")
    p.add_argument("--save", metavar="FILE.npz")
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("presets", help="list the bundled presets")
    p.set_defaults(func=cmd_presets)
    p = sub.add_parser("check", help="validate a preset file")
    p.add_argument("file", metavar="FILE.toml")
    p.set_defaults(func=cmd_check)
    try:
        from .compare import add_parser as add_compare

        add_compare(sub)
    except ImportError:
        pass
    try:
        from .explain import add_parser as add_explain

        add_explain(sub)
    except ImportError:
        pass
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a headless subcommand; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "func", None) is None:
            raise UsageError(f"backprop-lab: choose a command: {', '.join(SUBCOMMANDS)}")
        if getattr(args, "epochs", None) is not None and args.epochs < 0:
            raise UsageError(f"backprop-lab {args.command}: --epochs must be >= 0")
        return args.func(args)
    except UsageError as exc:
        return fail(str(exc))
    except EngineError as exc:
        return fail(str(exc))
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("backprop-lab: interrupted", file=sys.stderr)
        return 130
