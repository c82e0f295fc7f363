"""db: opening and creating a binder, SQLite settings, sessions and their hooks; UTCDateTime."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, create_engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from carebinder import config
from carebinder.columns import UTCDateTime
from carebinder.db import (
    SCHEMA_HEAD,
    after_commit,
    current_revision,
    make_engine,
    on_rollback,
    open_binder,
    session_scope,
)
from carebinder.errors import BinderMissing, DatabaseUnreachable, SchemaTooNew
from carebinder.models import Appointment, Doctor, Patient, Purpose
from tests.conftest import mode


def tree(root: Path) -> list[Path]:
    return sorted(root.rglob("*")) if root.exists() else []


def patient_names(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return list(s.scalars(select(Patient.name).order_by(Patient.id)))


# --- open_binder ----------------------------------------------------------------------------


@pytest.mark.sqlite_only("about the binder.db file and its SQLite settings")
def test_create_makes_a_private_home_store_and_database(settings: config.Settings) -> None:
    engine = open_binder(settings, create=True)
    engine.dispose()

    assert settings.sqlite_path == settings.home / "binder.db"
    assert mode(settings.home) == 0o700
    assert mode(settings.store_dir) == 0o700
    assert mode(settings.home / "binder.db") == 0o600
    assert current_revision(engine) == SCHEMA_HEAD


def test_create_tightens_an_existing_loose_home(settings: config.Settings) -> None:
    settings.home.mkdir(parents=True)
    settings.home.chmod(0o755)

    open_binder(settings, create=True).dispose()

    assert mode(settings.home) == 0o700


@pytest.mark.sqlite_only("about the binder.db file and its SQLite settings")
def test_opening_tightens_loose_wal_and_shm_files(settings: config.Settings) -> None:
    open_binder(settings, create=True).dispose()
    path = settings.home / "binder.db"
    holder = sqlite3.connect(path)  # keeps the -wal and -shm files in place
    try:
        holder.execute("SELECT count(*) FROM patient").fetchone()
        extras = [Path(f"{path}-wal"), Path(f"{path}-shm")]
        for extra in extras:
            assert extra.exists()
            extra.chmod(0o644)

        open_binder(settings).dispose()

        assert [mode(extra) for extra in extras] == [0o600, 0o600]
        assert mode(path) == 0o600
    finally:
        holder.close()


def test_create_twice_keeps_the_data(settings: config.Settings) -> None:
    engine = open_binder(settings, create=True)
    with session_scope(engine) as s:
        s.add(Patient(name="Ana Souza", born=date(1964, 4, 12)))
    engine.dispose()

    again = open_binder(settings, create=True)
    try:
        assert patient_names(again) == ["Ana Souza"]
    finally:
        again.dispose()


@pytest.mark.sqlite_only("about the binder.db file and its SQLite settings")
def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(engine: Engine) -> None:
    for _ in range(2):  # every new connection, not just the first
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
        engine.dispose()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(Doctor(patient_id=999, name="Dr. Nobody"))


@pytest.mark.sqlite_only("about the binder.db file and its SQLite settings")
def test_missing_binder_is_refused_and_nothing_is_created(
    settings: config.Settings, tmp_path: Path
) -> None:
    before = tree(tmp_path)

    with pytest.raises(BinderMissing) as missing:
        open_binder(settings)

    assert "carebinder init" in missing.value.message
    assert str(settings.home) in missing.value.message
    assert not settings.home.exists()
    assert tree(tmp_path) == before


@pytest.mark.sqlite_only("about the binder.db file and its SQLite settings")
def test_missing_database_in_an_existing_home_creates_nothing(
    settings: config.Settings,
) -> None:
    settings.home.mkdir(mode=0o755)
    settings.home.chmod(0o755)

    with pytest.raises(BinderMissing, match="carebinder init"):
        open_binder(settings)

    assert tree(settings.home) == []
    assert mode(settings.home) == 0o755


def test_missing_binder_with_a_database_url_elsewhere(tmp_path: Path) -> None:
    settings = config.resolve(
        home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'db' / 'x.db'}", environ={}
    )
    with pytest.raises(BinderMissing, match="carebinder init"):
        open_binder(settings)
    assert tree(tmp_path) == []


def test_missing_binder_with_a_driver_qualified_url_creates_nothing(tmp_path: Path) -> None:
    settings = config.resolve(
        home=tmp_path / "home",
        database_url=f"sqlite+pysqlite:///{tmp_path / 'x.db'}",
        environ={},
    )
    with pytest.raises(BinderMissing, match="carebinder init"):
        open_binder(settings)
    assert tree(tmp_path) == []


def test_empty_database_file_is_refused_without_create(settings: config.Settings) -> None:
    settings.home.mkdir(mode=0o700)
    sqlite3.connect(settings.home / "binder.db").close()

    with pytest.raises(BinderMissing, match="carebinder init"):
        open_binder(settings)

    engine = open_binder(settings, create=True)
    try:
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()


@pytest.mark.sqlite_only("about the binder.db file and its SQLite settings")
@pytest.mark.parametrize("create", [False, True])
def test_unknown_revision_is_schema_too_new(settings: config.Settings, create: bool) -> None:
    open_binder(settings, create=True).dispose()
    with sqlite3.connect(settings.home / "binder.db") as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    raw.close()

    with pytest.raises(SchemaTooNew, match="newer carebinder"):
        open_binder(settings, create=create)

    with sqlite3.connect(settings.home / "binder.db") as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999",)]
    raw.close()


def test_current_revision(settings: config.Settings, tmp_path: Path) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert current_revision(empty) is None
    finally:
        empty.dispose()
    engine = open_binder(settings, create=True)
    try:
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()


# --- session_scope --------------------------------------------------------------------------


def test_session_scope_commits_on_success(engine: Engine) -> None:
    with session_scope(engine) as s:
        s.add(Patient(name="Ana Souza", born=date(1964, 4, 12)))
    assert patient_names(engine) == ["Ana Souza"]


def test_session_scope_rolls_back_on_error(engine: Engine) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), session_scope(engine) as s:
        s.add(Patient(name="Ana Souza", born=date(1964, 4, 12)))
        s.flush()
        raise Boom

    assert patient_names(engine) == []


def test_hooks_on_success_run_after_the_commit_only(engine: Engine) -> None:
    calls: list[str] = []
    seen_by_hook: list[list[str]] = []

    def after() -> None:
        calls.append("after_commit")
        seen_by_hook.append(patient_names(engine))  # the commit is visible from outside

    with session_scope(engine) as s:
        on_rollback(s, lambda: calls.append("on_rollback"))
        after_commit(s, after)
        after_commit(s, lambda: calls.append("after_commit 2"))
        s.add(Patient(name="Ana Souza", born=date(1964, 4, 12)))
        assert calls == []  # nothing runs before the end of the scope

    assert calls == ["after_commit", "after_commit 2"]
    assert seen_by_hook == [["Ana Souza"]]


def test_hooks_on_error_run_rollback_hooks_only(engine: Engine) -> None:
    calls: list[str] = []

    with pytest.raises(RuntimeError, match="boom"), session_scope(engine) as s:
        on_rollback(s, lambda: calls.append("on_rollback 1"))
        on_rollback(s, lambda: calls.append("on_rollback 2"))
        after_commit(s, lambda: calls.append("after_commit"))
        s.add(Patient(name="Ana Souza", born=date(1964, 4, 12)))
        raise RuntimeError("boom")

    assert calls == ["on_rollback 1", "on_rollback 2"]
    assert patient_names(engine) == []


def test_a_failing_commit_runs_rollback_hooks(engine: Engine) -> None:
    calls: list[str] = []

    with pytest.raises(IntegrityError), session_scope(engine) as s:
        on_rollback(s, lambda: calls.append("on_rollback"))
        after_commit(s, lambda: calls.append("after_commit"))
        s.add(Doctor(patient_id=12345, name="Dr. Nobody"))  # fails at commit (flush)

    assert calls == ["on_rollback"]


def test_rollback_hooks_see_the_rollback_done(engine: Engine) -> None:
    seen: list[list[str]] = []

    with pytest.raises(ValueError, match="nope"), session_scope(engine) as s:
        s.add(Patient(name="Ana Souza", born=date(1964, 4, 12)))
        s.flush()
        on_rollback(s, lambda: seen.append(patient_names(engine)))
        raise ValueError("nope")

    assert seen == [[]]


def test_objects_stay_usable_after_the_scope(engine: Engine) -> None:
    with session_scope(engine) as s:
        patient = Patient(name="Ana Souza", born=date(1964, 4, 12))
        s.add(patient)
    assert patient.id == 1
    assert patient.name == "Ana Souza"


# --- locking --------------------------------------------------------------------------------


def begin_immediate_elsewhere(path: Path) -> None:
    """Try to start a write from another connection, without waiting."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.mark.sqlite_only("about the binder.db file and its SQLite settings")
def test_write_sessions_take_the_write_lock_up_front(
    engine: Engine, settings: config.Settings
) -> None:
    path = settings.home / "binder.db"
    with session_scope(engine) as s:
        # A read first: with a DEFERRED transaction this would take only a read lock.
        s.execute(select(Patient)).all()
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            begin_immediate_elsewhere(path)

    begin_immediate_elsewhere(path)  # released at the end of the scope


def test_read_sessions_do_not_block_writers(engine: Engine, settings: config.Settings) -> None:
    path = settings.home / "binder.db"
    with session_scope(engine, write=False) as s:
        s.execute(select(Patient)).all()
        begin_immediate_elsewhere(path)


def test_concurrent_read_then_write_sessions_both_succeed(engine: Engine) -> None:
    """Two writers that read first: the second waits for the first (SQLite's BEGIN
    IMMEDIATE, PostgreSQL's advisory lock) instead of failing or losing an update."""
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        try:
            start.wait()
            with session_scope(engine) as s:
                count = len(s.execute(select(Patient)).all())
                time.sleep(0.2)
                s.add(Patient(name=f"{name} {count}", born=date(1960, 1, 1)))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    names = patient_names(engine)
    assert len(names) == 2
    # Serialised: one of them saw the other's row.
    assert sorted(n.split()[1] for n in names) == ["0", "1"]


# --- UTCDateTime ----------------------------------------------------------------------------


@pytest.fixture
def stamps() -> tuple[Engine, Table]:
    engine = create_engine("sqlite://")
    table = Table(
        "stamp",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", UTCDateTime()),
    )
    table.metadata.create_all(engine)
    return engine, table


def test_aware_datetime_round_trips_as_utc(stamps: tuple[Engine, Table]) -> None:
    engine, table = stamps
    new_york = datetime(2026, 3, 10, 10, 30, tzinfo=ZoneInfo("America/New_York"))
    with engine.begin() as conn:
        conn.execute(table.insert().values(id=1, at=new_york))
        back = conn.execute(select(table.c.at)).scalar_one()
        stored = conn.execute(text("SELECT at FROM stamp")).scalar_one()

    assert back == new_york
    assert back.tzinfo is not None
    assert back.utcoffset() == timedelta(0)
    assert back == datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
    assert stored.startswith("2026-03-10 14:30:00")  # naive UTC on SQLite


def test_none_round_trips(stamps: tuple[Engine, Table]) -> None:
    engine, table = stamps
    with engine.begin() as conn:
        conn.execute(table.insert().values(id=1, at=None))
        assert conn.execute(select(table.c.at)).scalar_one() is None


def test_naive_datetime_is_refused(stamps: tuple[Engine, Table]) -> None:
    engine, table = stamps
    with pytest.raises(StatementError, match="time-zone-aware"), engine.begin() as conn:
        conn.execute(table.insert().values(id=1, at=datetime(2026, 3, 10, 10, 30)))


def test_appointment_time_round_trips_through_the_binder(engine: Engine) -> None:
    new_york = datetime(2026, 11, 2, 9, 15, tzinfo=ZoneInfo("America/New_York"))
    with session_scope(engine) as s:
        patient = Patient(name="Ana Souza", born=date(1964, 4, 12))
        s.add(patient)
        s.flush()
        doctor = Doctor(patient_id=patient.id, name="Dr. Wei Chen")
        s.add(doctor)
        s.flush()
        s.add(
            Appointment(
                patient_id=patient.id,
                doctor_id=doctor.id,
                starts_at=new_york,
                time_zone="America/New_York",
                purpose=Purpose.SECOND_OPINION,
            )
        )

    with Session(engine) as s:
        appointment = s.scalars(select(Appointment)).one()
        assert appointment.starts_at == new_york
        assert appointment.starts_at.tzinfo is not None
        assert appointment.starts_at.utcoffset() == timedelta(0)
        assert appointment.created_at.tzinfo is not None


def test_naive_appointment_time_is_refused(engine: Engine) -> None:
    with pytest.raises(StatementError, match="time-zone-aware"), session_scope(engine) as s:
        patient = Patient(name="Ana Souza", born=date(1964, 4, 12))
        s.add(patient)
        s.flush()
        doctor = Doctor(patient_id=patient.id, name="Dr. Wei Chen")
        s.add(doctor)
        s.flush()
        s.add(
            Appointment(
                patient_id=patient.id,
                doctor_id=doctor.id,
                starts_at=datetime(2026, 11, 2, 9, 15),
                time_zone="America/New_York",
                purpose=Purpose.SECOND_OPINION,
            )
        )
    assert patient_names(engine) == []


def test_bind_keeps_the_zone_for_postgresql() -> None:
    column = UTCDateTime()
    tokyo = datetime(2026, 1, 5, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

    on_pg = column.process_bind_param(tokyo, postgresql.dialect())
    on_sqlite = column.process_bind_param(tokyo, sqlite.dialect())

    assert on_pg == tokyo
    assert on_pg is not None
    assert on_pg.tzinfo == UTC
    assert on_sqlite == datetime(2026, 1, 5, 0, 0)
    assert on_sqlite is not None
    assert on_sqlite.tzinfo is None


def test_result_is_aware_utc_from_either_kind_of_value() -> None:
    column = UTCDateTime()
    aware = datetime(2026, 1, 5, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    from_pg = column.process_result_value(aware, postgresql.dialect())
    from_sqlite = column.process_result_value(datetime(2026, 1, 5, 0, 0), sqlite.dialect())

    assert from_pg == from_sqlite == aware
    assert from_pg is not None
    assert from_pg.tzinfo == UTC
    assert from_sqlite is not None
    assert from_sqlite.tzinfo == UTC


def test_a_database_file_sqlite_cannot_open_is_not_called_empty(tmp_path: Path) -> None:
    folder = tmp_path / "binder.db"
    folder.mkdir()
    settings = config.resolve(
        home=tmp_path / "home", database_url=f"sqlite:///{folder}", environ={}
    )

    with pytest.raises(DatabaseUnreachable) as refused:
        open_binder(settings, create=True)

    assert refused.value.message == (
        "Could not open the binder's database (unable to open database file). Check --db or"
        " CAREBINDER_DATABASE_URL, and that its file can be read and written."
    )
    assert list(folder.iterdir()) == []
