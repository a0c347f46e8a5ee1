"""``backprop-lab export-torch RUN [-o train.py]``: a run as a standalone PyTorch script.

RUN is a preset name, a preset file or a checkpoint. With ``-o FILE.py`` the script goes
there and its state (weights, optimizer state, data, batch order) to ``FILE.npz`` beside
it; without, the script goes to stdout with its state embedded (base64), so
``backprop-lab export-torch xor > train.py`` gives one file that runs alone.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

from engine.atomic import write_atomic
from engine.errors import cut
from engine.export.torch_script import export_torch

from .train import open_trainer
from .usage import UsageError


def sidecar_path(script: str) -> Path:
    """Where the state of the script at ``script`` goes: the same name, ending .npz."""
    return Path(script).with_suffix(".npz")


def cmd_export_torch(args) -> int:
    out = args.output
    if out is not None and Path(out).suffix != ".py":
        raise UsageError(f"backprop-lab export-torch: -o names the script, a .py file "
                         f"(its state goes beside it as .npz), not {cut(out, 80)!r}")
    if out is not None and os.path.lexists(args.run) and os.path.lexists(sidecar_path(out)) \
            and os.path.samefile(args.run, sidecar_path(out)):
        raise UsageError(f"backprop-lab export-torch: the script's state would go to "
                         f"{cut(str(sidecar_path(out)), 80)}, over the run it exports; "
                         "give -o another name")
    trainer, _ = open_trainer(SimpleNamespace(preset=args.run, set=args.set, seed=args.seed))
    if out is None:
        export = export_torch(trainer, source=args.run, state_file=None)
        sys.stdout.write(export.script)
        sys.stdout.flush()
        return 0
    state = sidecar_path(out)
    export = export_torch(trainer, source=args.run, script_name=Path(out).name,
                          state_file=state.name)
    write_atomic(state, export.sidecar_bytes())  # first: the script names it
    write_atomic(out, export.script.encode("utf-8"))
    print(f"{out}: the PyTorch script; {state}: its weights, optimizer state, data and "
          f"batch order. Run: python {out}  (or torchrun --nproc_per_node=N {out})")
    return 0


def add_parser(sub) -> None:
    """Register ``export-torch`` on the command line's subparsers."""
    p = sub.add_parser("export-torch", help="write a run as a standalone PyTorch script")
    p.add_argument("run", metavar="PRESET_OR_CHECKPOINT",
                   help="a bundled preset's name, a preset .toml or a checkpoint .npz")
    p.add_argument("-o", "--output", metavar="FILE.py",
                   help="write the script here and its state to FILE.npz beside it "
                        "(default: the script on stdout, its state embedded in it)")
    p.add_argument("--seed", type=int)
    p.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    p.set_defaults(func=cmd_export_torch)
