"""``backprop-lab train ... | head`` ends quietly when the reader goes away."""

from __future__ import annotations

import subprocess
import sys


def test_a_closed_pipe_ends_train_quietly(tmp_path):
    script = (f"{sys.executable} -m backprop_lab train xor --epochs 2000 --jsonl | head -n 1")
    out = subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert out.stdout.count("\n") == 1 and out.stdout.startswith('{"epoch": 1')
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr
    assert out.returncode == 0
