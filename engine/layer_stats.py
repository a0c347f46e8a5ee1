"""Layer statistics of one training step, from what the step already computed.

The one definition behind the gradient pane, ``train``'s summary and ``train --jsonl``:
each figure is measured on a single step, from that step's gradient, the weights before
and after its update, and the activations of its mini-batch.
"""

from __future__ import annotations

import numpy as np

from .network import Gradients, Network
from .snapshot import LayerStats


def unmeasured(network: Network) -> tuple[LayerStats, ...]:
    """Statistics before any step: only the weight norms are known."""
    return tuple(LayerStats(i, layer.fan_in, layer.fan_out, layer.activation.name, None, None,
                            float(np.linalg.norm(layer.W)), None, None, None)
                 for i, layer in enumerate(network.layers))


def measure(network: Network, grads: Gradients, before: np.ndarray | None) -> tuple[LayerStats, ...]:
    """Statistics of the step that produced ``grads``.

    ``before``: the flat parameters (n_params,) before that step's update, or None when the
    update was not applied (the update ratio is then not measured). The dead and saturated
    shares read the activations of the network's last training batch
    (``Network.unit_health``), so nothing else may have trained it since."""
    health = network.unit_health()
    old = network.layer_views(before) if before is not None else [None] * len(network.layers)
    out = []
    with np.errstate(all="ignore"):  # huge but finite weights may overflow a norm
        for i, (layer, (dW, _), w_before, (dead, sat)) in enumerate(
                zip(network.layers, grads, old, health)):
            w_norm = float(np.linalg.norm(layer.W))
            ratio = None
            if w_before is not None:
                update = float(np.linalg.norm(layer.W - w_before[0]))
                ratio = update / w_norm if w_norm else (0.0 if update == 0 else float("inf"))
            out.append(LayerStats(
                i, layer.fan_in, layer.fan_out, layer.activation.name,
                grad_norm=float(np.linalg.norm(dW)), grad_mean_abs=float(np.abs(dW).mean()),
                weight_norm=w_norm, update_ratio=ratio, dead_fraction=dead,
                saturated_fraction=sat))
    return tuple(out)
