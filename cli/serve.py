"""``backprop-lab serve``: the app in a browser, one app process per browser tab.

Everything here is checked before anything listens: the preset (as the app would open
it), the host and the port. The server itself is ``cli.web`` (textual-serve), imported
only when serving.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import socket
import sys
from dataclasses import dataclass

from engine.errors import cut
from engine.opening import open_run
from engine.presets import bundled_names
from engine.resources import check_resources

from .usage import UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: the longest host name DNS allows
MAX_HOST = 253


@dataclass(frozen=True)
class Listener:
    """A bound, listening socket and what to tell the person who started it."""

    sock: socket.socket
    url: str
    local_only: bool


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="serve the app in a web browser (each tab its own run)",
                       description="Serve the app in a web browser: every tab that opens "
                                   "the page gets its own app and its own run.")
    p.add_argument("preset", nargs="?", default=None, metavar="PRESET_OR_FILE",
                   help="a bundled preset, a preset .toml or a checkpoint .npz "
                        "(default: the app's default preset)")
    p.add_argument("--host", default=DEFAULT_HOST, type=parse_host,
                   help=f"address to listen on (default {DEFAULT_HOST}: this machine only)")
    p.add_argument("--port", default=DEFAULT_PORT, type=parse_port,
                   help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    p.set_defaults(func=cmd_serve)


def parse_host(text: str) -> str:
    """A host name or address to listen on: not empty, no spaces, at most 253 characters."""
    host = text.strip()
    if host.startswith("[") and host.endswith("]"):  # [::1], as in a URL
        host = host[1:-1]
    if not host or len(host) > MAX_HOST or any(c.isspace() or not c.isprintable() for c in host):
        raise UsageError(f"backprop-lab serve: --host: '{cut(text)}' is not a host name or "
                         f"address")
    return host


def parse_port(text: str) -> int:
    """A TCP port, 0 to 65535 (0: the system picks a free one)."""
    try:
        port = int(text.strip(), 10)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise UsageError(f"backprop-lab serve: --port: '{cut(text)}' is not a port; use a "
                         f"number from 0 to 65535")
    return port


def app_command(ref: str | None, python: str | None = None) -> str:
    """The shell command textual-serve runs for each browser connection: this same
    installation's app (``python -m backprop_lab``) on ``ref``, quoted for the shell.
    A bundled preset is passed by name, a file by its absolute path."""
    argv = [python or sys.executable, "-m", "backprop_lab"]
    if ref is not None:
        argv.append(ref if ref in bundled_names() else os.path.abspath(ref))
    return shlex.join(argv)


def check_run(ref: str | None) -> None:
    """Refuse, as the app would, a preset or checkpoint that cannot be opened or would not
    fit in memory; raises EngineError (one line)."""
    opened = open_run(ref)
    check_resources(opened.preset.config, source=opened.source or opened.preset.name)


def is_loopback(address: str) -> bool:
    """Whether a bound address reaches this machine only."""
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> Listener:
    """Bind and listen on ``host``:``port``; UsageError (one line) if that cannot be done."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"backprop-lab serve: --host {cut(host)}: unknown host "
                         f"({cut(exc, 80)})") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"backprop-lab serve: cannot listen on {cut(where, 80)}: "
                         f"{cut(exc.strerror or exc, 80)}") from None
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return Listener(sock, f"http://{shown}:{bound_port}", is_loopback(sock.getsockname()[0]))


def start_lines(listener: Listener, ref: str | None) -> list[str]:
    """What serve prints as it starts: the URL, and who can reach it."""
    what = cut(ref, 80) if ref else "the default preset"
    lines = [f"backprop-lab: serving the app on {what} at {listener.url}"]
    if listener.local_only:
        lines.append("backprop-lab: only this machine can connect (another address needs "
                     "--host); each browser tab gets its own run; Ctrl+C stops")
    else:
        lines.append(f"backprop-lab: warning: listening beyond this machine: anyone who can "
                     f"reach port {listener.url.rsplit(':', 1)[1]} can run the app, and with "
                     f"it open and save files as you")
    return lines


def cmd_serve(args) -> int:
    check_run(args.preset)
    listener = listen(args.host, args.port)
    from .web import serve  # aiohttp and textual-serve load only when serving

    def announce() -> None:
        for line in start_lines(listener, args.preset):
            print(line, flush=True)

    return serve(app_command(args.preset), listener.sock, local_only=listener.local_only,
                 announce=announce)
