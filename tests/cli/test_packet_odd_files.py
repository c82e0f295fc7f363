"""One bad file never stops the packet: whatever a file's pages hold, it is printed or
listed to bring separately with a reason, the other records print, and the index says
what was left out and why. And the user sees carebinder's words only: nothing the PDF
libraries say reaches the terminal."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from carebinder.packet import assemble
from tests.cli.cliutil import no_traceback
from tests.conftest import Cli
from tests.packet.oddfiles import ODD_IMAGES, ODD_PDFS, Odd
from tests.packet.pdfutil import Packet, assert_stamped, flat, page_images, read, text_pdf

AT = ("--at", "2026-12-03 09:30", "--tz", "America/New_York")
ODD = ODD_PDFS + ODD_IMAGES
# What carebinder itself says on stderr while writing a packet; nothing else may appear.
OWN_WORDS = re.compile(
    r"(Bring separately: |Note: |Wrote |Saving |\d+ records, \d+ files: putting their pages)"
)


@pytest.fixture
def visit(binder: Cli, tmp_path: Path) -> Cli:
    """A doctor, a good one-page record, and appointment #1."""
    binder.ok("doctor", "add", "Dr. Wei Chen")
    good = text_pdf(tmp_path / "cbc.pdf", ["GOOD page 1"])
    binder.ok("record", "add", "lab", "CBC", "--date", "2026-11-01", "--file", str(good))
    binder.ok("appointment", "add", "--doctor", "1", *AT)
    return binder


def add_odd(binder: Cli, folder: Path, odd: Odd) -> str:
    """Attach `odd` as a record of its own (titled after it); returns what attaching said."""
    folder.mkdir(exist_ok=True)
    path = folder / odd.name
    odd.make(path)
    result = binder.ok("record", "add", "other", f"Odd {odd.name}", "--file", str(path))
    return result.stderr


def index_of(packet: Packet) -> str:
    return flat(" ".join(t for t in packet.texts if t.startswith("Records index")))


def pictures(packet: Packet) -> dict[int, Image.Image]:
    """The one image on each page that has one, decoded, by 0-based page."""
    found = {}
    with packet.pdf() as pdf:
        for number, page in enumerate(pdf.pages):
            images = list(page_images(page).values())
            if images:
                (image,) = images
                found[number] = Image.open(io.BytesIO(image.read_raw_bytes())).convert("RGB")
    return found


def check_outcome(odd: Odd, packet: Packet, stderr: str) -> None:
    """`odd` was printed (its notice in the index) or listed to bring separately."""
    index, told = index_of(packet), f"Bring separately: {odd.name} (record 'Odd {odd.name}'):"
    if odd.reason is not None:
        assert f"{told} {odd.reason}" in stderr, (odd.name, stderr)
        assert f"Bring separately: {odd.name}: {odd.reason}" in index, odd.name
        assert f"ODD {Path(odd.name).stem}" not in packet.all_text()
        return
    assert told not in stderr, odd.name
    if odd.media_type == "application/pdf":
        assert packet.find(f"ODD {Path(odd.name).stem} page 2"), odd.name
    if odd.notice is not None:
        assert f"Note: {odd.name}: {odd.notice}" in index, odd.name
        assert f"Note: {odd.name} (record 'Odd {odd.name}'): {odd.notice}" in stderr


def check_good_pages(packet: Packet) -> None:
    assert len(packet.find("GOOD page 1")) == 1
    assert_stamped(packet, "Ana Souza", "12 Apr 1964")


@pytest.mark.parametrize("odd", ODD, ids=[o.name for o in ODD])
def test_one_odd_file_never_stops_the_packet(visit: Cli, tmp_path: Path, odd: Odd) -> None:
    said = add_odd(visit, tmp_path / "odd", odd)
    if odd.reason is not None and odd.media_type == "application/pdf":
        # The patient hears of it when attaching, not the night before the visit.
        assert f"the packet cannot print it: {odd.reason}" in said
    out = tmp_path / "packet.pdf"
    result = visit("packet", "1", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    no_traceback(result)
    packet = read(out)
    check_good_pages(packet)
    check_outcome(odd, packet, result.stderr)
    assert all(OWN_WORDS.match(line) for line in result.stderr.splitlines()), result.stderr


def test_record_show_says_the_packet_cannot_print_a_file(visit: Cli, tmp_path: Path) -> None:
    (speck,) = [odd for odd in ODD if odd.name == "speck.pdf"]
    add_odd(visit, tmp_path / "odd", speck)
    shown = visit.ok("record", "show", "2").stdout
    assert f"cannot be printed in the packet: {speck.reason}" in flat(shown)
    data = json.loads(visit.ok("record", "show", "2", "--json").stdout)
    assert data["files"][0]["unprintable"] == speck.reason
    assert data["files"][0]["notice"] is None


def test_every_odd_file_at_once_through_the_real_command(visit: Cli, tmp_path: Path) -> None:
    for odd in ODD:
        add_odd(visit, tmp_path / "odd", odd)
    out = tmp_path / "packet.pdf"
    # A real process: the PDF libraries write to the terminal through channels of their own
    # (Python's logging and warnings, qpdf's logger) that only a real stderr shows.
    done = packet_process(out)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert [line for line in lines if not OWN_WORDS.match(line)] == []
    packet = read(out)
    check_good_pages(packet)
    for odd in ODD:
        check_outcome(odd, packet, done.stderr)
    left_out = [odd for odd in ODD if odd.reason]
    assert len([line for line in lines if line.startswith("Bring separately")]) == len(left_out)


def test_images_print_in_their_own_colours(visit: Cli, tmp_path: Path) -> None:
    for odd in ODD_IMAGES:
        add_odd(visit, tmp_path / "odd", odd)
    out = tmp_path / "packet.pdf"
    visit.ok("packet", "1", "-o", str(out))
    packet = read(out)
    (grey,) = packet.find("Record 4 of 5")  # CBC, then the images in the order added
    (cyan,) = packet.find("Record 5 of 5")
    drawn = pictures(packet)
    # 16-bit mid-grey stays mid-grey (read as 8 bits, it would clip to white).
    r, g, b = drawn[grey].getpixel((60, 40))
    assert abs(r - 128) < 8 and r == g == b
    # A CMYK JPEG's cyan stays cyan, not its inverse.
    r, g, b = drawn[cyan].getpixel((60, 40))
    assert r < 40 and g > 200 and b > 200, (r, g, b)


def packet_process(out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`carebinder packet 1 -o OUT` as a real process (the fault points are read at start)."""
    return subprocess.run(
        [sys.executable, "-m", "carebinder", "packet", "1", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )


def test_a_file_the_pdf_library_fails_on_is_brought_separately(visit: Cli, tmp_path: Path) -> None:
    """Whatever pikepdf or qpdf raises while copying a file's pages, only that file is
    left out: here the third file placed (the second of these) fails as if the disk had
    failed under it."""
    for name in ("first", "second", "third"):
        path = text_pdf(tmp_path / f"{name}.pdf", [f"{name.upper()} page"])
        visit.ok("record", "add", "lab", name, "--date", "2026-11-02", "--file", str(path))
    out = tmp_path / "packet.pdf"
    done = packet_process(out, CAREBINDER_FAULT="packet.place:eio:3")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert (
        "Bring separately: second.pdf (record 'second'): the file could not be put into the"
        " packet (OSError)."
    ) in done.stderr
    packet = read(out)
    check_good_pages(packet)
    assert packet.find("FIRST page") and packet.find("THIRD page")
    assert not packet.find("SECOND page")
    assert "Bring separately: second.pdf: the file could not be put into the packet" in (
        index_of(packet)
    )


def test_a_file_that_takes_too_long_is_brought_separately(
    visit: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assemble, "FILE_SECONDS", -1.0)  # every file is late
    out = tmp_path / "packet.pdf"
    result = visit("packet", "1", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert (
        "Bring separately: cbc.pdf (record 'CBC'): it took too long to put into the packet."
        in result.stderr
    )
    packet = read(out)
    assert not packet.find("GOOD page 1")
    assert "Bring separately: cbc.pdf: it took too long to put into the packet" in index_of(packet)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("flip", "the stored copy is damaged (its content no longer matches what was attached)"),
        ("folder", "the stored copy is not a regular file in the store"),
        ("pipe", "the stored copy is not a regular file in the store"),
    ],
)
def test_a_damaged_stored_copy_is_brought_separately(
    visit: Cli, tmp_path: Path, damage: str, reason: str
) -> None:
    """The store's copy is checked against the SHA-256 that names it: bytes changed on the
    disk are never printed as if they were the record, and a pipe never stalls the packet."""
    from carebinder import config
    from tests.conftest import blob_files

    (blob,) = blob_files(Path(os.environ[config.HOME_ENV]))
    if damage == "flip":
        data = bytearray(blob.read_bytes())
        data[len(data) // 2] ^= 0x01
        blob.write_bytes(bytes(data))
    else:
        blob.unlink()
        blob.mkdir() if damage == "folder" else os.mkfifo(blob)
    out = tmp_path / "packet.pdf"
    result = visit("packet", "1", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert f"Bring separately: cbc.pdf (record 'CBC'): {reason}" in result.stderr
    assert "carebinder verify" in result.stderr
    packet = read(out)
    assert not packet.find("GOOD page 1")
    assert f"Bring separately: cbc.pdf: {reason}" in index_of(packet)
