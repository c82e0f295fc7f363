"""The names uploaded files are written under in the private temporary folder."""

from __future__ import annotations

import pytest

from carebinder.web.uploads import NAME_BYTES, safe_name


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("pathology.pdf", "pathology.pdf"),
        ("C:\\Users\\ana\\Downloads\\scan 1.jpg", "scan 1.jpg"),
        ("../../etc/passwd", "passwd"),
        ("re\x00port\x1b.pdf", "report.pdf"),
        ("biópsia.pdf", "biópsia.pdf"),
        ("", "upload"),
        (None, "upload"),
        ("..", "upload"),
        ("folder/", "upload"),
    ],
)
def test_the_name_is_the_files_own_and_harmless(sent: str | None, kept: str) -> None:
    assert safe_name(sent) == kept


def test_a_very_long_name_keeps_its_extension_within_the_limit() -> None:
    name = safe_name("é" * 5_000 + ".pdf")
    assert name.endswith("é.pdf")
    assert len(name.encode()) <= NAME_BYTES
