"""Learning-rate schedules: torch's formulas, the config keys, the trainer's lr per epoch."""

from __future__ import annotations

import math

import pytest

from engine.config import Config
from engine.errors import ConfigError
from engine.nn import schedules
from engine.presets import load_preset
from engine.training.trainer import Trainer

EPOCHS = range(51)
BASE = 0.1


def formula(name: str, base: float, e: int, **k) -> float:
    """The documented formulas of torch.optim.lr_scheduler, written out again."""
    if name == "constant":
        return base
    if name == "step":
        return base * k["gamma"] ** (e // k["step_size"])
    if name == "exponential":
        return base * k["gamma"] ** e
    if name == "cosine":
        return k["eta_min"] + (base - k["eta_min"]) * (1 + math.cos(math.pi * e / k["t_max"])) / 2
    if name == "warmup":
        frac = min(e, k["epochs"]) / k["epochs"]
        return base * (k["start"] + (k["end"] - k["start"]) * frac)
    raise AssertionError(name)


CASES = [
    ("constant", {}),
    ("step", {"step_size": 7, "gamma": 0.5}),
    ("exponential", {"gamma": 0.9}),
    ("cosine", {"t_max": 20, "eta_min": 0.001}),
    ("warmup", {"start": 0.25, "end": 1.0, "epochs": 10}),
]


@pytest.mark.parametrize("name,kw", CASES)
def test_each_schedule_follows_its_formula(name, kw):
    fn = schedules.SCHEDULES[name][0]
    for e in EPOCHS:
        assert fn(BASE, e, **kw) == pytest.approx(formula(name, BASE, e, **kw), rel=1e-12)


def test_known_values():
    assert schedules.step(1.0, 29, step_size=30, gamma=0.1) == 1.0
    assert schedules.step(1.0, 30, step_size=30, gamma=0.1) == pytest.approx(0.1)
    assert schedules.cosine(1.0, 10, t_max=10) == pytest.approx(0.0, abs=1e-15)
    assert schedules.cosine(1.0, 5, t_max=10) == pytest.approx(0.5)
    assert schedules.warmup(1.0, 0) == pytest.approx(1 / 3)  # torch's defaults
    assert schedules.warmup(1.0, 5) == schedules.warmup(1.0, 50) == pytest.approx(1.0)


TORCH_SETTINGS = {"step": {"step_size": 7, "gamma": 0.5}, "exponential": {"gamma": 0.9},
                  "cosine": {"T_max": 20, "eta_min": 0.001},
                  "warmup": {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 10}}


@pytest.mark.parametrize("name,kw", CASES[1:])
def test_each_schedule_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    sched = torch.optim.lr_scheduler
    cls = {"step": sched.StepLR, "exponential": sched.ExponentialLR,
           "cosine": sched.CosineAnnealingLR, "warmup": sched.LinearLR}[name]
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE)
    scheduler = cls(opt, **TORCH_SETTINGS[name])
    fn = schedules.SCHEDULES[name][0]
    for e in EPOCHS:
        assert opt.param_groups[0]["lr"] == pytest.approx(fn(BASE, e, **kw), rel=1e-9, abs=1e-12)
        opt.step()
        scheduler.step()


def trainer(**training) -> Trainer:
    return Trainer(Config.from_dict({
        "data": {"dataset": "xor", "samples": 40},
        "model": {"layers": [{"units": 4, "activation": "tanh"}]},
        "training": {"optimizer": "sgd", "lr": 0.2, "batch_size": 8, **training},
    }))


SETTINGS = {
    "step": ({"lr_step_size": 3, "lr_gamma": 0.5}, {"step_size": 3, "gamma": 0.5}),
    "exponential": ({"lr_gamma": 0.8}, {"gamma": 0.8}),
    "cosine": ({"lr_t_max": 8, "lr_eta_min": 0.01}, {"t_max": 8, "eta_min": 0.01}),
    "warmup": ({"lr_warmup_start": 0.1, "lr_warmup_end": 0.9, "lr_warmup_epochs": 4},
               {"start": 0.1, "end": 0.9, "epochs": 4}),
}


@pytest.mark.parametrize("name", SETTINGS)
def test_the_trainers_lr_after_n_epochs_is_the_formula(name):
    keys, kw = SETTINGS[name]
    tr = trainer(lr_schedule=name, **keys)
    assert tr.latest.lr == pytest.approx(formula(name, 0.2, 0, **kw))
    for n in range(1, 11):
        tr.step(tr.steps_to_epoch_end)
        assert tr.epoch == n
        assert tr.optimizer.lr == pytest.approx(formula(name, 0.2, n, **kw))
        assert tr.latest.lr == tr.optimizer.lr  # the snapshot shows it live


def test_a_run_steps_the_schedule_at_every_epoch_end():
    tr = trainer(lr_schedule="exponential", lr_gamma=0.5)
    tr.run(max_epochs=6)
    assert tr.epoch == 6 and tr.latest.lr == pytest.approx(0.2 * 0.5**6)


def test_constant_is_the_default_and_keeps_the_lr():
    tr = trainer()
    assert tr.config.training.lr_schedule == "constant"
    tr.step(tr.steps_per_epoch * 5)
    assert tr.optimizer.lr == 0.2


def test_live_changes_move_the_base_and_the_settings():
    tr = trainer(lr_schedule="step", lr_step_size=2, lr_gamma=0.5)
    tr.step(tr.steps_per_epoch * 4)  # epoch 4: two decays
    assert tr.optimizer.lr == pytest.approx(0.05)
    tr.set_lr(0.4)  # + / -: a new base, the schedule goes on from it
    assert tr.config.training.lr == 0.4 and tr.optimizer.lr == pytest.approx(0.1)
    tr.set_hyper(lr_gamma=0.1)
    assert tr.optimizer.lr == pytest.approx(0.4 * 0.01)
    tr.set_hyper(lr_schedule="constant")
    assert tr.optimizer.lr == 0.4
    tr.set_hyper(lr_schedule="cosine", lr_t_max=8)
    assert tr.latest.lr == pytest.approx(0.4 * (1 + math.cos(math.pi * 4 / 8)) / 2)
    tr.set_hyper(optimizer="adam")  # a new optimizer starts at the scheduled lr too
    assert tr.optimizer.lr == pytest.approx(0.2)


def test_live_changes_during_a_run_apply_between_steps():
    tr = trainer()
    tr.speed_limit = 2000.0
    done = []
    tr.run(max_epochs=2, on_epoch=lambda s: done or (tr.set_hyper(lr_schedule="exponential",
                                                                  lr_gamma=0.5), done.append(1)))
    assert tr.config.training.lr_schedule == "exponential"
    assert tr.optimizer.lr == pytest.approx(0.2 * 0.5**2)


def test_reset_starts_the_schedule_again():
    tr = trainer(lr_schedule="warmup", lr_warmup_start=0.5, lr_warmup_epochs=2)
    tr.step(tr.steps_per_epoch * 3)
    assert tr.optimizer.lr == pytest.approx(0.2)
    tr.reset()
    assert tr.optimizer.lr == pytest.approx(0.1) and tr.latest.lr == pytest.approx(0.1)


def test_a_preset_with_a_schedule_round_trips_through_toml(tmp_path):
    import dataclasses

    from engine.presets import save_preset

    base = load_preset("xor")
    config = base.config.with_value("training.lr_schedule", "cosine") \
        .with_value("training.lr_t_max", 50).with_value("training.lr_eta_min", 0.0005)
    path = tmp_path / "cos.toml"
    save_preset(dataclasses.replace(base, config=config), path)
    text = path.read_text()
    assert 'lr_schedule = "cosine"' in text and "lr_t_max = 50" in text
    again = load_preset(str(path)).config
    assert again == config and again.training.lr_eta_min == 0.0005
    assert Config.from_dict(config.to_dict()) == config


def test_a_preset_that_says_nothing_keeps_a_constant_lr():
    config = load_preset("xor").config
    assert config.training.lr_schedule == "constant"


@pytest.mark.parametrize("key,value,allowed", [
    ("lr_schedule", "cyclic", "one of 'constant', 'step', 'exponential', 'cosine' or 'warmup'"),
    ("lr_gamma", 0, "a number > 0 and <= 1"),
    ("lr_gamma", 1.5, "a number > 0 and <= 1"),
    ("lr_step_size", 0, "an integer >= 1"),
    ("lr_t_max", 2.5, "an integer >= 1"),
    ("lr_eta_min", -1, "a number >= 0"),
    ("lr_warmup_start", 0, "a number > 0 and <= 1"),
    ("lr_warmup_end", 2, "a number >= 0 and <= 1"),
    ("lr_warmup_epochs", 0, "an integer >= 1"),
])
def test_a_bad_value_is_refused_in_one_line_naming_the_key(key, value, allowed):
    with pytest.raises(ConfigError) as err:
        Config.from_dict({"training": {key: value}}, source="p.toml")
    text = str(err.value)
    assert "\n" not in text and f"training.{key}" in text and allowed in text
