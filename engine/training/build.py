"""From a config to the things a run is made of: the network, the optimizer, the data set
and the target arrays the loss reads."""

from __future__ import annotations

import numpy as np

from ..config import Config
from ..data import Dataset, make_dataset
from ..data.csv_text import Progress
from ..nn.network import Network
from ..nn.optimizers import Optimizer, make_optimizer
from ..nn.schedules import scheduled_lr


def build_network(config: Config, data: Dataset, seed: int | None = None) -> Network:
    """The network a config describes, sized for ``data``."""
    m = config.model
    sizes = [data.n_features] + [l.units for l in m.layers] + [config.output_units(data.n_classes)]
    acts = [l.activation for l in m.layers] + [config.output_activation(data.n_classes)]
    return Network(sizes, acts, init=m.init, seed=config.training.seed if seed is None else seed,
                   dtype=m.dtype, init_std=m.init_std, init_limit=m.init_limit,
                   bias_init=m.bias_init, leaky_slope=m.leaky_slope)


def build_optimizer(config: Config) -> Optimizer:
    """The optimizer a config describes."""
    t = config.training
    hyper = {"lr": t.lr, "weight_decay": t.weight_decay}
    if t.optimizer == "sgd":
        hyper.update(momentum=t.momentum, nesterov=t.nesterov and t.momentum > 0)
    elif t.optimizer == "rmsprop":
        hyper.update(alpha=t.alpha, eps=t.eps, momentum=t.momentum)
    else:
        hyper.update(beta1=t.beta1, beta2=t.beta2, eps=t.eps)
    return make_optimizer(t.optimizer, **hyper)


def lr_at(config: Config, epoch: int) -> float:
    """The lr after ``epoch`` epochs: the config's schedule from its base ``training.lr``."""
    t = config.training
    return float(scheduled_lr(t.lr_schedule, t.lr, epoch, t))


def build_dataset(config: Config, progress: Progress | None = None) -> Dataset:
    """The data set a config describes (raises DataError with one clear line);
    ``progress(bytes_read, bytes_total)`` follows a CSV file's load."""
    d = config.data
    return make_dataset(d.dataset, samples=d.samples, noise=d.noise, train_ratio=d.train_ratio,
                        seed=d.seed, classes=d.classes, features=d.features, csv_path=d.path or None,
                        label=d.label or None, csv_task=d.task, standardize=d.standardize,
                        progress=progress)


def targets(config: Config, y: np.ndarray, n_classes: int, dtype) -> np.ndarray:
    """Labels (n,) -> the target array the loss reads, (n, outputs) in the network's dtype."""
    if config.task == "regression":
        return y.reshape(-1, 1).astype(dtype)
    units = config.output_units(n_classes)
    if units == 1:
        return y.reshape(-1, 1).astype(dtype)
    onehot = np.zeros((y.shape[0], units), dtype=dtype)
    onehot[np.arange(y.shape[0]), y.astype(np.intp)] = 1.0
    return onehot
