"""What the backup tests share: the binder's secrets to look for, and how a refusal
is checked (one line, nothing of the binder in it, and no trace beside the home)."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import tarfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carebinder import config
from carebinder.backup.restore import restore_backup
from carebinder.backup.seal import SealedReader
from carebinder.errors import CarebinderError
from tests.conftest import Cli, blob_files

PASSWORD = "correct horse battery staple"
MARKER = b"PATHOLOGY MARKER: invasive ductal carcinoma, grade 2\n"
CHUNK = 4096
MODES = pytest.mark.parametrize("password", [None, PASSWORD], ids=["plain", "encrypted"])


def made_with_cli(home: Path, commands: Iterable[tuple[str, ...]]) -> Path:
    """A binder in `home` made by running `commands` there; for a module-scoped template,
    which is made before the per-test isolation of the environment."""
    cli = Cli(CliRunner())
    with pytest.MonkeyPatch.context() as env:
        for name in (config.HOME_ENV, config.DATABASE_ENV, config.PATIENT_ENV):
            env.delenv(name, raising=False)
        # As every test runs (tests/conftest.py): tzlocal keeps the first zone it is asked
        # for, so a template made under the machine's own zone would change what later
        # tests see ("Etc/UTC" for "UTC").
        env.setenv("TZ", "UTC")
        for command in commands:
            cli.ok("--home", str(home), *command)
    return home


def elsewhere(tmp_path: Path, name: str = "restored") -> config.Settings:
    return config.resolve(home=tmp_path / name, environ={})


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dump(database: Path) -> list[str]:
    connection = sqlite3.connect(database)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def blobs(home: Path) -> dict[str, bytes]:
    return {str(path.relative_to(home)): path.read_bytes() for path in blob_files(home)}


def plaintext(archive: Path, password: str | None = None) -> bytes:
    with archive.open("rb") as raw:
        return SealedReader(raw, password).read()


def tar_members(payload: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        return tar.getmembers()


def refused(
    settings: config.Settings, archive: Path, password: str | None = None
) -> CarebinderError:
    """Restore must refuse, in one line, and leave no trace beside the home either."""
    parent = settings.home.parent
    before = sorted(os.listdir(parent))
    with pytest.raises(CarebinderError) as error:
        restore_backup(settings, archive, password=password)
    message = error.value.message
    assert "\n" not in message
    assert "Ana" not in message and "MARKER" not in message
    assert not settings.home.exists()
    assert sorted(os.listdir(parent)) == before
    return error.value
