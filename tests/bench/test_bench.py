"""Smoke tests of ``backprop-lab bench``: the output format, never the timings."""

from __future__ import annotations

import json

from bench import engine as engine_bench
from bench.app import app_lines, main


def test_json_output_has_every_workload(capsys):
    assert main(["--json", "--iterations", "1", "--quick", "--no-app", "--no-torch"]) == 0
    result = json.loads(capsys.readouterr().out)
    engine = result["engine"]
    assert "error" not in engine, engine
    names = [row["name"] for row in engine["rows"]]
    assert names == ["tiny", "small", "large"]
    for row in engine["rows"]:
        assert row["engine_s"] > 0 and row["engine_steps_per_s"] > 0
        assert row["torch_s"] is None and row["ratio"] is None  # torch skipped
    large = engine["rows"][-1]
    assert large["peak_gflops"] > 0 and 0 < large["gflop_share"]
    assert large["adam_floor_s"] > 0 and large["stream_gb_s"] > 0 and 0 < large["ceiling_share"]
    assert engine["pinned"] is True  # the worker ran with one BLAS thread
    assert engine["threads"]["OPENBLAS_NUM_THREADS"] == "1"
    assert "app" not in result


def test_table_output(capsys):
    assert main(["--iterations", "1", "--quick", "--no-app", "--no-torch"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["workload", "layers", "batch"]
    for name in ("tiny", "small", "large"):
        assert any(line.startswith(name) for line in out.splitlines())
    assert "GFLOP/s" in out and "PyTorch skipped" in out
    assert any(line.startswith("large step ceiling:") and "GB/s" in line
               for line in out.splitlines())


def test_format_table_with_torch_columns():
    row = {"name": "tiny", "label": "2-8-8-1 tanh", "batch": 32, "loss": "bce",
           "engine_s": 30e-6, "engine_steps_per_s": 33_333.0, "torch_s": 400e-6, "ratio": 0.075,
           "target": 0.15, "ok": True, "gflop_share": None}
    result = {"rows": [row], "dtype": "float32", "iterations": 3, "threads": {},
              "numpy": "2", "torch": "2.13.0", "machine": {"nproc": 2, "cpu": "x"},
              "gflop_target": 0.8}
    lines = engine_bench.format_table(result)
    assert "0.07" in lines[1] or "0.08" in lines[1]
    assert lines[1].rstrip().endswith("ok") and "400.0 us" in lines[1]


def test_app_lines_report_failures_in_one_line():
    lines = app_lines({"overhead": {"error": "RuntimeError: boom"},
                       "terminal": {"error": "OSError: no pty"}})
    assert lines[1] == "  app measurement failed: RuntimeError: boom"
    assert lines[2] == "  terminal measurement failed: OSError: no pty"


def test_app_lines_format_a_success():
    overhead = {"headless_steps_per_s": 30_000.0, "steps_per_s": 28_000.0, "frames_per_s": 15.0,
                "ratio": 0.93, "ratio_ok": True, "rounds": 12, "latency_ms": [10.0, 20.0],
                "latency_p50_ms": 15.0, "latency_p95_ms": 19.5, "latency_ok": True}
    terminal = {"bytes_per_s": 9_500.0, "bytes_ok": True, "first_frame_s": 0.8}
    lines = app_lines({"overhead": overhead, "terminal": terminal})
    assert "ratio 0.93" in lines[1] and lines[1].endswith("ok")
    assert "median of 12 alternating rounds" in lines[1]
    assert "p95 19.5 ms" in lines[2] and lines[2].endswith("ok")
    assert "9.5 KB/s" in lines[3] and lines[3].endswith("ok")
    assert "0.80 s" in lines[4]


def test_bad_iterations_is_a_usage_error(capsys):
    assert main(["--iterations", "0"]) == 2
    assert "iterations" in capsys.readouterr().err


def test_unknown_flag_is_one_line(capsys):
    assert main(["--bogus"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--bogus" in err
