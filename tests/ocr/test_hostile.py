"""Hostile and broken pictures never harm the binder or the reader: each is refused in one
line, and the files after it are read all the same."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from carebinder.ocr import Item, Recognising
from tests.conftest import Cli
from tests.ocr.pages import need_tesseract, page_image


def png(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` (no image data to speak of)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.jpg"
    page_image(dpi=150).save(good, "JPEG", quality=90)
    files = {
        "bomb.png": png(40_000, 40_000),  # 1.6 gigapixels, in a few bytes
        "zero.png": png(0, 0),
        "truncated.jpg": good.read_bytes()[: good.stat().st_size // 3],
        "not-an-image.jpg": b"\xff\xd8\xff" + b"garbage" * 50,
    }
    made = {}
    for name, content in files.items():
        made[name] = tmp_path / name
        made[name].write_bytes(content)
    made["good.jpg"] = good
    return made


def test_the_reader_refuses_each_and_reads_the_next(hostile: dict[str, Path]) -> None:
    need_tesseract()
    items = [Item(i, path, "image/jpeg" if path.suffix == ".jpg" else "image/png")
             for i, path in enumerate(hostile.values())]  # fmt: skip
    with Recognising(items, "eng") as reading:
        found = {
            hostile_name: result for hostile_name, result in zip(hostile, reading, strict=True)
        }
    for name in ("bomb.png", "zero.png", "truncated.jpg", "not-an-image.jpg"):
        assert found[name].output is None, name
        assert found[name].error and "\n" not in found[name].error, name
    assert "too large" in (found["bomb.png"].error or "") or "cannot be read" in (
        found["bomb.png"].error or ""
    )
    assert found["good.jpg"].recognised == 1
    assert "carcinoma" in (found["good.jpg"].text or "").lower()


def test_attaching_them_stores_them_unread_and_reads_the_good_one(
    binder: Cli, hostile: dict[str, Path]
) -> None:
    need_tesseract()
    binder.ok("record", "add", "other", "Photos")
    attached = binder.ok("record", "attach", "1", *map(str, hostile.values()))
    files = {
        f["name"]: f for f in json.loads(binder.ok("record", "show", "1", "--json").stdout)["files"]
    }
    for name in ("bomb.png", "zero.png", "truncated.jpg", "not-an-image.jpg"):
        assert files[name]["unreadable"], name
        assert files[name]["ocr"] is None, name  # never handed to the recognising reader
        assert f"Warning: {name} was stored but is unreadable" in attached.stderr
    assert files["good.jpg"]["ocr"] == "recognised"
