"""Checkpoints: weights, optimizer state, counters and config in one ``.npz`` file.

Files are written atomically, so a crash mid-save leaves the previous checkpoint intact.
Loading checks every layer's shape against the network the stored config describes.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from .atomic import write_atomic
from .errors import CheckpointError, ConfigError
from .presets import DEFAULT_PACE, Preset, parse_preset, preset_toml

FORMAT = "backprop-lab-checkpoint/1"
COUNTERS = ("step", "epoch", "pos", "seed", "elapsed")


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds."""

    preset: Preset
    params: np.ndarray  #: (n_params,) flat, in the network's layout
    layer_shapes: tuple[tuple[int, int], ...]
    optimizer: str
    optimizer_state: dict
    counters: dict  #: step, epoch, pos, seed, elapsed
    shuffle_state: dict | None
    order: np.ndarray | None = None  #: the current epoch's sample order


def save_checkpoint(trainer, path: str | os.PathLike, *, title: str | None = None,
                    lesson: str | None = None) -> None:
    """Save ``trainer``'s weights, optimizer state, counters and config to ``path``."""
    base = trainer.preset
    preset = Preset(name=base.name if base else "checkpoint",
                    title=title or (base.title if base else "Saved run"),
                    lesson=lesson or (base.lesson if base else "A saved training run."),
                    config=trainer.config, pace=base.pace if base else DEFAULT_PACE)
    net = trainer.network
    state = trainer.state()
    arrays = {
        "format": np.array(FORMAT),
        "preset_toml": np.array(preset_toml(preset)),
        "params": net.params,
        "layer_shapes": np.array([l.W.shape for l in net.layers], dtype=np.int64),
        "optimizer": np.array(trainer.optimizer.name),
        "counters": np.array(json.dumps({k: state[k] for k in COUNTERS})),
        "shuffle_state": np.array(json.dumps(state["shuffle_state"])),
        "order": state["order"],
    }
    for key, value in trainer.optimizer.state_arrays().items():
        arrays[f"opt_{key}"] = value
    write_atomic(path, lambda fh: np.savez(fh, **arrays))


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint file; raises CheckpointError with one clear line if it is unusable."""
    src = os.fspath(path)
    if not os.path.isfile(src):
        raise CheckpointError(f"{src}: no such file")
    try:
        with np.load(src, allow_pickle=False) as npz:
            files = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise CheckpointError(f"{src}: not a readable checkpoint ({exc.__class__.__name__})") from None
    missing = [k for k in ("format", "preset_toml", "params", "layer_shapes", "optimizer", "counters")
               if k not in files]
    if missing or str(files["format"]) != FORMAT:
        raise CheckpointError(f"{src}: not a backprop-lab checkpoint (missing {', '.join(missing) or 'format'})")
    try:
        preset = parse_preset(str(files["preset_toml"]), name=os.path.basename(src), source=src)
    except ConfigError as exc:
        raise CheckpointError(f"{src}: its stored config is invalid: {exc.reason}") from None
    shapes = tuple(tuple(int(v) for v in row) for row in files["layer_shapes"])
    counters = json.loads(str(files["counters"]))
    shuffle = json.loads(str(files["shuffle_state"])) if "shuffle_state" in files else None
    opt_state = {k[4:]: v for k, v in files.items() if k.startswith("opt_")}
    return Checkpoint(preset, files["params"], shapes, str(files["optimizer"]), opt_state,
                      counters, shuffle, files.get("order"))


def restore(trainer, ckpt: Checkpoint, source: str = "checkpoint") -> None:
    """Put a checkpoint's weights, optimizer state and counters into a trainer built from
    the same config. Shapes are checked first; on a mismatch nothing changes."""
    net = trainer.network
    for i, (layer, shape) in enumerate(zip(net.layers, ckpt.layer_shapes)):
        if tuple(layer.W.shape) != shape:
            raise CheckpointError(
                f"{source}: layer {i} W has shape {shape}, the config's network has {layer.W.shape}")
    if len(ckpt.layer_shapes) != len(net.layers) or ckpt.params.shape != net.params.shape:
        raise CheckpointError(
            f"{source}: {len(ckpt.layer_shapes)} layers / {ckpt.params.size} parameters, "
            f"the config's network has {len(net.layers)} / {net.n_params}")
    if ckpt.optimizer != trainer.optimizer.name:
        raise CheckpointError(
            f"{source}: optimizer state is for '{ckpt.optimizer}', the config uses '{trainer.optimizer.name}'")
    trainer.optimizer.load_state_arrays(ckpt.optimizer_state, net.params)
    net.params[...] = ckpt.params
    trainer.restore({**{k: v for k, v in ckpt.counters.items() if k in COUNTERS},
                     "order": ckpt.order, "shuffle_state": ckpt.shuffle_state})
