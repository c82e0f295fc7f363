"""Text layers kept like every file: `verify` knows them and their originals, backup and
restore carry them, detaching a file releases both blobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carebinder import config
from tests.conftest import FILE_BACKUP, Cli, blob_files
from tests.ocr.pages import need_tesseract, scanned_pdf


@pytest.fixture
def read_scan(binder: Cli, tmp_path: Path, home: Path) -> tuple[Path, Path]:
    """A binder with one record whose scan was read: (the original's blob, the text layer's)."""
    need_tesseract()
    scan = scanned_pdf(tmp_path / "scan.pdf")
    binder.ok("record", "add", "pathology", "Biopsy", "--file", str(scan))
    (file,) = json.loads(binder.ok("record", "show", "1", "--json").stdout)["files"]
    assert file["ocr"] == "recognised"
    store = home / config.STORE_DIR
    original = store / file["sha256"][:2] / file["sha256"][2:]
    (layer,) = [blob for blob in blob_files(home) if blob != original]
    return original, layer


def test_verify_knows_the_text_layer_and_its_original(
    binder: Cli, read_scan: tuple[Path, Path]
) -> None:
    original, layer = read_scan
    assert "orphan" not in binder.ok("verify").stderr  # intact: nothing to repair
    binder.ok("verify", "--repair")
    assert layer.exists()  # a text layer is not an orphan

    layer.unlink()
    missing = binder("verify")
    assert missing.exit_code == 1
    assert (
        "The text-layer version (recognised words) of file #1 (record #1) is missing from the"
        " file store. Make it again from the original with"
        " `carebinder record read-text 1 --again`."
    ) in missing.stdout + missing.stderr
    binder.ok("record", "read-text", "1", "--again")
    binder.ok("verify")  # made again (a new blob: OCRmyPDF dates what it makes)

    original.chmod(0o600)
    original.unlink()
    gone = binder("verify")
    assert gone.exit_code == 1
    said = gone.stdout + gone.stderr
    assert "File #1 (record #1) is missing from the file store." in said
    assert (
        "File #1 (record #1) has its text-layer version (recognised words) but not its"
        " original, which it cannot replace: restore the original from a backup."
    ) in said


@pytest.mark.sqlite_only(FILE_BACKUP)
def test_backup_and_restore_keep_the_text_layer(
    binder: Cli, read_scan: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, layer = read_scan
    archive = tmp_path / "binder.cbk"
    binder.ok("backup", "-o", str(archive))
    elsewhere = tmp_path / "restored"
    monkeypatch.setenv("CAREBINDER_HOME", str(elsewhere))
    binder.ok("restore", str(archive))
    restored = elsewhere / config.STORE_DIR / layer.parent.name / layer.name
    assert restored.read_bytes() == layer.read_bytes()
    (file,) = json.loads(binder.ok("record", "show", "1", "--json").stdout)["files"]
    assert file["ocr"] == "recognised"
    assert "scan.pdf" in binder.ok("search", "nottingham").stdout
    binder.ok("verify")


def test_detaching_a_read_scan_releases_both_blobs(
    binder: Cli, read_scan: tuple[Path, Path], home: Path
) -> None:
    binder.ok("record", "detach", "1", "1", "--yes")
    assert blob_files(home) == []
