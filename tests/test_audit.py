"""The audit trail: every change is logged by command, action, table and id — never content."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from carebinder.db import session_scope
from carebinder.models import AuditEvent
from carebinder.services import doctors, patients
from tests.conftest import Cli


def trail(cli: Cli, *args: str) -> list[dict[str, object]]:
    return json.loads(cli.ok(*args, "audit", "--json", "--limit", "1000").stdout)


def test_each_change_is_logged_with_its_command(binder: Cli, make_pdf) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok("doctor", "edit", "1", "--phone", "617-555-0100")
    binder.ok("record", "add", "pathology", "Biopsy", "--file", str(make_pdf()))
    binder.ok("record", "remove", "1", "--yes")
    events = [(e["command"], e["action"], e["entity"], e["entity_id"]) for e in trail(binder)]
    events.reverse()  # oldest first
    assert events[0] == ("init", "add", "patient", 1)
    assert ("doctor add", "add", "doctor", 1) in events
    assert ("doctor edit", "change", "doctor", 1) in events
    assert ("record add", "add", "record", 1) in events
    assert ("record add", "add", "file", 1) in events
    assert ("record remove", "remove", "record", 1) in events
    assert ("record remove", "remove", "file", 1) in events
    assert all(e["patient_id"] == 1 for e in trail(binder))


def test_the_trail_holds_no_content(binder: Cli, session: Session, make_pdf) -> None:
    secret = "Zoë Secret-Diagnosis 4711"
    binder.ok("doctor", "add", secret, "--notes", secret)
    binder.ok("record", "add", "lab", secret, "--notes", secret, "--file", str(make_pdf()))
    binder.ok("opinion", "add", "--doctor", "1", "--diagnosis", secret)
    binder.ok("question", "add", secret)
    cells = [str(v) for row in session.execute(text("SELECT * FROM audit_event")) for v in row]
    assert cells
    assert not any("Zoë" in c or "4711" in c or "Ana" in c for c in cells)


def test_a_refused_command_leaves_no_event(binder: Cli) -> None:
    before = trail(binder)
    result = binder("doctor", "add", "Dr. X", "--npi", "123")
    assert result.exit_code == 1
    assert trail(binder) == before


def test_a_rolled_back_unit_of_work_leaves_no_event(engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine, command="test") as s:
        patients.add_patient(s, name="Ana", born=date(1964, 4, 12))
        raise RuntimeError("interrupted")
    with Session(engine) as s:
        assert s.scalars(select(AuditEvent)).all() == []


def test_events_name_the_command_given_to_the_unit_of_work(engine) -> None:
    with session_scope(engine, command="import") as s:
        patient = patients.add_patient(s, name="Ana", born=date(1964, 4, 12))
        doctors.add_doctor(s, patient.id, name="Dr. A")
    with Session(engine) as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(r.command, r.action, r.entity, r.patient_id) for r in rows] == [
        ("import", "add", "patient", 1),
        ("import", "add", "doctor", 1),
    ]


def test_audit_lists_newest_first_and_filters_by_patient(binder: Cli) -> None:
    binder.ok("patient", "add", "Øyvind Berg", "--born", "1950-01-02")
    binder.ok("--patient", "2", "doctor", "add", "Dr. B")
    binder.ok("--patient", "1", "doctor", "add", "Dr. A")
    everything = trail(binder)
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    second = trail(binder, "--patient", "2")
    assert {e["patient_id"] for e in second} == {2}
    assert {(e["entity"], e["action"]) for e in second} == {("patient", "add"), ("doctor", "add")}
    assert len(trail(binder, "--patient", "1")) == len(everything) - len(second)


def test_audit_prints_a_table_and_respects_limit(binder: Cli) -> None:
    binder.ok("doctor", "add", "Dr. A")
    binder.ok("doctor", "add", "Dr. B")
    result = binder.ok("audit", "--limit", "2")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["WHEN", "(UTC)", "COMMAND", "ACTION", "WHAT", "PATIENT"]
    assert len(lines) == 3
    assert "doctor add" in lines[1] and "doctor #2" in lines[1]
    assert binder("audit", "--limit", "0").exit_code == 2
