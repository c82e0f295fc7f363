"""`carebinder serve` as a person starts it, and Debian's chromium driven by Playwright.

Without /usr/bin/chromium the browser tests skip and say why; under CI=true a missing
browser is a failure (.ci/run installs it)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    why = f"no browser at {CHROMIUM}: apt-get install chromium (CI installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {why}", pytrace=False)
    pytest.skip(why)


@dataclass
class Server:
    process: subprocess.Popen[str]
    address: str  # with the key
    origin: str

    def stop(self) -> tuple[int, str]:
        """SIGTERM, as a service manager or Ctrl-C would; the exit code and what it said."""
        self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return self.process.returncode, err


def start_server(home: Path, env: dict[str, str] | None = None) -> Server:
    process = subprocess.Popen(
        [sys.executable, "-m", "carebinder", "serve", "--no-browser"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CAREBINDER_HOME": str(home), **(env or {})},
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    match = re.search(r"(http://127\.0\.0\.1:\d+)/\?key=\S+", line)
    if match is None:
        process.kill()
        raise AssertionError(f"serve printed {line!r}")
    return Server(process, match.group(0), match.group(1))


@pytest.fixture
def server(home: Path) -> Iterator[Server]:
    live = start_server(home)
    yield live
    if live.process.poll() is None:
        live.stop()


@pytest.fixture
def chromium() -> Iterator[Any]:
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: $CAREBINDER_SCREENSHOTS to keep and look at them, else tmp."""
    folder = Path(os.environ.get("CAREBINDER_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical accessibility violations on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def look(page: Any, shots: Path, name: str) -> None:
    """Check the page with axe, and keep a screenshot at desktop and phone widths."""
    assert serious_violations(page) == [], name
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(shots / f"{name}-{width_name}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS["desktop"][0], "height": WIDTHS["desktop"][1]})
