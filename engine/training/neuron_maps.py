"""The network as the network view draws it: every unit's activation over the 2-D input
plane (its map), each layer's weights and biases, and the last step's gradients; and the
check behind setting one weight or bias by hand.

A map is the unit's output on an R x R grid over the data's extent, with the same feature
map as the boundary (``probe.grid_inputs``), row 0 at the top (y_max). The grid's size
is bounded by the cost of the forward pass over it (``map_resolution``), so the maps of a
large network come coarser, and a network too large to map live has none.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..config import ModelConfig
from ..data import Dataset
from ..errors import EngineError, cut
from ..nn.network import Gradients, Network
from .probe import grid_inputs
from .snapshot import frozen_array

#: the grid side the view asks for when it does not say
DEFAULT_RESOLUTION = 32
#: a map grid is never finer than this
MAX_RESOLUTION = 64
#: grid points x weights the forward pass over the grid may cost (multiply-adds)
MAP_BUDGET = 20_000_000
#: maps coarser than this side say too little: the network is too large to map live
MIN_RESOLUTION = 4
#: a hand-set weight or bias obeys the same rule as the config's ``model.bias_init``
PARAM_RULE = next(f.metadata["rule"] for f in fields(ModelConfig) if f.name == "bias_init")


@dataclass(frozen=True)
class NetworkState:
    """One step's network for the network view. Arrays are read-only float64 copies.

    Layer ``i`` maps ``sizes[i]`` inputs to ``sizes[i + 1]`` units: ``W[i]`` is
    (fan_in, fan_out), ``b[i]`` (fan_out,), and ``dW``/``db`` the same shapes.
    """

    step: int  #: the step whose weights these are
    edits: int  #: weights set by hand so far in this run (a new count means new weights)
    sizes: tuple[int, ...]  #: units from input to output, e.g. (2, 8, 8, 1)
    activations: tuple[str, ...]  #: one per layer
    input_names: tuple[str, ...]  #: the active features, e.g. ("x1", "x2", "x1^2")
    output_names: tuple[str, ...]  #: one per output unit
    W: tuple[np.ndarray, ...]
    b: tuple[np.ndarray, ...]
    #: the gradients the last step computed (None before any step of this run)
    dW: tuple[np.ndarray, ...] | None
    db: tuple[np.ndarray, ...] | None
    grads_step: int | None  #: the step that computed ``dW`` and ``db``
    #: per layer (units, R, R): each unit's activation over the grid; None when the data
    #: is not 2-D or the network is too large to map
    maps: tuple[np.ndarray, ...] | None = None
    #: (n_in, R, R): each input feature over the same grid
    input_maps: np.ndarray | None = None
    extent: tuple[float, float, float, float] | None = None
    resolution: int = 0  #: R (0: no maps)


def map_resolution(network: Network, wanted: int = DEFAULT_RESOLUTION) -> int:
    """The grid side for ``network``'s maps: ``wanted`` (capped at MAX_RESOLUTION) unless
    the forward pass over the grid would cost more than MAP_BUDGET; 0 when even a
    MIN_RESOLUTION grid would."""
    wanted = max(MIN_RESOLUTION, min(MAX_RESOLUTION, int(wanted)))
    affordable = int((MAP_BUDGET / max(1, network.n_weights)) ** 0.5)
    side = min(wanted, affordable)
    return side if side >= MIN_RESOLUTION else 0


def neuron_maps(network: Network, grid: np.ndarray, resolution: int) -> tuple[np.ndarray, ...]:
    """Every layer's activations over ``grid`` (R * R, n_in) as (units, R, R) arrays."""
    R = resolution
    with np.errstate(all="ignore"):
        acts = network.activations(grid)
    return tuple(frozen_array(a.T.reshape(a.shape[1], R, R), np.float64) for a in acts)


def input_maps(grid: np.ndarray, resolution: int) -> np.ndarray:
    """The grid's features (R * R, n_in) as (n_in, R, R)."""
    return frozen_array(grid.T.reshape(grid.shape[1], resolution, resolution), np.float64)


def network_state(network: Network, data: Dataset, grads: Gradients | None,
                  grads_step: int | None, step: int, edits: int,
                  resolution: int = DEFAULT_RESOLUTION) -> NetworkState:
    """The network now, for the view: weights, biases, ``grads`` (the last step's, from
    step ``grads_step``) and, for 2-D data, the maps on an R x R grid."""
    R = map_resolution(network, resolution) if data.extent is not None else 0
    maps = inputs = None
    if R:
        grid = grid_inputs(data, (R, R), network.dtype)
        maps, inputs = neuron_maps(network, grid, R), input_maps(grid, R)
    n_out = network.sizes[-1]
    names = tuple(data.class_names)
    if len(names) != n_out:
        names = ("out",) if n_out == 1 else tuple(f"out {j + 1}" for j in range(n_out))
    copy = lambda arrays: tuple(frozen_array(a, np.float64) for a in arrays)  # noqa: E731
    return NetworkState(
        step=step, edits=edits, sizes=tuple(network.sizes),
        activations=tuple(network.activation_names), input_names=tuple(data.feature_names),
        output_names=names, W=copy(layer.W for layer in network.layers),
        b=copy(layer.b for layer in network.layers),
        dW=copy(dW for dW, _ in grads) if grads is not None else None,
        db=copy(db for _, db in grads) if grads is not None else None,
        grads_step=grads_step if grads is not None else None,
        maps=maps, input_maps=inputs, extent=data.extent if R else None, resolution=R)


def param_name(layer: int, row: int, col: int | None) -> str:
    """How errors name a parameter, with the indices it was asked by: ``layer 0 b[3]`` or
    ``layer 0 W[1, 3]``."""
    return f"layer {layer} b[{row}]" if col is None else f"layer {layer} W[{row}, {col}]"


def _index(value, what: str, size: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise EngineError(f"{what} must be a whole number, not {type(value).__name__}")
    if not 0 <= value < size:
        raise EngineError(f"{what} {value} is out of range (0 to {size - 1})")
    return int(value)


def check_param(network: Network, layer, row, col, value) -> tuple[int, int, int | None, float]:
    """The checked (layer, row, col, value) of one weight W[row, col] of ``layer`` (0-based;
    ``col`` None: the bias b[row]); ``value`` a number or its text, finite and within
    PARAM_RULE. EngineError with one line otherwise."""
    layer = _index(layer, "layer", len(network.layers))
    dense = network.layers[layer]
    if col is None:
        row = _index(row, f"layer {layer}: unit", dense.fan_out)
    else:
        row = _index(row, f"layer {layer}: input row", dense.fan_in)
        col = _index(col, f"layer {layer}: unit column", dense.fan_out)
    try:
        number = PARAM_RULE.convert(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        shown = repr(value) if not isinstance(value, str) else f"'{cut(value.strip(), 20)}'"
        raise EngineError(f"{param_name(layer, row, col)}: {shown} is not allowed; use "
                          f"{PARAM_RULE.describe()}") from None
    return layer, row, col, float(number)
