"""`fhir.documents`, one step at a time: reports, documents and medications become records.
Each test runs a step on a small context over a real binder, with no importer around it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.choices import RecordKind
from carebinder.fhir import documents
from carebinder.models import Doctor, Patient, Record
from carebinder.services import files
from carebinder.store import Store
from tests.fhir.fhirkit import (
    document_reference,
    in_bundle,
    lab_report,
    observation,
    organization,
    patient_resource,
    pdf_attachment,
    practitioner,
    ref,
    step_context,
)
from tests.packet.pdfutil import text_pdf_bytes


def test_a_lab_report_becomes_a_record_listing_its_results(
    session: Session, store: Store, patient: Patient
) -> None:
    ana = patient_resource()
    lab = organization("Mercy Hospital Laboratory")
    carol = practitioner()
    hemoglobin = observation(ana)
    report = lab_report(
        ana,
        "Complete blood count",
        performer=[ref(lab)],
        resultsInterpreter=[ref(carol)],
        result=[ref(hemoglobin)],
    )
    ctx = step_context(session, store, patient, ana, lab, carol, hemoglobin, report)

    documents.record(ctx, patient.id, in_bundle(ctx, report))

    record = session.scalars(select(Record)).one()
    assert (record.kind, record.title) == (RecordKind.LAB, "Complete blood count")
    assert record.institution == "Mercy Hospital Laboratory"
    assert record.notes == "Results:\n- Hemoglobin: 13.2 g/dL"
    doctor = session.get(Doctor, record.doctor_id)
    assert doctor is not None and doctor.name == "Dr. Carol Weimann"
    assert ctx.summary.imported == Counter(record=1, doctor=1)
    assert ctx.made[(patient.id, id(in_bundle(ctx, report)))] == record.id


def test_a_document_keeps_its_stored_file_and_names_a_linked_one(
    session: Session, store: Store, patient: Patient, make_file: Callable[[str, bytes], Path]
) -> None:
    ana = patient_resource()
    content = text_pdf_bytes(["Invasive ductal carcinoma"])
    linked = {"contentType": "application/pdf", "title": "slides.pdf", "url": "https://x.test/s"}
    document = document_reference(ana, pdf_attachment(content), linked)
    ctx = step_context(session, store, patient, ana, document)
    stored = in_bundle(ctx, document)["content"][0]["attachment"]
    [prepared] = files.prepare(store, [make_file("biopsy.pdf", content)], lambda _sha: None)
    ctx.prepared[id(stored)] = prepared  # as the import decoded and stored it

    documents.record(ctx, patient.id, in_bundle(ctx, document))

    record = session.scalars(select(Record)).one()
    assert (record.kind, record.title) == (RecordKind.PATHOLOGY, "Pathology report")
    assert [f.sha256 for f in record.files] == [prepared.blob.sha256]
    assert record.notes == (
        "Files not included (ask the sender for them):\n"
        "- slides.pdf (https://x.test/s): not included in the import"
    )
    assert ctx.summary.imported == Counter(record=1, file=1)
    assert ctx.summary.skipped == Counter({("attachment", "given only as a link, not included"): 1})
