"""``backprop-lab serve`` without a browser: its checks, where it listens and what it says,
the command it runs for each tab, the requests it refuses, and Ctrl+C."""

from __future__ import annotations

import asyncio
import shlex
import shutil
import signal
import subprocess
import sys
import time

import pytest

from backprop_lab.entry import main
from cli import serve as serve_cmd
from cli import web
from cli.serve import app_command, listen, start_lines
from engine.presets import bundled_dir

from .server import alive, start_serve


@pytest.fixture
def no_serving(monkeypatch):
    """Fail the test if anything binds or serves."""
    def refuse(*args, **kwargs):
        raise AssertionError("serve started listening")
    monkeypatch.setattr(serve_cmd, "listen", refuse)
    monkeypatch.setattr(web, "serve", refuse)


@pytest.mark.parametrize("argv,message", [
    (["serve", "nope"], "backprop-lab: no bundled preset named 'nope'"),
    (["serve", "missing.toml"], "backprop-lab: missing.toml: no such file"),
    (["serve", "xor", "--port", "abc"],
     "backprop-lab serve: --port: 'abc' is not a port; use a number from 0 to 65535"),
    (["serve", "xor", "--port", "65536"],
     "backprop-lab serve: --port: '65536' is not a port; use a number from 0 to 65535"),
    (["serve", "xor", "--port", "-1"],
     "backprop-lab serve: --port: '-1' is not a port; use a number from 0 to 65535"),
    (["serve", "xor", "--host", ""], "backprop-lab serve: --host: '' is not a host name or address"),
    (["serve", "xor", "--host", "a b"], "backprop-lab serve: --host: 'a b' is not a host name or address"),
    (["serve", "xor", "extra"], "unrecognized arguments: extra"),
])
def test_bad_input_is_one_line_and_exit_2_before_serving(capsys, no_serving, argv, message):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_a_broken_preset_file_is_refused_before_serving(capsys, no_serving, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "t"\nlesson = "l"\n[model]\noutput = "swish"\n', encoding="utf-8")
    code = main(["serve", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "model.output: 'swish' is not allowed" in err and str(bad) in err


def test_an_unknown_host_is_one_line(capsys, monkeypatch):
    monkeypatch.setattr(web, "serve", lambda *a, **k: pytest.fail("served"))
    code = main(["serve", "xor", "--host", "no-such-host.invalid", "--port", "0"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("backprop-lab serve: --host no-such-host.invalid: unknown host")


def test_a_busy_port_is_one_line(capsys, monkeypatch):
    monkeypatch.setattr(web, "serve", lambda *a, **k: pytest.fail("served"))
    taken = listen("127.0.0.1", 0)
    try:
        port = taken.sock.getsockname()[1]
        code = main(["serve", "xor", "--port", str(port)])
    finally:
        taken.sock.close()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"backprop-lab serve: cannot listen on 127.0.0.1:{port}: " in err


def test_default_host_is_this_machine_only_and_says_so(capsys, monkeypatch):
    served = {}

    def fake_serve(command, sock, *, local_only, announce):
        served.update(command=command, address=sock.getsockname(), local_only=local_only)
        announce()
        return 0

    monkeypatch.setattr(web, "serve", fake_serve)
    assert main(["serve", "xor", "--port", "0"]) == 0
    out, err = capsys.readouterr()
    host, port = served["address"][:2]
    assert host == "127.0.0.1" and served["local_only"] is True and err == ""
    lines = out.splitlines()
    assert lines[0] == f"backprop-lab: serving the app on xor at http://127.0.0.1:{port}"
    assert "only this machine can connect" in lines[1] and "warning" not in out
    assert shlex.split(served["command"]) == [sys.executable, "-m", "backprop_lab", "xor"]


def test_no_preset_serves_the_apps_default():
    assert shlex.split(app_command(None)) == [sys.executable, "-m", "backprop_lab"]


def test_another_host_prints_a_warning():
    listener = listen("0.0.0.0", 0)
    try:
        port = listener.sock.getsockname()[1]
        lines = start_lines(listener, "xor")
    finally:
        listener.sock.close()
    assert listener.local_only is False
    assert lines[0] == f"backprop-lab: serving the app on xor at http://0.0.0.0:{port}"
    assert "warning" in lines[1] and f"anyone who can reach port {port} can run the app" in lines[1]


def test_a_loopback_address_given_explicitly_needs_no_warning():
    listener = listen("localhost", 0)
    try:
        lines = start_lines(listener, None)
    finally:
        listener.sock.close()
    assert listener.local_only is True and not any("warning" in line for line in lines)
    assert "the default preset" in lines[0]


ODD_NAMES = ["my presets", "it's \"quoted\"", "$(touch pwned) `touch pwned2`; rm -rf x"]


@pytest.mark.parametrize("folder", ODD_NAMES)
def test_the_command_quotes_a_preset_path_for_the_shell(tmp_path, monkeypatch, folder):
    """textual-serve runs the command through /bin/sh: each word must arrive intact, and
    nothing in a file name may run."""
    where = tmp_path / folder
    where.mkdir()
    preset = where / "x o r.toml"
    shutil.copy(bundled_dir() / "xor.toml", preset)
    monkeypatch.chdir(tmp_path)
    command = app_command(f"{folder}/x o r.toml")  # relative: made absolute
    words = subprocess.run(["/bin/sh", "-c", "printf '%s\\n' " + command], capture_output=True,
                           text=True, check=True, cwd=tmp_path).stdout.splitlines()
    assert words == [sys.executable, "-m", "backprop_lab", str(preset)]
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_a_checkpoint_is_served_by_its_absolute_path(tmp_path, monkeypatch, capsys):
    assert main(["train", "xor", "--epochs", "1", "--save", str(tmp_path / "run.npz")]) == 0
    monkeypatch.chdir(tmp_path)
    served = {}
    monkeypatch.setattr(web, "serve", lambda command, sock, **k: served.update(c=command) or 0)
    assert main(["serve", "run.npz", "--port", "0"]) == 0
    assert shlex.split(served["c"])[-1] == str(tmp_path / "run.npz")


@pytest.mark.parametrize("host,origin,local_only,allowed", [
    ("127.0.0.1:8000", None, True, True),
    ("127.0.0.1:8000", "http://127.0.0.1:8000", True, True),
    ("localhost:8000", "http://localhost:8000", True, True),
    ("[::1]:8000", "http://[::1]:8000", True, True),
    ("127.0.0.2:8000", None, True, True),
    # a page elsewhere opening a WebSocket to us
    ("127.0.0.1:8000", "http://evil.example", True, False),
    ("127.0.0.1:8000", "null", True, False),
    # DNS rebinding: a name that points here now, but is not this machine's
    ("evil.example:8000", "http://evil.example:8000", True, False),
    ("evil.example:8000", None, True, False),
    (None, None, True, False),
    ("", None, False, False),
    ("a/b", None, False, False),
    ('127.0.0.1:80"><script>', None, True, False),  # it would be written into the page
    ("[::1]x", None, True, False),
    # on another address any name may reach us, but only our own page may drive an app
    ("lab.example:8000", "http://lab.example:8000", False, True),
    ("10.1.2.3:8000", None, False, True),
    ("lab.example:8000", "http://evil.example", False, False),
])
def test_requests_from_other_sites_are_refused(host, origin, local_only, allowed):
    refusal = web.request_refusal(host, origin, local_only=local_only)
    assert (refusal is None) is allowed


def test_the_server_refuses_a_foreign_page_and_runs_one_app_per_connection():
    """Over real HTTP: a WebSocket from another site gets 403 and starts no app; two
    WebSockets from our own page get two app processes, and Ctrl+C ends them and exits 0."""
    import aiohttp

    served = start_serve("xor")
    try:
        async def scenario():
            async with aiohttp.ClientSession() as session:
                async with session.get(served.url + "/") as page:
                    html = await page.text()
                assert page.status == 200
                port = served.url.rsplit(":", 1)[1]
                assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in html
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await session.ws_connect(served.url + "/ws",
                                             headers={"Origin": "http://evil.example"})
                assert refused.value.status == 403 and served.app_processes() == []
                own = {"Origin": served.url}
                first = await session.ws_connect(served.url + "/ws?width=100&height=30", headers=own)
                second = await session.ws_connect(served.url + "/ws?width=100&height=30", headers=own)
                for ws in (first, second):  # each draws its own first frame
                    await first_frame(ws)
                apps = served.app_processes()
                return apps
        apps = asyncio.run(scenario())
        assert len(apps) == 2
    finally:
        code, out, err = served.stop(signal.SIGINT)
    assert code == 0 and err == "" and len(out.splitlines()) == 2  # quietly: no traceback
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in apps) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in apps)


def test_ctrl_c_stops_an_idle_server_quietly():
    served = start_serve()
    code, out, err = served.stop(signal.SIGINT)
    assert code == 0 and err == "" and len(out.splitlines()) == 2  # the start lines only
    assert "the default preset" in served.lines[0]


def test_a_page_cannot_ask_for_a_huge_terminal():
    assert web.terminal_size(10**9, -5) == (web.MAX_CELLS, 1)
    assert web.terminal_size(120, 36) == (120, 36)


async def first_frame(ws, text: bytes = b"step 0") -> None:
    import aiohttp

    got = b""
    while text not in got:
        msg = await asyncio.wait_for(ws.receive(), timeout=30)
        assert msg.type == aiohttp.WSMsgType.BINARY, msg
        got += msg.data


def test_an_app_that_cannot_start_ends_its_page_and_says_why(tmp_path):
    """The preset is gone by the time a tab opens: the app refuses it in one line, and the
    page's connection closes (the page says the session ended) instead of waiting."""
    import aiohttp

    preset = tmp_path / "soon-gone.toml"
    shutil.copy(bundled_dir() / "xor.toml", preset)
    served = start_serve(str(preset))
    preset.unlink()
    try:
        async def scenario():
            async with aiohttp.ClientSession() as session:
                ws = await session.ws_connect(served.url + "/ws", headers={"Origin": served.url})
                msg = await asyncio.wait_for(ws.receive(), timeout=30)
                return msg.type
        assert asyncio.run(scenario()) in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    finally:
        code, out, err = served.stop(signal.SIGINT)
    assert code == 0 and f"backprop-lab: {preset}: no such file" in out


def test_a_garbled_message_closes_only_its_own_connection():
    import aiohttp

    served = start_serve("xor")
    try:
        async def scenario():
            own = {"Origin": served.url}
            async with aiohttp.ClientSession() as session:
                bad = await session.ws_connect(served.url + "/ws?width=10000000&height=40",
                                               headers=own)
                await first_frame(bad)  # a bounded terminal: the app still draws
                await bad.send_str('["resize", {"width": "wide", "height": 3}]')
                msg = await asyncio.wait_for(bad.receive(), timeout=30)
                while msg.type == aiohttp.WSMsgType.BINARY:  # frames already on their way
                    msg = await asyncio.wait_for(bad.receive(), timeout=30)
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                good = await session.ws_connect(served.url + "/ws", headers=own)
                await first_frame(good)  # the server goes on serving
        asyncio.run(scenario())
    finally:
        code, out, err = served.stop(signal.SIGINT)
    assert code == 0 and err == "" and "Traceback" not in out
    assert "a connection was closed: ValueError" in out
