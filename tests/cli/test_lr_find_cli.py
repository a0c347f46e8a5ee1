"""``backprop-lab lr-find``: the text plot and JSON lines carry the engine's numbers for the
same run; bad flags are one line and exit status 2."""

from __future__ import annotations

import json

import pytest

from backprop_lab.entry import main
from cli.main import SUBCOMMANDS
from cli.output import number
from engine.analysis.lr_find import lr_find
from engine.presets import load_preset


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_it_is_a_listed_subcommand():
    assert "lr-find" in SUBCOMMANDS


def test_jsonl_is_every_step_then_the_result_of_the_engines_run(capsys):
    code, out, err = run(capsys, "lr-find", "lr-good", "--max", "100", "--jsonl")
    assert code == 0 and err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    expect = lr_find(load_preset("lr-good"), lr_max=100.0)
    steps, (result,) = rows[:-1], rows[-1:]
    assert [r["type"] for r in steps] == ["step"] * expect.taken and result["type"] == "result"
    assert [r["step"] for r in steps] == list(range(1, expect.taken + 1))
    assert [r["lr"] for r in steps] == expect.lrs.tolist()
    assert [r["loss"] for r in steps] == expect.losses.tolist()
    assert [r["smoothed"] for r in steps] == expect.smoothed.tolist()
    assert result["steepest_lr"] == expect.steepest_lr and result["blowup_lr"] == expect.blowup_lr
    assert result["stopped"] == "blow-up" and result["taken"] == expect.taken < 100
    assert (result["lr_min"], result["lr_max"], result["steps"]) == (1e-5, 100.0, 100)


def test_the_text_plot_marks_the_engines_two_rates(capsys):
    code, out, _ = run(capsys, "lr-find", "lr-good", "--max", "100")
    expect = lr_find(load_preset("lr-good"), lr_max=100.0)
    lines = out.splitlines()
    assert code == 0 and lines[0] == load_preset("lr-good").title
    assert f"steepest descent: lr {number(expect.steepest_lr)} " \
           f"(step {expect.steepest_index + 1})" in out
    assert f"blow-up: lr {number(expect.blowup_lr)} (step {expect.taken})" in out
    assert f"stopped at step {expect.taken} of 100" in out
    steep = next(l for l in lines if l.endswith("← steepest descent")).split()
    blow = next(l for l in lines if l.endswith("← blow-up")).split()
    i, j = expect.steepest_index, expect.blowup_index
    assert steep[:4] == [str(i + 1), number(expect.lrs[i]), number(expect.losses[i]),
                         number(expect.smoothed[i])]
    assert blow[:4] == [str(j + 1), number(expect.lrs[j]), number(expect.losses[j]),
                        number(expect.smoothed[j])]
    assert all(len(l) <= 100 for l in lines)


def test_flags_change_the_run(capsys):
    code, out, _ = run(capsys, "lr-find", "xor", "--min", "1e-3", "--max", "1", "--steps", "30",
                       "--seed", "3", "--set", "training.batch_size=8", "--jsonl")
    rows = [json.loads(line) for line in out.splitlines()]
    config = load_preset("xor").config.with_value("training.batch_size", 8) \
        .with_value("training.seed", 3)
    expect = lr_find(config, lr_min=1e-3, lr_max=1.0, steps=30)
    assert code == 0 and [r["loss"] for r in rows[:-1]] == expect.losses.tolist()
    assert rows[0]["lr"] == 1e-3 and rows[-2]["lr"] == 1.0 and len(rows) == 31


def test_no_blowup_is_said(capsys):
    code, out, _ = run(capsys, "lr-find", "lr-good", "--max", "1", "--steps", "20")
    assert code == 0 and "blow-up: none up to lr 1" in out and "all 20 steps taken" in out


@pytest.mark.parametrize("argv, words", [
    (["--min", "0"], "--min must be a number > 0"),
    (["--min", "-1"], "--min must be a number > 0"),
    (["--max", "nan"], "--max must be a number > 0"),
    (["--max", "inf"], "--max must be a number > 0"),
    (["--min", "1", "--max", "0.5"], "--min (1) must be below --max (0.5)"),
    (["--steps", "1"], "--steps must be >= 2 and <= 10,000"),
    (["--steps", "20000"], "--steps must be >= 2 and <= 10,000"),
    (["--steps", "many"], "invalid int value: 'many'"),
    (["--max", "big"], "invalid float value: 'big'"),
    (["--set", "training.lr=abc"], "training.lr: 'abc' is not allowed"),
    (["--set", "nokey"], "--set needs key.path=value"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_flags_are_one_line_and_exit_2(capsys, argv, words):
    code, out, err = run(capsys, "lr-find", "xor", *argv)
    assert code == 2 and out == ""
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_missing_preset_is_one_line(capsys):
    code, out, err = run(capsys, "lr-find", "no-such-preset")
    assert code == 2 and "no bundled preset named 'no-such-preset'" in err
    assert err.count("\n") == 1


def test_a_preset_too_large_for_memory_is_refused_before_building(capsys, tmp_path,
                                                                 monkeypatch):
    from engine.data import limits

    monkeypatch.setattr(limits, "available_memory", lambda: 8_000_000_000)  # any host
    big = tmp_path / "big.toml"
    big.write_text('title = "big"\nlesson = "x"\n[model]\ndtype = "float64"\nlayers = ['
                   + ", ".join(["{units = 4096}"] * 32) + "]\n")
    code, _, err = run(capsys, "lr-find", str(big))
    assert code == 2 and "this run needs about" in err and err.count("\n") == 1
