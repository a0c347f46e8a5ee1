"""The headless command line: one parser for every subcommand, and one place where a
refusal becomes one line on stderr and exit status 2."""

from __future__ import annotations

import os
import sys

from engine.errors import EngineError

from . import compare, explain, train
from .usage import Parser, UsageError, fail

#: every subcommand; ``bench`` is the benchmark's, registered by the program on top
SUBCOMMANDS = ("train", "presets", "check", "compare", "explain", "bench")


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
    except (UsageError, EngineError) as exc:
        return fail(str(exc))
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("backprop-lab: interrupted", file=sys.stderr)
        return 130
