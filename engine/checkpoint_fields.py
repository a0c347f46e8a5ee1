"""The schema of a checkpoint's fields: each stored value is checked here before use.

Counters and the shuffle state are JSON text; anything that does not parse, has the wrong
type, an extra or missing key, or a number out of range is refused with one line that
names the field and what is allowed.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .data.drawn import Drawn, check_fits, make_drawn
from .errors import CheckpointError, DataError
from .errors import cut

COUNTERS = ("step", "epoch", "pos", "seed", "elapsed")
#: the state arrays each optimizer keeps (``engine.nn.optimizers``), made as it first needs them
OPTIMIZER_STATE = {"sgd": ("momentum_buffer",), "rmsprop": ("square_avg", "momentum_buffer"),
                   "adam": ("exp_avg", "exp_avg_sq")}
MAX_COUNT = 10**15  #: steps or epochs: a million steps a second for thirty years
MAX_SEED = 2**64 - 1
MAX_ELAPSED = 1e12  #: seconds
_SHUFFLE_KEYS = {"bit_generator", "state", "has_uint32", "uinteger"}


def _json(text: str, field: str, where: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise CheckpointError(f"{where}: {field} is not valid JSON ({cut(exc, 60)})") from None


def _int(value, field: str, lo: int, hi: int, where: str) -> int:
    if type(value) is not int or not lo <= value <= hi:
        top = f"{hi:,}" if hi < 10**16 else f"2^{hi.bit_length()} - 1"
        raise CheckpointError(f"{where}: {field} must be an integer from {lo} to {top}, "
                              f"got {cut(json.dumps(value), 40)}")
    return value


def counters_from(text: str, where: str, max_pos: int) -> dict:
    """The counters (step, epoch, pos, seed, elapsed) from their JSON text."""
    doc = _json(text, "counters", where)
    if not isinstance(doc, dict) or set(doc) != set(COUNTERS):
        got = sorted(doc)[:8] if isinstance(doc, dict) else type(doc).__name__
        raise CheckpointError(f"{where}: counters must be an object with exactly "
                              f"{', '.join(COUNTERS)}; got {cut(got, 80)}")
    out = {"step": _int(doc["step"], "counters: step", 0, MAX_COUNT, where),
           "epoch": _int(doc["epoch"], "counters: epoch", 0, MAX_COUNT, where),
           "pos": _int(doc["pos"], "counters: pos", 0, max_pos, where),
           "seed": _int(doc["seed"], "counters: seed", 0, MAX_SEED, where)}
    elapsed = doc["elapsed"]
    if (type(elapsed) not in (int, float) or not math.isfinite(elapsed)
            or not 0 <= elapsed <= MAX_ELAPSED):
        raise CheckpointError(f"{where}: counters: elapsed must be a finite number of seconds "
                              f"from 0 to {MAX_ELAPSED:g}, got {cut(json.dumps(elapsed), 40)}")
    out["elapsed"] = float(elapsed)
    if out["epoch"] > out["step"]:
        raise CheckpointError(f"{where}: counters: epoch {out['epoch']:,} is past step "
                              f"{out['step']:,}; every epoch takes at least one step")
    return out


def shuffle_state_from(text: str, where: str) -> dict:
    """The shuffle generator's state: exactly what numpy's PCG64 ``state`` is."""
    doc = _json(text, "shuffle_state", where)
    wrong = f"{where}: shuffle_state must be a PCG64 state"
    if not isinstance(doc, dict) or set(doc) != _SHUFFLE_KEYS:
        raise CheckpointError(f"{wrong} with keys {', '.join(sorted(_SHUFFLE_KEYS))}")
    inner = doc["state"]
    if doc["bit_generator"] != "PCG64" or not isinstance(inner, dict) or set(inner) != {"state", "inc"}:
        raise CheckpointError(f"{wrong}: bit_generator 'PCG64' and state {{state, inc}}")
    _int(inner["state"], "shuffle_state: state.state", 0, 2**128 - 1, where)
    if _int(inner["inc"], "shuffle_state: state.inc", 0, 2**128 - 1, where) % 2 == 0:
        raise CheckpointError(f"{wrong}: state.inc is always odd")
    _int(doc["has_uint32"], "shuffle_state: has_uint32", 0, 1, where)
    _int(doc["uinteger"], "shuffle_state: uinteger", 0, 2**32 - 1, where)
    try:
        np.random.PCG64().state = doc  # numpy's own checks, on a generator nobody uses
    except (ValueError, TypeError, OverflowError) as exc:
        raise CheckpointError(f"{wrong} ({cut(exc, 60)})") from None
    return doc


def check_order(order: np.ndarray, where: str) -> np.ndarray:
    """The epoch's sample order: a permutation of range(n)."""
    if not np.array_equal(np.sort(order), np.arange(order.size)):
        raise CheckpointError(f"{where}: order must be a permutation of 0..{order.size - 1}")
    return order.astype(np.intp)


def check_steps(steps: np.ndarray | None, where: str) -> int:
    """The optimizer's step count (0 if the file has none)."""
    if steps is None:
        return 0
    return _int(int(steps[()]), "opt_steps", 0, MAX_COUNT, where)


def drawn_from(xy: np.ndarray | None, values: np.ndarray | None, config, where: str) -> Drawn | None:
    """Drawn points (``drawn_xy`` (n, 2) and ``drawn_values`` (n,)): both or neither,
    only with drawn data, finite, inside the drawing area and fit for the stored config's
    task and classes."""
    if xy is None and values is None:
        return None
    if xy is None or values is None:
        raise CheckpointError(f"{where}: drawn_xy and drawn_values come together; one is missing")
    if config.data.dataset != "draw":
        raise CheckpointError(f"{where}: drawn points, but its data is "
                              f"'{cut(config.data.dataset, 20)}', not 'draw'")
    if xy.ndim != 2 or xy.shape[1] != 2 or values.shape != (xy.shape[0],):
        raise CheckpointError(f"{where}: drawn_xy must be (n, 2) and drawn_values (n,), got "
                              f"{tuple(xy.shape)} and {tuple(values.shape)}")
    drawn = make_drawn(xy, values)
    try:
        check_fits(drawn, task=config.task, classes=config.data.classes, source="drawn points")
    except DataError as exc:
        raise CheckpointError(f"{where}: {cut(exc, 140)}") from None
    return drawn


def check_layers(shapes: np.ndarray, n_params: int, max_params: int,
                 where: str) -> tuple[tuple[int, int], ...]:
    """Each layer's weight shape (fan_in, fan_out): a chain that holds ``n_params``."""
    rows = [tuple(int(v) for v in row) for row in shapes.tolist()]
    if not rows or shapes.shape[1] != 2:
        raise CheckpointError(f"{where}: layer_shapes must be (n_layers, 2), got "
                              f"{tuple(shapes.shape)}")
    if any(not 1 <= v <= max_params for row in rows for v in row):
        raise CheckpointError(f"{where}: layer_shapes must hold sizes from 1 to {max_params:,}")
    if any(a[1] != b[0] for a, b in zip(rows, rows[1:])):
        raise CheckpointError(f"{where}: layer_shapes do not chain (each layer's fan_in is "
                              f"the fan_out before it): {cut(rows, 80)}")
    need = sum(i * o + o for i, o in rows)
    if need > max_params:
        raise CheckpointError(f"{where}: {need:,} parameters; the limit is {max_params:,}")
    if need != n_params:
        raise CheckpointError(f"{where}: layer_shapes need {need:,} parameters, params holds {n_params:,}")
    return tuple(rows)
