"""Shared fixtures: a real binder in a temporary home, real files, and a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from carebinder import config
from carebinder.cli import app
from carebinder.db import open_binder
from carebinder.models import Patient
from carebinder.services import patients
from carebinder.store import Store


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own binder or settings."""
    for name in (config.HOME_ENV, config.DATABASE_ENV, config.PATIENT_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv("TZ", "UTC")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def settings(home: Path) -> config.Settings:
    return config.resolve(home=home, environ={})


@pytest.fixture
def engine(settings: config.Settings) -> Iterator[Engine]:
    engine = open_binder(settings, create=True)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on a migrated binder. Tests commit when they need to."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def store(settings: config.Settings) -> Store:
    return Store(settings.store_dir)


@pytest.fixture
def patient(session: Session) -> Patient:
    return patients.add_patient(session, name="Ana Souza", born=date(1964, 4, 12))


@pytest.fixture
def other_patient(session: Session) -> Patient:
    return patients.add_patient(session, name="Øyvind Nguyễn", born=date(1950, 1, 2))


def write_pdf(path: Path, pages: int = 1) -> Path:
    """A small, valid PDF with `pages` blank pages."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(612, 792))
    pdf.save(path)
    return path


@pytest.fixture
def make_pdf(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "report.pdf", pages: int = 1) -> Path:
        folder = tmp_path / "inbox"
        folder.mkdir(exist_ok=True)
        return write_pdf(folder / name, pages)

    return make


@pytest.fixture
def make_file(tmp_path: Path) -> Callable[[str, bytes], Path]:
    def make(name: str, content: bytes) -> Path:
        folder = tmp_path / "inbox"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_bytes(content)
        return path

    return make


@dataclass
class Cli:
    """Runs `carebinder` in-process against the test's home."""

    runner: CliRunner

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result


@pytest.fixture
def cli() -> Cli:
    return Cli(CliRunner())


@pytest.fixture
def binder(cli: Cli) -> Cli:
    """A binder with one patient, ready for commands."""
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    return cli


def blob_files(home: Path) -> list[Path]:
    store = home / config.STORE_DIR
    if not store.exists():
        return []
    return sorted(p for p in store.rglob("*") if p.is_file())


def mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
