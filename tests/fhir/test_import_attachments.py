"""One bad attachment in a FHIR bundle: that file is left out, named, and everything else
of its document and of the bundle is imported."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from typing import Any

import pytest
from sqlalchemy import Engine, select

from carebinder.db import session_scope
from carebinder.models import Record
from carebinder.services import records
from carebinder.store import Store
from tests.conftest import blob_files
from tests.fhir.fhirkit import (
    bundle_doc,
    document_reference,
    fhir_hash,
    lab_report,
    parsed,
    patient_resource,
    pdf_attachment,
    row_counts,
    run_import,
)
from tests.packet.pdfutil import text_pdf_bytes

GOOD = text_pdf_bytes(["Core biopsy, page one"])
OTHER = text_pdf_bytes(["Another report"])
ASK = "The record's notes name it: ask the sender for it again."


def record_titled(engine: Engine, title: str) -> dict[str, Any]:
    with session_scope(engine, write=False) as s:
        return records.to_json(s.scalars(select(Record).where(Record.title == title)).one())


BAD = {
    "not base64": (
        {"contentType": "application/pdf", "title": "bad.pdf", "data": "%%% not base64"},
        "its data is not valid base64",
    ),
    "data not text": (
        {"contentType": "application/pdf", "title": "bad.pdf", "data": 12},
        "its data is not base64 text",
    ),
    "wrong size": (
        pdf_attachment(OTHER, title="bad.pdf", size=len(OTHER) + 1),
        "it is damaged (its size does not match its data)",
    ),
    "wrong hash": (
        pdf_attachment(OTHER, title="bad.pdf", hash=fhir_hash(b"other bytes")),
        "it is damaged (its hash does not match its data)",
    ),
    "hash not base64": (
        pdf_attachment(OTHER, title="bad.pdf", hash="not base64!"),
        "it is damaged (its hash does not match its data)",
    ),
    "empty": (
        {"contentType": "application/pdf", "title": "bad.pdf", "data": ""},
        "it is empty",
    ),
    "data link without a comma": (
        {"contentType": "application/pdf", "title": "bad.pdf", "url": "data:application/pdf"},
        "its data: link cannot be read",
    ),
    "data link not base64": (
        {"title": "bad.pdf", "url": "data:application/pdf;base64,%%%"},
        "its data: link cannot be read",
    ),
}


@pytest.mark.parametrize("bad", list(BAD))
def test_a_bad_attachment_is_left_out_and_its_document_kept(
    engine: Engine, store: Store, bad: str
) -> None:
    attachment, reason = BAD[bad]
    patient = patient_resource()
    bundle = bundle_doc(
        patient,
        document_reference(
            patient, pdf_attachment(GOOD, title="good.pdf"), attachment, description="Two files"
        ),
        document_reference(patient, pdf_attachment(OTHER, title="other.pdf"), description="Next"),
    )
    summary = run_import(engine, store, parsed(bundle))
    both = record_titled(engine, "Two files")
    assert [f["name"] for f in both["files"]] == ["good.pdf"]
    assert both["notes"] == f"Files not included (ask the sender for them):\n- bad.pdf: {reason}"
    assert [f["name"] for f in record_titled(engine, "Next")["files"]] == ["other.pdf"]
    assert [item.to_json() for item in summary.left_out] == [
        {
            "name": "bad.pdf",
            "record": both["id"],
            "file": None,
            "kind": "attachment",
            "reason": reason,
            "message": f"Left out bad.pdf (record #{both['id']}): {reason}. {ASK}",
        }
    ]
    assert summary.skipped == {("attachment", reason): 1}
    assert summary.imported["record"] == 2 and summary.imported["file"] == 2


@pytest.mark.parametrize(
    "url",
    [
        "data:application/pdf;base64," + base64.b64encode(GOOD).decode(),
        "data:application/pdf," + urllib.parse.quote_from_bytes(GOOD),
    ],
    ids=["base64", "percent-encoded"],
)
def test_a_file_given_as_a_data_link_is_stored(engine: Engine, store: Store, url: str) -> None:
    """A `data:` URL holds the file itself: nothing to fetch. Before, it was listed as a
    link not included, its hundreds of characters of base64 copied into the notes."""
    patient = patient_resource()
    attachment = {"contentType": "application/pdf", "title": "inline.pdf", "url": url}
    bundle = bundle_doc(patient, document_reference(patient, attachment, description="Inline"))
    summary = run_import(engine, store, parsed(bundle))
    record = record_titled(engine, "Inline")
    assert record["notes"] is None
    (file,) = record["files"]
    assert (file["name"], file["page_count"]) == ("inline.pdf", 1)
    assert store.path_for(file["sha256"]).read_bytes() == GOOD
    assert file["sha256"] == hashlib.sha256(GOOD).hexdigest()
    assert summary.left_out == [] and summary.skipped == {}


def test_a_garbage_pdf_inside_is_kept_and_marked_unreadable(engine: Engine, store: Store) -> None:
    """Its bytes are what the sender sent: kept, marked, and printed as "bring separately"
    by the packet; not left out."""
    garbage = b"%PDF-1.4\n" + b"\x00garbage" * 100
    patient = patient_resource()
    bundle = bundle_doc(
        patient,
        document_reference(
            patient,
            pdf_attachment(GOOD, title="good.pdf"),
            pdf_attachment(garbage, title="garbage.pdf"),
            description="Two files",
        ),
    )
    summary = run_import(engine, store, parsed(bundle))
    files = {f["name"]: f for f in record_titled(engine, "Two files")["files"]}
    assert files["good.pdf"]["unreadable"] is None
    assert files["garbage.pdf"]["unreadable"] == "the PDF is damaged (PdfError)"
    assert summary.left_out == []


def test_files_of_a_document_that_is_skipped_do_not_stay_in_the_store(
    engine: Engine, store: Store
) -> None:
    """The files are stored before the documents are read (to keep the write lock short);
    those of a document then skipped leave the store again once the import is saved."""
    patient = patient_resource()
    skipped = document_reference(patient, pdf_attachment(OTHER, title="other.pdf"), date="soon")
    bundle = bundle_doc(patient, skipped, lab_report(patient, presentedForm=[pdf_attachment(GOOD)]))
    summary = run_import(engine, store, parsed(bundle))
    assert summary.skipped[("DocumentReference", "not valid FHIR R4 (DocumentReference.date)")]
    assert row_counts(engine)["file"] == 1
    (blob,) = blob_files(store.root.parent)
    assert blob.read_bytes() == GOOD
