"""Records: the medical documents of the case, each with its files."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from carebinder.models import Record, RecordKind
from carebinder.services import files as files_service
from carebinder.services.common import (
    KEEP,
    Keep,
    apply,
    clean_text,
    get_scoped,
    long_text,
    required_text,
    text_or_keep,
)
from carebinder.services.doctors import get_doctor
from carebinder.store import Store


def get_record(session: Session, patient_id: int, ident: int) -> Record:
    return get_scoped(session, Record, patient_id, ident, "record")


def get_records(session: Session, patient_id: int, idents: Sequence[int]) -> list[Record]:
    """The records `idents` (each once), in id order as the binder lists them."""
    return [get_record(session, patient_id, ident) for ident in sorted(set(idents))]


def add_record(
    session: Session,
    store: Store,
    patient_id: int,
    *,
    kind: RecordKind,
    title: str,
    date: date | None = None,
    doctor: int | None = None,
    institution: str | None = None,
    notes: str | None = None,
    files: Sequence[Path] = (),
    prepared: Sequence[files_service.Prepared] = (),
) -> Record:
    source = None if doctor is None else get_doctor(session, patient_id, doctor)
    record = Record(
        patient_id=patient_id,
        kind=kind,
        title=required_text(title, "title"),
        date=date,
        doctor=source,
        institution=clean_text(institution, "institution")
        or (source.institution if source else None),
        notes=long_text(notes, "notes"),
    )
    session.add(record)
    session.flush()
    if files:
        files_service.attach_files(session, store, record, files)
    if prepared:
        files_service.attach_prepared(session, store, record, prepared)
    return record


def edit_record(
    session: Session,
    record: Record,
    *,
    kind: RecordKind | Keep = KEEP,
    title: str | Keep = KEEP,
    date: date | Keep | None = KEEP,
    doctor: int | Keep | None = KEEP,
    institution: str | Keep = KEEP,
    notes: str | Keep = KEEP,
) -> Record:
    apply(
        record,
        kind=kind,
        title=title if title is KEEP else required_text(title, "title"),
        date=date,
        doctor=doctor
        if doctor is KEEP
        else (None if doctor is None else get_doctor(session, record.patient_id, doctor)),
        institution=text_or_keep(institution, "institution"),
        notes=text_or_keep(notes, "notes", limit=20_000),
    )
    session.flush()
    return record


def list_records(
    session: Session,
    patient_id: int,
    *,
    kind: RecordKind | None = None,
    only: Collection[int] | None = None,
) -> list[Record]:
    """The patient's records in date order, with their files and doctors loaded; with
    `only`, just those of these ids (the others' file rows are not read at all)."""
    query = (
        select(Record)
        .where(Record.patient_id == patient_id)
        .options(selectinload(Record.files), selectinload(Record.doctor))
        .order_by(Record.date.is_(None), Record.date, Record.id)
    )
    if kind is not None:
        query = query.where(Record.kind == kind)
    if only is not None:
        query = query.where(Record.id.in_(sorted(only)))
    return list(session.scalars(query))


def remove_record(session: Session, store: Store, record: Record) -> None:
    """Delete the record and its file rows; blobs no other row uses leave after the commit."""
    digests = files_service.blobs_of(record.files)
    session.delete(record)
    session.flush()
    files_service.release_blobs(session, store, digests)


def source_label(record: Record) -> str | None:
    parts = [p for p in (record.doctor.name if record.doctor else None, record.institution) if p]
    return ", ".join(parts) or None


def to_json(record: Record) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind.value,
        "title": record.title,
        "date": record.date.isoformat() if record.date else None,
        "doctor": record.doctor_id,
        "institution": record.institution,
        "notes": record.notes,
        "files": [files_service.to_json(file) for file in record.files],
    }
