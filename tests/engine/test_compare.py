"""Comparison mode: compare() for the app, `backprop-lab compare` for the terminal."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cli import main
from cli.compare import parse_vary
from engine.analysis.compare import VARIANT_SETS, Variant, compare, split_values
from engine.errors import EngineError
from engine.presets import load_preset


# ----- compare() -----------------------------------------------------------------------------
def test_variants_share_data_and_seed_so_only_the_setting_differs():
    res = compare("xor", "training.lr", [0.001, 0.03], steps=30, points=10)
    assert [r.label for r in res] == ["lr=0.001", "lr=0.03"]
    a, b = res
    # the same weights and data at step 0, so the curves start at the same point
    assert a.train_loss[0] == b.train_loss[0] and a.test_loss[0] == b.test_loss[0]
    assert list(a.steps) == list(b.steps) and a.steps[0] == 0 and a.steps[-1] == 30
    assert b.final_train_loss < a.final_train_loss
    assert a.config.training.lr == 0.001 and b.config.training.lr == 0.03
    assert a.steps_to_target is None and a.diverged == 0


def test_seeds_give_median_curves_and_per_seed_runs():
    (r,) = compare("xor", "training.lr", [0.03], steps=10, seeds=3, points=5)
    assert [run.seed for run in r.runs] == [0, 1, 2]
    per_seed = np.vstack([run.train_loss for run in r.runs])
    np.testing.assert_allclose(r.train_loss, np.median(per_seed, axis=0))
    (again,) = compare("xor", "training.lr", [0.03], steps=10, seeds=[0, 1, 2], points=5)
    np.testing.assert_array_equal(r.train_loss, again.train_loss)


def test_steps_to_target_uses_the_presets_target_and_can_stop_there():
    preset = load_preset("iris")
    assert preset.config.training.target_accuracy is not None
    full, stopped = (compare(preset, "training.lr", [0.02], steps=300, stop_at_target=s)[0]
                     for s in (False, True))
    assert full.steps_to_target is not None
    assert stopped.steps_to_target == full.steps_to_target
    assert stopped.steps[-1] == stopped.steps_to_target < full.steps[-1]
    assert stopped.epochs_to_target == pytest.approx(full.steps_to_target / full.steps_per_epoch)


def test_divergence_is_reported():
    res = compare("regression-plane", "training.lr", [0.05, 5.0], steps=100)
    assert res[0].diverged == 0 and res[1].diverged == 1
    assert math.isinf(res[1].train_loss[-1])
    assert res[1].to_dict()["curve"]["train_loss"][-1] is None  # JSON has no inf


def test_epochs_follow_each_variants_batch_size():
    res = compare("xor", "training.batch_size", [200, 50], epochs=2)
    assert [r.runs[0].steps[-1] for r in res] == [2, 8]


def test_hand_built_variants_and_the_optimizer_set():
    res = compare("optimizer-race", variants=VARIANT_SETS["optimizers"][:2], steps=5)
    assert [r.label for r in res] == ["full-batch GD", "SGD, batch 1"]
    assert res[1].config.training.batch_size == 1
    (r,) = compare("xor", variants=[Variant("deep relu", {"model.layers[*].activation": "relu",
                                                         "model.init": "he"})], steps=3)
    assert {l.activation for l in r.config.model.layers} == {"relu"}


@pytest.mark.parametrize("kwargs", [
    {"key": "training.nope", "values": [1]},
    {"key": "training.lr", "values": [-1]},
    {"key": "model.layers[9].units", "values": [3]},
    {"key": "training.lr", "values": []},
    {"variants": []},
    {"key": "training.lr", "values": [0.1], "seeds": 0},
])
def test_bad_input_is_an_engine_error(kwargs):
    with pytest.raises(EngineError):
        compare("xor", steps=1, **kwargs)


# ----- parsing -------------------------------------------------------------------------------
def test_split_values_keeps_lists_and_quoted_commas_whole():
    assert split_values("0.1, 1,10") == ["0.1", "1", "10"]
    assert split_values('["x1","x2"],["x1","x2","x1^2"]') == ['["x1","x2"]', '["x1","x2","x1^2"]']
    assert split_values("'a,b',c") == ["'a,b'", "c"]


def test_parse_vary_types_values_like_toml():
    assert parse_vary("training.lr=0.1,1") == ("training.lr", [0.1, 1])
    assert parse_vary("training.batch_size=full,16") == ("training.batch_size", ["full", 16])
    assert parse_vary("training.nesterov=true,false")[1] == [True, False]


# ----- the command line ----------------------------------------------------------------------
def run(capsys, *argv):
    code = main(["compare", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_one_row_per_variant(capsys):
    code, out, err = run(capsys, "xor", "--vary", "training.lr=0.001,0.03", "--steps", "20")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("XOR")
    header = next(l for l in lines if "variant" in l)
    for column in ("train loss", "test loss", "train acc", "test acc", "diverged"):
        assert column in header
    assert "steps to target" not in header  # xor has no target
    assert any(l.strip().startswith("lr=0.001") for l in lines)
    assert any(l.strip().startswith("lr=0.03") and l.rstrip().endswith("no") for l in lines)


def test_cli_shows_steps_to_target_and_divergence(capsys):
    code, out, _ = run(capsys, "iris", "--vary", "training.lr=0.02", "--steps", "200",
                       "--seeds", "2")
    assert code == 0 and "steps to target" in out and "(medians)" in out
    code, out, _ = run(capsys, "regression-plane", "--vary", "training.lr=0.05,5", "--steps", "60")
    assert code == 0
    assert [l.split()[-1] for l in out.splitlines() if l.strip().startswith("lr=")] == ["no", "yes"]


def test_cli_product_of_two_axes_and_every_layer(capsys):
    code, out, _ = run(capsys, "xor", "--vary", "model.layers[*].activation=linear,tanh",
                       "--vary", "training.lr=0.01,0.03", "--steps", "5")
    assert code == 0
    rows = [l for l in out.splitlines() if l.strip().startswith("activation=")]
    assert len(rows) == 4 and "activation=tanh lr=0.03" in out


def test_cli_jsonl(capsys):
    code, out, _ = run(capsys, "xor", "--vary", "training.lr=0.01,0.03", "--steps", "10", "--jsonl")
    assert code == 0
    records = [json.loads(l) for l in out.splitlines()]
    assert [r["variant"] for r in records] == ["lr=0.01", "lr=0.03"]
    assert records[0]["values"] == {"training.lr": 0.01}
    assert records[0]["curve"]["steps"][0] == 0 and records[0]["curve"]["steps"][-1] == 10
    assert len(records[0]["curve"]["train_loss"]) == len(records[0]["curve"]["steps"])


def test_cli_variant_set(capsys):
    code, out, _ = run(capsys, "optimizer-race", "--variants", "optimizers", "--steps", "3")
    assert code == 0
    for v in VARIANT_SETS["optimizers"]:
        assert v.label in out


@pytest.mark.parametrize("argv, says", [
    (["xor"], "--vary"),
    (["xor", "--vary", "training.lr"], "key.path=v1,v2"),
    (["xor", "--vary", "training.nope=1,2"], "training.nope"),
    (["xor", "--vary", "training.lr=0,1"], "training.lr"),
    (["xor", "--vary", "training.optimizer=sgd,lion"], "training.optimizer"),
    (["xor", "--variants", "nope"], "nope"),
    (["xor", "--vary", "training.lr=0.1", "--seeds", "0"], "--seeds"),
    (["no-such-preset", "--vary", "training.lr=0.1"], "no-such-preset"),
])
def test_cli_bad_input_is_one_line_and_status_2(capsys, argv, says):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and says in err
