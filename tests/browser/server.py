"""Start ``backprop-lab serve`` as a user would (a subprocess on a free port) and watch
the app processes it runs for its browser connections."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

#: how long the server may take to say where it listens
START_WAIT = 30.0


@dataclass
class ServeProcess:
    """A running ``backprop-lab serve``; what it prints is collected as it comes."""

    process: subprocess.Popen
    url: str
    lines: list[str]  # stdout, line by line
    errors: list[str]  # stderr
    readers: list[threading.Thread] = field(default_factory=list)

    def app_processes(self) -> list[int]:
        """Pids of the app processes (``python -m backprop_lab``) under the server."""
        return [pid for pid in descendants(self.process.pid)
                if b"\0-m\0backprop_lab" in cmdline(pid) and alive(pid)]

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> tuple[int, str, str]:
        """Send ``sig`` (Ctrl+C by default); the exit status, and all it printed on
        stdout and stderr."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"serve did not stop within {timeout:g} s of signal {sig}")
        for reader in self.readers:
            reader.join(timeout)
        return self.process.returncode, "\n".join(self.lines), "\n".join(self.errors)


def _collect(stream, into: list[str]) -> None:
    for line in stream:
        into.append(line.rstrip("\n"))


def start_serve(*args: str, env: dict | None = None) -> ServeProcess:
    """``backprop-lab serve ARGS --port 0``, once it has printed its URL."""
    cmd = [sys.executable, "-m", "backprop_lab", "serve", *args, "--port", "0"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)  # a Ctrl+C of ours reaches only the server
    lines: list[str] = []
    errors: list[str] = []
    readers = [threading.Thread(target=_collect, args=(stream, into), daemon=True)
               for stream, into in ((proc.stdout, lines), (proc.stderr, errors))]
    for reader in readers:
        reader.start()
    end = time.monotonic() + START_WAIT
    while time.monotonic() < end and proc.poll() is None:
        if len(lines) >= 2 and (found := re.search(r"http://\S+", lines[0])):
            return ServeProcess(proc, found.group(0), lines, errors, readers)
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise AssertionError(f"serve did not start: {lines} {errors}")


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            # the command name is in parentheses and may hold spaces: fields after it
            ppid = int(stat.rsplit(b")", 1)[1].split()[1])
            if ppid == pid:
                out.append(int(entry))
    return out


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False
