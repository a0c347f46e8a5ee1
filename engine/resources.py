"""The memory a run needs, estimated from its config before anything is built, and held
to a limit tied to the machine's available memory.

``estimate`` adds up what a trainer allocates for a config (see ``Estimate``);
``check_resources`` refuses a config whose estimate is over ``memory_limit()``, half the
memory available, naming the setting to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .data.dataset import split_sizes
from .data.limits import memory_limit, size_text
from .data.tables import csv_shape
from .errors import ConfigError

if TYPE_CHECKING:
    from .config import Config

#: rows of the decision-boundary grid the trainer evaluates (its default 32 x 64)
GRID_ROWS = 32 * 64
#: rows evaluated at once (``engine.training.probe.EVAL_CHUNK``), and the subsample of a
#: larger split that live snapshots evaluate (``engine.training.trainer.LIVE_EVAL_ROWS``)
EVAL_CHUNK_ROWS = 8192
LIVE_EVAL_ROWS = 4096


# ----- the estimate --------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    """Bytes a run needs, by part (each a float so that huge configs cannot overflow).

    ``parameters``: the weights, the trainer's backup copy of them, penalty and statistics
    scratch; ``gradients``: the network's two gradient buffers; ``optimizer``: its state
    (Adam 2x the parameters, momentum 1x); ``activations``: z, a, delta and scratch of the
    training batch; ``evaluation``: the same for the rows evaluated at once (train and test
    splits, boundary grid); ``data``: the data set in float64 and its copies in the
    network's dtype.
    """

    parameters: float
    gradients: float
    optimizer: float
    activations: float
    evaluation: float
    data: float
    optimizer_name: str = "optimizer"

    @property
    def total(self) -> float:
        return (self.parameters + self.gradients + self.optimizer + self.activations
                + self.evaluation + self.data)

    def parts(self) -> dict[str, float]:
        """The parts by their names in a message, largest first."""
        names = {"parameters": self.parameters, "gradients": self.gradients,
                 f"{self.optimizer_name} state": self.optimizer, "activations": self.activations,
                 "evaluation": self.evaluation, "data": self.data}
        return dict(sorted(names.items(), key=lambda kv: -kv[1]))

    def describe(self, parts: int = 2) -> str:
        """``about 46 GB (Adam state 23 GB, parameters 11 GB)``: the largest parts."""
        shown = [f"{k} {size_text(v)}" for k, v in list(self.parts().items())[:parts] if v >= 1]
        return f"about {size_text(self.total)} ({', '.join(shown)})"


def _workspace_row(units: list[int], itemsize: int) -> float:
    """Bytes per batch row of the network's workspace (``engine.nn.network._Workspace``):
    z, a, delta and work per layer, a bool mask, a zero row and a few per-row scalars."""
    return sum(units) * (4 * itemsize + 1) + (max(units) + units[-1] + 4) * itemsize + 8


def _eval_rows(config: Config, n_train: int, n_test: int) -> set[int]:
    """The batch sizes evaluation runs at: the network keeps one workspace per size."""
    rows = set()
    for n in (n_train, n_test):
        rows.update((min(n, EVAL_CHUNK_ROWS), n % EVAL_CHUNK_ROWS if n > EVAL_CHUNK_ROWS else 0))
        if n > LIVE_EVAL_ROWS:
            rows.add(LIVE_EVAL_ROWS)
    if config.data.dataset not in ("iris", "digits", "csv"):
        rows.add(GRID_ROWS)
    rows.discard(0)
    return rows


def estimate(config: Config, n_train: int, n_test: int, n_features: int,
             n_classes: int | None = None) -> Estimate:
    """The memory a trainer for ``config`` needs on data of this shape (see ``Estimate``).

    ``n_classes`` sizes the output layer; None takes the config's own count (or 2 when
    only the data tells, for a CSV file).
    """
    m, t = config.model, config.training
    b = 8 if m.dtype == "float64" else 4
    n_classes = config.n_classes() if n_classes is None else n_classes
    units = [layer.units for layer in m.layers] + [config.output_units(n_classes or 2)]
    sizes = [n_features] + units
    weights = [float(i) * o for i, o in zip(sizes[:-1], sizes[1:])]
    n_params = sum(weights) + sum(units)
    largest = max(weights)

    penalty = sum(weights) * b if t.regularization != "none" else 0.0
    # weights and backup; one layer drawn in float64 at init; a step's statistics
    # (|dW| and the weight change) make two temporaries of one layer
    parameters = 2 * n_params * b + penalty + largest * 8 + 2 * largest * b
    gradients = 2 * n_params * b
    if t.optimizer == "adam":
        name, copies = "Adam", 2
    elif t.optimizer == "rmsprop":
        name, copies = "RMSprop", 1 + (t.momentum > 0)
    else:
        name, copies = "momentum", int(t.momentum > 0)
    optimizer = copies * n_params * b

    per_row = _workspace_row(units, b)
    batch = n_train if t.batch_size == 0 else min(t.batch_size, n_train)
    # the workspace, and the step's statistics of its widest layer (|a| and a mask)
    activations = batch * (per_row + max(units) * (b + 1))
    # the loss on a split makes a few temporaries of its output
    evaluation = sum(r * (per_row + 3 * units[-1] * b)
                     for r in _eval_rows(config, n_train, n_test))

    n = n_train + n_test
    out = units[-1]
    # the split in float64, the whole table while it is split, the copies the network reads
    data = n * (n_features + 1) * 8.0 * 2 + n * (n_features + out) * b
    if config.data.dataset not in ("iris", "digits", "csv"):
        data += n * 2 * 8 * 2  # the raw 2-D points, kept with the split
    if 0 < t.batch_size < n_train:
        data += n_train * ((n_features + out) * b + 8)  # the epoch's shuffled copy
    return Estimate(parameters, gradients, optimizer, activations, evaluation, data, name)


# ----- the check -----------------------------------------------------------------------
def _setting(config: Config, est: Estimate) -> tuple[str, str]:
    """The key path to change and what to do, for the part that weighs most."""
    m, t, d = config.model, config.training, config.data
    top = max(("activations", "data", "network"), key=lambda k: {
        "activations": est.activations, "data": est.data,
        "network": est.parameters + est.gradients + est.optimizer + est.evaluation}[k])
    if top == "activations":
        if t.batch_size == 0:
            return "training.batch_size", "train on mini-batches (e.g. 64), not the full batch"
        return "training.batch_size", "use a smaller batch"
    if top == "data" or not m.layers:
        if d.dataset == "csv":
            return "data.path", "use a smaller file"
        return "data.samples", "use fewer samples"
    widest = max(range(len(m.layers)), key=lambda i: m.layers[i].units)
    hint = "use fewer units" if len(m.layers) < 4 else "use fewer units or layers"
    if m.dtype == "float64":
        hint += ", or model.dtype = 'float32'"
    return f"model.layers[{widest}].units", hint


def check_resources(config: Config, n_train: int | None = None, n_test: int | None = None,
                    n_features: int | None = None, *, n_classes: int | None = None,
                    source: str | None = None, limit: int | None = None) -> Estimate:
    """The estimate for ``config``, or ConfigError if it needs more than ``limit`` bytes
    (default: ``memory_limit()``; no check when the machine does not tell). Without the
    data's shape, ``data_shape(config)`` tells it without loading the data."""
    if n_train is None or n_test is None or n_features is None:
        n_train, n_test, n_features = data_shape(config)
    est = estimate(config, n_train, n_test, n_features, n_classes)
    if limit is None:
        limit = memory_limit()
        allowed = f"{size_text(limit or 0)} allowed (half the available memory)"
    else:
        allowed = f"{size_text(limit)} allowed"
    if limit is not None and est.total > limit:
        path, hint = _setting(config, est)
        raise ConfigError(f"this run needs {est.describe()}, more than the {allowed}; {hint}",
                          source=source, path=path)
    return est


def data_shape(config: Config) -> tuple[int, int, int]:
    """(n_train, n_test, n_features) the config's data will have, found without loading
    it: a CSV file's rows are counted (an upper bound: blank lines count too)."""
    d = config.data
    if d.dataset == "csv":
        rows, features = csv_shape(d.path, label=d.label)
    elif d.dataset == "iris":
        rows, features = 150, 4
    elif d.dataset == "digits":
        rows, features = 1797, 64
    else:
        rows, features = d.samples, len(d.features)
    n_train, n_test = split_sizes(rows, d.train_ratio)
    return n_train, n_test, features
