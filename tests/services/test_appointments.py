"""Service tests: appointments, their preparation, and the records chosen for the packet."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from carebinder.db import session_scope
from carebinder.errors import InvalidInput, NotFound
from carebinder.models import (
    Appointment,
    AppointmentStatus,
    Coverage,
    Doctor,
    Patient,
    Purpose,
    Question,
    Record,
    RecordKind,
)
from carebinder.services import appointments, doctors, patients, questions, records
from carebinder.store import Store

NY = ZoneInfo("America/New_York")
START = datetime(2026, 12, 3, 9, 30, tzinfo=NY)


@pytest.fixture
def doctor(session: Session, patient: Patient) -> Doctor:
    return doctors.add_doctor(session, patient.id, name="Dr. Wei Chen")


def _add(session: Session, patient: Patient, doctor: Doctor, **kwargs: object) -> Appointment:
    values: dict[str, object] = {"starts_at": START, "time_zone": "America/New_York"}
    values.update(kwargs)
    return appointments.add_appointment(session, patient.id, doctor=doctor.id, **values)  # type: ignore[arg-type]


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Appointment))


def test_add_appointment_defaults(session: Session, patient: Patient, doctor: Doctor) -> None:
    a = _add(session, patient, doctor)
    session.expire_all()
    a = appointments.get_appointment(session, patient.id, a.id)
    assert (
        a.purpose,
        a.status,
        a.staff_told,
        a.coverage,
        a.coverage_ref,
        a.records_sent_on,
        a.location,
        a.companion,
        a.notes,
        a.records,
    ) == (
        Purpose.SECOND_OPINION,
        AppointmentStatus.PLANNED,
        False,
        Coverage.UNKNOWN,
        None,
        None,
        None,
        None,
        None,
        [],
    )


def test_add_appointment_stores_every_field(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _add(
        session,
        patient,
        doctor,
        location="Dana-Farber, Yawkey 4\nBoston",
        purpose=Purpose.THIRD_OPINION,
        companion=" Marco ",
        notes="Bring slides.",
    )
    session.expire_all()
    a = appointments.get_appointment(session, patient.id, a.id)
    assert appointments.to_json(a) == {
        "id": a.id,
        "doctor": doctor.id,
        "doctor_name": "Dr. Wei Chen",
        "start": "2026-12-03T09:30:00-05:00",
        "time_zone": "America/New_York",
        "location": "Dana-Farber, Yawkey 4\nBoston",
        "purpose": "third-opinion",
        "status": "planned",
        "companion": "Marco",
        "notes": "Bring slides.",
        "staff_told": False,
        "records_sent_on": None,
        "coverage": "unknown",
        "coverage_ref": None,
        "records": [],
    }


def test_start_is_stored_in_utc_and_shown_in_the_visit_zone(
    engine: Engine, session: Session, patient: Patient, doctor: Doctor
) -> None:
    winter = _add(session, patient, doctor)
    summer = _add(session, patient, doctor, starts_at=datetime(2026, 7, 1, 9, 30, tzinfo=NY))
    paris = _add(
        session,
        patient,
        doctor,
        starts_at=datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
        time_zone="Europe/Paris",
    )
    session.commit()
    with Session(engine) as fresh:
        w = appointments.get_appointment(fresh, patient.id, winter.id)
        s = appointments.get_appointment(fresh, patient.id, summer.id)
        p = appointments.get_appointment(fresh, patient.id, paris.id)
        assert w.starts_at == datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
        assert w.starts_at.utcoffset() is not None
        local = appointments.local_start(w)
        assert (local.hour, local.minute) == (9, 30)
        assert local.tzinfo == NY
        assert local.utcoffset() == NY.utcoffset(datetime(2026, 12, 3, 9, 30))
        assert appointments.local_start(s).isoformat() == "2026-07-01T09:30:00-04:00"
        assert s.starts_at == datetime(2026, 7, 1, 13, 30, tzinfo=UTC)
        paris_local = appointments.local_start(p)
        assert paris_local.isoformat() == "2026-12-03T09:00:00+01:00"
        assert paris_local.tzinfo == ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"companion": "a\nb"}, "companion contains a control character"),
        ({"companion": "c" * 201}, "companion is too long"),
        ({"location": "l" * 20_001}, "location is too long"),
        ({"notes": "\x07"}, "notes contains a control character"),
    ],
)
def test_add_appointment_refusals(
    session: Session, patient: Patient, doctor: Doctor, kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _add(session, patient, doctor, **kwargs)
    assert message in str(caught.value)
    assert _count(session) == 0


def test_add_appointment_refuses_an_unknown_time_zone(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    with pytest.raises((InvalidInput, ZoneInfoNotFoundError)):
        _add(session, patient, doctor, time_zone="Mars/Olympus_Mons")
    assert _count(session) == 0


def test_edit_appointment_refuses_an_unknown_time_zone(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _add(session, patient, doctor)
    with pytest.raises((InvalidInput, ZoneInfoNotFoundError)):
        appointments.edit_appointment(session, a, time_zone="Mars/Olympus_Mons")
    assert a.time_zone == "America/New_York"


def test_add_appointment_unknown_doctor(session: Session, patient: Patient) -> None:
    with pytest.raises(NotFound, match="No doctor #3"):
        appointments.add_appointment(
            session, patient.id, doctor=3, starts_at=START, time_zone="UTC"
        )
    assert _count(session) == 0


def test_edit_appointment_keep_semantics(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _add(session, patient, doctor, location="Room 4", companion="Marco", notes="n")
    appointments.edit_appointment(
        session,
        a,
        staff_told=True,
        records_sent_on=date(2026, 11, 20),
        coverage=Coverage.CONFIRMED,
        coverage_ref="PA-88231",
    )
    session.expire_all()
    a = appointments.get_appointment(session, patient.id, a.id)
    assert (a.location, a.companion, a.notes, a.purpose, a.status, a.doctor_id) == (
        "Room 4",
        "Marco",
        "n",
        Purpose.SECOND_OPINION,
        AppointmentStatus.PLANNED,
        doctor.id,
    )
    assert a.starts_at == START
    assert a.time_zone == "America/New_York"
    assert (a.staff_told, a.records_sent_on, a.coverage, a.coverage_ref) == (
        True,
        date(2026, 11, 20),
        Coverage.CONFIRMED,
        "PA-88231",
    )


def test_edit_appointment_clears_and_changes(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    other = doctors.add_doctor(session, patient.id, name="Dr. Other")
    a = _add(session, patient, doctor, location="Room 4", companion="Marco", notes="n")
    appointments.edit_appointment(
        session, a, staff_told=True, records_sent_on=date(2026, 11, 20), coverage_ref="X"
    )
    new_start = datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    appointments.edit_appointment(
        session,
        a,
        doctor=other.id,
        starts_at=new_start,
        time_zone="Europe/Paris",
        location="",
        companion="",
        notes="",
        purpose=Purpose.FOLLOW_UP,
        status=AppointmentStatus.DONE,
        staff_told=False,
        records_sent_on=None,
        coverage=Coverage.DENIED,
        coverage_ref="",
    )
    session.expire_all()
    a = appointments.get_appointment(session, patient.id, a.id)
    assert (a.location, a.companion, a.notes, a.coverage_ref, a.records_sent_on) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert (a.doctor_id, a.purpose, a.status, a.staff_told, a.coverage) == (
        other.id,
        Purpose.FOLLOW_UP,
        AppointmentStatus.DONE,
        False,
        Coverage.DENIED,
    )
    assert appointments.local_start(a).isoformat() == "2026-12-04T10:00:00+01:00"


def test_edit_appointment_refusals_change_nothing(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    a = _add(session, patient, doctor, companion="Marco")
    with pytest.raises(InvalidInput, match=r"^coverage ref contains a control character"):
        appointments.edit_appointment(session, a, companion="Ana", coverage_ref="a\tb")
    with pytest.raises(NotFound, match="No doctor #9"):
        appointments.edit_appointment(session, a, companion="Ana", doctor=9)
    assert (a.companion, a.coverage_ref, a.doctor_id) == ("Marco", None, doctor.id)


def test_list_appointments_in_time_order(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    late = _add(session, patient, doctor, starts_at=datetime(2099, 1, 1, 9, tzinfo=UTC))
    past = _add(session, patient, doctor, starts_at=datetime(2001, 1, 1, 9, tzinfo=UTC))
    # 08:00 in New York is after 09:00 UTC on the same day.
    ny = _add(session, patient, doctor, starts_at=datetime(2099, 1, 1, 8, tzinfo=NY))
    early = _add(session, patient, doctor, starts_at=datetime(2099, 1, 1, 8, tzinfo=UTC))
    listed = appointments.list_appointments(session, patient.id)
    assert [a.id for a in listed] == [past.id, early.id, late.id, ny.id]
    upcoming = appointments.list_appointments(session, patient.id, upcoming=True)
    assert [a.id for a in upcoming] == [early.id, late.id, ny.id]


def test_remove_appointment_keeps_questions_and_records(engine: Engine, store: Store) -> None:
    with session_scope(engine) as s:
        pid = patients.add_patient(s, name="Ana", born=date(1964, 4, 12)).id
        d = doctors.add_doctor(s, pid, name="Dr. X")
        rec = records.add_record(s, store, pid, kind=RecordKind.PATHOLOGY, title="Bx")
        a = appointments.add_appointment(
            s, pid, doctor=d.id, starts_at=START, time_zone="America/New_York"
        )
        appointments.bring_records(s, a, [rec.id])
        q = questions.add_question(s, pid, text="What next?", appointment=a.id)
        aid, qid, rid = a.id, q.id, rec.id
    with session_scope(engine) as s:
        appointments.remove_appointment(s, appointments.get_appointment(s, pid, aid))
    with Session(engine) as s:
        assert appointments.list_appointments(s, pid) == []
        question = s.get(Question, qid)
        assert question is not None
        assert (question.text, question.appointment_id) == ("What next?", None)
        assert [r.id for r in records.list_records(s, pid)] == [rid]


# --- the packet's records -------------------------------------------------------------------


@pytest.fixture
def dated(session: Session, store: Store, patient: Patient) -> dict[str, int]:
    def add(title: str, when: date | None) -> int:
        return records.add_record(
            session, store, patient.id, kind=RecordKind.OTHER, title=title, date=when
        ).id

    return {
        "march": add("march", date(2026, 3, 1)),
        "jan": add("jan", date(2026, 1, 15)),
        "undated": add("undated", None),
        "feb": add("feb", date(2026, 2, 1)),
    }


def _ids(rows: list) -> list[int]:
    return [r.id for r in rows]


def test_packet_records_default_to_all_in_date_order(
    session: Session, patient: Patient, doctor: Doctor, dated: dict[str, int]
) -> None:
    a = _add(session, patient, doctor)
    assert _ids(appointments.packet_records(session, a)) == [
        dated["jan"],
        dated["feb"],
        dated["march"],
        dated["undated"],
    ]


def test_bring_records_adds_and_orders_by_date(
    session: Session, patient: Patient, doctor: Doctor, dated: dict[str, int]
) -> None:
    a = _add(session, patient, doctor)
    packet = appointments.bring_records(session, a, [dated["undated"], dated["march"]])
    assert _ids(packet) == [dated["march"], dated["undated"]]
    packet = appointments.bring_records(session, a, [dated["jan"], dated["march"]])
    assert _ids(packet) == [dated["jan"], dated["march"], dated["undated"]]
    session.expire_all()
    a = appointments.get_appointment(session, patient.id, a.id)
    assert sorted(_ids(a.records)) == sorted([dated["jan"], dated["march"], dated["undated"]])
    assert _ids(appointments.packet_records(session, a)) == [
        dated["jan"],
        dated["march"],
        dated["undated"],
    ]


def test_bring_records_replace_sets_the_list(
    session: Session, patient: Patient, doctor: Doctor, dated: dict[str, int]
) -> None:
    a = _add(session, patient, doctor)
    appointments.bring_records(session, a, [dated["jan"], dated["march"]])
    packet = appointments.bring_records(session, a, [dated["feb"]], replace=True)
    assert _ids(packet) == [dated["feb"]]
    session.expire_all()
    a = appointments.get_appointment(session, patient.id, a.id)
    assert _ids(a.records) == [dated["feb"]]


def test_bring_records_replace_with_nothing_means_all_again(
    session: Session, patient: Patient, doctor: Doctor, dated: dict[str, int]
) -> None:
    a = _add(session, patient, doctor)
    appointments.bring_records(session, a, [dated["feb"]])
    packet = appointments.bring_records(session, a, [], replace=True)
    assert len(packet) == 4
    assert a.records == []


def test_bring_records_unknown_record_changes_nothing(
    session: Session, patient: Patient, doctor: Doctor, dated: dict[str, int]
) -> None:
    a = _add(session, patient, doctor)
    appointments.bring_records(session, a, [dated["feb"]])
    with pytest.raises(NotFound, match="No record #999"):
        appointments.bring_records(session, a, [dated["jan"], 999], replace=True)
    assert _ids(a.records) == [dated["feb"]]


def test_packet_records_are_per_appointment(
    session: Session, patient: Patient, doctor: Doctor, dated: dict[str, int]
) -> None:
    a = _add(session, patient, doctor)
    b = _add(session, patient, doctor)
    appointments.bring_records(session, a, [dated["feb"]])
    assert _ids(appointments.packet_records(session, a)) == [dated["feb"]]
    assert len(appointments.packet_records(session, b)) == 4


def test_packet_records_read_only_the_chosen_rows(
    session: Session, patient: Patient, doctor: Doctor, dated: dict[str, int]
) -> None:
    # The other records are not read, so neither are their file rows: the packet's file
    # lookup is the size of the packet, not of the patient's binder.
    a = _add(session, patient, doctor)
    appointments.bring_records(session, a, [dated["undated"], dated["feb"]])
    session.expunge_all()
    a = appointments.get_appointment(session, patient.id, a.id)
    read: list[int] = []

    @event.listens_for(session, "loaded_as_persistent")
    def loaded(_: Session, row: object) -> None:
        if isinstance(row, Record):
            read.append(row.id)

    assert _ids(appointments.packet_records(session, a)) == [dated["feb"], dated["undated"]]
    assert sorted(read) == sorted([dated["feb"], dated["undated"]])
