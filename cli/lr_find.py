"""``backprop-lab lr-find``: the learning-rate range test of a preset, as a small text plot
with the two marked rates, or as JSON lines for scripts.

The numbers come from ``engine.analysis.lr_find``; this module only writes them out.
"""

from __future__ import annotations

import math

from engine.analysis.lr_find import BETA, MAX_STEPS, STOP_FACTOR, LrFindResult, lr_find
from engine.presets import load_preset

from .output import json_line, number
from .usage import UsageError, apply_sets

ROWS = 16  #: rows of the text plot (the marked steps come on top of these)
BAR_W = 24  #: the longest bar: the highest smoothed loss shown


def stop_words(result: LrFindResult) -> str:
    """Why the run ended, in a few words."""
    if result.stopped == "blow-up":
        return (f"stopped at step {result.taken} of {result.steps}: the smoothed loss passed "
                f"{result.stop_factor:g} × its lowest")
    if result.stopped == "not finite":
        return f"stopped at step {result.taken} of {result.steps}: the loss was not finite"
    return f"all {result.steps} steps taken, no blow-up"


def marks(result: LrFindResult) -> dict[int, str]:
    """Step index -> the mark it carries on the plot."""
    out: dict[int, str] = {}
    if result.steepest_index is not None:
        out[result.steepest_index] = "steepest descent"
    if result.blowup_index is not None:
        out[result.blowup_index] = "blow-up"
    return out


def plot_lines(result: LrFindResult) -> list[str]:
    """A table of lr, batch loss and smoothed loss at evenly spaced steps and at the two
    marks, with a bar per row for the smoothed loss (the text plot)."""
    n = result.taken
    marked = marks(result)
    rows = sorted({round(i * (n - 1) / (ROWS - 1)) for i in range(ROWS)} | set(marked)) \
        if n > 1 else list(range(n))
    # the bars span the smoothed losses before the blow-up; a higher one ends in ▸
    before = [float(result.smoothed[i]) for i in rows
              if i != result.blowup_index and math.isfinite(result.smoothed[i])]
    lo, hi = (min(before), max(before)) if before else (0.0, 1.0)
    span = hi - lo if hi > lo else 1.0
    lines = [f"  {'step':>5}  {'lr':>9}  {'batch loss':>10}  {'smoothed':>9}"]
    for i in rows:
        s = float(result.smoothed[i])
        if not math.isfinite(s):
            bar = "?"
        elif s > hi:
            bar = "█" * BAR_W + "▸"
        else:
            bar = "█" * (1 + round((BAR_W - 1) * (s - lo) / span))
        mark = f"  ← {marked[i]}" if i in marked else ""
        lines.append(f"  {i + 1:>5}  {number(result.lrs[i]):>9}  {number(result.losses[i]):>10}"
                     f"  {number(s):>9}  {bar:<{BAR_W + 1}}{mark}".rstrip())
    return lines


def summary_lines(result: LrFindResult) -> list[str]:
    """The two marked rates in words."""
    out = []
    if result.steepest_lr is None:
        out.append("steepest descent: too few steps to tell")
    else:
        out.append(f"steepest descent: lr {number(result.steepest_lr)} "
                   f"(step {result.steepest_index + 1})")
    if result.blowup_lr is None:
        out.append(f"blow-up: none up to lr {number(result.lr_max)}")
    else:
        out.append(f"blow-up: lr {number(result.blowup_lr)} (step {result.taken})")
    return out


def cmd_lr_find(args) -> int:
    if not 2 <= args.steps <= MAX_STEPS:
        raise UsageError(f"backprop-lab lr-find: --steps must be >= 2 and <= {MAX_STEPS:,}")
    for flag, value in (("--min", args.min), ("--max", args.max)):
        if not (math.isfinite(value) and value > 0):
            raise UsageError(f"backprop-lab lr-find: {flag} must be a number > 0")
    if not args.min < args.max:
        raise UsageError(f"backprop-lab lr-find: --min ({args.min:g}) must be below --max "
                         f"({args.max:g})")
    preset = apply_sets(load_preset(args.preset), args.set, args.seed)
    result = lr_find(preset, lr_min=args.min, lr_max=args.max, steps=args.steps)
    if args.jsonl:
        for i in range(result.taken):
            print(json_line({"type": "step", "step": i + 1, "lr": result.lrs[i],
                             "loss": result.losses[i], "smoothed": result.smoothed[i]}))
        summary = {k: v for k, v in result.to_dict().items()
                   if k not in ("lrs", "losses", "smoothed")}
        print(json_line({"type": "result", **summary}), flush=True)
        return 0
    t = preset.config.training
    print(preset.title)
    print(f"  lr range test: lr {number(args.min)} → {number(args.max)} over {args.steps} steps "
          f"from fresh weights (seed {t.seed}), {t.optimizer}, batch "
          f"{'full' if t.batch_size == 0 else t.batch_size}")
    print(f"  smoothed: moving average, β {result.beta:g}, bias-corrected")
    print(f"  {stop_words(result)}")
    print("\n".join(plot_lines(result)))
    print("\n".join("  " + line for line in summary_lines(result)), flush=True)
    return 0


def add_parser(sub) -> None:
    """Register ``lr-find`` on the command line's subparsers."""
    p = sub.add_parser(
        "lr-find", help="the learning-rate range test: loss against an exponentially rising lr",
        description="From fresh weights, raise the learning rate exponentially from --min to "
                    "--max over one short run and record each step's batch loss and its "
                    f"smoothed average (β {BETA:g}); the run stops when the smoothed loss "
                    f"passes {STOP_FACTOR:g} × its lowest. Prints the steepest descent and "
                    "the blow-up.")
    p.add_argument("preset", metavar="PRESET")
    p.add_argument("--min", type=float, default=1e-5, metavar="LR", help="first lr (1e-5)")
    p.add_argument("--max", type=float, default=10.0, metavar="LR", help="last lr (10)")
    p.add_argument("--steps", type=int, default=100, metavar="N",
                   help=f"steps of the run, 2 to {MAX_STEPS:,} (100)")
    p.add_argument("--seed", type=int, help="the weights' and batches' seed")
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    p.add_argument("--jsonl", action="store_true",
                   help="one JSON object per step, then one with the result")
    p.set_defaults(func=cmd_lr_find)
