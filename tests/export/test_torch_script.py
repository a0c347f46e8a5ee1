"""The script and its sidecar as text and arrays (no torch needed): what the script says,
what the sidecar holds, and what is refused."""

from __future__ import annotations

import ast
import base64
import io
import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from engine.checkpoint import save_checkpoint
from engine.errors import EngineError
from engine.export import torch_script
from engine.export.torch_script import export_torch
from engine.opening import open_run
from engine.presets import load_preset
from engine.training.trainer import Trainer

from .helpers import FLOAT64, cli, export

STDLIB = {"__future__", "argparse", "base64", "io", "json", "math", "os", "sys", "pathlib"}


def trainer_for(name: str, **values) -> Trainer:
    preset = load_preset(name)
    config = preset.config
    for key, value in values.items():
        config = config.with_value(key, value)
    return Trainer(replace(preset, config=config))


def sidecar(path: str) -> dict:
    with np.load(path.replace(".py", ".npz"), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def test_the_script_writes_the_network_optimizer_and_loss_as_code(capsys, tmp_path):
    path = export(capsys, tmp_path, "xor")
    text = open(path).read()
    trainer = open_run("xor").trainer()
    net, t = trainer.network, trainer.config.training
    for i, (fan_in, fan_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
        assert f"nn.Linear({fan_in}, {fan_out})," in text
    assert text.count("nn.Tanh()") == sum(a == "tanh" for a in net.activation_names[:-1])
    assert "return torch.sigmoid(z)" in text and 'nn.BCEWithLogitsLoss(reduction="sum")' in text
    assert (f"torch.optim.Adam(params, lr={t.lr!r}, betas=({t.beta1!r}, {t.beta2!r}), "
            f"eps={t.eps!r}, weight_decay={t.weight_decay!r})") in text
    assert f"BATCH_SIZE = {trainer.batch_size}" in text and f"EPOCHS = {t.epochs}" in text
    assert 'STATE_FILE = \'train.npz\'' in text and "EMBEDDED = None" in text
    assert "torchrun --nproc_per_node=8 train.py --device cuda" in text  # the header says how


def test_the_script_is_python_that_needs_only_torch_and_numpy(capsys, tmp_path):
    text = open(export(capsys, tmp_path, "softmax-spiral")).read()
    tree = ast.parse(text)
    compile(text, "train.py", "exec")
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom)}
    assert modules - STDLIB == {"numpy", "torch"}


@pytest.mark.parametrize("sets,expected", [
    ({"model.layers[0].activation": "leaky_relu", "model.leaky_slope": 0.25},
     ["nn.LeakyReLU(negative_slope=0.25)"]),
    ({"training.regularization": "l2", "training.reg_rate": 0.003},
     ["return 0.5 * 0.003 * sum((w * w).sum() for w in weights)"]),
    ({"training.regularization": "l1", "training.reg_rate": 0.02},
     ["return 0.02 * sum(w.abs().sum() for w in weights)"]),
    ({"training.optimizer": "sgd", "training.momentum": 0.9, "training.nesterov": True,
      "training.weight_decay": 0.001},
     ["torch.optim.SGD(params, lr=0.03, momentum=0.9, nesterov=True, weight_decay=0.001)",
      "OPTIMIZER_HAS_STEP = False"]),
    ({"training.optimizer": "rmsprop", "training.alpha": 0.9},
     ["torch.optim.RMSprop(params, lr=0.03, alpha=0.9, eps=1e-08, momentum=0.0",
      "OPTIMIZER_HAS_STEP = True"]),
    ({"training.lr_schedule": "step", "training.lr_step_size": 4, "training.lr_gamma": 0.5},
     ["StepLR(step_size=4, gamma=0.5)", "return 0.5 ** (epoch // 4)"]),
    ({"training.lr_schedule": "cosine", "training.lr_t_max": 9},
     ["CosineAnnealingLR(T_max=9, eta_min=0.0)", "math.cos(math.pi * epoch / 9)"]),
    ({"training.target_accuracy": 0.9}, ["TARGET_ACCURACY = 0.9"]),
])
def test_each_setting_is_written_as_its_torch_form(sets, expected):
    text = export_torch(trainer_for("xor", **sets), source="xor", state_file="t.npz").script
    for piece in expected:
        assert piece in text


def test_the_sidecar_holds_the_weights_in_torch_layout_and_the_data(capsys, tmp_path):
    path = export(capsys, tmp_path, "softmax-spiral", *FLOAT64)
    arrays = sidecar(path)
    trainer = trainer_for("softmax-spiral", **{"model.dtype": "float64"})
    for i, layer in enumerate(trainer.network.layers):
        np.testing.assert_array_equal(arrays[f"param:{2 * i}.weight"], layer.W.T)
        np.testing.assert_array_equal(arrays[f"param:{2 * i}.bias"], layer.b)
    np.testing.assert_array_equal(arrays["X_train"], trainer.data.X_train)
    np.testing.assert_array_equal(arrays["X_test"], trainer.data.X_test)
    np.testing.assert_array_equal(arrays["Y_train"], trainer.data.y_train)  # ce: labels
    assert arrays["Y_train"].dtype == np.int64
    assert int(arrays["epoch"]) == int(arrays["step"]) == int(arrays["pos"]) == 0
    assert int(arrays["optimizer_steps"]) == 0
    assert not [k for k in arrays if k.startswith("optimizer:")]
    assert json.loads(str(arrays["shuffle_state"])) == trainer.state()["shuffle_state"]


def test_a_float32_run_starts_from_its_weights_as_drawn_before_rounding():
    trainer = trainer_for("xor")
    arrays = export_torch(trainer, source="xor", state_file="t.npz").arrays
    W = arrays["param:0.weight"]
    assert W.dtype == np.float64 and trainer.network.layers[0].W.dtype == np.float32
    np.testing.assert_array_equal(W.astype(np.float32), trainer.network.layers[0].W.T)
    assert not np.array_equal(W, W.astype(np.float32).astype(np.float64))


def test_a_checkpoint_gives_its_weights_optimizer_state_and_place(tmp_path):
    trainer = trainer_for("xor", **{"model.dtype": "float64"})
    trainer.step(10)
    ckpt = str(tmp_path / "mid.npz")
    save_checkpoint(trainer, ckpt)
    arrays = export_torch(open_run(ckpt).trainer(), source=ckpt, state_file="t.npz").arrays
    state = trainer.state()
    assert int(arrays["step"]) == 10 and int(arrays["epoch"]) == 1
    assert int(arrays["pos"]) == state["pos"] > 0
    np.testing.assert_array_equal(arrays["order"], state["order"])
    opt = trainer.optimizer.state_arrays()
    assert int(arrays["optimizer_steps"]) == int(opt["steps"]) == 10
    for key in ("exp_avg", "exp_avg_sq"):
        for i, (W, b) in enumerate(trainer.network.layer_views(opt[key])):
            np.testing.assert_array_equal(arrays[f"optimizer:{2 * i}.weight:{key}"], W.T)
            np.testing.assert_array_equal(arrays[f"optimizer:{2 * i}.bias:{key}"], b)
    np.testing.assert_array_equal(arrays["param:0.weight"], trainer.network.layers[0].W.T)


def test_on_stdout_the_state_is_embedded_and_equals_the_sidecar(capsys, tmp_path):
    code, text, _ = cli(capsys, "export-torch", "xor")
    assert code == 0 and "STATE_FILE = None" in text
    blob = ast.literal_eval(text.split("\nEMBEDDED = ", 1)[1].split("\n\nif __name__", 1)[0])
    with np.load(io.BytesIO(base64.b64decode(blob)), allow_pickle=False) as npz:
        embedded = {k: npz[k] for k in npz.files}
    written = sidecar(export(capsys, tmp_path, "xor"))
    assert embedded.keys() == written.keys()
    for key in written:
        np.testing.assert_array_equal(embedded[key], written[key])


def test_user_text_cannot_break_out_of_the_docstring(capsys, tmp_path):
    preset = tmp_path / "odd.toml"
    preset.write_text('title = "a \\"\\"\\" b \\\\ c"\nlesson = "l"\n[data]\ndataset = "xor"\n')
    code, text, err = cli(capsys, "export-torch", str(preset))
    assert code == 0, err
    compile(text, "train.py", "exec")
    assert text.splitlines()[1] == "\"\"\"a ''' b ' c"


# ----- refusals ------------------------------------------------------------------------
@pytest.mark.parametrize("argv,message", [
    (["export-torch", "nope"], "no bundled preset named 'nope'"),
    (["export-torch", "xor", "-o", "train.txt"],
     "-o names the script, a .py file (its state goes beside it as .npz), not 'train.txt'"),
    (["export-torch", "draw"], "cannot export to PyTorch: the run has no training rows"),
    (["export-torch", "xor", "--set", "training.lr=-1"], "training.lr: -1 is not allowed"),
    (["export-torch", "missing.npz"], "missing.npz"),
])
def test_refusals_are_one_line_and_exit_2(capsys, argv, message):
    code, out, err = cli(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_the_state_never_overwrites_the_checkpoint_it_exports(capsys, tmp_path, monkeypatch):
    ckpt = tmp_path / "run.npz"
    code, _, err = cli(capsys, "train", "xor", "--epochs", "1", "--save", str(ckpt))
    assert code == 0, err
    before = ckpt.read_bytes()
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, "export-torch", "run.npz", "-o", "run.py")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "over the run it exports; give -o another name" in err
    assert ckpt.read_bytes() == before and not (tmp_path / "run.py").exists()


def test_a_setting_without_a_torch_form_is_refused_not_exported_wrong(monkeypatch, capsys):
    monkeypatch.delitem(torch_script.HIDDEN, "tanh")
    code, out, err = cli(capsys, "export-torch", "xor")
    assert code == 2 and out == ""
    assert err == ("backprop-lab: cannot export to PyTorch: hidden activation 'tanh' has no "
                   "exact PyTorch equivalent\n")
    monkeypatch.setattr(torch_script, "SCHEDULES", ("step",))
    monkeypatch.setitem(torch_script.HIDDEN, "tanh", lambda slope: "nn.Tanh()")
    code, _, err = cli(capsys, "export-torch", "xor")
    assert code == 2 and "lr schedule 'constant' has no exact PyTorch equivalent" in err


def test_a_diverged_run_is_refused():
    trainer = trainer_for("regression-plane", **{"training.lr": 100.0})
    trainer.step(50)
    assert trainer.diverged
    with pytest.raises(EngineError, match="^cannot export to PyTorch: the run diverged"):
        export_torch(trainer, source="x", state_file=None)


def test_a_checkpoint_with_half_an_optimizer_state_is_refused(capsys, tmp_path):
    trainer = trainer_for("xor")
    trainer.step(3)
    good = str(tmp_path / "good.npz")
    save_checkpoint(trainer, good)
    with np.load(good, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "opt_exp_avg_sq"}
    bad = str(tmp_path / "half.npz")
    np.savez(bad, **arrays)
    code, out, err = cli(capsys, "export-torch", bad)
    assert code == 2 and out == ""
    assert err == ("backprop-lab: cannot export to PyTorch: the adam state has exp_avg but "
                   "not exp_avg_sq\n")


def test_a_state_too_large_to_embed_asks_for_a_file(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(torch_script, "EMBED_LIMIT", 1000)
    code, out, err = cli(capsys, "export-torch", "xor")
    assert code == 2 and out == ""
    assert "cannot embed the run's state in the script" in err and "give -o FILE.py" in err
    code, _, err = cli(capsys, "export-torch", "xor", "-o", str(tmp_path / "t.py"))
    assert code == 0 and (tmp_path / "t.npz").is_file()


def test_the_console_command_refuses_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "backprop_lab", "export-torch", "draw"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "backprop-lab: cannot export to PyTorch: the run has no training rows\n"
