"""`carebinder` as a person runs it, in a process of its own: a computer without Tesseract,
and Ctrl-C in the middle of `record read-text`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.ocr.pages import need_tesseract, scanned_pdf

SRC = Path(__file__).resolve().parents[2] / "src"


def carebinder(home: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAREBINDER_HOME": str(home), "PYTHONPATH": str(SRC)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "carebinder", *args],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_without_tesseract_one_line_says_how_to_install_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    no_tesseract = str(tmp_path / "empty-bin")  # a PATH where no tesseract can be found
    carebinder(home, "init", "--name", "Ana Souza", "--born", "1964-04-12", path=no_tesseract)
    scan = scanned_pdf(tmp_path / "scan.pdf")
    added = carebinder(
        home, "record", "add", "pathology", "Biopsy", "--file", str(scan), path=no_tesseract
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == "Added record #1: Biopsy (1 file)\n"
    assert added.stderr == (
        "scan.pdf is a scan or a photo: its words cannot be read on this computer yet. To read"
        " scans, install OCR (sudo apt-get install tesseract-ocr), then run"
        " `carebinder record read-text`.\n"
    )
    shown = carebinder(home, "record", "show", "1", path=no_tesseract)
    assert "scan: words not recognised yet (carebinder record read-text)" in shown.stdout
    # Everything else works as before: the packet, search, the check.
    assert carebinder(home, "verify", path=no_tesseract).returncode == 0


def test_ctrl_c_keeps_what_is_read_and_read_text_goes_on(tmp_path: Path) -> None:
    need_tesseract()
    home = tmp_path / "home"
    carebinder(home, "init", "--name", "Ana Souza", "--born", "1964-04-12")
    scans = [str(scanned_pdf(tmp_path / f"scan-{n}.pdf")) for n in range(1, 4)]
    added = carebinder(home, "record", "add", "pathology", "Scans", "--no-ocr", *[
        arg for scan in scans for arg in ("--file", scan)
    ])  # fmt: skip
    assert added.returncode == 0, added.stderr
    env = {**os.environ, "CAREBINDER_HOME": str(home), "PYTHONPATH": str(SRC)}
    reading = subprocess.Popen(
        [sys.executable, "-m", "carebinder", "record", "read-text"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )  # fmt: skip
    assert reading.stdout is not None
    first = reading.stdout.readline()
    assert "scan-1.pdf: text recognised" in first
    os.killpg(reading.pid, signal.SIGINT)  # Ctrl-C, as the terminal sends it
    _, said = reading.communicate(timeout=120)
    assert reading.returncode == 130
    assert "Interrupted: the words of 1 of 3 files were recognised and kept." in said
    assert "Read the rest with `carebinder record read-text`." in said

    files = json.loads(carebinder(home, "record", "show", "1", "--json").stdout)["files"]
    states = [f["ocr"] for f in files]
    assert states[0] == "recognised" and "failed" not in states
    again = carebinder(home, "record", "read-text")
    assert again.returncode == 0, again.stderr
    assert "scan-1.pdf" not in again.stdout  # what was done is not done again
    files = json.loads(carebinder(home, "record", "show", "1", "--json").stdout)["files"]
    assert [f["ocr"] for f in files] == ["recognised"] * 3
