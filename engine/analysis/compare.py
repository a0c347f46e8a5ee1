"""Comparison mode: run variants of one preset (one setting changed) and line them up.

Every variant trains on the preset's data from the same seeds, so the only difference
is the setting that was changed. Headless::

    backprop-lab compare lr-good --vary training.lr=0.01,1,100
    backprop-lab compare optimizer-race --variants optimizers --seeds 5 --stop-at-target
    backprop-lab compare dead-relu --vary "model.layers[*].activation=relu,leaky_relu"

``model.layers[*].x`` changes ``x`` in every hidden layer. For the app, ``compare()``
returns one ``VariantResult`` per variant with its loss curves (median over seeds), ready
to overlay.

Its length is the variant sets and their results as data, with the runs that fill them.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..config import Config
from ..errors import EngineError
from .lessons import as_config, diverged, figures_of, make_trainer, reached, with_values
from ..presets import Preset
from ..values import plain


@dataclass(frozen=True)
class Variant:
    """One setting (or a few) changed from the preset: ``values`` maps key paths to values."""

    label: str
    values: dict = field(default_factory=dict)


#: ready-made variant sets (``--variants NAME``); each variant lists all it changes, so
#: the set means the same thing whatever the preset's own optimizer settings are
VARIANT_SETS: dict[str, tuple[Variant, ...]] = {
    "optimizers": (
        Variant("full-batch GD", {"training.optimizer": "sgd", "training.batch_size": "full",
                                  "training.lr": 0.3, "training.momentum": 0.0}),
        Variant("SGD, batch 1", {"training.optimizer": "sgd", "training.batch_size": 1,
                                 "training.lr": 0.3, "training.momentum": 0.0}),
        Variant("mini-batch 16", {"training.optimizer": "sgd", "training.batch_size": 16,
                                  "training.lr": 0.3, "training.momentum": 0.0}),
        Variant("momentum 0.9", {"training.optimizer": "sgd", "training.batch_size": 16,
                                 "training.lr": 0.3, "training.momentum": 0.9}),
        Variant("RMSprop", {"training.optimizer": "rmsprop", "training.batch_size": 16,
                            "training.lr": 0.05, "training.momentum": 0.0}),
        Variant("Adam", {"training.optimizer": "adam", "training.batch_size": 16,
                         "training.lr": 0.05, "training.momentum": 0.0}),
    ),
}


@dataclass(frozen=True)
class SeedRun:
    """One variant trained from one seed."""

    seed: int
    steps: np.ndarray  #: (points,) steps at which the losses were measured, from 0
    train_loss: np.ndarray  #: inf from a divergence on
    test_loss: np.ndarray
    final: dict  #: evaluate() at the end (the last finite weights after a divergence)
    steps_to_target: int | None  #: first check that met the target; None if never
    diverged_step: int | None


@dataclass(frozen=True)
class VariantResult:
    """A variant over all seeds; curves and figures are medians over the seeds."""

    variant: Variant
    config: Config
    steps_per_epoch: int
    runs: tuple[SeedRun, ...]
    steps: np.ndarray  #: (points,)
    train_loss: np.ndarray  #: (points,) median over seeds
    test_loss: np.ndarray

    @property
    def label(self) -> str:
        return self.variant.label

    def _median(self, key: str) -> float | None:
        vals = [r.final[key] for r in self.runs if r.final[key] is not None]
        return float(statistics.median(vals)) if vals else None

    @property
    def final_train_loss(self) -> float:
        return self._median("train_loss")

    @property
    def final_test_loss(self) -> float:
        return self._median("test_loss")

    @property
    def train_accuracy(self) -> float | None:
        return self._median("train_accuracy")

    @property
    def test_accuracy(self) -> float | None:
        return self._median("test_accuracy")

    @property
    def steps_to_target(self) -> float | None:
        """Median steps to the target over seeds (a miss counts as never); None when
        the median run did not get there."""
        vals = [math.inf if r.steps_to_target is None else r.steps_to_target for r in self.runs]
        m = statistics.median(vals)
        return None if math.isinf(m) else m

    @property
    def epochs_to_target(self) -> float | None:
        s = self.steps_to_target
        return None if s is None else s / self.steps_per_epoch

    @property
    def diverged(self) -> int:
        """How many of the seeds diverged."""
        return sum(r.diverged_step is not None for r in self.runs)

    def to_dict(self, curves: bool = True) -> dict:
        clean = plain
        out = {
            "variant": self.label, "values": self.variant.values, "seeds": [r.seed for r in self.runs],
            "train_loss": clean(self.final_train_loss), "test_loss": clean(self.final_test_loss),
            "train_acc": clean(self.train_accuracy), "test_acc": clean(self.test_accuracy),
            "steps_to_target": clean(self.steps_to_target),
            "epochs_to_target": clean(self.epochs_to_target),
            "diverged": self.diverged, "steps_per_epoch": self.steps_per_epoch,
        }
        if curves:
            out["curve"] = {"steps": [int(s) for s in self.steps],
                            "train_loss": [clean(v) for v in self.train_loss],
                            "test_loss": [clean(v) for v in self.test_loss]}
        return out


# ----- parsing ----------------------------------------------------------------------------
def split_values(text: str) -> list[str]:
    """Split ``v1,v2,...`` on top-level commas (``[1, 2],[3]`` stays two values)."""
    out, depth, cur = [], 0, []
    quote = None
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur).strip())
    return out


def format_value(v) -> str:
    """A varied value as a short label: 0.03, relu, [8,8]."""
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(format_value(x) for x in v) + "]"
    return str(v)


def variants_for(key: str, values: Sequence) -> list[Variant]:
    short = key.split(".")[-1]
    return [Variant(f"{short}={format_value(v)}", {key: v}) for v in values]


# ----- running ----------------------------------------------------------------------------
def check_variant(config: Config, variant: Variant) -> Config:
    """The variant's config, or EngineError with the config's own one-line reason."""
    for key in variant.values:
        head = key.partition("[*]")[0]
        try:
            config.get(head)
        except (AttributeError, IndexError, KeyError, TypeError):
            raise EngineError(f"{key}: no such setting") from None
    return with_values(config, variant.values)


def _checked_configs(config: Config, variants: Sequence[Variant]) -> list[Config]:
    """Every variant's config, validated before anything trains (bad input fails fast)."""
    return [check_variant(config, v) for v in variants]


def run_variant(config: Config, seed: int, *, steps: int | None, epochs: int | None,
                points: int = 100, target_loss=None, target_accuracy=None,
                check_every: int | None = None, stop_at_target: bool = False
                ) -> tuple[SeedRun, int]:
    """Train one variant from one seed; returns the run and its steps per epoch.

    Until the target is met it is checked every ``check_every`` steps (default: every
    step, or every few in runs longer than 20000 steps), so steps to target do not depend
    on the run's length; the curve keeps about ``points`` points."""
    trainer = make_trainer(config, seed=seed)
    spe = trainer.steps_per_epoch
    total = steps if steps is not None else (epochs if epochs is not None
                                             else config.training.epochs) * spe
    total = max(0, int(total))
    every = max(1, -(-total // max(1, points)))
    has_target = target_loss is not None or target_accuracy is not None
    if not has_target:
        check = every
    else:
        check = check_every if check_every is not None else max(1, -(-total // 20000))
        check = max(1, check)
        every = -(-every // check) * check  # curve points fall on checks
    rows = []
    hit = None
    ev = figures_of(trainer.latest)
    rows.append((0, ev["train_loss"], ev["test_loss"]))
    if has_target and reached(ev, target_loss, target_accuracy):
        hit = 0
    done = 0
    div = None
    while done < total and not (stop_at_target and hit is not None):
        n = check if has_target and hit is None else every - done % every
        n = min(n, total - done)
        snap = trainer.step(n)  # the snapshot evaluates the whole data set
        done += n
        if diverged(trainer):
            div = snap.diverged_step
            rows.append((done, math.inf, math.inf))
            break
        ev = figures_of(snap)
        if hit is None and has_target and reached(ev, target_loss, target_accuracy):
            hit = done
        if done % every == 0 or done == total or (stop_at_target and hit is not None):
            rows.append((done, ev["train_loss"], ev["test_loss"]))
    final = {k: (None if v is None else float(v)) for k, v in trainer.evaluate().items()}
    arr = np.array(rows, dtype=np.float64)
    return SeedRun(seed, arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2], final, hit, div), spe


def median_curve(runs: Sequence[SeedRun]):
    """Median over seeds on the first run's steps (runs of one variant share their steps,
    except where one diverged: it counts as inf from there on)."""
    steps = max((r.steps for r in runs), key=len)
    out = []
    for attr in ("train_loss", "test_loss"):
        cols = []
        for r in runs:
            vals = getattr(r, attr)
            idx = np.searchsorted(r.steps, steps, side="right") - 1
            col = vals[np.clip(idx, 0, len(vals) - 1)].copy()
            if r.diverged_step is not None:
                col[steps >= r.steps[-1]] = math.inf
            cols.append(col)
        with np.errstate(invalid="ignore"):
            out.append(np.median(np.vstack(cols), axis=0))
    return steps, out[0], out[1]


def compare(preset: Preset | Config | str, key: str | None = None, values: Sequence | None = None,
            *, variants: Sequence[Variant] | None = None, epochs: int | None = None,
            steps: int | None = None, seeds: int | Sequence[int] = 1, points: int = 100,
            target_loss: float | None = None, target_accuracy: float | None = None,
            check_every: int | None = None, stop_at_target: bool = False
            ) -> list[VariantResult]:
    """Train each variant of ``preset`` from the same seeds and collect curves and figures.

    Give ``key`` and ``values`` (one setting, several values) or ``variants``. Each run
    lasts ``steps`` steps, else ``epochs`` epochs (default: the preset's epochs). ``seeds``
    is a count (training seeds from the preset's seed on) or a list of seeds. Targets
    default to the preset's own; until met they are checked every ``check_every`` steps
    (default: every step, or every few in runs over 20000 steps). ``stop_at_target`` ends
    each run at its target (its curve then ends there too): a race needs nothing more.
    """
    config = as_config(preset)
    if variants is None:
        if key is None or not values:
            raise EngineError("compare needs a key and at least one value, or variants")
        variants = variants_for(key, values)
    variants = list(variants)
    if not variants:
        raise EngineError("compare needs at least one variant")
    if isinstance(seeds, int):
        if seeds < 1:
            raise EngineError("seeds must be at least 1")
        seeds = [config.training.seed + i for i in range(seeds)]
    seeds = [int(s) for s in seeds]
    if steps is not None and steps < 0 or epochs is not None and epochs < 0:
        raise EngineError("steps and epochs must be >= 0")
    t = config.training
    if target_loss is None and target_accuracy is None:
        target_loss, target_accuracy = t.target_loss, t.target_accuracy
    configs = _checked_configs(config, variants)
    results = []
    for variant, cfg in zip(variants, configs):
        runs, spe = [], 1
        for seed in seeds:
            run, spe = run_variant(cfg, seed, steps=steps, epochs=epochs, points=points,
                                   target_loss=target_loss, target_accuracy=target_accuracy,
                                   check_every=check_every, stop_at_target=stop_at_target)
            runs.append(run)
        s, tr, te = median_curve(runs)
        results.append(VariantResult(variant, cfg, spe, tuple(runs), s, tr, te))
    return results


__all__ = ["VARIANT_SETS", "SeedRun", "Variant", "VariantResult", "compare", "split_values"]
