"""`carebinder serve`: the same binder in the browser."""

from __future__ import annotations

from typing import Annotated

import typer

from carebinder.cli.common import App, note, state
from carebinder.dates import shown
from carebinder.errors import InvalidInput

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost"})


def register(app: App) -> None:
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="The port to listen on (default: a free one).",
            show_default=False,
        ),
    ] = 0,
    no_browser: Annotated[
        bool,
        typer.Option("--no-browser", help="Print the address only; do not open a browser."),
    ] = False,
    host: Annotated[
        str,
        typer.Option(
            help="Where to listen: this computer only (127.0.0.1). Another address is refused"
            " until carebinder has accounts: the binder holds medical records."
        ),
    ] = "127.0.0.1",
) -> None:
    """Open the binder in your web browser: everything the commands do, in plain forms.

    Prints the address to open (it carries a one-time key: only you get in) and opens your
    browser there. Runs until you press Ctrl-C.

    Example: carebinder serve
    """
    if host not in LOOPBACK_NAMES:
        raise InvalidInput(
            f"{{field}}: {shown(host)} would let other computers reach the binder; carebinder"
            " listens on this computer only (127.0.0.1). Leave --host out.",
            field="host",
        )
    from carebinder.web.server import serve as run

    st = state(ctx)
    run(st.settings, port=port, patient=st.patient, open_browser=not no_browser, say=note)
