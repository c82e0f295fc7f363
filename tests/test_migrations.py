"""The schema's history: Alembic's scripts, the program's idea of them, and real upgrades.

Adding a revision needs, besides the script: SCHEMA_HEAD and SCHEMA_REVISIONS in db.py, and
a seed file tests/migration_data/<revision>.sql that writes the binder described below
(EXPECTED_*) in that revision's schema. Nothing in this file has to change.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.orm import Session

from carebinder import config, migrate
from carebinder.db import (
    SCHEMA_HEAD,
    SCHEMA_REVISIONS,
    current_revision,
    make_engine,
    open_binder,
    session_scope,
)
from carebinder.errors import BinderMissing
from carebinder.models import Base
from carebinder.search import is_index_table
from carebinder.services import (
    allergies,
    appointments,
    checklist,
    conditions,
    doctors,
    materials,
    medications,
    opinions,
    patients,
    questions,
    records,
    results,
    search,
    treatments,
)
from carebinder.store import Store
from tests.conftest import Cli

REPO = Path(__file__).resolve().parents[1]
SEEDS = Path(__file__).resolve().parent / "migration_data"
VERSION_TABLE = "alembic_version"
MODEL_TABLES = frozenset(Base.metadata.tables)


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrate.alembic_config())


def revisions_in_order() -> list[str]:
    """Every revision from the first to head, as Alembic's scripts say."""
    return [s.revision for s in reversed(list(script_directory().walk_revisions()))]


def sqlite_engine(path: Path) -> Engine:
    return make_engine(f"sqlite:///{path}")


def user_tables(engine: Engine) -> set[str]:
    """The tables the models declare (not the search index, which SQL made: see below)."""
    names = set(inspect(engine).get_table_names()) - {VERSION_TABLE}
    return {name for name in names if not is_index_table(name)}


def triggers(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        )
        return [(str(name), str(table)) for name, table in rows]


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """As migrations/env.py: the search index is not compared with the models."""
    return not (type_ == "table" and name is not None and is_index_table(name))


def schema_snapshot(engine: Engine) -> dict[str, Any]:
    """Tables (the search index's too) with their columns, indexes, foreign keys and checks,
    and the triggers, for comparing states."""
    insp = inspect(engine)
    snapshot: dict[str, Any] = {"(triggers)": triggers(engine)}
    for table in sorted(set(insp.get_table_names()) - {VERSION_TABLE}):
        snapshot[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)
            ],
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
            ),
            "fks": sorted(
                (
                    fk["name"] or "",
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    (fk.get("options") or {}).get("ondelete") or "",
                )
                for fk in insp.get_foreign_keys(table)
            ),
            "checks": sorted(c["sqltext"] for c in insp.get_check_constraints(table)),
        }
    return snapshot


# --- the program's list of revisions --------------------------------------------------------


def test_schema_head_is_the_alembic_head() -> None:
    assert script_directory().get_heads() == [SCHEMA_HEAD]
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head == SCHEMA_HEAD


def test_schema_revisions_list_every_revision_in_order() -> None:
    assert list(SCHEMA_REVISIONS) == revisions_in_order()
    assert SCHEMA_REVISIONS[-1] == SCHEMA_HEAD
    assert len(set(SCHEMA_REVISIONS)) == len(SCHEMA_REVISIONS)


def test_revision_files_are_named_after_their_revision() -> None:
    script = script_directory()
    for revision in SCHEMA_REVISIONS:
        found = script.get_revision(revision)
        assert found is not None
        assert found.path is not None
        assert Path(found.path).name.startswith(f"{revision}_"), found.path


def test_the_program_uses_the_scripts_of_this_checkout() -> None:
    found = migrate.migrations_dir()
    assert (found / "env.py").is_file()
    checkout_versions = sorted(p.name for p in (REPO / "migrations" / "versions").glob("*.py"))
    found_versions = sorted(p.name for p in (found / "versions").glob("*.py"))
    assert found_versions == checkout_versions


# --- drift: the models and the migrations describe the same schema -------------------------


def drift(engine: Engine) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "render_as_batch": engine.dialect.name == "sqlite",
                "compare_type": True,
                "target_metadata": Base.metadata,
                "include_name": include_name,
            },
        )
        return list(compare_metadata(context, Base.metadata))


def test_head_schema_matches_the_models(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "drift.db")
    try:
        migrate.upgrade(engine)
        diff = drift(engine)
    finally:
        engine.dispose()
    assert diff == []


def run_alembic(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, config.DATABASE_ENV: url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_alembic_check_from_the_checkout_finds_no_drift(tmp_path: Path) -> None:
    assert (REPO / "alembic.ini").is_file()
    url = f"sqlite:///{tmp_path / 'x.db'}"

    upgraded = run_alembic("upgrade", "head", url=url)
    assert upgraded.returncode == 0, upgraded.stderr
    checked = run_alembic("check", url=url)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr
    engine = sqlite_engine(tmp_path / "x.db")
    try:
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()


# --- up and down ----------------------------------------------------------------------------


def test_base_to_head_to_base_to_head(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "roundtrip.db")
    try:
        assert user_tables(engine) == set()

        migrate.upgrade(engine)
        assert current_revision(engine) == SCHEMA_HEAD
        assert user_tables(engine) == MODEL_TABLES
        first = schema_snapshot(engine)

        migrate.downgrade(engine, "base")
        assert current_revision(engine) is None
        assert user_tables(engine) == set()

        migrate.upgrade(engine)
        assert current_revision(engine) == SCHEMA_HEAD
        assert user_tables(engine) == MODEL_TABLES
        assert schema_snapshot(engine) == first
    finally:
        engine.dispose()


def test_each_step_down_undoes_its_step_up(tmp_path: Path) -> None:
    """Revision by revision: going down to R gives the schema that going up to R gave."""
    engine = sqlite_engine(tmp_path / "steps.db")
    try:
        snapshots = {None: schema_snapshot(engine)}
        for revision in SCHEMA_REVISIONS:
            migrate.upgrade(engine, revision)
            assert current_revision(engine) == revision
            snapshots[revision] = schema_snapshot(engine)
        assert user_tables(engine) == MODEL_TABLES
        assert "search_index" in snapshots[SCHEMA_HEAD]
        # 10 tables x insert/update/delete
        assert len(snapshots[SCHEMA_HEAD]["(triggers)"]) == 30

        below: list[str | None] = [None, *SCHEMA_REVISIONS[:-1]]
        for revision, previous in reversed(list(zip(SCHEMA_REVISIONS, below, strict=True))):
            assert current_revision(engine) == revision
            migrate.downgrade(engine, "-1")
            assert current_revision(engine) == previous
            assert schema_snapshot(engine) == snapshots[previous]
        assert user_tables(engine) == set()
    finally:
        engine.dispose()


# --- data survives every upgrade ------------------------------------------------------------

# The binder each seed file writes, as the services report it after upgrading to head.
FILE_CONTENT = {
    1: b"%PDF-1.4\n% Core biopsy, left breast: invasive ductal carcinoma\n%%EOF\n",
    2: b"PK\x03\x04 PET-CT series 1-4",
    3: b"%PDF-1.4\ntruncated",
}

EXPECTED_PATIENT = {
    "id": 1,
    "name": "Ana Souza",
    "born": "1964-04-12",
    "mrn": "MGH-0042117",
    "phone": "+1 617 555 0100",
    "email": "ana.souza@example.org",
    "address": "12 Beacon Street\nBoston, MA 02108",
    "insurance": {
        "payer": "Blue Cross Blue Shield",
        "plan": "PPO Gold",
        "member_id": "XJH123456789",
        "phone": "+1 800 555 0199",
    },
    "no_medications_on": None,
    "no_allergies_on": None,
}

EXPECTED_DOCTORS = [  # ordered by name
    {
        "id": 1,
        "name": "Dr. Maria Lopez",
        "specialty": "Medical oncology",
        "institution": "Massachusetts General Hospital",
        "role": "diagnosing",
        "phone": "+1 617 555 0111",
        "email": None,
        "address": "55 Fruit Street, Boston",
        "npi": "1234567893",
        "referred_by": None,
        "notes": None,
    },
    {
        "id": 2,
        "name": "Dr. Wei Chen",
        "specialty": "Surgical oncology",
        "institution": "Dana-Farber Cancer Institute",
        "role": "second-opinion",
        "phone": None,
        "email": "wchen@example.org",
        "address": None,
        "npi": None,
        "referred_by": 1,
        "notes": "Referred by Dr. Lopez; bring the slides.",
    },
]


def _file(ident: int, name: str, media_type: str, pages: int | None, bad: str | None) -> dict:
    content = FILE_CONTENT[ident]
    return {
        "id": ident,
        "name": name,
        "media_type": media_type,
        "size": len(content),
        "page_count": pages,
        "sha256": hashlib.sha256(content).hexdigest(),
        "unreadable": bad,
        "has_text": None,  # attached before carebinder read the words of PDFs
        "unprintable": None,  # read before carebinder checked pages for the packet
        "notice": None,
        # Nothing to recognise: a PDF whose words were never read, a ZIP, a damaged PDF.
        "ocr": None,
        "ocr_pages": None,
        "ocr_confidence": None,
        "ocr_languages": None,
        "ocr_failed": None,
    }


EXPECTED_RECORDS = [  # by date, undated last
    {
        "id": 1,
        "kind": "pathology",
        "title": "Core biopsy pathology report",
        "date": "2026-01-20",
        "doctor": 1,
        "institution": "Massachusetts General Hospital",
        "notes": "ER+/PR+/HER2-, Ki-67 20%",
        "files": [_file(1, "biopsy-report.pdf", "application/pdf", 1, None)],
    },
    {
        "id": 2,
        "kind": "imaging",
        "title": "PET-CT",
        "date": "2026-01-28",
        "doctor": None,
        "institution": "MGH Imaging",
        "notes": None,
        "files": [
            _file(2, "pet-ct disc.zip", "application/zip", None, None),
            _file(
                3,
                "pet-ct report.pdf",
                "application/pdf",
                None,
                "the PDF is damaged (unexpected end of file)",
            ),
        ],
    },
    {
        "id": 3,
        "kind": "other",
        "title": "Insurance letter",
        "date": None,
        "doctor": None,
        "institution": None,
        "notes": None,
        "files": [],
    },
]

# Opinions written before revision 0008 have none of the structured cancer facts.
NO_CANCER_FACTS = dict.fromkeys(
    ("site", "laterality", "histology", "grade", "t", "n", "m", "staging", "tnm"),
    None,
) | {"ajcc_edition": None, "ecog": None}

EXPECTED_OPINIONS = [
    {
        "id": 1,
        "doctor": 1,
        "doctor_name": "Dr. Maria Lopez",
        "date": "2026-01-25",
        "diagnosis": "Invasive ductal carcinoma, ER+/PR+/HER2-",
        "stage": "IIA",
        "plan": "Lumpectomy, then radiation",
        "notes": None,
        "records": [1],
        **NO_CANCER_FACTS,
    },
    {
        "id": 2,
        "doctor": 2,
        "doctor_name": "Dr. Wei Chen",
        "date": "2026-02-10",
        "diagnosis": "Invasive ductal carcinoma, ER+/PR+/HER2-",
        "stage": "IIB",
        "plan": "Neoadjuvant chemotherapy, then surgery",
        "notes": "Wants a genomic test first.",
        "records": [1, 2],
        **NO_CANCER_FACTS,
    },
]

EXPECTED_APPOINTMENTS = [  # by start time
    {
        "id": 2,
        "doctor": 1,
        "doctor_name": "Dr. Maria Lopez",
        "start": "2025-12-15T01:00:00-08:00",
        "time_zone": "America/Los_Angeles",
        "location": None,
        "purpose": "follow-up",
        "status": "done",
        "companion": None,
        "notes": None,
        "staff_told": False,
        "records_sent_on": None,
        "coverage": "confirmed",
        "coverage_ref": None,
        "records": [],
    },
    {
        "id": 1,
        "doctor": 2,
        "doctor_name": "Dr. Wei Chen",
        "start": "2026-03-10T10:30:00-04:00",
        "time_zone": "America/New_York",
        "location": "Dana-Farber, 450 Brookline Ave, Boston",
        "purpose": "second-opinion",
        "status": "planned",
        "companion": "João (husband)",
        "notes": "Arrive 30 minutes early.",
        "staff_told": True,
        "records_sent_on": "2026-03-01",
        "coverage": "pre-auth-needed",
        "coverage_ref": "PA-77821",
        "records": [1, 2],
    },
]

EXPECTED_QUESTIONS = [
    {
        "id": 1,
        "text": "Would neoadjuvant chemotherapy change the surgery options?",
        "appointment": 1,
        "answer": None,
        "answered_by": None,
        "answered_on": None,
    },
    {
        "id": 2,
        "text": "Is genomic testing (Oncotype DX) needed?",
        "appointment": None,
        "answer": "Yes, on the surgical specimen.",
        "answered_by": 1,
        "answered_on": "2026-01-25",
    },
]

EXPECTED_MATERIALS = [
    {
        "id": 1,
        "kind": "glass-slides",
        "description": "H&E slides from the core biopsy (6 slides)",
        "institution": "MGH Pathology",
        "status": "sent",
        "requested_on": "2026-02-01",
        "received_on": "2026-02-05",
        "sent_on": "2026-02-20",
        "returned_on": None,
    },
    {
        "id": 2,
        "kind": "imaging-disc",
        "description": "PET-CT disc",
        "institution": "MGH Imaging",
        "status": "requested",
        "requested_on": "2026-02-25",
        "received_on": None,
        "sent_on": None,
        "returned_on": None,
    },
]


def check_health_facts(s: Session) -> None:
    """The second patient's health facts, which seeds of revision 0008 and later hold."""
    other = patients.get_patient(s, 2)
    assert other.no_medications_on == date(2026, 1, 7)
    state = medications.medication_state(s, other)
    assert [m.name for m in state.stopped] == ["Omeprazole"]
    assert state.current == []
    assert state.recorded
    stopped = medications.to_json(state.stopped[0])
    assert stopped["prescriber_name"] == "Dr. Ingrid Berg"
    assert (stopped["kind"], stopped["stopped"]) == ("over-the-counter", "2025-09-01")
    assert [allergies.to_json(a) for a in allergies.list_allergies(s, other.id)] == [
        {
            "id": 1,
            "substance": "Penicillin",
            "reaction": "Hives",
            "severity": "severe",
            "kind": "medication",
            "notes": None,
        }
    ]
    assert [c.name for c in conditions.list_conditions(s, other.id)] == ["Type 2 diabetes"]
    assert [t.name for t in treatments.list_treatments(s, other.id)] == ["R-CHOP, 6 cycles"]
    (ldh,) = results.trends(results.list_results(s, other.id))
    assert [(r.value, r.interpretation) for r in ldh.values] == [("310", "high"), ("190", "normal")]
    facts = [opinions.to_json(o) for o in opinions.list_opinions(s, other.id)]
    assert [(f["laterality"], f["tnm"], f["ajcc_edition"], f["ecog"]) for f in facts] == [
        ("left", None, 8, 1),
        ("right", "pT1c pN0 cM0", 8, None),
    ]

    def found(query: str) -> set[tuple[str, int]]:
        return {(hit.kind, hit.id) for hit in search.search(s, other.id, query).hits}

    assert found("penicillin") == {("allergy", 1)}
    assert found("omeprazole") == {("medication", 1)}
    assert found("LDH") == {("result", 1), ("result", 2)}
    assert found("diabetes") == {("condition", 1)}
    assert found("R-CHOP") == {("treatment", 1), ("opinion", 3)}
    assert found("ductal") == {("opinion", 4)}  # its histology


def check_seeded_binder(s: Session, store: Store) -> None:
    """Everything the seed files write, read back through the models and services."""
    ana = patients.get_patient(s, 1)
    assert patients.to_json(ana) == EXPECTED_PATIENT
    assert ana.born == date(1964, 4, 12)
    assert ana.created_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert ana.updated_at == datetime(2026, 1, 6, 10, 15, 30, 250_000, tzinfo=UTC)
    assert ana.created_at.tzinfo is not None
    other = patients.get_patient(s, 2)
    assert (other.name, other.born) == ("Øyvind Nguyễn", date(1950, 1, 2))
    assert [p.id for p in patients.list_patients(s)] == [1, 2]

    listed = doctors.list_doctors(s, ana.id)
    assert [doctors.to_json(d) for d in listed] == EXPECTED_DOCTORS
    chen = doctors.get_doctor(s, ana.id, 2)
    assert chen.referred_by is not None
    assert chen.referred_by.name == "Dr. Maria Lopez"
    assert [d.name for d in doctors.list_doctors(s, other.id)] == ["Dr. Ingrid Berg"]

    assert [records.to_json(r) for r in records.list_records(s, ana.id)] == EXPECTED_RECORDS
    assert records.list_records(s, other.id) == []
    biopsy = records.get_record(s, ana.id, 1)
    assert biopsy.doctor is not None
    assert biopsy.doctor.name == "Dr. Maria Lopez"
    for file in (f for r in records.list_records(s, ana.id) for f in r.files):
        content = FILE_CONTENT[file.id]
        assert file.sha256 == hashlib.sha256(content).hexdigest()
        assert file.size == len(content)

    assert [opinions.to_json(o) for o in opinions.list_opinions(s, ana.id)] == EXPECTED_OPINIONS
    comparison = opinions.compare(s, ana.id)
    assert comparison.differing == {"stage", "plan"}
    assert comparison.notes == [opinions.THIRD_OPINION_NOTE, opinions.DISCUSS_NOTE]

    listed_visits = appointments.list_appointments(s, ana.id)
    assert [appointments.to_json(a) for a in listed_visits] == EXPECTED_APPOINTMENTS
    visit = appointments.get_appointment(s, ana.id, 1)
    assert visit.starts_at == datetime(2026, 3, 10, 14, 30, tzinfo=UTC)
    assert visit.starts_at.utcoffset() is not None
    assert appointments.local_start(visit).hour == 10
    assert [r.id for r in appointments.packet_records(s, visit)] == [1, 2]
    assert checklist.build(s, visit) is not None

    listed_questions = questions.list_questions(s, ana.id)
    assert [questions.to_json(q) for q in listed_questions] == EXPECTED_QUESTIONS
    assert listed_questions[0].appointment is not None
    assert listed_questions[0].appointment.id == 1
    assert listed_questions[1].answered_by is not None
    assert listed_questions[1].answered_by.name == "Dr. Maria Lopez"
    assert [q.id for q in questions.list_questions(s, ana.id, unanswered=True)] == [1]

    listed_materials = materials.list_materials(s, ana.id)
    assert [materials.to_json(m) for m in listed_materials] == EXPECTED_MATERIALS

    # The search index holds every row, whether the upgrade or the triggers put it there.
    def found(patient: int, query: str) -> set[tuple[str, int]]:
        return {(hit.kind, hit.id) for hit in search.search(s, patient, query).hits}

    assert found(ana.id, "neoadjuvant") == {("opinion", 2), ("question", 1)}
    assert found(ana.id, "biopsy") == {("record", 1), ("file", 1)}
    assert found(ana.id, "Dana-Farber") == {("doctor", 2)}
    assert found(ana.id, "surgical specimen") == {("question", 2)}
    assert found(ana.id, "Berg") == set()  # the other patient's doctor
    assert found(other.id, "Berg") == {("doctor", 3)}
    # The readable PDF was attached before carebinder read words: search says so.
    unread = search.search(s, ana.id, "biopsy").unread
    assert [(u.file, u.record, u.name) for u in unread] == [(1, 1, "biopsy-report.pdf")]

    # The store agrees with the file rows: storing the same bytes lands on the same blob.
    for ident, content in FILE_CONTENT.items():
        source = store.root.parent / f"incoming-{ident}"
        source.write_bytes(content)
        assert store.put(source).sha256 == hashlib.sha256(content).hexdigest()


def seed_file(revision: str) -> Path:
    return SEEDS / f"{revision}.sql"


def test_every_seed_file_belongs_to_a_revision() -> None:
    assert SEEDS.is_dir()
    assert {p.stem for p in SEEDS.glob("*.sql")} <= set(SCHEMA_REVISIONS)


@pytest.mark.sqlite_only("the seeds are SQLite SQL, run through sqlite3")
@pytest.mark.parametrize("revision", SCHEMA_REVISIONS)
def test_a_binder_written_at_each_revision_survives_the_upgrade(
    revision: str, settings: config.Settings, store: Store
) -> None:
    seed = seed_file(revision)
    if not seed.is_file():
        pytest.fail(
            f"No seed for revision {revision}: write {seed.relative_to(REPO)} with the binder"
            " of tests/test_migrations.py (EXPECTED_*) in that revision's schema."
        )
    path = settings.sqlite_path
    assert path is not None
    config.make_private_dir(settings.home)
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine, revision)
    assert current_revision(engine) == revision
    engine.dispose()

    raw = sqlite3.connect(path)
    try:
        raw.execute("PRAGMA foreign_keys = ON")
        raw.executescript(seed.read_text(encoding="utf-8"))
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        raw.close()

    # First use (no `create`) applies whatever is pending.
    engine = open_binder(settings)
    try:
        assert current_revision(engine) == SCHEMA_HEAD
        with Session(engine) as s:
            check_seeded_binder(s, store)
            if revision >= "0008":
                check_health_facts(s)

        # The upgraded binder takes new rows, and ids carry on.
        with session_scope(engine) as s:
            added = questions.add_question(s, 1, text="How many cycles of chemotherapy?")
        assert added.id == 3
    finally:
        engine.dispose()


# --- the installed program ------------------------------------------------------------------

PROBE = """
import json, sys
from pathlib import Path
import carebinder
from carebinder import config, db, migrate
engine = db.open_binder(config.resolve(home=Path(sys.argv[1]), environ={}), create=True)
print(json.dumps({
    "package": carebinder.__file__,
    "migrations": str(migrate.migrations_dir()),
    "revision": db.current_revision(engine),
    "head": db.SCHEMA_HEAD,
}))
engine.dispose()
"""


def build_wheel(tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    try:
        built = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(out)],
            cwd=tmp_path,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("pip took more than 10 minutes to build the wheel")
    wheels = sorted(out.glob("carebinder-*.whl"))
    if built.returncode != 0 or len(wheels) != 1:
        detail = (built.stderr or built.stdout).strip().splitlines()[-3:]
        pytest.skip(
            "pip could not build carebinder's wheel (is the build backend reachable?): "
            + " | ".join(detail)
        )
    return wheels[0]


def test_an_installed_wheel_finds_its_migrations(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "carebinder/migrations/env.py" in names
        assert "carebinder/migrations/versions/0001_initial_schema.py" in names
        for script in (REPO / "migrations" / "versions").glob("*.py"):
            assert f"carebinder/migrations/versions/{script.name}" in names
        site = tmp_path / "site"
        archive.extractall(site)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    home = tmp_path / "wheel-home"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CAREBINDER_") and key != "PYTHONPATH"
    }
    env["PYTHONPATH"] = str(site)
    ran = subprocess.run(
        [sys.executable, "-c", PROBE, str(home)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr

    report = json.loads(ran.stdout.strip().splitlines()[-1])
    assert Path(report["package"]).resolve().is_relative_to(site.resolve())
    migrations = Path(report["migrations"]).resolve()
    assert migrations.is_relative_to(site.resolve())
    assert migrations == (site / "carebinder" / "migrations").resolve()
    assert report["revision"] == report["head"] == SCHEMA_HEAD

    with sqlite3.connect(home / "binder.db") as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [(SCHEMA_HEAD,)]
    raw.close()


# --- first use ------------------------------------------------------------------------------


def downgraded_to_base(path: Path) -> None:
    engine = sqlite_engine(path)
    try:
        migrate.upgrade(engine)
        migrate.downgrade(engine, "base")
    finally:
        engine.dispose()


def empty_sqlite_file(path: Path) -> None:
    sqlite3.connect(path).close()


@pytest.mark.sqlite_only("makes an empty or downgraded binder.db file")
@pytest.mark.parametrize("make_base", [empty_sqlite_file, downgraded_to_base])
def test_a_database_at_base_is_refused_then_brought_to_head_by_init(
    settings: config.Settings, cli: Cli, make_base: Any
) -> None:
    path = settings.home / "binder.db"
    config.make_private_dir(settings.home)
    make_base(path)
    assert path.exists()

    with pytest.raises(BinderMissing, match="carebinder init"):
        open_binder(settings)

    status = json.loads(cli.ok("db", "status", "--json").stdout)
    assert schema(status) == {"current": None, "head": SCHEMA_HEAD, "up_to_date": False}

    refused = cli("patient", "list")
    assert refused.exit_code != 0
    assert "carebinder init" in refused.stderr

    cli.ok("init")

    status = json.loads(cli.ok("db", "status", "--json").stdout)
    assert schema(status) == {"current": SCHEMA_HEAD, "head": SCHEMA_HEAD, "up_to_date": True}
    engine = sqlite_engine(path)
    try:
        assert user_tables(engine) == MODEL_TABLES
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()


def schema(status: dict[str, object]) -> dict[str, object]:
    """The schema part of `db status --json` (it also says where the binder is)."""
    return {key: status[key] for key in ("current", "head", "up_to_date")}


def test_db_status_without_a_binder_creates_nothing(cli: Cli, settings: config.Settings) -> None:
    status = json.loads(cli.ok("db", "status", "--json").stdout)
    assert schema(status) == {"current": None, "head": SCHEMA_HEAD, "up_to_date": False}
    assert not settings.home.exists()


def test_db_status_after_init(binder: Cli) -> None:
    status = json.loads(binder.ok("db", "status", "--json").stdout)
    assert schema(status) == {"current": SCHEMA_HEAD, "head": SCHEMA_HEAD, "up_to_date": True}
    human = binder.ok("db", "status").stdout
    assert f"Head:    {SCHEMA_HEAD}" in human
    assert "Up to date." in human


# --- revision 0008: medication lists that earlier imports made ------------------------------


def write_imported_lists(engine: Engine) -> None:
    """Four medication lists, written at revision 0007 in SQL either database runs."""
    created = "2026-01-11 10:00:00"
    lists = [
        # as an import left it: converted
        (
            1,
            "Medications (imported from ana.json)",
            "- Letrozole 2.5 MG Oral Tablet (active, prescribed 2026-01-10, Dr. Maria Lopez,"
            " 1 daily)\n- Vitamin D3 1000 UNT (active)",
            "2026-01-11 10:00:00.5",
        ),
        # one medication stopped, on a day the list does not say: kept
        (
            2,
            "Medications (imported from old.json)",
            "- Tamoxifen 20 MG (stopped, prescribed 2020-01-02)",
            created,
        ),
        # edited by the person since the import: kept
        (3, "Medications (imported from edited.json)", "- Metformin 500 MG (active)", "2026-02-01"),
        # typed by hand: kept
        (4, "My medications", "- Aspirin 81 mg", created),
    ]
    keys = [
        (1, "record", 1, "MedicationRequest/m1"),
        (2, "record", 1, "MedicationRequest identifier urn:x|m1"),
        (3, "record", 1, "MedicationRequest/m2"),
        (4, "record", 2, "MedicationRequest/m3"),
        (5, "record", 3, "MedicationRequest/m4"),
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO patient (id, name, born, created_at, updated_at)"
                " VALUES (1, 'Ana Souza', '1964-04-12', :at, :at)"
            ),
            {"at": created},
        )
        conn.execute(
            text(
                "INSERT INTO record (id, patient_id, kind, title, notes, created_at, updated_at)"
                " VALUES (:id, 1, 'medication-list', :title, :notes, :created, :updated)"
            ),
            [
                {"id": i, "title": t, "notes": n, "created": created, "updated": u}
                for i, t, n, u in lists
            ],
        )
        conn.execute(
            text(
                "INSERT INTO source_key (id, patient_id, entity, entity_id, key)"
                " VALUES (:id, 1, :entity, :entity_id, :key)"
            ),
            [{"id": i, "entity": e, "entity_id": r, "key": k} for i, e, r, k in keys],
        )
        if conn.dialect.name == "postgresql":  # ids were given: the sequences carry on after
            for table in ("patient", "record", "source_key"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    )
                )


def test_imported_medication_lists_become_medications_only_where_that_is_safe(
    settings: config.Settings,
) -> None:
    config.make_private_dir(settings.home)
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine, "0007")
    write_imported_lists(engine)
    engine.dispose()

    engine = open_binder(settings)
    try:
        with Session(engine) as s:
            kept = records.list_records(s, 1)
            assert sorted(r.id for r in kept) == [2, 3, 4]
            assert next(r for r in kept if r.id == 2).notes == (
                "- Tamoxifen 20 MG (stopped, prescribed 2020-01-02)"
            )
            converted = [medications.to_json(m) for m in medications.list_medications(s, 1)]
            assert [(m["name"], m["started"], m["current"], m["notes"]) for m in converted] == [
                (
                    "Letrozole 2.5 MG Oral Tablet",
                    "2026-01-10",
                    True,
                    "Imported from FHIR: active, prescribed 2026-01-10, Dr. Maria Lopez, 1 daily.",
                ),
                ("Vitamin D3 1000 UNT", None, True, "Imported from FHIR: active."),
            ]
            ids = {m["name"]: m["id"] for m in converted}
            keys = s.execute(
                text("SELECT key, entity, entity_id FROM source_key ORDER BY id")
            ).all()
            letrozole, vitamin = ids["Letrozole 2.5 MG Oral Tablet"], ids["Vitamin D3 1000 UNT"]
            assert [tuple(k) for k in keys] == [
                ("MedicationRequest/m1", "medication", letrozole),
                ("MedicationRequest identifier urn:x|m1", "medication", letrozole),
                ("MedicationRequest/m2", "medication", vitamin),
                ("MedicationRequest/m3", "record", 2),
                ("MedicationRequest/m4", "record", 3),
            ]
            # The search index followed: the converted list is gone, the medications are in.
            hits = {(h.kind, h.id) for h in search.search(s, 1, "letrozole").hits}
            assert hits == {("medication", letrozole)}
            hits = {(h.kind, h.id) for h in search.search(s, 1, "tamoxifen").hits}
            assert hits == {("record", 2)}
    finally:
        engine.dispose()
