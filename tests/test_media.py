"""media.sniff: a file's type from its first bytes, never from its name."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from carebinder.media import HEADER_SIZE, sniff
from carebinder.store import Store


def bmp(width: int = 2, height: int = 2) -> bytes:
    pixels = bytes(4 * width * height)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 32, 0, len(pixels), 2835, 2835, 0, 0)
    header = b"BM" + struct.pack("<IHHI", 14 + len(info) + len(pixels), 0, 0, 14 + len(info))
    return header + info + pixels


SAMPLES: dict[str, tuple[bytes, str]] = {
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n", "application/pdf"),
    "pdf-1.4": (b"%PDF-1.4\n", "application/pdf"),
    "pdf-after-junk": (b"\r\n\x00\x00\x1b%-12345X@PJL\r\n%PDF-1.3\n", "application/pdf"),
    "pdf-after-long-junk": (b"\x00" * 400 + b"%PDF-1.5\n" + b"\x00" * 200, "application/pdf"),
    "jpeg-jfif": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00", "image/jpeg"),
    "jpeg-exif": (b"\xff\xd8\xff\xe1\x12\x34Exif\x00\x00MM\x00*", "image/jpeg"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "image/png"),
    "tiff-little-endian": (b"II*\x00\x08\x00\x00\x00\x0e\x00\x00\x01", "image/tiff"),
    "tiff-big-endian": (b"MM\x00*\x00\x00\x00\x08\x00\x0e\x01\x00", "image/tiff"),
    "gif87a": (b"GIF87a\x10\x00\x10\x00\x80\x00\x00", "image/gif"),
    "gif89a": (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "image/gif"),
    "bmp": (bmp(), "image/bmp"),
    "webp": (b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00", "image/webp"),
    "heic": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "image/heic"),
    "heic-heix": (b"\x00\x00\x00\x18ftypheix\x00\x00\x00\x00mif1heix", "image/heic"),
    "heif-mif1": (b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1heic", "image/heic"),
    "dicom": (
        b"\x00" * 128 + b"DICM\x02\x00\x00\x00UL\x04\x00\xc8\x00\x00\x00",
        "application/dicom",
    ),
    "dicom-with-preamble-text": (
        b"Preamble written by the scanner".ljust(128, b" ") + b"DICM\x02\x00\x01\x00",
        "application/dicom",
    ),
    "zip": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "application/zip"),
    "zip-empty": (b"PK\x05\x06" + b"\x00" * 18, "application/zip"),
    "ole-office": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16, "application/x-ole-storage"),
    "rtf": (b"{\\rtf1\\ansi\\deff0 {\\fonttbl}}", "application/rtf"),
    "text-ascii": (b"Questions for Dr. Chen:\n1. Is surgery first?\n", "text/plain"),
    "text-utf8": ("Pathologie : carcinome — Øyvind Nguyễn, 東京\n".encode(), "text/plain"),
    "text-utf8-cut-at-header-end": (("€" * 200).encode()[:HEADER_SIZE], "text/plain"),
    "binary-with-nul": (b"\x01\x02\x03\x00\x04\x05", "application/octet-stream"),
    "binary-all-bytes": (bytes(range(256)), "application/octet-stream"),
    "binary-invalid-utf8": (b"\x89\x01\xfe\xff" * 128, "application/octet-stream"),
    "text-with-nul": (b"looks like text\x00but is not", "application/octet-stream"),
    "riff-wave-is-not-webp": (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00", "application/octet-stream"),
    "mp4-is-not-heic": (
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
        "application/octet-stream",
    ),
}


@pytest.mark.parametrize(("header", "expected"), SAMPLES.values(), ids=SAMPLES.keys())
def test_sniff(header: bytes, expected: str) -> None:
    assert sniff(header) == expected


@pytest.mark.parametrize(("header", "expected"), SAMPLES.values(), ids=SAMPLES.keys())
def test_sniff_only_needs_the_header(header: bytes, expected: str) -> None:
    """A header padded to its full size (as the store hands it over) is judged the same."""
    padded = header.ljust(HEADER_SIZE, b"\x00") if expected != "text/plain" else header
    assert sniff(padded[:HEADER_SIZE]) == expected


def test_pdf_marker_beyond_the_header_is_not_a_pdf() -> None:
    late = b"\x01" * HEADER_SIZE + b"%PDF-1.4\n"
    assert sniff(late[:HEADER_SIZE]) != "application/pdf"


def test_dicom_marker_must_be_at_offset_128() -> None:
    assert sniff(b"\x00" * 127 + b"DICM" + b"\x00" * 16) == "application/octet-stream"
    assert sniff(b"\x00" * 129 + b"DICM" + b"\x00" * 16) == "application/octet-stream"


# --- the name does not matter ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sample"),
    [
        ("photo.pdf", "png"),
        ("report.txt", "pdf"),
        ("scan.jpg", "dicom"),
        ("IMG_0042", "jpeg-jfif"),
        ("slides.zip", "tiff-big-endian"),
        ("notes.dcm", "text-utf8"),
        ("archive.heic", "zip"),
        ("picture.png", "binary-all-bytes"),
        ("image.webp", "heic"),
    ],
)
def test_the_extension_is_irrelevant(
    store: Store, make_file: Callable[[str, bytes], Path], name: str, sample: str
) -> None:
    content, expected = SAMPLES[sample]
    assert store.put(make_file(name, content)).media_type == expected


def test_a_large_file_is_judged_by_its_first_bytes(
    store: Store, make_file: Callable[[str, bytes], Path]
) -> None:
    content = SAMPLES["dicom"][0] + b"\x00" * (3 * 1024 * 1024)
    assert store.put(make_file("study", content)).media_type == "application/dicom"


# --- known mistakes -------------------------------------------------------------------------


def test_text_starting_with_bm_is_not_a_bitmap() -> None:
    assert sniff(b"BMI 31.2, weight 84 kg, height 164 cm\n") == "text/plain"


def test_binary_with_invalid_bytes_at_the_end_is_not_text() -> None:
    assert sniff(b"data\xff\xfe\xfd") == "application/octet-stream"
