"""A binder as one JSON document, and as tables for a spreadsheet.

Both are plain data gathered from a Session (nothing is committed). The JSON objects are
the services' own `to_json`, so an export says exactly what `show --json` says; its shape
is documented by `export.schema.json` beside this module, and the CSV tables take their
columns from that schema, so the three cannot drift apart unnoticed.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from sqlalchemy.orm import Session

from carebinder import __version__
from carebinder.models import Patient
from carebinder.services import (
    allergies,
    appointments,
    conditions,
    doctors,
    materials,
    medications,
    opinions,
    patients,
    questions,
    records,
    results,
    treatments,
)

FORMAT = "carebinder-export"
VERSION = 1
SCHEMA_FILE = "export.schema.json"


@functools.cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the export (shipped inside the package)."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def binder(session: Session, patient: Patient) -> dict[str, Any]:
    """Everything the binder holds for `patient`, as the `--json` outputs show it."""
    pid = patient.id
    return {
        "patient": patients.to_json(patient),
        "doctors": [doctors.to_json(d) for d in doctors.list_doctors(session, pid)],
        "records": [records.to_json(r) for r in records.list_records(session, pid)],
        "opinions": [opinions.to_json(o) for o in opinions.list_opinions(session, pid)],
        "appointments": [
            appointments.to_json(a) for a in appointments.list_appointments(session, pid)
        ],
        "questions": [questions.to_json(q) for q in questions.list_questions(session, pid)],
        "materials": [materials.to_json(m) for m in materials.list_materials(session, pid)],
        "medications": [medications.to_json(m) for m in medications.list_medications(session, pid)],
        "allergies": [allergies.to_json(a) for a in allergies.list_allergies(session, pid)],
        "conditions": [conditions.to_json(c) for c in conditions.list_conditions(session, pid)],
        "treatments": [treatments.to_json(t) for t in treatments.list_treatments(session, pid)],
        "results": [results.to_json(r) for r in results.list_results(session, pid)],
    }


def export_document(
    session: Session, chosen: Iterable[Patient], *, now: datetime | None = None
) -> dict[str, Any]:
    """The whole export: its header, and one binder per patient in `chosen`."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": moment.isoformat(timespec="seconds"),
        "carebinder_version": __version__,
        "binders": [binder(session, p) for p in chosen],
    }


# --- tables ----------------------------------------------------------------------------------


@dataclass
class Table:
    """One CSV file: its columns, and rows of cells in that order."""

    name: str
    columns: tuple[str, ...]
    rows: list[list[object]] = field(default_factory=list)

    def add(self, facts: Mapping[str, Any], **owners: int) -> None:
        cells = {**owners, **flatten(facts)}
        self.rows.append([cells[column] for column in self.columns])


def flatten(facts: Mapping[str, Any]) -> dict[str, Any]:
    """An object's facts as cells: nested objects become `outer_inner` columns, lists are
    left out (they have tables of their own)."""
    cells: dict[str, Any] = {}
    for key, value in facts.items():
        if isinstance(value, Mapping):
            cells.update({f"{key}_{inner}": v for inner, v in flatten(value).items()})
        elif not isinstance(value, list):
            cells[key] = value
    return cells


def _columns(definition: str) -> tuple[str, ...]:
    """The CSV columns of a schema definition, in the schema's order (see `flatten`)."""
    defs = schema()["$defs"]

    def resolved(spec: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = spec.get("$ref")
        return defs[ref.rsplit("/", 1)[1]] if ref else spec

    def walk(properties: Mapping[str, Any], prefix: str) -> list[str]:
        names: list[str] = []
        for key, spec in properties.items():
            spec = resolved(spec)
            if "properties" in spec:
                names += walk(spec["properties"], f"{prefix}{key}_")
            elif spec.get("type") != "array":
                names.append(prefix + key)
        return names

    return tuple(walk(defs[definition]["properties"], ""))


# The CSV files, in the order README lists them: (file, schema definition, owner columns).
# A link table (no definition) has only its owner columns.
TABLES: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    ("patients.csv", "patient", ()),
    ("doctors.csv", "doctor", ("patient_id",)),
    ("records.csv", "record", ("patient_id",)),
    ("files.csv", "file", ("patient_id", "record_id")),
    ("opinions.csv", "opinion", ("patient_id",)),
    ("opinion_records.csv", None, ("patient_id", "opinion_id", "record_id")),
    ("appointments.csv", "appointment", ("patient_id",)),
    ("appointment_records.csv", None, ("patient_id", "appointment_id", "record_id")),
    ("questions.csv", "question", ("patient_id",)),
    ("materials.csv", "material", ("patient_id",)),
    ("medications.csv", "medication", ("patient_id",)),
    ("allergies.csv", "allergy", ("patient_id",)),
    ("conditions.csv", "condition", ("patient_id",)),
    ("treatments.csv", "treatment", ("patient_id",)),
    ("results.csv", "result", ("patient_id",)),
)
# The kinds whose objects are one row each in the table of the same name.
PLAIN: tuple[str, ...] = ("doctors", "questions", "materials", "medications", "allergies")
PLAIN += ("conditions", "treatments", "results")


def tables(document: Mapping[str, Any]) -> dict[str, Table]:
    """The export `document` as one table per kind of thing, keyed by file name."""
    made = {
        name: Table(name, (*owners, *(_columns(definition) if definition else ())))
        for name, definition, owners in TABLES
    }
    for one in document["binders"]:
        pid = one["patient"]["id"]
        made["patients.csv"].add(one["patient"])
        for noun in PLAIN:
            for facts in one[noun]:
                made[f"{noun}.csv"].add(facts, patient_id=pid)
        for record in one["records"]:
            made["records.csv"].add(record, patient_id=pid)
            for file in record["files"]:
                made["files.csv"].add(file, patient_id=pid, record_id=record["id"])
        for noun, owner in (("opinions", "opinion_id"), ("appointments", "appointment_id")):
            singular = noun.removesuffix("s")
            for facts in one[noun]:
                made[f"{noun}.csv"].add(facts, patient_id=pid)
                for record_id in facts["records"]:
                    made[f"{singular}_records.csv"].add(
                        {}, patient_id=pid, record_id=record_id, **{owner: facts["id"]}
                    )
    return made


# --- CSV for spreadsheets --------------------------------------------------------------------

# A cell whose text starts with one of these is read as a formula by Excel, LibreOffice and
# Google Sheets ("CSV injection": `=HYPERLINK(...)`, `=cmd|' /C calc'!A0`). Such a cell is
# written with an apostrophe in front, which spreadsheets show as text (OWASP's advice).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Except when a + or - starts a value made only of digits, spaces and the punctuation of
# numbers and phone numbers: "+1 617 555 0100", "-12.5", "+44 (0)20 7946 0958". Without a
# letter, a quote, `!`, `|`, `:` or `=` no formula can name a function, a cell, another sheet
# or a program: the worst a spreadsheet can do with it is arithmetic. So it is kept as typed.
_PLAIN_NUMBER = re.compile(r"[+-][0-9 ().,/+-]*")


def spreadsheet_safe(text: str) -> str:
    """`text`, or `'text` when a spreadsheet would run it as a formula."""
    if not text.startswith(FORMULA_STARTS):
        return text
    if text[0] in "+-" and _PLAIN_NUMBER.fullmatch(text):
        return text
    return "'" + text


def cell(value: object) -> str:
    """A fact as CSV text: empty for none, true/false, numbers as digits, text made safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return spreadsheet_safe(str(value))


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A CSV file as Excel opens it as-is: UTF-8 with a BOM, CRLF rows, a header row, and
    line breaks kept inside quoted cells."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, dialect="excel")  # quotes cells with commas, quotes, newlines
    writer.writerow(columns)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def csv_files(document: Mapping[str, Any]) -> dict[str, bytes]:
    """Every table of `document` as CSV bytes, keyed by file name."""
    return {name: csv_bytes(t.columns, t.rows) for name, t in tables(document).items()}


def json_bytes(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
