"""The web server behind ``backprop-lab serve``: textual-serve, which runs the app's command
once per browser connection (its own process, so its own run), with these changes:

- it serves on a socket that is already bound (``cli.serve.listen``), so a bad address
  or a busy port is refused before anything is printed as served;
- it answers only requests that come from its own page: a WebSocket can be opened from any
  site the browser visits, and on this machine only names of this machine are accepted,
  so a page elsewhere cannot drive the app (cross-site WebSocket hijacking, DNS rebinding);
- on Ctrl+C (SIGINT) or SIGTERM it ends each connection's app and exits, quietly; an
  app that ends in any way closes its page's connection, and the terminal size a page
  asks for is bounded.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import socket
from collections.abc import Callable

from aiohttp import web
from aiohttp.web_runner import GracefulExit
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from engine.errors import cut

log = logging.getLogger("textual-serve")

#: how long the apps get to quit when the server stops, in seconds
QUIT_WAIT = 5.0
LOCAL_NAMES = ("localhost",)
#: a Host header: a name or IPv4 address, or an IPv6 one in brackets, and maybe a port
HOST_HEADER = re.compile(r"(?:[A-Za-z0-9_.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
#: the most columns or rows a page may ask the app's terminal for
MAX_CELLS = 1000


def host_name(host_header: str) -> str:
    """The name or address in a Host header, without its port: ``[::1]:80`` -> ``::1``."""
    if host_header.startswith("["):
        return host_header[1:].partition("]")[0]
    if host_header.count(":") == 1:
        return host_header.partition(":")[0]
    return host_header


def names_this_machine(name: str) -> bool:
    """Whether a host name is one that only ever means this machine."""
    import ipaddress

    name = name.lower().rstrip(".")
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def request_refusal(host_header: str | None, origin: str | None, *, local_only: bool) -> str | None:
    """Why a request is refused, or None. A request names the server it was sent to (Host);
    on a loopback address that must be a name of this machine. A browser request made by a
    page (Origin) must come from a page of this same server."""
    host = (host_header or "").strip()
    if not HOST_HEADER.fullmatch(host):  # it is written into the page: nothing else
        return "a request without a usable Host header"
    if local_only and not names_this_machine(host_name(host)):
        return "this server answers only requests addressed to this machine"
    if origin is not None and origin.lower() not in (f"http://{host}".lower(),
                                                      f"https://{host}".lower()):
        return "a request from another site's page"
    return None


def terminal_size(width: int, height: int) -> tuple[int, int]:
    """A terminal size a page may ask for, within 1..MAX_CELLS cells each way."""
    return min(max(width, 1), MAX_CELLS), min(max(height, 1), MAX_CELLS)


class TabApp(AppService):
    """The app process of one browser tab."""

    async def start(self, width: int, height: int) -> None:
        await super().start(*terminal_size(width, height))

    async def set_terminal_size(self, width: int, height: int) -> None:
        await super().set_terminal_size(*terminal_size(int(width), int(height)))

    async def run(self) -> None:
        """Relay the app's output; once it has ended (quit, refused its preset or
        failed), close the page's connection, so the page says the session ended."""
        await super().run()
        await self.remote_close()


class AppServer(Server):
    """textual-serve's server on a bound socket, guarded, and stopping its apps on exit."""

    def __init__(self, command: str, sock: socket.socket, *, local_only: bool):
        host, port = sock.getsockname()[:2]
        super().__init__(command, host=host, port=port, title="backprop-lab")
        self.sock = sock
        self.local_only = local_only
        self.connections: set[asyncio.Task] = set()

    def initialize_logging(self) -> None:
        """textual-serve's log, errors only: no banner, no line per request."""
        super().initialize_logging()
        log.setLevel(logging.WARNING)

    async def on_startup(self, app: web.Application) -> None:
        """Nothing to print: ``backprop-lab serve`` has said where it listens."""

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard)
        return app

    @web.middleware
    async def guard(self, request: web.Request, handler):
        refusal = request_refusal(request.headers.get("Host"), request.headers.get("Origin"),
                                  local_only=self.local_only)
        if refusal:
            raise web.HTTPForbidden(text=f"backprop-lab: {refusal}\n")
        return await handler(request)

    async def handle_index(self, request: web.Request):
        # the page's WebSocket and static URLs use the name the browser used to reach us
        # (checked by the guard), not the bound address, which may be 0.0.0.0
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser connection: its own app process, until either side ends.

        As textual-serve's, but the page is told when the app ends in any way (not only
        when it quits normally), and the terminal size a page asks for is bounded."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)
        app = TabApp(self.command, write_bytes=websocket.send_bytes,
                     write_str=websocket.send_str, close=websocket.close,
                     download_manager=self.download_manager, debug=self.debug)
        task = asyncio.current_task()
        self.connections.add(task)
        try:
            await app.start(width, height)
            await self._process_messages(websocket, app)
        except asyncio.CancelledError:  # the server is stopping
            pass
        except Exception as exc:  # a page that sent what textual-serve cannot read
            log.warning("backprop-lab: a connection was closed: %s: %s",
                        exc.__class__.__name__, cut(exc, 80))
        finally:
            self.connections.discard(task)
            await app.stop()
            await websocket.close()
        return websocket

    async def on_shutdown(self, app: web.Application) -> None:
        """Cancelling a connection makes textual-serve tell its app to quit and wait for it."""
        tasks = list(self.connections)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=QUIT_WAIT)

    def serve(self, announce: Callable[[], None] = lambda: None) -> None:
        """Serve until SIGINT or SIGTERM; ``announce()`` once they are handled, so that a
        Ctrl+C after the announcement always stops the server the same quiet way."""
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_exit)
        announce()
        web.run_app(self._make_app(), sock=self.sock, handle_signals=False, loop=loop,
                    print=None, access_log=None, shutdown_timeout=QUIT_WAIT)


def serve(command: str, sock: socket.socket, *, local_only: bool,
          announce: Callable[[], None] = lambda: None) -> int:
    """Serve ``command`` (one process per browser connection) on ``sock`` until stopped,
    calling ``announce()`` once ready; returns the exit status (0: stopped by a signal,
    as asked)."""
    try:
        AppServer(command, sock, local_only=local_only).serve(announce)
    except GracefulExit:
        pass
    return 0
