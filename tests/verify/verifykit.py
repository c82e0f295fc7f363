"""Helpers the verify tests share: the binder the `binder` fixture builds, the check as the
tests run it, and ways to damage blobs and binder.db."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from carebinder import config, verify
from carebinder.store import Store
from carebinder.verify import Report
from tests.conftest import mode

MakeFile = Callable[[str, bytes], Path]


@dataclass(frozen=True)
class Attached:
    file: int
    record: int
    patient: int
    sha256: str
    path: Path


@dataclass(frozen=True)
class Binder:
    """Two patients, three records, four files, committed."""

    files: list[Attached]
    settings: config.Settings
    store: Store

    @property
    def home(self) -> Path:
        return self.settings.home

    def rel(self, path: Path) -> str:
        return path.relative_to(self.home).as_posix()


def run(engine: Engine, binder: Binder, min_age: float = 0) -> Report:
    return verify.check(engine, binder.settings, min_age=min_age)


def kinds(report: Report) -> list[str]:
    return [p.kind for p in report.problems]


def only(report: Report, kind: str) -> verify.Problem:
    found = [p for p in report.problems if p.kind == kind]
    assert len(found) == 1, report.problems
    return found[0]


def rewrite(path: Path, change: Callable[[bytes], bytes]) -> None:
    """Change a blob's bytes in place, keeping its (read-only) mode."""
    before = mode(path)
    path.chmod(0o600)
    path.write_bytes(change(path.read_bytes()))
    path.chmod(before)


def flip_bit(content: bytes) -> bytes:
    middle = len(content) // 2
    return content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1 :]


def new_blob(binder: Binder, make_file: MakeFile, content: bytes = b"left over\n") -> Path:
    """A blob in the store that no row references (as an interrupted attach leaves)."""
    return binder.store.put(make_file("orphan.bin", content)).path


def raw_db(settings: config.Settings) -> sqlite3.Connection:
    """A connection that bypasses carebinder (foreign keys off, as a careless tool would)."""
    path = settings.sqlite_path
    assert path is not None
    return sqlite3.connect(path, isolation_level=None)


def damage_page(settings: config.Settings, engine: Engine, page: int) -> None:
    """Overwrite one page of binder.db with random bytes (after the WAL is checkpointed)."""
    engine.dispose()
    path = settings.sqlite_path
    assert path is not None
    with raw_db(settings) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    junk = random.Random(page).randbytes(size)
    with path.open("r+b") as handle:
        handle.seek((page - 1) * size)
        handle.write(junk)


def page_of(settings: config.Settings, name: str) -> int:
    conn = raw_db(settings)
    try:
        return int(
            conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        )
    finally:
        conn.close()
