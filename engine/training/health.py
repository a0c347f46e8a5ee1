"""Which layers' gradients vanish or explode: one rule for the app, `train` and `--jsonl`.

The rule is relative to the network itself, never to an absolute level, and it holds its
tongue once the run has learned: a small gradient at a minimum is not a vanishing one.

- **still learning**: the training loss is above ``LEARNING_SHARE`` of its value at step 0.
- **vanishing**: still learning, and the layer's |∂L/∂W| is below ``VANISHING_SHARE`` of the
  largest layer's in the network: the error signal dies before it reaches this layer.
- **exploding**: the layer's |∂L/∂W| is not finite; or, still learning, it is above
  ``EXPLODING_SHARE`` times the output layer's (the signal grows on its way back), or the
  step moved the layer's weights by at least ``EXPLODING_UPDATE`` of their own size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .snapshot import LayerStats

LEARNING_SHARE = 1e-2
VANISHING_SHARE = 1e-3
EXPLODING_SHARE = 1e3
EXPLODING_UPDATE = 0.5

#: the rule in a few lines, for help screens and documentation
RULE = (
    f"▼ vanishing: |grad W| below {VANISHING_SHARE:g} × the largest layer's, while the loss",
    f"  is still above {LEARNING_SHARE:.0%} of its value at step 0.",
    f"▲ exploding: |grad W| not finite; or, while the loss is that high, above "
    f"{EXPLODING_SHARE:g} ×",
    f"  the output layer's, or one step moved W by {EXPLODING_UPDATE:.0%} of |W| or more.",
    "No flag once the loss is below that share: a small gradient at a minimum is not",
    "  a vanishing one.",
)


def still_learning(loss: float, start_loss: float) -> bool:
    """Whether the loss is still well above its best (its floor, 0)."""
    if not math.isfinite(loss):
        return True
    if not math.isfinite(start_loss) or start_loss <= 0:
        return loss > 0
    return loss > LEARNING_SHARE * start_loss


def layer_flags(layers: Sequence[LayerStats], loss: float, start_loss: float) -> tuple[str, ...]:
    """"ok", "vanishing" or "exploding" per layer; () when the layers were not measured."""
    if not layers or not all(l.measured for l in layers):
        return ()
    learning = still_learning(loss, start_loss)
    norms = [l.grad_norm for l in layers]
    finite = [g for g in norms if math.isfinite(g)]
    largest = max(finite, default=0.0)
    output = norms[-1] if math.isfinite(norms[-1]) else 0.0
    out = []
    for layer, g in zip(layers, norms):
        if not math.isfinite(g):
            out.append("exploding")
        elif not learning:
            out.append("ok")
        elif (output > 0 and g > EXPLODING_SHARE * output) or (
                layer.update_ratio is not None and layer.update_ratio >= EXPLODING_UPDATE):
            out.append("exploding")
        elif g < VANISHING_SHARE * largest:
            out.append("vanishing")
        else:
            out.append("ok")
    return tuple(out)


def flag_summary(flags: Sequence[str]) -> str:
    """Flagged layers grouped by state, runs of layers as ranges: ``vanishing L1-L3,
    exploding L9`` ('' when none)."""
    parts = []
    for state in ("vanishing", "exploding"):
        runs: list[list[int]] = []
        for n in (i + 1 for i, s in enumerate(flags) if s == state):
            if runs and n == runs[-1][-1] + 1:
                runs[-1].append(n)
            else:
                runs.append([n])
        if runs:
            spans = ",".join(f"L{r[0]}" if len(r) == 1 else f"L{r[0]}-L{r[-1]}" for r in runs)
            parts.append(f"{state} {spans}")
    return ", ".join(parts)
