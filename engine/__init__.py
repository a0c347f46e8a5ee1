"""backprop-lab's engine: small fully-connected networks in pure NumPy.

Usable alone from a script or notebook::

    import engine
    net = engine.Network([2, 8, 8, 1], ["tanh", "tanh", "sigmoid"], seed=0)
    loss, grads = net.loss_and_grads(X, Y, loss="bce")
    opt = engine.make_optimizer("adam", lr=1e-3)
    opt.step(net, grads)
"""

from .activations import ACTIVATIONS, get_activation
from .errors import CheckpointError, ConfigError, DataError, EngineError
from .losses import LOSSES, get_loss
from .network import Dense, Gradients, Network
from .optimizers import OPTIMIZERS, Optimizer, make_optimizer

__all__ = [
    "ACTIVATIONS", "LOSSES", "OPTIMIZERS",
    "CheckpointError", "ConfigError", "DataError", "EngineError",
    "Dense", "Gradients", "Network", "Optimizer",
    "get_activation", "get_loss", "make_optimizer",
]
