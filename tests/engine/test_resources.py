"""The memory estimate (checked against measured runs), the limit it is held to, the
reads of regular files only, and the cost of loading a large CSV file."""

from __future__ import annotations

import gc
import os
import tracemalloc

import numpy as np
import pytest

import engine.data.limits as limits
import engine.resources as resources
from engine.config import Config
from engine.data.tables import load_csv
from engine.errors import ConfigError, EngineError
from engine.data.limits import memory_limit, open_regular, size_text
from engine.resources import check_resources, data_shape, estimate
from engine.training.build import build_dataset
from engine.training.trainer import Trainer


def config(layers=(16,), *, optimizer="adam", momentum=0.0, dtype="float32", batch=32,
           samples=400, **data) -> Config:
    return Config.from_dict({
        "data": {"dataset": "circle", "samples": samples, **data},
        "model": {"layers": [{"units": u} for u in layers], "dtype": dtype},
        "training": {"optimizer": optimizer, "momentum": momentum, "batch_size": batch}})


# ----- the estimate's parts ----------------------------------------------------------------
def test_optimizer_state_is_counted_per_optimizer():
    params = 2 * 64 + 64 + 64 * 1 + 1  # 2 -> 64 -> 1
    shape = (200, 200, 2)
    adam = estimate(config((64,), optimizer="adam"), *shape)
    assert adam.optimizer == 2 * params * 4 and adam.gradients == 2 * params * 4
    assert estimate(config((64,), optimizer="sgd"), *shape).optimizer == 0
    assert estimate(config((64,), optimizer="sgd", momentum=0.9), *shape).optimizer == params * 4
    assert estimate(config((64,), optimizer="rmsprop"), *shape).optimizer == params * 4
    wide = estimate(config((64,), optimizer="adam", dtype="float64"), *shape)
    assert wide.optimizer == 2 * adam.optimizer


def test_the_parts_add_up_and_are_named():
    est = estimate(config((128, 128)), 1000, 1000, 2)
    assert est.total == pytest.approx(sum(est.parts().values()))
    assert set(est.parts()) == {"parameters", "gradients", "Adam state", "activations",
                                "evaluation", "data"}
    assert est.describe().startswith(f"about {size_text(est.total)} (")


def test_a_larger_batch_or_more_samples_cost_more():
    small, big = estimate(config(batch=16), 1000, 0, 2), estimate(config(batch=512), 1000, 0, 2)
    assert big.activations > 10 * small.activations
    assert estimate(config(), 100_000, 0, 2).data == pytest.approx(
        100 * estimate(config(), 1000, 0, 2).data)


def test_data_shape_matches_the_data_that_loads(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,c,y\n" + "".join(f"{i},{i},{i},{i % 2}\n" for i in range(50)))
    for cfg in (config(samples=300), config(samples=301, features=["x1", "x2", "x1*x2"]),
                Config.from_dict({"data": {"dataset": "iris", "train_ratio": 0.7}}),
                Config.from_dict({"data": {"dataset": "csv", "path": str(csv), "label": "y"}})):
        data = build_dataset(cfg)
        assert data_shape(cfg) == (data.n_train, data.n_test, data.n_features)


def test_the_evaluation_sizes_are_the_trainers_own():
    from engine.training import probe, trainer

    assert resources.EVAL_CHUNK_ROWS == probe.EVAL_CHUNK
    assert resources.LIVE_EVAL_ROWS == trainer.LIVE_EVAL_ROWS


# ----- the estimate against measured runs -----------------------------------------------------
MEASURED = {
    "parameters": config((1024, 1024), batch=16, samples=200),
    "activations": config((256,), batch="full", samples=40_000),
    "evaluation": config((512, 512), optimizer="rmsprop", dtype="float64", batch=128,
                         samples=30_000, features=["x1", "x2", "x1*x2", "sin(x1)"]),
    "data": config((8,), samples=100_000),
}


@pytest.mark.parametrize("name", list(MEASURED))
def test_estimate_is_within_a_factor_two_of_a_measured_run(name):
    cfg = MEASURED[name]
    est = estimate(cfg, *data_shape(cfg))
    assert next(iter(est.parts())).split()[0] in (name, "evaluation")
    gc.collect()
    tracemalloc.start()
    try:
        trainer = Trainer(cfg)
        trainer.step(5)
        trainer.snapshot()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del trainer
    assert 0.5 * est.total <= peak <= 2 * est.total, (peak, est.describe(6))


# ----- the limit ---------------------------------------------------------------------------
def test_the_limit_is_half_the_available_memory(monkeypatch):
    free = limits.available_memory()
    assert free is not None and free > 0
    monkeypatch.setattr(limits, "available_memory", lambda: 8_000_000_000)
    assert memory_limit() == 4_000_000_000


def test_a_config_over_the_limit_is_refused_naming_the_setting():
    huge = config((4096,) * 32, dtype="float64")
    with pytest.raises(ConfigError) as e:
        check_resources(huge, source="big.toml", limit=4_000_000_000)
    message = str(e.value)
    assert message.startswith("big.toml: model.layers[0].units: this run needs about ")
    assert "more than the 4.0 GB allowed; use fewer units or layers" in message
    assert len(message) < 300
    full = config((1024,), batch="full", samples=100_000)
    with pytest.raises(ConfigError, match=r"training\.batch_size: .* not the full batch"):
        check_resources(full, limit=100_000_000)
    assert check_resources(config(), limit=100_000_000).total < 100_000_000


def test_no_limit_when_the_machine_does_not_tell(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: None)
    check_resources(config((4096,) * 32, dtype="float64"))


def test_check_refuses_a_config_too_big_for_this_machine(tmp_path, capsys, monkeypatch):
    from cli import main

    monkeypatch.setattr(limits, "available_memory", lambda: 24_000_000_000)
    path = tmp_path / "big.toml"
    path.write_text('title = "t"\nlesson = "l"\n[model]\ndtype = "float64"\nlayers = ['
                    + ", ".join(["{units = 4096}"] * 32) + "]\n")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "model.layers[0].units: this run needs about" in err
    assert "more than the 12 GB allowed (half the available memory)" in err


# ----- regular files ------------------------------------------------------------------------
def test_open_regular_refuses_what_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    for path, reason in ((fifo, "is a FIFO"), (tmp_path, "is a folder"),
                         ("/dev/null", "is a device"), (tmp_path / "none", "no such file")):
        with pytest.raises(EngineError, match=reason):
            open_regular(path, max_bytes=10, what="a file")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(EngineError, match="the file is 2.0 KB, more than the 1.0 KB a file may be"):
        open_regular(big, max_bytes=1000, what="a file")
    with open_regular(big, max_bytes=2000, what="a file") as f:
        assert f.read() == b"x" * 2000


# ----- loading a large CSV file ----------------------------------------------------------------
def test_loading_a_20_mb_csv_costs_a_few_times_its_size(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_000, 8))
    block = "".join(",".join(f"{v:.6f}" for v in row) + f",{int(row[0] > 0)}\n" for row in X)
    path = tmp_path / "big.csv"
    with open(path, "w") as f:
        f.write(",".join(f"x{i}" for i in range(8)) + ",y\n")
        while f.tell() < 20_000_000:
            f.write(block)
    size = os.path.getsize(path)
    gc.collect()
    tracemalloc.start()
    try:
        data = load_csv(path, label="y")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert data.n_train + data.n_test == 10_000 * -(-20_000_000 // len(block))
    assert peak < 5 * size, peak / size
