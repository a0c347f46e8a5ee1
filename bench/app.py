"""The app's part of ``backprop-lab bench``: what the app costs training.

The engine part runs in a fresh interpreter with one BLAS thread (``bench.engine``). The
app part measures, on the xor preset at 80x24:

- steps/s with the app open (headless Textual via ``App.run_test``, drawing at its normal
  frame rate) divided by steps/s of a trainer with the same settings run in a plain thread
  while the app is paused, in alternating segments so both see the same machine load;
- key press to screen update while training: from posting a key until the first screen
  refresh after its action ran, p50/p95;
- frames a second while training at the preset's own pace (the default view);
- bytes written to the terminal per second while training at that pace, and the time to
  the first frame, both from the real ``backprop-lab`` command under a pseudo-terminal.

The steps/s ratio is taken at full speed (pace "max"): a paced run waits on purpose.

Any app measurement that fails prints one line and the rest still runs.

Its length is three measurements of the app (overhead, key latency, terminal output) and
the command that prints them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace

from bench import engine as engine_bench
from engine.values import plain

SIZE = (80, 24)
TARGETS = {"app_ratio": 0.9, "latency_p95_ms": 50.0, "bytes_per_s": 20_000.0,
           "paced_frames_per_s": 15.0}
MARKER = "Boundary"  # a pane title on the main screen: the first frame has arrived
_CSI = re.compile(r"\x1b\[[0-9;?<>=!$ ]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def _opened(preset: str = "xor", epochs: int = 10_000_000):
    """The preset, with a stop far enough away that training runs through the measurement."""
    from engine.opening import open_run

    opened = open_run(preset)
    config = opened.preset.config.with_value("training.epochs", epochs)
    return replace(opened, preset=replace(opened.preset, config=config))


# ----- steps/s without and with the app ------------------------------------------------------
def headless_speed(trainer, seconds: float) -> float:
    """Steps/s of ``trainer.run`` in a thread, as the app runs it, with nobody drawing."""
    done = threading.Event()

    def train():
        trainer.run()
        done.set()

    thread = threading.Thread(target=train, daemon=True)
    start_step = trainer.step_count
    t0 = time.perf_counter()
    thread.start()
    time.sleep(seconds)
    steps = trainer.step_count - start_step
    elapsed = time.perf_counter() - t0
    trainer.pause()
    done.wait(10)
    return steps / elapsed


async def _until_training(app, what: str) -> None:
    """Wait (up to 5 s) for the app's training worker to run after ``what`` started it."""
    t_end = time.perf_counter() + 5
    while not app.training and time.perf_counter() < t_end:
        await asyncio.sleep(0.01)
    if not app.training:
        raise RuntimeError(f"{what} did not start training")


async def _app_speed(app, seconds: float) -> tuple[float, float]:
    """Steps/s and frames/s of the app's own run over ``seconds`` (started, warmed up,
    then paused)."""
    app.start_training()
    await _until_training(app, "the app")
    await asyncio.sleep(0.1)  # the first frames after a start draw everything at once
    s0, f0, t0 = app.trainer.step_count, app.frames, time.perf_counter()
    await asyncio.sleep(seconds)
    steps, frames = app.trainer.step_count - s0, app.frames - f0
    elapsed = time.perf_counter() - t0
    await app.stop_training()
    return steps / elapsed, frames / elapsed


async def _baseline_speed(trainer, seconds: float) -> float:
    """Steps/s of ``trainer`` in a plain thread while the app is paused and draws nothing."""
    return await asyncio.to_thread(headless_speed, trainer, seconds)


async def _app_measure(seconds: float, presses: int, rounds: int = 5) -> dict:
    """App-open and headless steps/s in alternating segments of ``seconds / rounds``
    each (app, headless, headless, app, ...), so that both see the same machine load;
    the ratio is the median of the per-round ratios."""
    from tui.app import BackpropLab

    app = BackpropLab(_opened(), plain=False)
    preset_pace = app.trainer.pace
    # a second trainer with the app's settings: the headless reference; both at full speed
    baseline = app._make_trainer(app.opened)
    app.trainer.pace = baseline.pace = None
    out: dict = {"fps": app.fps, "size": list(SIZE), "rounds": rounds}
    segment = seconds / rounds
    app_speeds: list[float] = []
    headless_speeds: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.config_pane.populate()  # built once, soon after the start, when idle
        await _baseline_speed(baseline, 0.2)  # warm both up
        await _app_speed(app, 0.2)
        frame_rates: list[float] = []
        for r in range(rounds):
            order = ("app", "headless") if r % 2 == 0 else ("headless", "app")
            for kind in order:
                if kind == "app":
                    steps_per_s, frames_per_s = await _app_speed(app, segment)
                    app_speeds.append(steps_per_s)
                    frame_rates.append(frames_per_s)
                else:
                    headless_speeds.append(await _baseline_speed(baseline, segment))
        out["frames_per_s"] = statistics.median(frame_rates)
        out["steps_per_s"] = statistics.median(app_speeds)
        out["headless_steps_per_s"] = statistics.median(headless_speeds)
        out["round_ratios"] = [a / h for a, h in zip(app_speeds, headless_speeds)]
        out["ratio"] = statistics.median(out["round_ratios"])
        app.trainer.pace = preset_pace  # the default view: the preset's own pace
        _, out["paced_frames_per_s"] = await _app_speed(app, min(3.0, seconds / 2))
        out["pace"] = preset_pace
        app.trainer.pace = None
        await pilot.press("space")
        await _until_training(app, "space")
        await asyncio.sleep(0.3)
        out["latency_ms"] = await _key_latencies(app, pilot, presses)
        out["still_training"] = app.training
        await app.stop_training()
    return out


def _latency_key(app):
    """A key whose action only changes the view: (key, object owning the action, action name)."""
    for owner in (getattr(app, "main", None), app):
        if owner is None:
            continue
        for key in ("l", "x", "d", "c"):
            for binding in owner._bindings.key_to_bindings.get(key, []):
                name = binding.action
                if hasattr(owner, f"action_{name}"):
                    return key, owner, name
    raise RuntimeError("no view key (l/x/d/c) bound on the main screen")


async def _key_latencies(app, pilot, presses: int) -> list[float]:
    """Milliseconds from posting a key to the first screen refresh after its action ran."""
    key, owner, name = _latency_key(app)
    original = getattr(owner, f"action_{name}")
    handled: list[float] = []

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        handled.append(time.perf_counter())
        return result

    setattr(owner, f"action_{name}", wrapped)
    refreshed = asyncio.Event()
    times: list[float] = []
    try:
        for _ in range(presses):
            before = len(handled)
            t0 = time.perf_counter()
            app._driver.send_message(_key_event(key))  # as the terminal's input does
            deadline = t0 + 2.0
            while len(handled) == before and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            if len(handled) == before:
                raise RuntimeError(f"key {key!r} was not handled within 2 s")
            refreshed.clear()
            app.screen.call_after_refresh(refreshed.set)
            await asyncio.wait_for(refreshed.wait(), 2.0)
            times.append((time.perf_counter() - t0) * 1e3)
            await asyncio.sleep(0.05)
    finally:
        setattr(owner, f"action_{name}", original)
    return times


def _key_event(key: str):
    from textual import events

    return events.Key(key, key if len(key) == 1 else None)


def app_overhead(seconds: float = 6.0, presses: int = 30, rounds: int = 12) -> dict:
    """Steps/s with the app open ÷ headless (``seconds`` of each in all), and key latency."""
    return asyncio.run(_app_measure(seconds, presses, rounds))


# ----- the real command under a pseudo-terminal ---------------------------------------------
def terminal_output(seconds: float = 4.0, size=SIZE, first_frame_timeout: float = 30.0) -> dict:
    """Run ``backprop-lab`` on a pty at ``size``: time to first frame, then bytes/s while
    training (space starts it), then quit with q."""
    import fcntl
    import struct
    import termios

    from engine.presets import save_preset

    cols, rows = size
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench-xor.toml")
        save_preset(_opened().preset, path)
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # finds tui/
        path_env = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows),
                   PYTHONPATH=path_env)
        env.pop("NO_COLOR", None)
        t_start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "backprop_lab", path], stdin=slave,
                                stdout=slave, stderr=slave, env=env, cwd=tmp,
                                start_new_session=True, close_fds=True)
        os.close(slave)
        received = bytearray()
        log: list[tuple[float, int]] = []

        def pump(until: float, stop=None) -> bool:
            while time.perf_counter() < until:
                ready, _, _ = select.select([master], [], [], 0.02)
                if ready:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        return False
                    if not data:
                        return False
                    log.append((time.perf_counter(), len(data)))
                    received.extend(data)
                    if stop is not None and stop():
                        return True
                elif proc.poll() is not None:
                    return False
            return True

        try:
            seen = {"n": 0}

            def first_frame() -> bool:
                text = _CSI.sub("", received[seen["n"]:].decode("utf-8", "replace"))
                return MARKER in text

            pump(t_start + first_frame_timeout, first_frame)
            if not first_frame():
                tail = _CSI.sub("", received[-300:].decode("utf-8", "replace")).strip()
                raise RuntimeError(f"no first frame within {first_frame_timeout:.0f} s"
                                   + (f": {tail[-120:]}" if tail else ""))
            first = log[-1][0] - t_start
            pump(time.perf_counter() + 0.5)
            os.write(master, b" ")  # play
            pump(time.perf_counter() + 1.0)  # let it settle into training
            n0 = sum(n for _, n in log)
            t0 = time.perf_counter()
            pump(t0 + seconds)
            t1 = time.perf_counter()
            sent = sum(n for _, n in log) - n0
            os.write(master, b"q")
            pump(time.perf_counter() + 5.0)
        finally:
            if proc.poll() is None:
                try:
                    proc.wait(3)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(3)
                    except subprocess.TimeoutExpired:
                        os.kill(proc.pid, signal.SIGKILL)
                        proc.wait()
            os.close(master)
    return {"first_frame_s": first, "bytes_per_s": sent / (t1 - t0), "seconds": t1 - t0,
            "exit_code": proc.returncode, "size": list(size)}


# ----- command ---------------------------------------------------------------------------------
def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def app_lines(result: dict) -> list[str]:
    lines = [f"app overhead (xor preset, {SIZE[0]}x{SIZE[1]}):"]
    ov = result.get("overhead")
    if isinstance(ov, dict) and "error" not in ov:
        rounds = f", median of {ov['rounds']} alternating rounds" if ov.get("rounds") else ""
        lines.append(
            f"  steps/s: headless {ov['headless_steps_per_s']:,.0f}, app open "
            f"{ov['steps_per_s']:,.0f} ({ov['frames_per_s']:.1f} frames/s): ratio "
            f"{ov['ratio']:.2f}{rounds} (target >= {TARGETS['app_ratio']}) "
            f"{_verdict(ov['ratio_ok'])}")
        if "paced_frames_per_s" in ov:
            lines.append(
                f"  frames at the preset's pace ({ov['pace']:g} ep/s): "
                f"{ov['paced_frames_per_s']:.1f} frames/s (target >= "
                f"{TARGETS['paced_frames_per_s']:.0f}) {_verdict(ov['paced_ok'])}")
        lines.append(
            f"  key press -> screen update while training: p50 {ov['latency_p50_ms']:.1f} ms, "
            f"p95 {ov['latency_p95_ms']:.1f} ms over {len(ov['latency_ms'])} presses "
            f"(target p95 < {TARGETS['latency_p95_ms']:.0f} ms) {_verdict(ov['latency_ok'])}")
    elif ov is not None:
        lines.append(f"  app measurement failed: {ov['error']}")
    term = result.get("terminal")
    if isinstance(term, dict) and "error" not in term:
        lines.append(
            f"  terminal output while training at the preset's pace: "
            f"{term['bytes_per_s'] / 1000:.1f} KB/s "
            f"(target < {TARGETS['bytes_per_s'] / 1000:.0f} KB/s) {_verdict(term['bytes_ok'])}")
        lines.append(f"  time to first frame: {term['first_frame_s']:.2f} s "
                     "(process start to the main screen on a pty)")
    elif term is not None:
        lines.append(f"  terminal measurement failed: {term['error']}")
    return lines


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def measure_app(quick: bool) -> dict:
    out: dict = {}
    seconds, rounds = (1.6, 4) if quick else (8.0, 16)
    try:
        ov = app_overhead(seconds, presses=10 if quick else 30, rounds=rounds)
        lat = ov["latency_ms"]
        ov["latency_p50_ms"] = _percentile(lat, 0.5)
        ov["latency_p95_ms"] = _percentile(lat, 0.95)
        ov["ratio_ok"] = ov["ratio"] >= TARGETS["app_ratio"]
        ov["latency_ok"] = ov["latency_p95_ms"] < TARGETS["latency_p95_ms"]
        ov["paced_ok"] = ov.get("paced_frames_per_s", 0.0) >= TARGETS["paced_frames_per_s"]
        out["overhead"] = ov
    except Exception as exc:  # noqa: BLE001 - one line, and the rest still runs
        out["overhead"] = {"error": _one_line(exc)}
    try:
        term = terminal_output(2.0 if quick else 4.0)
        term["bytes_ok"] = term["bytes_per_s"] < TARGETS["bytes_per_s"]
        out["terminal"] = term
    except Exception as exc:  # noqa: BLE001
        out["terminal"] = {"error": _one_line(exc)}
    return out


def build_parser() -> argparse.ArgumentParser:
    from cli.usage import Parser  # a bad command line is one line on stderr, status 2

    p = Parser(
        prog="backprop-lab bench",
        description="Time the engine against PyTorch (when installed) and the app's overhead.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--iterations", type=int, default=15, metavar="N",
                   help="interleaved timing rounds per workload (default 15)")
    p.add_argument("--quick", action="store_true", help="shorter blocks and app runs")
    p.add_argument("--no-app", action="store_true", help="skip the app measurements")
    p.add_argument("--no-torch", action="store_true", help="time the engine alone")
    p.add_argument("--verify", action="store_true",
                   help="only check float64 gradients and optimizer steps against PyTorch")
    p.add_argument("--long", type=int, nargs="?", const=1_000_000, default=None, metavar="STEPS",
                   help="also train STEPS tiny steps (default 1,000,000) and report memory growth")
    return p


def main(argv: list[str] | None = None) -> int:
    from cli.usage import UsageError, fail

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return fail(str(exc))
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if args.iterations < 1:
        return fail("bench: --iterations must be >= 1")
    if args.verify:
        if engine_bench.torch_available() is None:
            return fail("bench --verify needs PyTorch: pip install 'backprop-lab[bench]'")
        return engine_bench.main(["--verify"] + (["--json"] if args.json else []))
    result: dict = {}
    try:
        result["engine"] = engine_bench.run_pinned(args.iterations, args.quick,
                                                   not args.no_torch)
    except Exception as exc:  # noqa: BLE001
        result["engine"] = {"error": _one_line(exc)}
    if not args.json:
        _print_engine(result["engine"])
    if not args.no_app:
        result["app"] = measure_app(args.quick)
        if not args.json:
            print("\n".join(app_lines(result["app"])), flush=True)
    if args.long:
        try:
            result["memory"] = engine_bench.memory_pinned(args.long)
        except Exception as exc:  # noqa: BLE001
            result["memory"] = {"error": _one_line(exc)}
        if not args.json:
            print(engine_bench.memory_line(result["memory"]))
    if args.json:
        print(json.dumps(plain(result)))
    return 0


def _print_engine(engine: dict) -> None:
    if "error" in engine:
        print(f"engine benchmark failed: {engine['error']}", flush=True)
    else:
        print("\n".join(engine_bench.format_table(engine)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
