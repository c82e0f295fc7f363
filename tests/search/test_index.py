"""The search index, on either database (FTS5 on SQLite, full-text search on PostgreSQL):
the triggers keep it right whoever writes, searches never leave the patient, and the
reading of words, the ranking and the snippets behave as documented, alike on both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from carebinder.choices import RecordKind
from carebinder.db import session_scope
from carebinder.errors import SearchUnavailable
from carebinder.models import Patient
from carebinder.search import backend_for
from carebinder.search.fts5 import Fts5Search
from carebinder.search.postgres import PostgresSearch
from carebinder.services import (
    doctors,
    opinions,
    patients,
    questions,
    records,
    search,
)
from carebinder.store import Store
from tests.packet.pdfutil import text_pdf


def found(session: Session, patient: Patient | int, query: str) -> list[tuple[str, int]]:
    ident = patient if isinstance(patient, int) else patient.id
    return [(str(hit.kind), hit.id) for hit in search.search(session, ident, query).hits]


def index_rows(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM search_index")).scalar_one())


# --- the triggers ---------------------------------------------------------------------------


def test_each_kind_is_indexed_when_added(session: Session, store: Store, patient: Patient) -> None:
    doctor = doctors.add_doctor(
        session,
        patient.id,
        name="Dr. Wei Chen",
        specialty="Breast oncology",
        institution="Dana-Farber",
        notes="Prefers email",
    )
    records.add_record(
        session, store, patient.id, kind=RecordKind.LAB, title="Tumor markers", notes="CA 15-3"
    )
    opinions.add_opinion(
        session,
        patient.id,
        doctor=doctor.id,
        diagnosis="Lobular carcinoma",
        stage="IIA",
        plan="Neoadjuvant letrozole",
        notes="Discuss fertility",
    )
    questions.add_question(session, patient.id, text="Is an MRI needed?")
    assert found(session, patient, "oncology") == [("doctor", doctor.id)]
    assert found(session, patient, "prefers email") == [("doctor", doctor.id)]
    assert found(session, patient, "markers") == [("record", 1)]
    assert found(session, patient, "15-3") == [("record", 1)]
    assert found(session, patient, "lobular") == [("opinion", 1)]
    assert found(session, patient, "letrozole") == [("opinion", 1)]
    assert found(session, patient, "fertility") == [("opinion", 1)]
    assert found(session, patient, "MRI") == [("question", 1)]
    assert index_rows(session) == 4


def test_edits_move_the_words(session: Session, store: Store, patient: Patient) -> None:
    record = records.add_record(
        session, store, patient.id, kind=RecordKind.LAB, title="Blood count", notes="normal"
    )
    question = questions.add_question(session, patient.id, text="How long is recovery?")
    records.edit_record(session, record, title="Liver panel", notes="raised enzymes")
    questions.answer_question(session, question, answer="About six weeks")
    assert found(session, patient, "blood") == []
    assert found(session, patient, "normal") == []
    assert found(session, patient, "liver enzymes") == [("record", record.id)]
    assert found(session, patient, "six weeks") == [("question", question.id)]
    assert index_rows(session) == 2


def test_removals_and_cascades_remove_the_entries(
    engine: Engine, store: Store, make_pdf: Callable[..., Path], tmp_path: Path
) -> None:
    pdf = text_pdf(tmp_path / "report.pdf", ["Xanthogranulomatous inflammation"])
    with session_scope(engine) as s:
        ana = patients.add_patient(s, name="Ana", born=date(1964, 4, 12))
        bob = patients.add_patient(s, name="Bob", born=date(1950, 1, 2))
        for patient in (ana, bob):
            doctor = doctors.add_doctor(s, patient.id, name="Dr. Lopez")
            record = records.add_record(
                s, store, patient.id, kind=RecordKind.PATHOLOGY, title="Biopsy", files=[pdf]
            )
            opinions.add_opinion(
                s, patient.id, doctor=doctor.id, diagnosis="Carcinoma", records=[record.id]
            )
            questions.add_question(s, patient.id, text="Which margin?")
    with session_scope(engine) as s:
        assert index_rows(s) == 10
        assert found(s, ana.id, "xanthogranulomatous") == [("file", 1)]
        # Removing a record removes its files' entries too (the database cascades).
        records.remove_record(s, store, records.get_record(s, ana.id, 1))
        assert found(s, ana.id, "xanthogranulomatous") == []
        assert found(s, ana.id, "biopsy") == []
        assert index_rows(s) == 8
    with session_scope(engine) as s:
        # Removing a patient removes everything of theirs, and nothing of anyone else's.
        patients.remove_patient(s, patients.get_patient(s, bob.id))
        assert index_rows(s) == 3
        assert found(s, bob.id, "carcinoma") == []
        assert found(s, ana.id, "carcinoma") == [("opinion", 1)]
        assert found(s, ana.id, "Lopez") == [("doctor", 1)]


def test_writers_other_than_the_program_keep_the_index_right(
    session: Session, patient: Patient
) -> None:
    """Plain SQL (an import, a repair by hand) goes through the same triggers."""
    session.execute(
        text(
            "INSERT INTO doctor (id, patient_id, name, created_at, updated_at)"
            " VALUES (40, :p, 'Dr. Ingrid Berg', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"p": patient.id},
    )
    assert found(session, patient, "Ingrid") == [("doctor", 40)]
    session.execute(text("UPDATE doctor SET name = 'Dr. Ingrid Dahl' WHERE id = 40"))
    assert found(session, patient, "Berg") == []
    assert found(session, patient, "Dahl") == [("doctor", 40)]
    session.execute(text("UPDATE doctor SET phone = '555' WHERE id = 40"))  # not indexed
    assert found(session, patient, "Dahl") == [("doctor", 40)]
    session.execute(text("DELETE FROM doctor WHERE id = 40"))
    assert found(session, patient, "Dahl") == []
    assert index_rows(session) == 0


# --- one patient at a time ------------------------------------------------------------------


def test_a_search_never_shows_another_patients_rows(
    session: Session, store: Store, patient: Patient, other_patient: Patient
) -> None:
    for owner in (patient, other_patient):
        records.add_record(
            session, store, owner.id, kind=RecordKind.LAB, title=f"Ferritin of {owner.name}"
        )
    assert found(session, patient, "ferritin") == [("record", 1)]
    assert found(session, other_patient, "ferritin") == [("record", 2)]
    assert found(session, patient, "Øyvind") == []


# --- words --------------------------------------------------------------------------------------


def test_accents_case_and_endings_do_not_matter(
    session: Session, store: Store, patient: Patient
) -> None:
    doctors.add_doctor(session, patient.id, name="Dr. Adán Muñoz")
    records.add_record(
        session, store, patient.id, kind=RecordKind.IMAGING, title="Two TUMORS seen on MRI"
    )
    assert found(session, patient, "adan munoz") == [("doctor", 1)]
    assert found(session, patient, "ADÁN") == [("doctor", 1)]
    assert found(session, patient, "tumor") == [("record", 1)]
    assert found(session, patient, "tumour") == []  # spelling is not guessed


def test_phrases_and_prefixes(session: Session, store: Store, patient: Patient) -> None:
    records.add_record(
        session, store, patient.id, kind=RecordKind.PATHOLOGY, title="Sentinel lymph node"
    )
    records.add_record(
        session, store, patient.id, kind=RecordKind.SURGERY, title="Node sampling, sentinel"
    )
    records.add_record(
        session, store, patient.id, kind=RecordKind.OTHER, title="Chemotherapy schedule"
    )
    assert sorted(found(session, patient, "sentinel node")) == [("record", 1), ("record", 2)]
    assert found(session, patient, '"sentinel lymph node"') == [("record", 1)]
    assert found(session, patient, '"node sentinel"') == []
    assert found(session, patient, "chemo*") == [("record", 3)]
    assert found(session, patient, "chemo") == []
    assert found(session, patient, '"sentinel lym"*') == [("record", 1)]


def test_titles_rank_above_body_text(session: Session, store: Store, patient: Patient) -> None:
    long_notes = "Margins were clear. " * 3 + "A note about the ki67 index."
    records.add_record(
        session, store, patient.id, kind=RecordKind.LAB, title="Labs", notes=long_notes
    )
    records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="Ki67 index")
    results = search.search(session, patient.id, "ki67")
    assert [(h.id, h.rank) for h in results.hits] == [(2, 1), (1, 2)]
    assert results.hits[0].score > results.hits[1].score > 0


def test_snippets_mark_the_matched_words(session: Session, store: Store, patient: Patient) -> None:
    notes = "Core needle biopsy.\nInvasive ductal carcinoma, grade 2, of the left breast."
    records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="Path", notes=notes)
    (hit,) = search.search(session, patient.id, "carcinoma breast").hits
    assert "\n" not in hit.snippet
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["carcinoma", "breast"]


def test_limit(session: Session, store: Store, patient: Patient) -> None:
    for n in range(30):
        records.add_record(session, store, patient.id, kind=RecordKind.LAB, title=f"CBC {n}")
    assert len(search.search(session, patient.id, "cbc").hits) == 20
    assert len(search.search(session, patient.id, "cbc", limit=5).hits) == 5
    assert len(search.search(session, patient.id, "cbc", limit=2**70).hits) == 30


def test_snippets_keep_the_text_as_written(
    session: Session, store: Store, patient: Patient
) -> None:
    """Accents and punctuation are ignored to match, and shown as written."""
    doctors.add_doctor(session, patient.id, name="Dr. Adán Muñoz", notes="Prefers e-mail.")
    (hit,) = search.search(session, patient.id, "adan").hits
    assert hit.snippet == "Dr. Adán Muñoz"
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["Adán"]
    assert found(session, patient, "email") == []  # "e-mail" is two words, "e" and "mail"
    (hit,) = search.search(session, patient.id, "e-mail").hits
    assert hit.snippet == "Prefers e-mail."
    # FTS5 marks a phrase as one stretch, PostgreSQL each of its words.
    assert [hit.snippet[a:b] for a, b in hit.highlights] in (["e-mail"], ["e", "mail"])


def test_a_long_body_is_cut_around_the_match(
    session: Session, store: Store, patient: Patient
) -> None:
    words = " ".join(f"word{n}" for n in range(60))
    notes = f"{words}. Margins: clear (2 mm), HER2-negative. {words}."
    records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="Path", notes=notes)
    (hit,) = search.search(session, patient.id, "margins her2").hits
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert "Margins: clear (2 mm), HER2-negative." in hit.snippet
    assert len(hit.snippet.split()) < 30
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["Margins", "HER2"]


def test_punctuation_separates_words(session: Session, store: Store, patient: Patient) -> None:
    """As FTS5's unicode61 reads them: a file's name, receptors, a hyphenated place."""
    records.add_record(
        session,
        store,
        patient.id,
        kind=RecordKind.PATHOLOGY,
        title="outside-pathology.pdf",
        notes="ER+/PR+/HER2- at Dana-Farber; it’s 2.5cm",
    )
    for query in ("pathology", "pdf", "PR", "her2", "farber", "dana-farber", "it’s", "2.5cm"):
        assert found(session, patient, query) == [("record", 1)], query
    assert found(session, patient, '"pr her2"') == [("record", 1)]
    assert found(session, patient, '"her2 pr"') == []


def test_common_words_are_words_too(session: Session, store: Store, patient: Patient) -> None:
    """No stop words: "the" or "is" are found like any other word."""
    questions.add_question(session, patient.id, text="Is it the same tumor?")
    assert found(session, patient, "is it the") == [("question", 1)]
    assert found(session, patient, '"the same"') == [("question", 1)]
    assert found(session, patient, '"same the"') == []


# --- one interface --------------------------------------------------------------------------


def test_the_backend_is_chosen_by_the_database() -> None:
    assert isinstance(backend_for("sqlite"), Fts5Search)
    assert isinstance(backend_for("postgresql"), PostgresSearch)
    with pytest.raises(SearchUnavailable, match=r"not available for a binder kept in MySQL"):
        backend_for("mysql")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("a & b | !c:* <-> (", [1]),
        ("'a' & 'b' | 'c'", [1]),
        ("a\\ b' c\\", [1]),
        ('"a b" c:*', [1]),
        ("a) | (b !c", [1]),
        ("a <2> b & c", []),  # "2" is a word, and no title has it
        ("!c", [1]),  # not "without c"
        ("c:A", []),  # the words "c a", not "c in a title"
        ("b <-> a", [2, 1]),  # "<->" is no word: b and a, the shorter title first
    ],
)
def test_query_syntax_of_the_engines_is_only_words(
    session: Session, store: Store, patient: Patient, query: str, expected: list[int]
) -> None:
    """Neither FTS5's nor PostgreSQL's tsquery operators can be typed: only words count."""
    records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="A b c")
    records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="A b")
    assert found(session, patient, query) == [("record", n) for n in expected]
