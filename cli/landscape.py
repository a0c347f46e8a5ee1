"""``backprop-lab landscape``: the loss over a 2-D slice of weight space and the path the
optimizer took on it, as a character map with the path's points, or as JSON lines.

The numbers come from ``engine.analysis.landscape``; this module only writes them out.
"""

from __future__ import annotations

import numpy as np

from engine.analysis.landscape import (LOSS_NOTE, MAX_RESOLUTION, MIN_RESOLUTION, Landscape,
                                       landscape, log_bands)
from engine.opening import open_run
from engine.resources import check_resources

from .output import json_line, number
from .usage import UsageError

MAX_STEPS = 1_000_000  #: the most steps ``--steps`` may train before drawing
DEFAULT_STEPS = 1000  #: steps trained at most when ``--steps`` is not given
BANDS = "0123456789"  #: the map's contour bands, lowest loss first (log scale)
PATH_MARKS = {"path": "*", "start": "S", "now": "X"}
PATH_ROWS = 40  #: path points listed in the text form at most (evenly spaced)


def map_lines(ls: Landscape) -> list[str]:
    """The grid as characters (top row: the largest b), path marks on top."""
    grid = np.array(list(BANDS))[log_bands(ls.loss, len(BANDS))][::-1].copy()
    rows = grid.shape[0]
    marks = [(p, PATH_MARKS["path"]) for p in ls.path[1:-1]]
    marks += [(ls.path[0], PATH_MARKS["start"]), (ls.path[-1], PATH_MARKS["now"])]
    for point, mark in marks:  # the start and the current point drawn last, on top
        cell = ls.cell_of(point)
        if cell is not None:
            grid[rows - 1 - cell[0], cell[1]] = mark
    return [" ".join(row) for row in grid]


def render_text(ls: Landscape, title: str) -> str:
    s = ls.slice
    a0, a1, b0, b1 = ls.extent
    rows = "" if not ls.sampled else " (a fixed sample)"
    lines = [f"{title}: loss landscape, {ls.loss.shape[1]}x{ls.loss.shape[0]} grid",
             f"slice: {s.kind}" + (f" (seed {s.seed})" if s.seed is not None else ""),
             f"across: {s.labels[0]}, {number(a0)} to {number(a1)}",
             f"up: {s.labels[1]}, {number(b0)} to {number(b1)}",
             f"values: {LOSS_NOTE}, on {ls.rows} rows{rows}",
             f"bands {BANDS[0]} (lowest) to {BANDS[-1]} (highest), log scale; "
             f"S start, * path, X now", ""]
    lines += map_lines(ls)
    i, j = np.unravel_index(int(np.argmin(np.where(np.isfinite(ls.loss), ls.loss, np.inf))),
                            ls.loss.shape)
    lines += ["", f"lowest on the grid: {number(ls.loss[i, j])} at ({number(ls.a[j])}, "
              f"{number(ls.b[i])}); highest: {number(np.nanmax(ls.loss))}", "",
              f"path: {ls.path.shape[0]} points" + (" (every recorded step listed)"
                                                      if ls.path.shape[0] <= PATH_ROWS else
                                                      f" ({PATH_ROWS} evenly spaced listed)"),
              f"{'step':>8} {'across':>10} {'up':>10}"]
    picks = np.unique(np.linspace(0, ls.path.shape[0] - 1, min(PATH_ROWS, ls.path.shape[0]))
                      .round().astype(np.intp))
    for k in picks:
        a, b = ls.path[k]
        lines.append(f"{int(ls.path_steps[k]):>8} {number(a):>10} {number(b):>10}")
    return "\n".join(lines) + "\n"


def json_lines(ls: Landscape, title: str) -> list[str]:
    """One ``landscape`` line (the grid), then one ``point`` line per path point."""
    s = ls.slice
    head = {"type": "landscape", "title": title, "kind": s.kind, "seed": s.seed,
            "labels": list(s.labels), "values": LOSS_NOTE, "rows": ls.rows,
            "sampled": ls.sampled, "a": ls.a, "b": ls.b, "loss": ls.loss,
            "origin": s.origin, "directions": s.directions}
    out = [json_line(head)]
    out += [json_line({"type": "point", "step": int(step), "a": float(p[0]), "b": float(p[1])})
            for step, p in zip(ls.path_steps, ls.path)]
    return out


def cmd_landscape(args) -> int:
    if args.steps is not None and not 0 <= args.steps <= MAX_STEPS:
        raise UsageError(f"backprop-lab landscape: --steps must be >= 0 and <= {MAX_STEPS:,}")
    if not MIN_RESOLUTION <= args.grid <= MAX_RESOLUTION:
        raise UsageError(f"backprop-lab landscape: --grid must be >= {MIN_RESOLUTION} and "
                         f"<= {MAX_RESOLUTION}")
    if not 0 <= args.seed < 2**32:
        raise UsageError("backprop-lab landscape: --seed must be >= 0 and < 2**32")
    opened = open_run(args.preset)
    check_resources(opened.preset.config, source=args.preset)
    trainer = opened.trainer(grid=(2, 2))
    steps = args.steps
    if steps is None:
        steps = min(DEFAULT_STEPS, trainer.config.training.epochs * trainer.steps_per_epoch)
    if steps:
        trainer.step(steps)
    ls = landscape(trainer, kind=args.directions, resolution=args.grid, seed=args.seed)
    title = opened.preset.title or opened.source
    if args.jsonl:
        print("\n".join(json_lines(ls, title)))
    else:
        print(render_text(ls, title), end="")
    return 0


def add_parser(subparsers) -> None:
    """Register ``backprop-lab landscape`` on the command line's subparsers."""
    p = subparsers.add_parser(
        "landscape", help="train, then print the loss over a 2-D slice of weight space and "
                          "the optimizer's path on it")
    p.add_argument("preset", metavar="PRESET_OR_FILE")
    p.add_argument("--steps", type=int, metavar="N",
                   help=f"steps to train first (default: the preset's run, at most "
                        f"{DEFAULT_STEPS:,})")
    p.add_argument("--grid", type=int, default=41, metavar="R",
                   help=f"grid points a side, {MIN_RESOLUTION} to {MAX_RESOLUTION} "
                        "(default 41)")
    p.add_argument("--directions", choices=("auto", "params", "random", "pca"),
                   default="auto",
                   help="the slice: auto (the two parameters of a two-parameter model, else "
                        "random), filter-normalised random directions, or the path's top two "
                        "principal directions")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="seed of the random directions (default 0)")
    p.add_argument("--jsonl", action="store_true",
                   help="JSON lines: the grid first, then one line per path point")
    p.set_defaults(func=cmd_landscape)
