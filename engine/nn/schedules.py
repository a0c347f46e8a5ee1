"""Learning-rate schedules with ``torch.optim.lr_scheduler``'s numbers.

Each schedule is a pure function of the base lr and ``epoch``, the epochs done (the
scheduler steps once per epoch, as torch's usually do); torch's ``last_epoch`` is this
``epoch``. The formulas are torch's closed forms:

- constant:    lr = base
- step:        lr = base * gamma ** (epoch // step_size)                      (StepLR)
- exponential: lr = base * gamma ** epoch                                     (ExponentialLR)
- cosine:      lr = eta_min + (base - eta_min) * (1 + cos(pi * epoch / t_max)) / 2
                                                                             (CosineAnnealingLR)
- warmup:      lr = base * (start + (end - start) * min(epoch, epochs) / epochs)  (LinearLR)
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..errors import EngineError, choices


def constant(base: float, epoch: int) -> float:
    """lr = base."""
    return base


def step(base: float, epoch: int, *, step_size: int, gamma: float) -> float:
    """StepLR: lr = base * gamma ** (epoch // step_size)."""
    return base * gamma ** (epoch // step_size)


def exponential(base: float, epoch: int, *, gamma: float) -> float:
    """ExponentialLR: lr = base * gamma ** epoch."""
    return base * gamma ** epoch


def cosine(base: float, epoch: int, *, t_max: int, eta_min: float = 0.0) -> float:
    """CosineAnnealingLR: lr = eta_min + (base - eta_min) * (1 + cos(pi * epoch / t_max)) / 2."""
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2


def warmup(base: float, epoch: int, *, start: float = 1 / 3, end: float = 1.0,
           epochs: int = 5) -> float:
    """LinearLR: lr = base * (start + (end - start) * min(epoch, epochs) / epochs)."""
    return base * (start + (end - start) * min(epoch, epochs) / epochs)


#: schedule name -> (function, {its keyword: the TrainingConfig field that sets it})
SCHEDULES: dict[str, tuple[Callable[..., float], dict[str, str]]] = {
    "constant": (constant, {}),
    "step": (step, {"step_size": "lr_step_size", "gamma": "lr_gamma"}),
    "exponential": (exponential, {"gamma": "lr_gamma"}),
    "cosine": (cosine, {"t_max": "lr_t_max", "eta_min": "lr_eta_min"}),
    "warmup": (warmup, {"start": "lr_warmup_start", "end": "lr_warmup_end",
                        "epochs": "lr_warmup_epochs"}),
}


def scheduled_lr(name: str, base: float, epoch: int, settings) -> float:
    """The lr of schedule ``name`` after ``epoch`` epochs; ``settings`` holds the
    ``lr_*`` attributes (a TrainingConfig)."""
    if name not in SCHEDULES:
        raise EngineError(f"unknown lr schedule {name!r}; allowed: {choices(SCHEDULES)}")
    fn, keys = SCHEDULES[name]
    return fn(base, epoch, **{k: getattr(settings, field) for k, field in keys.items()})
