"""Shared by the export tests: export a run, run its script, read `train --jsonl`."""

from __future__ import annotations

import contextlib
import io
import json
import runpy
import sys

from backprop_lab.entry import main

#: every run here is float64, where the script and the engine agree to rounding
FLOAT64 = ("--set", "model.dtype=float64")


def cli(capsys, *argv) -> tuple[int, str, str]:
    """``backprop-lab ARGV`` in this process: exit status, stdout, stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def export(capsys, tmp_path, run: str, *argv, name: str = "train.py") -> str:
    """``export-torch RUN -o tmp_path/NAME ARGV``; the script's path."""
    path = str(tmp_path / name)
    code, _, err = cli(capsys, "export-torch", run, "-o", path, *argv)
    assert code == 0, err
    return path


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def engine_epochs(capsys, run: str, epochs: int, *argv) -> list[dict]:
    """``train RUN --epochs N --jsonl ARGV``: the engine's epoch records."""
    code, out, err = cli(capsys, "train", run, "--epochs", str(epochs), "--jsonl", *argv)
    assert code == 0, err
    return jsonl(out)


def script_epochs(monkeypatch, path: str, *argv) -> list[dict]:
    """The exported script run in this process (torch imported once for all the tests),
    as one process: its epoch records."""
    for var in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "argv", [path, *argv])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(path, run_name="__main__")
        except SystemExit as exc:
            assert exc.code in (0, None), f"the script exited with {exc.code}"
    return jsonl(out.getvalue())


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def close(a, b, tol: float) -> bool:
    """Equal within ``tol`` relative (None only as None; zero only near zero)."""
    if a is None or b is None:
        return a is b
    return abs(a - b) <= tol * abs(b) or abs(a - b) <= 1e-300


def assert_same_epochs(got: list[dict], want: list[dict], tol: float = 1e-9) -> None:
    """Epoch by epoch: the fields of ``train --jsonl`` (and lr), the same counters,
    accuracies, confusion matrices, unit shares and flags, losses and layer norms within
    ``tol`` relative."""
    assert [g["epoch"] for g in got] == [w["epoch"] for w in want]
    assert [g["step"] for g in got] == [w["step"] for w in want]
    for g, w in zip(got, want):
        assert set(g) == set(w) | {"lr"}
        for key in ("train_loss", "test_loss"):
            assert close(g[key], w[key], tol), (key, g[key], w[key])
        for key in ("grad_norms", "update_ratios"):
            assert len(g[key]) == len(w[key])
            assert all(close(a, b, tol) for a, b in zip(g[key], w[key])), (key, g[key], w[key])
        for key in ("train_acc", "test_acc", "confusion_train", "confusion_test", "stats_step",
                    "dead_fraction", "saturated_fraction", "flags", "diverged"):
            assert g[key] == w[key], (key, g[key], w[key])
