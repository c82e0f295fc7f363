"""What a file is, judged from its first bytes rather than its name.

Only the formats a binder meets are told apart: the ones the packet can print (PDF, JPEG,
PNG, TIFF, GIF, WebP, BMP) and the ones it must list as "bring separately" (DICOM, ZIP,
HEIC, office documents, plain text). puremagic was tried and ranked .docx above .zip and an
empty type above DICOM, so a short table of signatures is clearer and exact here.
"""

from __future__ import annotations

# How many leading bytes `sniff` needs (DICOM's marker sits at offset 128).
HEADER_SIZE = 512

_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", "application/pdf"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (128, b"DICM", "application/dicom"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"PK\x05\x06", "application/zip"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (0, b"{\\rtf", "application/rtf"),
)


def sniff(header: bytes) -> str:
    """The media type of a file whose first bytes are `header`."""
    for offset, magic, media_type in _SIGNATURES:
        if header[offset : offset + len(magic)] == magic:
            return media_type
    if _is_bmp(header):
        return "image/bmp"
    if header[:4] == b"RIFF" and header[8:12] == b"WEBP":
        return "image/webp"
    if header[4:8] == b"ftyp" and header[8:12] in (b"heic", b"heix", b"mif1", b"heim"):
        return "image/heic"
    # Many PDFs from scanners start with a few junk bytes before the marker.
    if b"%PDF-" in header[:HEADER_SIZE]:
        return "application/pdf"
    if _looks_like_text(header):
        return "text/plain"
    return "application/octet-stream"


def _is_bmp(header: bytes) -> bool:
    """ "BM", zero reserved bytes, and a known DIB header size (so "BMI 31" stays text)."""
    return (
        header[:2] == b"BM"
        and header[6:10] == b"\x00\x00\x00\x00"
        and int.from_bytes(header[14:18], "little") in (12, 40, 52, 56, 64, 108, 124)
    )


def _looks_like_text(header: bytes) -> bool:
    if b"\x00" in header:
        return False
    try:
        header.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut off by the end of the header is still text.
        return error.reason == "unexpected end of data" and len(header) == HEADER_SIZE
    return True
