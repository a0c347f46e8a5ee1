"""Checkpoints: weights, optimizer state, counters and config in one ``.npz`` file.

Files are written atomically, so a crash mid-save leaves the previous checkpoint intact.
A checkpoint may come from anyone, so loading trusts nothing: the zip and every array
header are checked before any array is read (``engine.npz_guard``), then every field by
its schema (``engine.checkpoint_fields``), and the stored config's layers against the
stored shapes, all before a network is built. ``restore`` checks that the checkpoint fits
the trainer before it changes anything.

Limits: at most MAX_PARAMS parameters (20 million, far past what a lesson needs: 160 MB
a copy in float64), MAX_SAMPLES training samples in the saved order, and MAX_BYTES
uncompressed in all (what the largest checkpoint within those limits holds: params, two
optimizer state arrays, the order and the text fields). Saving refuses a run over them,
so every file it writes opens again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace

import numpy as np

from .atomic import write_atomic
from .checkpoint_fields import (COUNTERS, OPTIMIZER_STATE, check_layers, check_order,
                                check_steps, counters_from, drawn_from, shuffle_state_from)
from .data.drawn import MAX_DRAWN, Drawn
from .errors import CheckpointError, ConfigError, choices
from .errors import cut
from .npz_guard import Member, read_npz
from .presets import DEFAULT_PACE, Preset, parse_preset, preset_toml

FORMAT = "backprop-lab-checkpoint/1"
MAX_PARAMS = 20_000_000
MAX_SAMPLES = 10_000_000
MAX_PRESET_CHARS = 1 << 16  #: a bundled preset is about 2,000
MAX_LAYERS = 64  #: the config allows 32 hidden layers
MAX_BYTES = (3 * MAX_PARAMS + MAX_SAMPLES) * 8 + (1 << 20)  #: params, two state arrays, order, text
MAX_MEMBERS = 16
_TEXT = {"format": 64, "preset_toml": MAX_PRESET_CHARS, "optimizer": 64,
         "counters": 4096, "shuffle_state": 4096}
_REQUIRED = ("format", "preset_toml", "params", "layer_shapes", "optimizer", "counters")
_STATE_NAMES = {name for names in OPTIMIZER_STATE.values() for name in names}


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds, checked."""

    preset: Preset
    params: np.ndarray  #: (n_params,) flat, in the network's layout
    layer_shapes: tuple[tuple[int, int], ...]
    optimizer: str
    optimizer_state: dict  #: state arrays (n_params,) by name, and "steps"
    counters: dict  #: step, epoch, pos, seed, elapsed
    shuffle_state: dict | None
    order: np.ndarray | None = None  #: the current epoch's sample order
    drawn: Drawn | None = None  #: the points of drawn data (its config names no file)


def save_checkpoint(trainer, path: str | os.PathLike, *, title: str | None = None,
                    lesson: str | None = None) -> None:
    """Save ``trainer``'s weights, optimizer state, counters and config to ``path``."""
    base = trainer.preset
    drawn, config = trainer.drawn, trainer.config
    if drawn is not None:  # the points travel in the checkpoint, not in a file beside it
        config = replace(config, data=replace(config.data, path=""))
    preset = Preset(name=base.name if base else "checkpoint",
                    title=title or (base.title if base else "Saved run"),
                    lesson=lesson or (base.lesson if base else "A saved training run."),
                    config=config, pace=base.pace if base else DEFAULT_PACE)
    net = trainer.network
    state = trainer.state()
    if net.n_params > MAX_PARAMS or state["order"].size > MAX_SAMPLES:
        raise CheckpointError(f"cannot save: {net.n_params:,} parameters and {state['order'].size:,} "
                              f"training samples; a checkpoint holds at most {MAX_PARAMS:,} and "
                              f"{MAX_SAMPLES:,}")
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
    if drawn is not None:
        arrays["drawn_xy"], arrays["drawn_values"] = drawn.xy, drawn.values
    write_atomic(path, lambda fh: np.savez(fh, **arrays))


def _member(name: str) -> Member | None:
    """What the member ``name`` may hold (None: a checkpoint has no such member)."""
    if name in _TEXT:
        return Member("str", 0, _TEXT[name])
    if name == "params" or (name.startswith("opt_") and name[4:] in _STATE_NAMES):
        return Member("float", 1, MAX_PARAMS)
    if name == "layer_shapes":
        return Member("int", 2, 2 * MAX_LAYERS)
    if name == "order":
        return Member("int", 1, MAX_SAMPLES)
    if name == "opt_steps":
        return Member("int", 0, 1)
    if name == "drawn_xy":
        return Member("float", 2, 2 * MAX_DRAWN)
    if name == "drawn_values":
        return Member("float", 1, MAX_DRAWN)
    return None


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read and check a checkpoint file; raises CheckpointError with one clear line if it
    is unusable (nothing else)."""
    src = os.fspath(path)
    where = cut(src, 120)
    files = read_npz(src, _member, max_bytes=MAX_BYTES, max_members=MAX_MEMBERS)
    missing = [k for k in _REQUIRED if k not in files]
    if missing:
        raise CheckpointError(f"{where}: not a backprop-lab checkpoint (missing {', '.join(missing)})")
    if files["format"] != FORMAT:
        raise CheckpointError(f"{where}: not a backprop-lab checkpoint (format "
                              f"{cut(files['format'], 40)!r}; expected {FORMAT!r})")
    optimizer = files["optimizer"]
    if optimizer not in OPTIMIZER_STATE:
        raise CheckpointError(f"{where}: optimizer {cut(optimizer, 40)!r} is not known; "
                              f"allowed: {choices(OPTIMIZER_STATE)}")
    params = files["params"]
    if not np.isfinite(params).all():
        raise CheckpointError(f"{where}: params: the weights are not all finite numbers")
    shapes = check_layers(files["layer_shapes"], params.size, MAX_PARAMS, where)
    opt_state = _optimizer_state(files, optimizer, params.shape, where)
    counters = counters_from(files["counters"], where, MAX_SAMPLES)
    shuffle = shuffle_state_from(files["shuffle_state"], where) if "shuffle_state" in files else None
    order = check_order(files["order"], where) if "order" in files else None
    if counters["pos"] and order is None:
        raise CheckpointError(f"{where}: counters: pos is {counters['pos']} but there is no saved order")
    preset = _stored_preset(files["preset_toml"], src, where)
    _check_layers_match(preset, shapes, where)
    drawn = drawn_from(files.get("drawn_xy"), files.get("drawn_values"), preset.config, where)
    return Checkpoint(preset, params, shapes, optimizer, opt_state, counters, shuffle, order,
                      drawn)


def _optimizer_state(files: dict, optimizer: str, shape: tuple, where: str) -> dict:
    state = {}
    for key, value in files.items():
        if not key.startswith("opt_") or key == "opt_steps":
            continue
        name = key[4:]
        if name not in OPTIMIZER_STATE[optimizer]:
            raise CheckpointError(f"{where}: {key} is not state of '{optimizer}'; it keeps "
                                  f"{choices(OPTIMIZER_STATE[optimizer])}")
        if value.shape != shape:
            raise CheckpointError(f"{where}: {key} has {value.size:,} values, params has {shape[0]:,}")
        state[name] = value
    state["steps"] = np.array(check_steps(files.get("opt_steps"), where))
    return state


def _stored_preset(text: str, src: str, where: str) -> Preset:
    try:
        return parse_preset(text, name=os.path.basename(src), source=src)
    except ConfigError as exc:
        reason = f"{exc.path}: {exc.reason}" if exc.path else exc.reason
        raise CheckpointError(f"{where}: its stored config is invalid: {cut(reason, 140)}") from None
    except (ValueError, OverflowError, MemoryError, RecursionError, TypeError) as exc:
        raise CheckpointError(f"{where}: its stored config cannot be read "
                              f"({exc.__class__.__name__})") from None


def _check_layers_match(preset: Preset, shapes: tuple, where: str) -> None:
    """The stored config must describe the stored layers, before a network is built from it."""
    units = [layer.units for layer in preset.config.model.layers]
    if len(units) + 1 != len(shapes) or any(u != s[1] for u, s in zip(units, shapes)):
        raise CheckpointError(f"{where}: its stored config has hidden layers of "
                              f"{cut(units, 60)} units, its weights have layer shapes "
                              f"{cut([list(s) for s in shapes], 80)}")


def restore(trainer, ckpt: Checkpoint, source: str = "checkpoint") -> None:
    """Put a checkpoint's weights, optimizer state and counters into a trainer built from
    the same config. Everything is checked first; on a refusal nothing changes."""
    source = cut(source, 120)
    net = trainer.network
    for i, (layer, shape) in enumerate(zip(net.layers, ckpt.layer_shapes)):
        if tuple(layer.W.shape) != shape:
            raise CheckpointError(
                f"{source}: layer {i} W has shape {shape}, the config's network has {layer.W.shape}")
    if len(ckpt.layer_shapes) != len(net.layers) or ckpt.params.shape != net.params.shape:
        raise CheckpointError(
            f"{source}: {len(ckpt.layer_shapes)} layers / {ckpt.params.size} parameters, "
            f"the config's network has {len(net.layers)} / {net.n_params}")
    if ckpt.params.dtype != net.params.dtype:
        raise CheckpointError(f"{source}: params are {ckpt.params.dtype}, the config's network "
                              f"is {net.params.dtype}")
    if ckpt.optimizer != trainer.optimizer.name:
        raise CheckpointError(
            f"{source}: optimizer state is for '{ckpt.optimizer}', the config uses '{trainer.optimizer.name}'")
    n_train, batch = trainer.train_set[0].shape[0], trainer.batch_size
    if ckpt.drawn is not None:  # the trainer will train on the checkpoint's points
        n_train, batch = len(ckpt.drawn), trainer.config.training.batch_size
        batch = n_train if batch == 0 or batch >= n_train else batch
    _check_position(ckpt, n_train, batch, source)
    state = {**{k: ckpt.counters[k] for k in COUNTERS},
             "order": ckpt.order, "shuffle_state": ckpt.shuffle_state}
    trainer.state()  # refused (EngineError) while a run goes, before anything changes
    if ckpt.drawn is not None:
        trainer.set_points(ckpt.drawn)
    trainer.optimizer.load_state_arrays(ckpt.optimizer_state, net.params)
    net.params[...] = ckpt.params
    trainer.restore(state)


def _check_position(ckpt: Checkpoint, n_train: int, batch_size: int, source: str) -> None:
    """Where in an epoch the checkpoint stands must fit this data and batch size."""
    pos = ckpt.counters["pos"]
    if not pos:
        return
    if batch_size >= n_train:
        raise CheckpointError(f"{source}: counters: pos is {pos}, mid-epoch, but the config "
                              "trains on the full batch")
    if pos >= n_train or ckpt.order.shape != (n_train,):
        raise CheckpointError(f"{source}: saved data order ({ckpt.order.size:,} samples, at {pos:,}) "
                              f"does not fit the {n_train:,} training samples")
