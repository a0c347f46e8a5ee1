"""``backprop-lab compare``: variants of a preset trained side by side, as a table or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from engine.analysis.compare import (VARIANT_SETS, Variant, VariantResult, check_variant, compare,
                                     split_values, variants_for)
from engine.config import parse_value
from engine.errors import cut
from engine.presets import load_preset
from engine.resources import check_resources, data_shape

from .output import cell
from .usage import UsageError

#: caps on the flags: seeds per variant, steps per run, variants in one comparison
MAX_SEEDS = 100
MAX_STEPS = 10_000_000
MAX_VARIANTS = 1_000


def parse_vary(spec: str) -> tuple[str, list]:
    """``key.path=v1,v2,...`` -> (key, [values]) with TOML-typed values."""
    key, eq, rest = spec.partition("=")
    key = key.strip()
    if not eq or not key or not rest.strip():
        raise UsageError(f"--vary needs key.path=v1,v2,..., got '{cut(spec)}'")
    if len(key) > 200:
        raise UsageError(f"--vary {cut(key)}: a key path of at most 200 characters")
    values = [parse_value(v) for v in split_values(rest)]
    if any(v == "" for v in values):
        raise UsageError(f"--vary {cut(key)}: empty value in '{cut(rest)}'")
    if len(values) > MAX_VARIANTS:
        raise UsageError(f"--vary {cut(key)}: {len(values):,} values, more than the "
                         f"{MAX_VARIANTS:,} a comparison may have")
    return key, values




def table(results: Sequence[VariantResult], *, has_target: bool) -> list[str]:
    """The printed comparison, one line per variant."""

    n_seeds = len(results[0].runs) if results else 1
    head = ["variant", "train loss", "test loss", "train acc", "test acc"]
    if has_target:
        head += ["steps to target", "epochs"]
    head.append("diverged")
    rows = []
    for r in results:
        row = [r.label, cell(r.final_train_loss, ".4g"), cell(r.final_test_loss, ".4g"),
               cell(r.train_accuracy, ".1%"), cell(r.test_accuracy, ".1%")]
        if has_target:
            row += [cell(r.steps_to_target, ".0f") if r.steps_to_target is not None else "not reached",
                    cell(r.epochs_to_target, ".3g")]
        row.append(("yes" if r.diverged else "no") if n_seeds == 1 else f"{r.diverged}/{n_seeds}")
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(  # noqa: E731
        (str(c).ljust(w) if i == 0 else str(c).rjust(w)) for i, (c, w) in enumerate(zip(cells, widths)))
    return [line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def cmd_compare(args) -> int:
    preset = load_preset(args.preset)
    variants: list[Variant] = []
    if args.variants:
        if args.variants not in VARIANT_SETS:
            raise UsageError(f"--variants: no set named '{cut(args.variants)}'; "
                             f"sets: {', '.join(VARIANT_SETS)}")
        variants += VARIANT_SETS[args.variants]
    if args.vary:
        axes = [parse_vary(spec) for spec in args.vary]
        combos: list[Variant] = [Variant("", {})]
        for key, values in axes:
            if len(combos) * len(values) * max(1, len(variants)) > MAX_VARIANTS:
                raise UsageError(f"backprop-lab compare: more than the {MAX_VARIANTS:,} "
                                 f"variants a comparison may have; vary fewer values")
            combos = [Variant(f"{c.label} {v.label}".strip(), {**c.values, **v.values})
                      for c in combos for v in variants_for(key, values)]
        if variants:  # a set and --vary: every variant of the set with every value
            variants = [Variant(f"{a.label} {b.label}", {**a.values, **b.values})
                        for a in variants for b in combos]
        else:
            variants = combos
    if not variants:
        raise UsageError("backprop-lab compare: give --vary key.path=v1,v2,... or --variants NAME")
    if not 1 <= args.seeds <= MAX_SEEDS:
        raise UsageError(f"backprop-lab compare: --seeds must be >= 1 and <= {MAX_SEEDS}")
    if args.steps is not None and not 0 <= args.steps <= MAX_STEPS:
        raise UsageError(f"backprop-lab compare: --steps must be >= 0 and <= {MAX_STEPS:,}")
    shapes: dict = {}  # a data set's shape, found once for all variants that share it
    for variant in variants:  # every variant's config is valid and fits in memory
        cfg = check_variant(preset.config, variant)
        if cfg.data not in shapes:
            shapes[cfg.data] = data_shape(cfg)
        check_resources(cfg, *shapes[cfg.data], source=preset.path)
    t = preset.config.training
    results = compare(preset, variants=variants, epochs=args.epochs, steps=args.steps,
                      seeds=args.seeds, stop_at_target=args.stop_at_target)
    if args.jsonl:
        for r in results:
            print(json.dumps(r.to_dict(curves=True)), flush=True)
        return 0
    seeds = [r.seed for r in results[0].runs]
    length = f"{args.steps} steps" if args.steps is not None else \
        f"{args.epochs if args.epochs is not None else t.epochs} epochs"
    target = []
    if t.target_loss is not None:
        target.append(f"train loss <= {t.target_loss:g}")
    if t.target_accuracy is not None:
        target.append(f"test accuracy >= {t.target_accuracy:.0%}")
    print(f"{preset.title}")
    print(f"  {length}, seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
          + (" (medians)" if len(seeds) > 1 else "")
          + (f"; target: {' or '.join(target)}" if target else ""))
    print("\n".join("  " + line for line in table(results, has_target=bool(target))))
    return 0


def add_parser(sub) -> None:
    """Register ``compare`` on the command line's subparsers."""
    p = sub.add_parser("compare", help="train variants of a preset and compare them",
                       description="Train variants of a preset (same data and seeds, one "
                                   "setting changed) and print their final losses side by side.")
    p.add_argument("preset", metavar="PRESET_OR_FILE")
    p.add_argument("--vary", action="append", default=[], metavar="KEY.PATH=V1,V2,...",
                   help="a setting and its values (model.layers[*].activation sets every "
                        "hidden layer); repeat for every combination")
    p.add_argument("--variants", metavar="NAME",
                   help=f"a ready-made set of variants: {', '.join(VARIANT_SETS)}")
    p.add_argument("--epochs", type=int, help="epochs per run (default: the preset's)")
    p.add_argument("--steps", type=int,
                   help=f"steps per run instead of epochs (at most {MAX_STEPS:,})")
    p.add_argument("--seeds", type=int, default=1,
                   help=f"seeds per variant, at most {MAX_SEEDS} (medians are shown)")
    p.add_argument("--stop-at-target", action="store_true",
                   help="end each run when it reaches the preset's target (a race)")
    p.add_argument("--jsonl", action="store_true",
                   help="one JSON object per variant, with its median loss curves")
    p.set_defaults(func=cmd_compare)


