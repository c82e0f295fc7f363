"""Service tests: records (the documents) and what removing one does to files and blobs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from carebinder.db import session_scope
from carebinder.errors import InvalidInput, NotFound
from carebinder.models import (
    File,
    Patient,
    Record,
    RecordKind,
    appointment_record,
    opinion_record,
)
from carebinder.services import appointments, doctors, opinions, patients, records
from carebinder.store import Store
from tests.conftest import blob_files


def _count(session: Session, what: object) -> int:
    return session.scalar(select(func.count()).select_from(what))


def _new_patient(engine: Engine) -> int:
    with session_scope(engine) as s:
        return patients.add_patient(s, name="Ana", born=date(1964, 4, 12)).id


def test_add_record_stores_every_field(
    session: Session, store: Store, patient: Patient, make_pdf: Callable[..., Path]
) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. Path", institution="MGH")
    r = records.add_record(
        session,
        store,
        patient.id,
        kind=RecordKind.PATHOLOGY,
        title=" Biopsy report ",
        date=date(2026, 3, 1),
        doctor=d.id,
        institution="Brigham",
        notes="Left breast.\nER+",
        files=[make_pdf("biopsy.pdf", pages=2)],
    )
    session.expire_all()
    row = records.get_record(session, patient.id, r.id)
    data = records.to_json(row)
    files = data.pop("files")
    assert data == {
        "id": r.id,
        "kind": "pathology",
        "title": "Biopsy report",
        "date": "2026-03-01",
        "doctor": d.id,
        "institution": "Brigham",
        "notes": "Left breast.\nER+",
    }
    assert [(f["name"], f["media_type"], f["page_count"]) for f in files] == [
        ("biopsy.pdf", "application/pdf", 2)
    ]
    assert records.source_label(row) == "Dr. Path, Brigham"


def test_add_record_institution_defaults_to_the_doctors(
    session: Session, store: Store, patient: Patient
) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. Path", institution="MGH")
    r = records.add_record(
        session, store, patient.id, kind=RecordKind.LAB, title="CBC", doctor=d.id
    )
    assert r.institution == "MGH"
    bare = records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="CBC 2")
    assert (bare.institution, bare.doctor, bare.date, bare.files) == (None, None, None, [])
    assert records.source_label(bare) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": ""}, "title cannot be empty."),
        ({"title": "T\x1b"}, "title contains a control character"),
        ({"title": "T" * 201}, "title is too long (201 characters; at most 200)."),
        ({"title": "T", "institution": "I\nJ"}, "institution contains a control character"),
        ({"title": "T", "notes": "n" * 20_001}, "notes is too long"),
    ],
)
def test_add_record_refusals(
    session: Session, store: Store, patient: Patient, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        records.add_record(session, store, patient.id, kind=RecordKind.LAB, **kwargs)
    assert message in str(caught.value)
    assert _count(session, Record) == 0


def test_add_record_unknown_doctor(session: Session, store: Store, patient: Patient) -> None:
    with pytest.raises(NotFound, match="No doctor #9"):
        records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="T", doctor=9)
    assert _count(session, Record) == 0


def test_get_record_unknown(session: Session, patient: Patient) -> None:
    with pytest.raises(NotFound, match=r"^No record #3 in this binder\."):
        records.get_record(session, patient.id, 3)


def test_get_records_deduplicates_and_sorts_by_id(
    session: Session, store: Store, patient: Patient
) -> None:
    a = records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="A")
    b = records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="B")
    assert [r.id for r in records.get_records(session, patient.id, [b.id, a.id, b.id])] == [
        a.id,
        b.id,
    ]


def test_list_records_in_date_order_undated_last(
    session: Session, store: Store, patient: Patient
) -> None:
    def add(title: str, kind: RecordKind, when: date | None) -> int:
        return records.add_record(session, store, patient.id, kind=kind, title=title, date=when).id

    undated = add("undated", RecordKind.LAB, None)
    march = add("march", RecordKind.PATHOLOGY, date(2026, 3, 1))
    jan = add("jan", RecordKind.LAB, date(2026, 1, 15))
    march2 = add("march too", RecordKind.IMAGING, date(2026, 3, 1))
    assert [r.id for r in records.list_records(session, patient.id)] == [
        jan,
        march,
        march2,
        undated,
    ]
    assert [r.id for r in records.list_records(session, patient.id, kind=RecordKind.LAB)] == [
        jan,
        undated,
    ]
    assert records.list_records(session, patient.id, kind=RecordKind.GENOMIC) == []


def test_edit_record_keep_semantics(session: Session, store: Store, patient: Patient) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. A")
    r = records.add_record(
        session,
        store,
        patient.id,
        kind=RecordKind.PATHOLOGY,
        title="Biopsy",
        date=date(2026, 3, 1),
        doctor=d.id,
        institution="MGH",
        notes="note",
    )
    records.edit_record(session, r, title="Core biopsy")
    session.expire_all()
    r = records.get_record(session, patient.id, r.id)
    assert (r.kind, r.title, r.date, r.doctor_id, r.institution, r.notes) == (
        RecordKind.PATHOLOGY,
        "Core biopsy",
        date(2026, 3, 1),
        d.id,
        "MGH",
        "note",
    )


def test_edit_record_clears_and_changes(session: Session, store: Store, patient: Patient) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. A")
    d2 = doctors.add_doctor(session, patient.id, name="Dr. B")
    r = records.add_record(
        session,
        store,
        patient.id,
        kind=RecordKind.PATHOLOGY,
        title="Biopsy",
        date=date(2026, 3, 1),
        doctor=d.id,
        institution="MGH",
        notes="note",
    )
    records.edit_record(session, r, date=None, doctor=None, institution="", notes="")
    session.expire_all()
    r = records.get_record(session, patient.id, r.id)
    assert (r.date, r.doctor_id, r.institution, r.notes) == (None, None, None, None)
    records.edit_record(session, r, kind=RecordKind.SURGERY, doctor=d2.id, date=date(2026, 4, 2))
    session.expire_all()
    r = records.get_record(session, patient.id, r.id)
    assert (r.kind, r.doctor_id, r.date, r.title) == (
        RecordKind.SURGERY,
        d2.id,
        date(2026, 4, 2),
        "Biopsy",
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"title": ""}, "title cannot be empty."),
        ({"institution": "x" * 201}, "institution is too long"),
        ({"notes": "a\x00b"}, "notes contains a control character"),
    ],
)
def test_edit_record_refusals_change_nothing(
    session: Session, store: Store, patient: Patient, kwargs: dict[str, str], message: str
) -> None:
    r = records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="CBC")
    with pytest.raises(InvalidInput) as caught:
        records.edit_record(session, r, kind=RecordKind.GENOMIC, **kwargs)
    assert message in str(caught.value)
    assert (r.kind, r.title, r.institution, r.notes) == (RecordKind.LAB, "CBC", None, None)


def test_edit_record_unknown_doctor(session: Session, store: Store, patient: Patient) -> None:
    r = records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="CBC")
    with pytest.raises(NotFound, match="No doctor #8"):
        records.edit_record(session, r, doctor=8, title="Changed")
    assert r.title == "CBC"


def test_remove_record_removes_its_file_rows_and_links(
    session: Session, store: Store, patient: Patient, make_pdf: Callable[..., Path]
) -> None:
    d = doctors.add_doctor(session, patient.id, name="Dr. A")
    r = records.add_record(
        session,
        store,
        patient.id,
        kind=RecordKind.PATHOLOGY,
        title="Biopsy",
        files=[make_pdf("a.pdf"), make_pdf("b.pdf", pages=2)],
    )
    other = records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="CBC")
    op = opinions.add_opinion(
        session, patient.id, doctor=d.id, diagnosis="Dx", records=[r.id, other.id]
    )
    appt = appointments.add_appointment(
        session,
        patient.id,
        doctor=d.id,
        starts_at=datetime(2030, 1, 1, 9, tzinfo=UTC),
        time_zone="UTC",
    )
    appointments.bring_records(session, appt, [r.id, other.id])
    assert _count(session, File) == 2

    records.remove_record(session, store, r)
    session.expire_all()

    assert _count(session, File) == 0
    assert [x.id for x in records.list_records(session, patient.id)] == [other.id]
    assert session.scalars(select(opinion_record.c.record_id)).all() == [other.id]
    assert session.scalars(select(appointment_record.c.record_id)).all() == [other.id]
    assert [x.id for x in opinions.get_opinion(session, patient.id, op.id).records] == [other.id]


def test_blob_leaves_only_when_no_record_uses_it(
    engine: Engine,
    store: Store,
    home: Path,
    make_pdf: Callable[..., Path],
    make_file: Callable[[str, bytes], Path],
) -> None:
    pid = _new_patient(engine)
    first = make_pdf("scan.pdf", pages=3)
    same = make_file("copy-of-scan.pdf", first.read_bytes())
    with session_scope(engine) as s:
        r1 = records.add_record(s, store, pid, kind=RecordKind.IMAGING, title="CT", files=[first])
        r2 = records.add_record(s, store, pid, kind=RecordKind.OTHER, title="Copy", files=[same])
        ids = (r1.id, r2.id)
        sha = r1.files[0].sha256
        assert r2.files[0].sha256 == sha
    assert len(blob_files(home)) == 1
    assert store.exists(sha)

    with session_scope(engine) as s:
        records.remove_record(s, store, records.get_record(s, pid, ids[0]))
    assert store.exists(sha)
    with Session(engine) as s:
        assert s.scalars(select(File.record_id)).all() == [ids[1]]

    with session_scope(engine) as s:
        records.remove_record(s, store, records.get_record(s, pid, ids[1]))
        # Not before the commit: a rollback must still find the bytes.
        assert store.exists(sha)
    assert not store.exists(sha)
    assert blob_files(home) == []
    with Session(engine) as s:
        assert _count(s, File) == 0


def test_failed_removal_keeps_record_and_blob(
    engine: Engine, store: Store, make_pdf: Callable[..., Path]
) -> None:
    pid = _new_patient(engine)
    with session_scope(engine) as s:
        rec = records.add_record(
            s, store, pid, kind=RecordKind.LAB, title="CBC", files=[make_pdf()]
        )
        rid, sha = rec.id, rec.files[0].sha256
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        records.remove_record(s, store, records.get_record(s, pid, rid))
        raise RuntimeError("interrupted")
    assert store.exists(sha)
    with Session(engine) as s:
        assert [f.sha256 for f in records.get_record(s, pid, rid).files] == [sha]


def test_records_are_scoped_to_the_patient(
    session: Session, store: Store, patient: Patient, other_patient: Patient
) -> None:
    mine = records.add_record(session, store, patient.id, kind=RecordKind.LAB, title="Mine")
    theirs = records.add_record(
        session, store, other_patient.id, kind=RecordKind.LAB, title="Theirs"
    )
    assert [r.id for r in records.list_records(session, patient.id)] == [mine.id]
    assert [r.id for r in records.list_records(session, other_patient.id)] == [theirs.id]
