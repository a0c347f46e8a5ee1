"""The headless command line: output, exit codes, one-line errors."""

import json
import subprocess
import sys

import pytest

from engine.presets import bundled_names
from backprop_lab.entry import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_presets_lists_name_then_title(capsys):
    code, out, _ = run(capsys, "presets")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == len(bundled_names())
    xor = next(l for l in lines if l.startswith("xor "))
    assert "XOR" in xor.split(None, 1)[1]


def test_train_prints_a_summary(capsys, tmp_path):
    code, out, _ = run(capsys, "train", "xor", "--epochs", "5", "--save", str(tmp_path / "r.npz"))
    assert code == 0
    assert "epochs: 5  steps: 35" in out and "accuracy: train" in out
    assert (tmp_path / "r.npz").exists() and "saved to" in out


def test_train_jsonl_is_one_object_per_epoch_and_nothing_else(capsys):
    code, out, _ = run(capsys, "train", "xor", "--epochs", "3", "--jsonl", "--seed", "2",
                       "--set", "training.lr=0.01")
    rows = [json.loads(line) for line in out.strip().splitlines()]
    assert code == 0 and [r["epoch"] for r in rows] == [1, 2, 3]
    assert set(rows[0]) == {"epoch", "step", "train_loss", "test_loss", "train_acc", "test_acc",
                            "confusion_train", "confusion_test", "stats_step", "grad_norms",
                            "update_ratios", "dead_fraction", "saturated_fraction", "flags",
                            "diverged"}
    assert all(r["stats_step"] == r["step"] for r in rows)  # each epoch's last step
    assert rows[-1]["step"] == 21 and len(rows[0]["grad_norms"]) == 3
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]


def test_same_seed_same_jsonl(capsys):
    _, a, _ = run(capsys, "train", "xor", "--epochs", "2", "--jsonl", "--seed", "4")
    _, b, _ = run(capsys, "train", "xor", "--epochs", "2", "--jsonl", "--seed", "4")
    assert a == b


@pytest.mark.parametrize("argv,message", [
    (["train", "nope"], "no bundled preset named 'nope'"),
    (["train", "xor", "--set", "training.lr=abc"], "--set: training.lr: 'abc' is not allowed; use a number > 0"),
    (["train", "xor", "--set", "model.layers[0].activation=swish"], "model.layers[0].activation: 'swish' is not allowed"),
    (["train", "xor", "--set", "lr"], "--set needs key.path=value, got 'lr'"),
    (["train", "xor", "--epochs", "many"], "argument --epochs: invalid int value: 'many'"),
    (["train", "xor", "--bogus"], "unrecognized arguments: --bogus"),
    (["check", "missing.toml"], "missing.toml: no such file"),
    (["frobnicate", "x"], "unknown command 'frobnicate'; commands are train,"),
    (["xor", "x"], "too many arguments: x;"),
    (["trian", "xor"], "unknown command 'trian'; did you mean 'train'?"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_check_validates_a_file(capsys, tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('title = "t"\nlesson = "l"\n[data]\ndataset = "moons"\n')
    code, out, _ = run(capsys, "check", str(good))
    assert code == 0 and out.strip() == f"{good}: ok (t)"
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "t"\nlesson = "l"\n[training]\nbatch_size = 0.5\n')
    code, _, err = run(capsys, "check", str(bad))
    assert code == 2 and err.strip() == (f"backprop-lab: {bad}: training.batch_size: 0.5 is not allowed; "
                                         "use an integer >= 1 or 'full'")


def test_engine_never_imports_the_ui():
    code = ("import sys, engine, cli, engine.training.trainer\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'plotext', 'textual_plotext', 'tui')]\n"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_console_script_from_another_directory(tmp_path):
    exe = [sys.executable, "-m", "backprop_lab"]
    out = subprocess.run([*exe, "presets"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and "xor" in out.stdout
    out = subprocess.run([*exe, "train", "nope.toml"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 2 and out.stderr.strip() == "backprop-lab: nope.toml: no such file"


def test_a_run_with_no_test_split_says_so_instead_of_nan(capsys):
    code, out, _ = run(capsys, "train", "local-minimum", "--epochs", "5")
    assert code == 0
    loss_line = next(line for line in out.splitlines() if line.strip().startswith("loss:"))
    assert "no test split" in loss_line and "nan" not in loss_line
    code, out, _ = run(capsys, "train", "xor", "--epochs", "1")
    loss_line = next(line for line in out.splitlines() if line.strip().startswith("loss:"))
    assert ", test 0." in loss_line
