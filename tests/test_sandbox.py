"""Hostile files: whatever a PDF or image does, reading it never crashes, hangs or exhausts
the command. A small corpus of malformed files is made here, each of a kind seen in the
wild, and each must come back as "could not be read", with a reason, in bounded time."""

from __future__ import annotations

import io
import os
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from carebinder import sandbox
from carebinder.faults import ENV
from carebinder.sandbox import Finding, inspect_files
from tests.conftest import Cli, write_pdf

PDF = "application/pdf"


def truncated_pdf(path: Path) -> None:
    good = io.BytesIO()
    pdf = pikepdf.new()
    for _ in range(3):
        pdf.add_blank_page()
    pdf.save(good)
    path.write_bytes(good.getvalue()[: len(good.getvalue()) // 3])


def broken_xref(path: Path) -> None:
    write_pdf(path, pages=2)
    data = path.read_bytes()
    start = data.rindex(b"startxref")
    path.write_bytes(data[:start] + b"startxref\n999999999\n%%EOF\n")


def circular_pages(path: Path) -> None:
    """A page tree whose /Kids point back at itself."""
    path.write_bytes(
        b"%PDF-1.4\n"
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >> endobj\n"
        b"3 0 obj << /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def flate_bomb(path: Path) -> None:
    """A page whose content inflates to 256 MiB from a few hundred kilobytes."""
    squeeze = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    data = b"".join(squeeze.compress(chunk) for _ in range(256)) + squeeze.flush()
    pdf = pikepdf.new()
    pdf.add_blank_page()
    stream = pikepdf.Stream(pdf, data)
    stream.Filter = pikepdf.Name.FlateDecode
    pdf.pages[0].Contents = pdf.make_indirect(stream)
    pdf.save(path)


def locked(path: Path) -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(path, encryption=pikepdf.Encryption(owner="o", user="nobody-knows"))


def huge_png(path: Path) -> None:
    """A valid PNG header claiming 100,000 x 100,000 pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + chunk(b"IEND", b"")
    )


def cut_jpeg(path: Path) -> None:
    buffer = io.BytesIO()
    Image.effect_noise((800, 600), 60).convert("RGB").save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue()[:2000])


def garbage_tiff(path: Path) -> None:
    path.write_bytes(b"II*\x00" + struct.pack("<I", 8) + b"\xff" * 500)


CORPUS: list[tuple[str, str, Callable[[Path], None], str]] = [
    ("truncated.pdf", PDF, truncated_pdf, ""),  # qpdf rebuilds what it can: fine either way
    ("broken-xref.pdf", PDF, broken_xref, ""),  # qpdf may recover it: fine either way
    ("circular.pdf", PDF, circular_pages, "the PDF"),
    ("bomb.pdf", PDF, flate_bomb, ""),  # counting pages never inflates the stream
    ("locked.pdf", PDF, locked, "the PDF is password-protected"),
    ("huge.png", "image/png", huge_png, "the image is too large to print"),
    ("cut.jpg", "image/jpeg", cut_jpeg, "the image cannot be read"),
    ("garbage.tif", "image/tiff", garbage_tiff, "the image cannot be read"),
]


@pytest.fixture
def corpus(tmp_path: Path) -> list[tuple[Path, str, str]]:
    made = []
    for name, media_type, make, reason in CORPUS:
        path = tmp_path / name
        make(path)
        made.append((path, media_type, reason))
    return made


def test_every_hostile_file_is_read_in_bounded_time(corpus: list[tuple[Path, str, str]]) -> None:
    start = time.monotonic()
    findings = inspect_files([(p, t) for p, t, _ in corpus])
    assert time.monotonic() - start < 60
    for (path, _, reason), finding in zip(corpus, findings, strict=True):
        if reason:
            assert finding.error is not None and finding.error.startswith(reason), (path, finding)
            assert finding.pages is None
        else:
            assert finding.error or finding.pages, (path, finding)


def test_a_reader_that_dies_costs_only_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [(write_pdf(tmp_path / f"{n}.pdf", pages=n), PDF) for n in (1, 2, 3)]
    monkeypatch.setenv(ENV, "sandbox.inspect:kill:2")  # each new reader dies on its 2nd file
    assert inspect_files(files) == [
        Finding(1, None),
        Finding(None, "the file could not be read safely (the reader stopped)"),
        Finding(3, None),
    ]


def test_a_reader_that_hangs_is_stopped_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [(write_pdf(tmp_path / "one.pdf"), PDF)]
    monkeypatch.setenv(ENV, "sandbox.inspect:hang")
    start = time.monotonic()
    assert inspect_files(files, deadline=1.0) == [
        Finding(None, "the file could not be read in time")
    ]
    assert time.monotonic() - start < 10


def test_a_reader_that_runs_out_of_memory_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "MEMORY_LIMIT", 1 << 30)
    files = [(write_pdf(tmp_path / "one.pdf"), PDF), (write_pdf(tmp_path / "two.pdf"), PDF)]
    monkeypatch.setenv(ENV, "sandbox.inspect:hog")
    findings = inspect_files(files)
    assert findings[0].pages is None
    assert findings[0].error in (
        "the file needs too much memory to read",
        "the file could not be read safely (the reader stopped)",
    )


def test_files_that_are_not_pdfs_or_images_are_not_read(tmp_path: Path) -> None:
    dicom = tmp_path / "scan.dcm"
    dicom.write_bytes(bytes(128) + b"DICM")
    assert inspect_files([(dicom, "application/dicom")]) == [Finding(None, None)]


def test_attaching_and_packing_hostile_files_never_fails(
    binder: Cli, corpus: list[tuple[Path, str, str]], tmp_path: Path, make_pdf
) -> None:
    args = [arg for path, _, _ in corpus for arg in ("--file", str(path))]
    result = binder("record", "add", "other", "From a patient portal", *args)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    binder.ok("record", "add", "pathology", "Biopsy", "--file", str(make_pdf()))
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30", "--tz", "UTC")
    out = tmp_path / "packet.pdf"
    packet = binder("packet", "1", "-o", str(out))
    assert packet.exit_code == 0, packet.stderr
    assert "Traceback" not in packet.stderr
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) > 8
    for path, _, reason in corpus:
        if reason:
            assert f"Bring separately: {path.name}" in packet.stderr


# --- the words of PDFs ---------------------------------------------------------------------


def test_the_words_of_a_pdf_are_read_only_when_asked(tmp_path: Path) -> None:
    from tests.packet.pdfutil import text_pdf

    pdf = text_pdf(tmp_path / "report.pdf", ["First page: margins clear", "Second\x07page"])
    assert inspect_files([(pdf, PDF)]) == [Finding(2, None)]
    (finding,) = inspect_files([(pdf, PDF)], read_text=True)
    assert (finding.pages, finding.error, finding.has_text) == (2, None, True)
    assert finding.text is not None
    assert "First page: margins clear" in finding.text
    assert "\x07" not in finding.text  # control characters never reach the binder


def test_a_scan_has_no_text_layer(tmp_path: Path) -> None:
    from tests.packet.pdfutil import scan_pdf

    (finding,) = inspect_files([(scan_pdf(tmp_path / "scan.pdf"), PDF)], read_text=True)
    assert finding == Finding(1, None, None, False, scanned=1)  # one page for OCR to read


def test_images_and_unreadable_pdfs_get_no_words(tmp_path: Path) -> None:
    from tests.packet.pdfutil import png

    files = [(png(tmp_path / "photo.png"), "image/png"), (tmp_path / "locked.pdf", PDF)]
    locked(tmp_path / "locked.pdf")
    assert inspect_files(files, read_text=True) == [
        Finding(1, None),
        Finding(None, "the PDF is password-protected"),
    ]


@pytest.mark.parametrize("action", ["kill", "hang"])
def test_a_reader_that_fails_on_the_words_keeps_the_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    """Reading words is the riskier part (every content stream is decoded): when it fails,
    the file is still readable, only without words, and the next file is read anew."""
    files = [(write_pdf(tmp_path / f"{n}.pdf", pages=n), PDF) for n in (1, 2)]
    monkeypatch.setenv(ENV, f"sandbox.text:{action}:1")  # each new reader fails on its 1st
    start = time.monotonic()
    assert inspect_files(files, deadline=2.0, read_text=True) == [
        Finding(1, None, None, None),
        Finding(2, None, None, None),
    ]
    assert time.monotonic() - start < 15


def test_the_flate_bomb_keeps_its_pages_whatever_its_words_do(tmp_path: Path) -> None:
    flate_bomb(tmp_path / "bomb.pdf")
    (finding,) = inspect_files([(tmp_path / "bomb.pdf", PDF)], read_text=True)
    assert (finding.pages, finding.error, finding.text) == (1, None, None)


def test_two_answers_arriving_together_are_both_read_at_once() -> None:
    """The child may write a file's two answers in one go: the second must not wait in a
    buffer where the deadline's `select` cannot see it."""
    read_end, write_end = os.pipe()
    lines = sandbox.Lines(read_end)
    try:
        os.write(write_end, b'{"pages": 1}\n{"text": "x"}\n{"pages"')
        start = time.monotonic()
        assert lines.next(start + 5) == b'{"pages": 1}\n'
        assert lines.next(start + 5) == b'{"text": "x"}\n'
        assert time.monotonic() - start < 1
        assert lines.next(time.monotonic() + 0.2) is None  # half an answer: the deadline
        os.close(write_end)
        assert lines.next(time.monotonic() + 5) == b""  # the child is gone
    finally:
        lines.close()
        os.close(read_end)


def test_reading_words_of_many_pdfs_never_waits_for_the_deadline(tmp_path: Path) -> None:
    from tests.packet.pdfutil import scan_pdf, text_pdf

    files = []
    for n in range(6):
        files.append((text_pdf(tmp_path / f"text-{n}.pdf", [f"page {n}"]), PDF))
        files.append((scan_pdf(tmp_path / f"scan-{n}.pdf"), PDF))
    start = time.monotonic()
    findings = inspect_files(files, deadline=5.0, read_text=True)
    assert [f.has_text for f in findings] == [True, False] * 6
    assert time.monotonic() - start < 5
