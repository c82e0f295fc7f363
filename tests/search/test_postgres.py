"""What is PostgreSQL's own in the search index (migration 0005): the upgrade of a binder
that holds data, queries that look like tsquery syntax, accents however they are written,
a text too large for one tsvector, and an index that lives in the binder's own schema.
The behaviour both databases share is tested in test_index.py, on both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from carebinder import migrate
from carebinder.choices import RecordKind
from carebinder.db import SCHEMA_HEAD, current_revision, make_engine, session_scope
from carebinder.models import Patient
from carebinder.services import doctors, opinions, patients, questions, records, search
from carebinder.store import Store
from tests.conftest import NO_POSTGRES, on_postgres
from tests.packet.pdfutil import text_pdf

pytestmark = pytest.mark.skipif(not on_postgres(), reason=NO_POSTGRES)

# The objects of migration 0005, besides the table's indexes.
OBJECTS = (
    "SELECT 'function ' || proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace"
    " UNION ALL SELECT 'configuration ' || cfgname FROM pg_ts_config"
    " WHERE cfgnamespace = current_schema()::regnamespace"
    " UNION ALL SELECT 'dictionary ' || dictname FROM pg_ts_dict"
    " WHERE dictnamespace = current_schema()::regnamespace"
    " UNION ALL SELECT 'table ' || relname FROM pg_class"
    " WHERE relnamespace = current_schema()::regnamespace AND relname LIKE 'search_index%'"
    " UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal"
    " AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace)"
)


def found(session: Session, patient: Patient | int, query: str) -> list[tuple[str, int]]:
    ident = patient if isinstance(patient, int) else patient.id
    return [(str(hit.kind), hit.id) for hit in search.search(session, ident, query).hits]


def objects(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text(OBJECTS)).scalars())


@pytest.fixture
def bare_engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test's empty schema, for upgrading step by step."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_upgrading_a_binder_with_data_indexes_its_rows(
    bare_engine: Engine, store: Store, tmp_path: Path
) -> None:
    # Rows written by today's services, then taken back to before search existed on
    # PostgreSQL (0004: the later revisions' columns go, the rows stay), as an old binder.
    migrate.upgrade(bare_engine)
    pdf = text_pdf(tmp_path / "report.pdf", ["Histology: xanthogranulomatous inflammation"])
    with session_scope(bare_engine) as s:
        ana = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
        bob = patients.add_patient(s, name="Bob Lee", born=date(1950, 1, 2))
        doctor = doctors.add_doctor(s, ana.id, name="Dr. Adán Muñoz", institution="Dana-Farber")
        record = records.add_record(
            s, store, ana.id, kind=RecordKind.PATHOLOGY, title="Core biopsy", files=[pdf]
        )
        opinions.add_opinion(
            s, ana.id, doctor=doctor.id, diagnosis="Carcinoma", plan="Neoadjuvant letrozole"
        )
        asked = questions.add_question(s, ana.id, text="Which margin?")
        questions.answer_question(s, asked, answer="Two millimetres")
        records.add_record(s, store, bob.id, kind=RecordKind.LAB, title="Core biopsy (Bob)")
    migrate.downgrade(bare_engine, "0004")
    assert "table search_index" not in objects(bare_engine)

    migrate.upgrade(bare_engine)
    assert current_revision(bare_engine) == SCHEMA_HEAD
    with session_scope(bare_engine) as s:
        assert found(s, ana.id, "xanthogranulomatous") == [("file", 1)]
        assert found(s, ana.id, "biopsy") == [("record", record.id)]
        assert found(s, ana.id, "adan dana") == [("doctor", doctor.id)]
        assert found(s, ana.id, "letrozole") == [("opinion", 1)]
        assert found(s, ana.id, "millimetre") == [("question", asked.id)]
        assert found(s, bob.id, "biopsy") == [("record", 2)]
        # And the triggers keep the old rows right from now on.
        records.remove_record(s, store, records.get_record(s, ana.id, record.id))
        assert found(s, ana.id, "xanthogranulomatous") == []


def test_the_index_lives_in_the_binders_schema_and_goes_with_the_downgrade(
    bare_engine: Engine,
) -> None:
    migrate.upgrade(bare_engine)
    made = objects(bare_engine)
    assert {
        "table search_index",
        "function search_index_words",
        "function search_index_document",
        "configuration search_index_english",
        "dictionary search_index_stem",
        "trigger search_index_file",
        "trigger search_index_medication",  # revision 0008's tables
        "trigger search_index_result",
    } <= made
    # One per indexed table: five of revision 0005, five of revision 0008.
    assert sum(name.startswith("trigger ") for name in made) == 10
    migrate.downgrade(bare_engine, "0004")
    assert objects(bare_engine) == set()


def test_a_query_with_no_word_the_index_reads_finds_nothing(
    session: Session, store: Store, patient: Patient
) -> None:
    records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="½ dose")
    assert found(session, patient, "½") == []
    assert found(session, patient, "½ dose") == [("record", 1)]


def test_accents_however_they_are_written(session: Session, store: Store, patient: Patient) -> None:
    decomposed = "Ade\u0301nome"  # "Adénome" as some PDFs write it: e + combining accent
    records.add_record(
        session, store, patient.id, kind=RecordKind.LAB, title="Labs", notes=f"{decomposed} 2 cm"
    )
    doctors.add_doctor(session, patient.id, name="Dr. Øyvind Nguyễn")
    assert found(session, patient, "adenome") == [("record", 1)]
    assert found(session, patient, "ADÉNOME") == [("record", 1)]
    assert found(session, patient, "nguyen øyvind") == [("doctor", 1)]
    assert found(session, patient, "ØYVIND") == [("doctor", 1)]
    (hit,) = search.search(session, patient.id, "adenome").hits
    assert hit.snippet == "Adénome 2 cm"  # kept as one character, so the marks line up
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["Adénome"]


def test_a_text_too_large_for_one_tsvector_is_indexed_from_its_start(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    pdf = text_pdf(tmp_path / "big.pdf", ["Big"])
    record = records.add_record(
        session, store, patient.id, kind=RecordKind.OTHER, title="Big", files=[pdf]
    )
    # Two million characters of different words: far over the 1 MB a tsvector holds.
    huge = "Opening words. " + " ".join(f"w{n:x}" for n in range(300_000))
    session.execute(
        text("UPDATE file SET text = :text WHERE id = :id"),
        {"text": huge, "id": record.files[0].id},
    )
    assert found(session, patient, "opening") == [("file", record.files[0].id)]
    assert found(session, patient, "w10") == [("file", record.files[0].id)]


def test_the_index_is_kept_with_an_empty_search_path_as_pg_restore_runs(
    engine: Engine,
) -> None:
    """pg_restore loads a dump with search_path set to ''; the index's functions must
    still find each other and their text search configuration (a real dump failed so)."""
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('search_path', '', true)"))
        conn.exec_driver_sql(
            f'INSERT INTO "{schema}".search_index (kind, item_id, patient_id, title, body)'
            " VALUES ('record', 1, 1, 'Pathology', 'Invasive ductal carcinoma')"
        )
        conn.exec_driver_sql(
            f'INSERT INTO "{schema}".patient (name, born, created_at)'
            " VALUES ('Ana Souza', '1964-04-12', now())"
        )
    with engine.connect() as conn:
        hits = conn.execute(
            text("SELECT title FROM search_index WHERE document @@ to_tsquery('simple', 'ductal')")
        ).scalars()
        assert list(hits) == ["Pathology"]
