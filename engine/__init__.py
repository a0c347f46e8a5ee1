"""backprop-lab's engine: small fully-connected networks in pure NumPy.

Usable alone from a script or notebook::

    import engine
    net = engine.Network([2, 8, 8, 1], ["tanh", "tanh", "sigmoid"], seed=0)
    loss, grads = net.loss_and_grads(X, Y, loss="bce")
    opt = engine.make_optimizer("adam", lr=1e-3)
    opt.step(net, grads)
"""

from .nn.activations import ACTIVATIONS, get_activation
from .errors import CheckpointError, ConfigError, DataError, EngineError
from .nn.losses import LOSSES, get_loss
from .nn.network import Dense, Gradients, Network
from .nn.optimizers import OPTIMIZERS, Optimizer, make_optimizer
from .config import Config, LayerSpec
from .data import Dataset, make_dataset
from .data.tables import load_csv
from .presets import Preset, list_presets, load_preset, save_preset
from .training.snapshot import Snapshot
from .training.trainer import Trainer
from .checkpoint import load_checkpoint, save_checkpoint

__all__ = [
    "ACTIVATIONS", "LOSSES", "OPTIMIZERS",
    "CheckpointError", "ConfigError", "DataError", "EngineError",
    "Dense", "Gradients", "Network", "Optimizer",
    "get_activation", "get_loss", "make_optimizer",
    "Config", "LayerSpec", "Dataset", "make_dataset", "load_csv",
    "Preset", "list_presets", "load_preset", "save_preset",
    "Snapshot", "Trainer", "load_checkpoint", "save_checkpoint",
]
