"""SIGINT, SIGTERM and SIGHUP end the app cleanly: training stops, the terminal is given
back (alternate screen off, mouse off, cursor on) and the exit code says which signal.

The real command runs on a pseudo-terminal, as a user's terminal would run it."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_until(master: int, buf: bytearray, done, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                return done()
            if not data:
                return done()
            buf.extend(data)
            if done():
                return True
    return done()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_training_ends_the_app_and_restores_the_terminal(sig, tmp_path):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", PYTHONPATH=ROOT)
    proc = subprocess.Popen([sys.executable, "-m", "backprop_lab", "xor"], stdin=slave,
                            stdout=slave, stderr=slave, env=env, cwd=tmp_path,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    out = bytearray()
    try:
        assert read_until(master, out, lambda: b"Boundary" in out, 30), "no first frame"
        os.write(master, b" ")  # train
        read_until(master, out, lambda: b"training" in out, 5)
        assert b"\x1b[?1049h" in out  # the app is in the alternate screen
        mark = len(out)
        start = time.monotonic()
        proc.send_signal(sig)
        read_until(master, out, lambda: proc.poll() is not None, 5)
        code = proc.wait(5)
        took = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    after = bytes(out[mark:])
    assert code == 128 + sig and took < 3.0
    assert b"\x1b[?1049l" in after  # alternate screen off
    assert b"\x1b[?25h" in after  # cursor shown
    assert b"\x1b[?1000l" in after or b"\x1b[?1003l" in after  # mouse reporting off
    assert b"Traceback" not in out
