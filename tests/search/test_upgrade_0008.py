"""Migration 0008 and the search index: a binder written at 0007 (records, files, doctors,
opinions, questions, and a medication list an import made) still finds all of it after the
upgrade, on either database. On SQLite the index is rebuilt with rowid `id * 16 + code`
(it was `id * 8 + code`): an old rowid read the new way would name another row (record 3
was 25, which is now treatment 1), so the test picks ids where that would show."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from carebinder import config, migrate
from carebinder.db import current_revision, make_engine, session_scope
from carebinder.search import Kind
from carebinder.search.fts5 import CODES, ROWID_SPAN
from carebinder.services import medications, search
from tests.conftest import on_postgres

STAMP = "'2026-01-05 09:00:00'"
# Written as revision 0007's schema has it; ids chosen so old and new rowids disagree.
BINDER_AT_0007 = f"""
INSERT INTO patient (id, name, born, created_at, updated_at) VALUES
  (1, 'Ana Souza', '1964-04-12', {STAMP}, {STAMP}),
  (2, 'Bob Lee', '1950-01-02', {STAMP}, {STAMP});
INSERT INTO doctor (id, patient_id, name, specialty, institution, created_at, updated_at) VALUES
  (1, 2, 'Dr. Ingrid Berg', 'Urology', NULL, {STAMP}, {STAMP}),
  (2, 1, 'Dr. Wei Chen', 'Medical oncology', 'Dana-Farber', {STAMP}, {STAMP});
INSERT INTO record (id, patient_id, kind, title, notes, created_at, updated_at) VALUES
  (1, 2, 'lab', 'PSA panel', NULL, {STAMP}, {STAMP}),
  (2, 1, 'pathology', 'Core biopsy', 'Margins clear', {STAMP}, {STAMP}),
  (3, 1, 'imaging', 'Breast MRI', 'No xanthogranulomatous change', {STAMP}, {STAMP}),
  (4, 1, 'medication-list', 'Medications (imported from portal.json)',
   '- Letrozole 2.5 MG Oral Tablet (active, prescribed 2025-01-06)', {STAMP}, {STAMP});
INSERT INTO file (id, record_id, original_name, media_type, size, sha256, text, has_text,
                  created_at, updated_at) VALUES
  (1, 2, 'biopsy-report.pdf', 'application/pdf', 10, '{"ab" * 32}',
   'Invasive lobular carcinoma, grade 2', TRUE, {STAMP}, {STAMP});
INSERT INTO opinion (id, patient_id, doctor_id, diagnosis, stage, plan, created_at,
                     updated_at) VALUES
  (1, 2, 1, 'Prostate adenocarcinoma', NULL, NULL, {STAMP}, {STAMP}),
  (2, 1, 2, 'Lobular carcinoma', 'IIA', 'Neoadjuvant endocrine therapy', {STAMP}, {STAMP});
INSERT INTO question (id, patient_id, text, answer, created_at, updated_at) VALUES
  (1, 1, 'Is an MRI of the other breast needed?', 'Yes, before surgery', {STAMP}, {STAMP});
INSERT INTO source_key (id, patient_id, entity, entity_id, key) VALUES
  (1, 1, 'record', 4, 'MedicationRequest/med-1');
"""


@pytest.fixture
def at_0007(settings: config.Settings) -> Iterator[Engine]:
    config.make_private_dir(settings.home)
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine, "0007")
    with engine.begin() as conn:
        for statement in BINDER_AT_0007.split(";"):
            if statement.strip():
                conn.execute(text(statement))
    yield engine
    engine.dispose()


def found(session: Session, patient: int, query: str) -> set[tuple[str, int]]:
    return {(str(hit.kind), hit.id) for hit in search.search(session, patient, query).hits}


def indexed(engine: Engine) -> set[tuple[Kind, int]]:
    """What the SQLite index says each row is, read from its rowids with `span`."""
    with engine.connect() as conn:
        rowids = conn.execute(text("SELECT rowid FROM search_index")).scalars()
        return {(CODES[r % ROWID_SPAN], r // ROWID_SPAN) for r in rowids}


def test_the_old_rows_are_found_after_the_upgrade(at_0007: Engine) -> None:
    if not on_postgres():  # the old rowids, as revision 0007 wrote them
        with at_0007.connect() as conn:
            old = set(conn.execute(text("SELECT rowid FROM search_index")).scalars())
        assert {2 * 8 + 5, 3 * 8 + 1, 2 * 8 + 3, 1 * 8 + 2} <= old
        assert 1 * ROWID_SPAN + 9 == 3 * 8 + 1  # record 3, read the new way: treatment 1

    migrate.upgrade(at_0007, "0008")
    assert current_revision(at_0007) == "0008"
    if not on_postgres():
        # Every row once, each by its own id and kind (the medication list became a
        # medication: its record is gone from the index, the medication is in it).
        assert indexed(at_0007) == {
            (Kind.DOCTOR, 1),
            (Kind.DOCTOR, 2),
            (Kind.RECORD, 1),
            (Kind.RECORD, 2),
            (Kind.RECORD, 3),
            (Kind.FILE, 1),
            (Kind.OPINION, 1),
            (Kind.OPINION, 2),
            (Kind.QUESTION, 1),
            (Kind.MEDICATION, 1),
        }

    migrate.upgrade(at_0007)
    with session_scope(at_0007) as s:
        assert found(s, 1, "Dana-Farber") == {("doctor", 2)}
        assert found(s, 1, "xanthogranulomatous") == {("record", 3)}
        assert found(s, 1, "margins") == {("record", 2)}
        assert found(s, 1, "lobular") == {("file", 1), ("opinion", 2)}
        assert found(s, 1, "neoadjuvant") == {("opinion", 2)}
        assert found(s, 1, "surgery") == {("question", 1)}
        assert found(s, 1, "MRI") == {("record", 3), ("question", 1)}
        # The imported medication list is a medication now, found by its name.
        (hit,) = search.search(s, 1, "letrozole").hits
        assert (hit.kind, hit.title) == (
            Kind.MEDICATION,
            "Medication: Letrozole 2.5 MG Oral Tablet",
        )
        assert found(s, 1, "portal") == set()
        # The other patient's rows stay theirs.
        assert found(s, 1, "Berg") == found(s, 1, "PSA") == found(s, 1, "prostate") == set()
        assert found(s, 2, "Berg") == {("doctor", 1)}
        assert found(s, 2, "PSA") == {("record", 1)}
        assert found(s, 2, "prostate") == {("opinion", 1)}

        # New rows are indexed by the triggers of the new tables, beside the old ones.
        added = medications.add_medication(s, 1, name="Denosumab", notes="Before the MRI")
        assert found(s, 1, "MRI") == {
            ("record", 3),
            ("question", 1),
            ("medication", added.medication.id),
        }
