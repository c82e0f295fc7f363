"""Serving the web face: uvicorn on 127.0.0.1, a free port unless one is asked for.

Ctrl-C or SIGTERM stops it cleanly: uvicorn stops taking requests, lets the one in flight
finish (its transaction commits or rolls back whole), then the engine is disposed.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import webbrowser
from collections.abc import Callable
from types import FrameType
from typing import Any

from carebinder import config
from carebinder.errors import InvalidInput
from carebinder.web.security import KEY_PARAMETER, new_key

LOOPBACK = "127.0.0.1"
# A request in flight gets this long to finish after Ctrl-C or SIGTERM.
GRACE_SECONDS = 10


def listening_socket(port: int) -> socket.socket:
    """A socket bound to 127.0.0.1:`port` (0: a free one), or the reason it cannot be."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as error:
        sock.close()
        raise InvalidInput(
            f"{{field}}: cannot listen on port {port} ({error.strerror}). Choose another,"
            " or leave it out for a free one.",
            field="port",
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _server_class() -> type[Any]:
    import uvicorn

    class QuietStop(uvicorn.Server):
        """uvicorn, for which Ctrl-C or SIGTERM is the normal end: it stops taking requests,
        lets the one in flight finish, and returns (exit 0), where uvicorn itself would
        raise the signal again once stopped, killing the process before its clean-up."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True  # a second Ctrl-C: stop now
            else:
                self.should_exit = True

    return QuietStop


def has_display() -> bool:
    """Whether a browser can open a window here (not on a server reached by ssh)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def serve(
    settings: config.Settings,
    *,
    port: int,
    patient: int | None,
    open_browser: bool,
    say: Callable[[str], None],
) -> None:
    import uvicorn

    from carebinder.web.app import create_app

    sock = listening_socket(port)
    port = sock.getsockname()[1]
    key = new_key()
    app = create_app(settings, key=key, port=port, patient=patient)
    # What start-up made lives as long as the server: out of the collector's way, so a
    # page's own garbage is collected without scanning the imports' objects again.
    gc.freeze()
    address = f"http://{LOOPBACK}:{port}/?{KEY_PARAMETER}={key}"
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    server = _server_class()(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,  # its lines carry the query string: ours name the route only
            timeout_graceful_shutdown=GRACE_SECONDS,
            lifespan="off",
        )
    )
    say(f"carebinder is open at {address}")
    say("Keep this window open while you use it; press Ctrl-C to stop.")
    if open_browser and has_display():
        webbrowser.open(address)
    try:
        server.run(sockets=[sock])
    finally:
        app.state.web.jobs.close()  # the packets nobody downloaded
        app.state.web.engine.dispose()
        sock.close()
    say("carebinder stopped.")
