"""One validated configuration (data, model, training), built from plain dicts or TOML.

Every error names the file, the key path (``model.layers[2].activation``) and what is
allowed. Unknown keys are errors. ``Config.to_dict()`` gives back a dict that
``Config.from_dict`` accepts, so a config round-trips through TOML unchanged.

Its length is the schema: every setting of a run with its rule, range and message.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .nn.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS
from .data import CLASSIFICATION, DATASETS, FEATURES, REGRESSION, TASKS
from .errors import ConfigError, choices, cut
from .toml_guard import load_toml
from .nn.init import INIT_SCHEMES
from .nn.losses import LOSSES, pairing_message
from .nn.network import DTYPES, REGULARIZATIONS
from .nn.optimizers import OPTIMIZERS
from .nn.schedules import SCHEDULES

#: largest seed (numpy's 32-bit seeds: every tool that replays a run takes them)
MAX_SEED = 2**32 - 1
#: largest mini-batch a config may name (any batch over the data's size is the full batch)
MAX_BATCH = 10_000_000


# ----- field rules -------------------------------------------------------------------
class Rule:
    """How one config value is checked and converted."""

    def __init__(self, kind: str, *, lo=None, hi=None, lo_open=False, hi_open=False,
                 allowed: tuple = (), optional: bool = False, doc: str = ""):
        self.kind, self.lo, self.hi = kind, lo, hi
        self.lo_open, self.hi_open = lo_open, hi_open
        self.allowed, self.optional, self.doc = allowed, optional, doc

    def describe(self) -> str:
        if self.allowed:
            return f"one of {choices(self.allowed)}"
        if self.kind in ("int", "float"):
            noun = "an integer" if self.kind == "int" else "a number"
            bounds = []
            if self.lo is not None:
                bounds.append(f"{'>' if self.lo_open else '>='} {_bound(self.lo)}")
            if self.hi is not None:
                bounds.append(f"{'<' if self.hi_open else '<='} {_bound(self.hi)}")
            return noun + (" " + " and ".join(bounds) if bounds else "")
        if self.kind == "str" and self.hi is not None:
            return f"a string of at most {self.hi:,} characters"
        return {"bool": "true or false", "str": "a string", "features": f"a list of {choices(FEATURES)}"}[self.kind]

    def convert(self, value: Any):
        """Return the checked value, or raise ValueError with the reason."""
        if value is None and self.optional:
            return None
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ValueError
        if kind in ("int", "float"):
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, str):
                value = value.strip()
                if self.optional and value.lower() in ("", "none", "off"):
                    return None
                if len(value) > 40:
                    raise ValueError
                value = float(value)  # ValueError for text that is not a number
            if isinstance(value, float):
                if not math.isfinite(value):
                    raise ValueError
                if kind == "int":
                    if not value.is_integer():
                        raise ValueError
                    value = int(value)
            elif not isinstance(value, int):
                raise ValueError
            value = int(value) if kind == "int" else float(value)  # huge ints: OverflowError
            # ints compare with the bounds exactly, however many digits they have
            if self.lo is not None and (value < self.lo or (self.lo_open and value == self.lo)):
                raise ValueError
            if self.hi is not None and (value > self.hi or (self.hi_open and value == self.hi)):
                raise ValueError
            return value
        if kind == "str":
            if not isinstance(value, str) or (self.allowed and value not in self.allowed):
                raise ValueError
            if self.hi is not None and len(value) > self.hi:
                raise ValueError
            return value
        if kind == "features":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if (not isinstance(value, (list, tuple)) or not value
                    or any(v not in FEATURES for v in value) or len(set(value)) != len(value)):
                raise ValueError
            return tuple(value)
        raise AssertionError(kind)


def _bound(x) -> str:
    return f"{x:,}" if isinstance(x, int) and abs(x) >= 10_000 else f"{x:g}"


def _rule(kind: str, default, **kw):
    from dataclasses import field

    return field(default=default, metadata={"rule": Rule(kind, **kw)})


# ----- the sections ------------------------------------------------------------------
@dataclass(frozen=True)
class LayerSpec:
    """A hidden layer: its width and activation."""

    units: int = _rule("int", 8, lo=1, hi=4096)
    activation: str = _rule("str", "tanh", allowed=HIDDEN_ACTIVATIONS)


@dataclass(frozen=True)
class DataConfig:
    dataset: str = _rule("str", "circle", allowed=DATASETS)
    samples: int = _rule("int", 400, lo=4, hi=100_000)
    noise: float = _rule("float", 0.0, lo=0.0, hi=0.5)
    train_ratio: float = _rule("float", 0.5, lo=0.0, hi=1.0, lo_open=True)
    classes: int = _rule("int", 2, lo=2, hi=10)
    features: tuple = _rule("features", ("x1", "x2"))
    seed: int = _rule("int", 0, lo=0, hi=MAX_SEED)
    path: str = _rule("str", "", hi=4096)
    label: str = _rule("str", "", hi=1000)
    task: str = _rule("str", "classification", allowed=TASKS)
    standardize: bool = _rule("bool", True)


@dataclass(frozen=True)
class ModelConfig:
    layers: tuple = ()  # tuple[LayerSpec, ...], checked by hand
    output: str = _rule("str", "", allowed=tuple(ACTIVATIONS) + ("",))
    loss: str = _rule("str", "", allowed=tuple(LOSSES) + ("",))
    init: str = _rule("str", "xavier", allowed=INIT_SCHEMES)
    init_std: float = _rule("float", 0.1, lo=0.0, lo_open=True, hi=100.0)
    init_limit: float = _rule("float", 0.1, lo=0.0, lo_open=True, hi=100.0)
    bias_init: float = _rule("float", 0.0, lo=-100.0, hi=100.0)
    leaky_slope: float = _rule("float", 0.01, lo=0.0, hi=1.0)
    dtype: str = _rule("str", "float32", allowed=DTYPES)


@dataclass(frozen=True)
class TrainingConfig:
    optimizer: str = _rule("str", "adam", allowed=tuple(OPTIMIZERS))
    lr: float = _rule("float", 0.01, lo=0.0, lo_open=True, hi=100.0)
    momentum: float = _rule("float", 0.0, lo=0.0, hi=1.0, hi_open=True)
    nesterov: bool = _rule("bool", False)
    alpha: float = _rule("float", 0.99, lo=0.0, hi=1.0, hi_open=True)
    beta1: float = _rule("float", 0.9, lo=0.0, hi=1.0, hi_open=True)
    beta2: float = _rule("float", 0.999, lo=0.0, hi=1.0, hi_open=True)
    eps: float = _rule("float", 1e-8, lo=0.0, lo_open=True, hi=10.0)
    weight_decay: float = _rule("float", 0.0, lo=0.0, hi=100.0)
    # the lr schedule (engine.nn.schedules), stepped once per epoch; lr is its base
    lr_schedule: str = _rule("str", "constant", allowed=tuple(SCHEDULES))
    lr_step_size: int = _rule("int", 30, lo=1, hi=10_000_000)
    lr_gamma: float = _rule("float", 0.1, lo=0.0, lo_open=True, hi=1.0)
    lr_t_max: int = _rule("int", 200, lo=1, hi=10_000_000)
    lr_eta_min: float = _rule("float", 0.0, lo=0.0, hi=100.0)
    lr_warmup_start: float = _rule("float", 1 / 3, lo=0.0, lo_open=True, hi=1.0)
    lr_warmup_end: float = _rule("float", 1.0, lo=0.0, hi=1.0)
    lr_warmup_epochs: int = _rule("int", 5, lo=1, hi=10_000_000)
    batch_size: int = 0  # 0 means the full batch; written as "full"
    regularization: str = _rule("str", "none", allowed=REGULARIZATIONS)
    reg_rate: float = _rule("float", 0.0, lo=0.0, hi=100.0)
    seed: int = _rule("int", 0, lo=0, hi=MAX_SEED)
    epochs: int = _rule("int", 200, lo=1, hi=10_000_000)
    target_loss: float | None = _rule("float", None, lo=0.0, hi=1e9, optional=True)
    target_accuracy: float | None = _rule("float", None, lo=0.0, hi=1.0, optional=True)


#: the lr schedule's settings, all applied live at the next step
SCHEDULE_KEYS = ("lr_schedule", "lr_step_size", "lr_gamma", "lr_t_max", "lr_eta_min",
                 "lr_warmup_start", "lr_warmup_end", "lr_warmup_epochs")
SECTIONS = {"data": DataConfig, "model": ModelConfig, "training": TrainingConfig}
#: optimizer hyperparameters that the trainer may change between steps
LIVE_KEYS = ("lr", "momentum", "nesterov", "alpha", "beta1", "beta2", "eps", "weight_decay",
             *SCHEDULE_KEYS, "regularization", "reg_rate", "epochs", "target_loss",
             "target_accuracy", "batch_size")


def show(value) -> str:
    """A value as a user wrote it in TOML (true/false, numbers, quoted strings), in at
    most about 60 characters: long ones are cut with "…", huge numbers and tables named."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= 10**15:
        try:
            return f"an integer with {len(str(abs(value))):,} digits"
        except ValueError:  # more digits than Python converts to text
            return f"an integer with about {int(value.bit_length() * 0.30103):,} digits"
    if isinstance(value, str):
        return repr(value) if len(value) <= 58 and value.isprintable() else f"'{cut(value, 58)}'"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (list, tuple)):
        items = ["[…]" if isinstance(v, (list, tuple)) else "{…}" if isinstance(v, dict)
                 else show(v) for v in value[:8]]
        text = "[" + ", ".join(items) + (", …" if len(value) > 8 else "") + "]"
        return text if len(text) <= 60 else cut(text)
    return cut(repr(value))


def _check_value(cls, name: str, value, path: str, source: str | None):
    if cls is TrainingConfig and name == "batch_size":
        if value == "full" or (type(value) in (int, float) and value == 0):
            return 0
        n = None
        if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) < 20:
            n = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            n = value
        elif isinstance(value, float) and value.is_integer():  # finite, whole
            n = int(value)
        if n is None or n < 1:
            raise ConfigError(f"{show(value)} is not allowed; use an integer >= 1 or 'full'",
                              source=source, path=path)
        if n > MAX_BATCH:
            raise ConfigError(f"{show(value)} is not allowed; use an integer >= 1 and <= "
                              f"{MAX_BATCH:,}, or 'full'", source=source, path=path)
        return n
    rule = next(f.metadata["rule"] for f in fields(cls) if f.name == name)
    try:
        return rule.convert(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{show(value)} is not allowed; use {rule.describe()}",
                          source=source, path=path) from None


def _section(cls, table, prefix: str, source: str | None):
    if not isinstance(table, dict):
        raise ConfigError("must be a table", source=source, path=prefix)
    known = {f.name for f in fields(cls)}
    values = {}
    for key, value in table.items():
        path = f"{prefix}.{key}"
        if key not in known:
            raise ConfigError(f"unknown key; allowed: {choices(sorted(known))}", source=source,
                              path=f"{prefix}.{cut(key, 30)}")
        if cls is ModelConfig and key == "layers":
            values[key] = _layers(value, path, source)
        else:
            values[key] = _check_value(cls, key, value, path, source)
    return cls(**values)


def _layers(value, path: str, source: str | None) -> tuple:
    if not isinstance(value, (list, tuple)):
        raise ConfigError("must be a list of tables like {units = 8, activation = 'tanh'}",
                          source=source, path=path)
    if len(value) > 32:
        raise ConfigError("at most 32 hidden layers", source=source, path=path)
    out = []
    for i, item in enumerate(value):
        if isinstance(item, LayerSpec):
            item = asdict(item)
        out.append(_section(LayerSpec, item, f"{path}[{i}]", source))
    return tuple(out)


# ----- the whole config --------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """A complete, validated experiment: what data, what network, how to train it."""

    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()

    @classmethod
    def from_dict(cls, d: dict, *, source: str | None = None) -> Config:
        """Validate a plain dict with optional 'data', 'model', 'training' tables."""
        if not isinstance(d, dict):
            raise ConfigError("a config must be a table", source=source)
        for key in d:
            if key not in SECTIONS:
                raise ConfigError(f"unknown key; allowed: {choices(SECTIONS)}", source=source,
                                  path=cut(key, 30))
        parts = {key: _section(SECTIONS[key], d.get(key, {}), key, source) for key in SECTIONS}
        config = cls(**parts)
        config.check(source)
        return config

    def to_dict(self) -> dict:
        """A plain dict (TOML-ready: no None values) that ``from_dict`` reads back."""
        out = {}
        for key in SECTIONS:
            section = asdict(getattr(self, key))
            out[key] = {k: (list(v) if isinstance(v, tuple) else v)
                        for k, v in section.items() if v is not None}
        out["training"]["batch_size"] = self.training.batch_size or "full"
        out["model"]["layers"] = [asdict(layer) for layer in self.model.layers]
        return out

    # ----- derived values ------------------------------------------------------------
    @property
    def task(self) -> str:
        d = self.data
        if d.dataset in REGRESSION or (d.dataset in ("csv", "draw") and d.task == "regression"):
            return "regression"
        return "classification"

    def n_classes(self) -> int | None:
        """Classes of the data set, or None where only loading the data tells (csv)."""
        d = self.data
        if self.task == "regression":
            return 0
        if d.dataset == "iris":
            return 3
        if d.dataset == "digits":
            return 10
        if d.dataset in ("spiral", "draw"):
            return d.classes
        if d.dataset in CLASSIFICATION:
            return 2
        return None

    def output_activation(self, n_classes: int | None = None) -> str:
        if self.model.output:
            return self.model.output
        if self.model.loss == "ce":
            return "softmax"
        if self.task == "regression" or self.model.loss == "mse":
            return "linear" if self.task == "regression" else "sigmoid"
        n = self.n_classes() if n_classes is None else n_classes
        return "softmax" if n and n > 2 else "sigmoid"

    def loss_name(self, n_classes: int | None = None) -> str:
        if self.model.loss:
            return self.model.loss
        out = self.output_activation(n_classes)
        return {"softmax": "ce", "sigmoid": "bce"}.get(out, "mse") if self.task == "classification" else "mse"

    def output_units(self, n_classes: int | None = None) -> int:
        n = self.n_classes() if n_classes is None else n_classes
        if self.task == "regression":
            return 1
        loss = self.loss_name(n)
        if loss == "bce" or (loss == "mse" and n == 2):
            return 1
        return n or 2

    def check(self, source: str | None = None, n_classes: int | None = None) -> None:
        """Cross-field checks: loss/output pairing, classes, csv settings."""
        d, m = self.data, self.model
        if d.dataset == "csv":
            if not d.path:
                raise ConfigError("dataset 'csv' needs data.path", source=source, path="data.path")
            if not d.label:
                raise ConfigError("dataset 'csv' needs the label column's name", source=source,
                                  path="data.label")
        if d.classes != 2 and d.dataset not in ("spiral", "draw"):
            raise ConfigError(f"only 'spiral' and 'draw' have a choice of classes, not "
                              f"'{d.dataset}'",
                              source=source, path="data.classes")
        if d.dataset in ("iris", "digits", "csv") and tuple(d.features) != ("x1", "x2"):
            raise ConfigError(f"'{d.dataset}' uses its own columns as inputs; remove data.features",
                              source=source, path="data.features")
        n = self.n_classes() if n_classes is None else n_classes
        out, loss = self.output_activation(n), self.loss_name(n)
        if loss not in LOSSES or out not in LOSSES[loss].outputs:
            raise ConfigError(pairing_message(loss, out), source=source,
                              path="model.loss" if m.loss else "model.output")
        if self.task == "regression" and loss != "mse":
            raise ConfigError(f"regression data needs loss 'mse', not '{loss}'", source=source,
                              path="model.loss")
        if loss == "bce" and n is not None and n > 2:
            raise ConfigError(
                f"loss 'bce' is for 2 classes, the data has {n}; use ce with a softmax output",
                source=source, path="model.loss")

    # ----- editing -------------------------------------------------------------------
    def get(self, path: str):
        """The value at a key path such as 'training.lr' or 'model.layers[1].units'."""
        obj = self
        for part in _split_path(path):
            obj = obj[part] if isinstance(part, int) else getattr(obj, part)
        return obj

    def with_value(self, path: str, value, *, source: str | None = None) -> Config:
        """A new, validated config with one value changed; raises ConfigError if refused."""
        d = self.to_dict()
        parts = _split_path(path)
        target = d
        try:
            for part in parts[:-1]:
                target = target[part]
            if isinstance(parts[-1], int) and not isinstance(target, list):
                raise KeyError
            target[parts[-1]] = value
        except (KeyError, IndexError, TypeError):
            raise ConfigError("no such setting", source=source, path=path) from None
        return Config.from_dict(d, source=source)

    def with_layers(self, layers) -> Config:
        """A new config with these hidden layers (``LayerSpec`` or dicts)."""
        return Config.from_dict({**self.to_dict(), "model": {
            **self.to_dict()["model"], "layers": [asdict(l) if isinstance(l, LayerSpec) else l
                                                  for l in layers]}})

    def needs_new_weights(self, other: Config) -> bool:
        """True when going from self to ``other`` changes the data or the network's shape."""
        return self.data != other.data or self.model != other.model


def parse_value(text: str):
    """A value as a user types it (``--set``, a pane field): TOML syntax when it parses
    (numbers, true, lists...), else the text itself."""
    try:
        return load_toml(f"v = {text}")["v"]
    except ConfigError:
        return text


def _split_path(path: str) -> list:
    parts: list = []
    for piece in path.split("."):
        name, _, rest = piece.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            if not index.isdigit() or len(index) > 6:
                raise ConfigError("bad key path", path=path)
            parts.append(int(index))
            rest = rest.lstrip("[")
    return parts


def live_changes(old: Config, new: Config) -> dict:
    """Training settings that differ and can be applied without new weights."""
    a, b = old.training, new.training
    return {k: getattr(b, k) for k in LIVE_KEYS if getattr(a, k) != getattr(b, k)}


__all__ = ["Config", "ConfigError", "DataConfig", "LayerSpec", "ModelConfig", "TrainingConfig",
           "live_changes", "replace"]
