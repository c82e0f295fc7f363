"""Backups are made with small chunks and a quick key derivation, from a binder made once
per module with the CLI, or from the smallest binder the forging kit needs."""

from __future__ import annotations

import io
import shutil
import tarfile
from datetime import date
from pathlib import Path

import pytest

from carebinder import config
from carebinder.backup import seal
from carebinder.backup.create import create_backup
from carebinder.choices import RecordKind
from carebinder.db import open_binder, session_scope
from carebinder.services import patients, records
from carebinder.store import Store
from tests.backup.forging import Parts
from tests.backup.kit import CHUNK, MARKER, made_with_cli, plaintext
from tests.conftest import write_pdf


@pytest.fixture(autouse=True)
def _small_and_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks, so a small binder spans many of them, and a quick key derivation."""
    monkeypatch.setattr(seal, "CHUNK_SIZE", CHUNK)
    monkeypatch.setattr(seal, "SCRYPT_N", 1 << 10)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ana Souza's binder with one of everything and two files, made once with the CLI."""
    root = tmp_path_factory.mktemp("template")
    home = root / "home"
    pdf, notes = write_pdf(root / "biopsy.pdf", 2), root / "notes.txt"
    notes.write_bytes(MARKER)
    commands = (
        ("init", "--name", "Ana Souza", "--born", "1964-04-12"),
        ("doctor", "add", "Dr. Wei Chen", "--specialty", "Medical oncology"),
        ("record", "add", "pathology", "Core biopsy", "--file", str(pdf), "--file", str(notes)),
        ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--record", "1"),
        ("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30"),
        ("question", "add", "Is surgery first?", "--appointment", "1"),
        ("material", "add", "glass-slides", "H&E slides"),
    )
    return made_with_cli(home, commands)


@pytest.fixture
def filled(template: Path, settings: config.Settings) -> config.Settings:
    """A copy of the template binder in this test's home."""
    shutil.copytree(template, settings.home)
    return settings


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Parts:
    root = tmp_path_factory.mktemp("parts")
    settings = config.resolve(home=root / "home", environ={})
    lab = root / "cbc.txt"
    lab.write_bytes(MARKER)
    engine = open_binder(settings, create=True)
    try:
        with session_scope(engine) as s:
            patient = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
            store = Store(settings.store_dir)
            records.add_record(s, store, patient.id, kind=RecordKind.LAB, title="CBC", files=[lab])
    finally:
        engine.dispose()
    archive = root / "real.backup"
    create_backup(settings, archive)
    with tarfile.open(fileobj=io.BytesIO(plaintext(archive))) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    (blob_name,) = (name for name in files if name.startswith("files/"))
    return Parts(files["binder.db"], blob_name, files[blob_name])
