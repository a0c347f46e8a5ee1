"""The headless command line: one parser for every subcommand, and one place where a
refusal becomes one line on stderr and exit status 2."""

from __future__ import annotations

import os
import sys

from engine.errors import DataError, EngineError

from . import compare, explain, export_torch, landscape, lr_find, serve, train
from .usage import Parser, UsageError, apply_sets, fail

#: every subcommand; ``bench`` is the benchmark's, registered by the program on top
SUBCOMMANDS = ("train", "presets", "check", "compare", "explain", "landscape", "lr-find", "serve",
               "export-torch", "bench")
#: the most epochs a flag may ask for: the config's own cap on training.epochs
MAX_EPOCHS = 10_000_000


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
    train.add_parsers(sub)
    compare.add_parser(sub)
    explain.add_parser(sub)
    landscape.add_parser(sub)
    lr_find.add_parser(sub)
    serve.add_parser(sub)
    export_torch.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a headless subcommand; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "func", None) is None:
            raise UsageError(f"backprop-lab: choose a command: {', '.join(SUBCOMMANDS)}")
        epochs = getattr(args, "epochs", None)
        if epochs is not None and not 0 <= epochs <= MAX_EPOCHS:
            raise UsageError(f"backprop-lab {args.command}: --epochs must be >= 0 and "
                             f"<= {MAX_EPOCHS:,}")
        check_memory(args)
        return args.func(args)
    except (UsageError, EngineError) as exc:
        return fail(str(exc))
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("backprop-lab: interrupted", file=sys.stderr)
        return 130


def check_memory(args) -> None:
    """Refuse a preset whose run would need more memory than the machine can give, before
    anything is built (``engine.resources``). Checkpoints are checked as they open."""
    from engine.opening import is_checkpoint
    from engine.presets import load_preset
    from engine.resources import check_resources

    if args.command == "check":
        preset = load_preset(args.file)
        try:
            check_resources(preset.config, source=args.file)
        except DataError as exc:  # worded as ``check`` words a data set it cannot load
            raise DataError(f"{args.file}: data: {exc}") from None
    elif args.command == "train" and not is_checkpoint(args.preset):
        preset = apply_sets(load_preset(args.preset), args.set, args.seed)
        check_resources(preset.config, source=preset.path)
