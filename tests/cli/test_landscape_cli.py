"""``backprop-lab landscape``: the grid and the path it prints are the engine's for the same
run; the text map marks the path; bad flags are one line and exit 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli.main import main
from engine.analysis import landscape as LS
from engine.analysis import lessons as L


def run_cli(capsys, *args):
    code = main(["landscape", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_jsonl_is_the_engines_grid_and_path(capsys):
    code, out, err = run_cli(capsys, "lr-skip", "--steps", "12", "--grid", "9", "--jsonl")
    assert code == 0 and err == ""
    lines = [json.loads(l) for l in out.splitlines()]
    head, points = lines[0], lines[1:]
    assert head["type"] == "landscape" and head["kind"] == "params"
    t = L.app_trainer("lr-skip")
    t.step(12)
    ls = LS.landscape(t, resolution=9)
    np.testing.assert_allclose(head["loss"], ls.loss, rtol=1e-12)
    np.testing.assert_allclose(head["a"], ls.a) and np.testing.assert_allclose(head["b"], ls.b)
    assert [p["step"] for p in points] == list(range(13))
    np.testing.assert_allclose([[p["a"], p["b"]] for p in points], ls.path)
    np.testing.assert_allclose([points[-1]["a"], points[-1]["b"]], t.network.params)


def test_text_marks_the_start_and_the_current_point(capsys):
    code, out, _ = run_cli(capsys, "lr-skip", "--steps", "5", "--grid", "11")
    assert code == 0
    t = L.app_trainer("lr-skip")
    t.step(5)
    ls = LS.landscape(t, resolution=11)
    rows = [l.split() for l in out.splitlines() if len(l.split()) == 11 and
            all(len(c) == 1 for c in l.split())]
    assert len(rows) == 11
    r, c = ls.cell_of(ls.path[-1])
    assert rows[10 - r][c] == "X"
    r0, c0 = ls.cell_of(ls.path[0])
    assert rows[10 - r0][c0] == "S"
    assert "path: 6 points" in out and "slice: params" in out


def test_random_and_pca_directions(capsys):
    code, out, _ = run_cli(capsys, "xor", "--steps", "20", "--grid", "5", "--directions",
                           "random", "--seed", "7", "--jsonl")
    assert code == 0
    head = json.loads(out.splitlines()[0])
    assert head["kind"] == "random" and head["seed"] == 7
    t = L.app_trainer("xor")
    t.step(20)
    np.testing.assert_allclose(head["directions"],
                               LS.random_directions(t.network, t.network.params, 7))
    code, out, _ = run_cli(capsys, "xor", "--steps", "20", "--grid", "5", "--directions", "pca")
    assert code == 0 and "slice: pca" in out


@pytest.mark.parametrize("args, words", [
    (["lr-skip", "--grid", "500"], "--grid must be"),
    (["lr-skip", "--steps", "-1"], "--steps must be"),
    (["lr-skip", "--seed", "-3"], "--seed must be"),
    (["xor", "--steps", "0", "--directions", "pca"], "at least 3 points"),
    (["no-such-preset"], "no-such-preset"),
    (["lr-skip", "--directions", "sideways"], "invalid choice"),
])
def test_refusals_are_one_line_and_exit_2(capsys, args, words):
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert words in err and len(err.strip().splitlines()) == 1
