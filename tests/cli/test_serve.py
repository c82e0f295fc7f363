"""`carebinder serve`'s refusals, before anything listens."""

from __future__ import annotations

import socket

from tests.cli.cliutil import assert_refused
from tests.conftest import Cli


def test_another_host_is_refused_until_there_are_accounts(binder: Cli) -> None:
    line = assert_refused(binder("serve", "--host", "0.0.0.0", "--no-browser"), 1, "--host")
    assert "listens on this computer only (127.0.0.1)" in line


def test_a_port_out_of_range_is_a_usage_error(binder: Cli) -> None:
    assert_refused(binder("serve", "--port", "70000", "--no-browser"), 2, "--port")


def test_a_port_already_taken_is_named(binder: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        line = assert_refused(binder("serve", "--port", str(port), "--no-browser"), 1, "--port")
    assert f"cannot listen on port {port}" in line
    assert "leave it out for a free one" in line
