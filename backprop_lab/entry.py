"""The ``backprop-lab`` command: opens the app, or hands a subcommand to the headless
command line (``cli``) or the benchmark (``bench``).

Textual is imported only when the app opens, so headless subcommands start fast.
"""

from __future__ import annotations

import os
import sys

# The networks here are small: one BLAS thread is many times faster than several fighting
# over two cores, and it leaves a core for the display. Must be set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from cli import SUBCOMMANDS, fail
from cli import main as cli_main

APP_USAGE = "usage: backprop-lab [PRESET_OR_FILE] | backprop-lab {" + ",".join(SUBCOMMANDS) + "} ..."


def unknown_command(argv: list[str]) -> str | None:
    """Why a command line that names no subcommand is refused, or None: it opens the app
    (on nothing, or on one preset or checkpoint)."""
    import difflib

    from engine.errors import cut
    from engine.presets import bundled_names

    if not argv:
        return None
    word = argv[0]
    near = difflib.get_close_matches(word, SUBCOMMANDS, n=1)
    openable = os.path.exists(word) or word in bundled_names()
    if near and not openable:
        return f"unknown command '{cut(word, 40)}'; did you mean '{near[0]}'?"
    if len(argv) == 1:
        return None
    if openable or word.endswith((".toml", ".npz")):
        return f"too many arguments: {cut(' '.join(argv[1:]))}; {APP_USAGE}"
    return (f"unknown command '{cut(word, 40)}'; commands are {', '.join(SUBCOMMANDS)}, "
            f"or give one preset or checkpoint to open the app")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``backprop-lab`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and (argv[0] in SUBCOMMANDS or argv[0] in ("-h", "--help", "--version")):
        if argv[0] == "bench":
            from bench import main as bench_main  # imported only when asked: it is large

            return bench_main(argv[1:])
        return cli_main(argv)
    refusal = unknown_command(argv)
    if refusal:
        return fail(refusal)
    ref = argv[0] if argv else None
    from engine.opening import open_run
    from engine.errors import EngineError

    try:
        opened = open_run(ref)  # validate before the screen switches, so errors print plainly
        from tui.app import run_app

        # a checkpoint that does not fit its data is refused as the app builds its
        # trainer, also before the screen switches
        return run_app(opened) or 0
    except EngineError as exc:
        return fail(str(exc))


if __name__ == "__main__":
    sys.exit(main())
