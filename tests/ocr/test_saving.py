"""What is kept of a recognition: the text layer and the words, or why not; a page that
could not be read in time is named, and the other pages' words are kept."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from carebinder.choices import RecordKind
from carebinder.models import Patient
from carebinder.ocr import Recognised
from carebinder.services import files, records, text_layers
from carebinder.store import Store
from tests.ocr.pages import scanned_pdf


def test_a_late_page_is_named_and_the_rest_kept(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    scan = scanned_pdf(tmp_path / "fax.pdf", pages=3)
    record = records.add_record(
        session, store, patient.id, kind=RecordKind.OTHER, title="Fax", files=[scan]
    )
    (file,) = record.files
    assert files.to_json(file)["ocr"] == "waiting"
    layer_pdf = tmp_path / "layer.pdf"
    layer_pdf.write_bytes(scan.read_bytes() + b"\n% with words\n")
    found = Recognised(
        file.id, layer_pdf, None, pages=3, recognised=2, confidence=88.04,
        text="Invasive ductal carcinoma", late=(3,),
    )  # fmt: skip
    saved = text_layers.save(session, store, patient.id, found, "eng")
    assert saved is not None
    data = files.to_json(saved)
    assert (data["ocr"], data["ocr_pages"], data["ocr_confidence"]) == ("recognised", 2, 88.0)
    assert data["ocr_failed"] == "page 3 could not be read in time"
    assert text_layers.ocr_words(data) == (
        "text recognised (2 pages, mean confidence 88%); page 3 could not be read in time"
    )
    assert saved.text == "Invasive ductal carcinoma"
    assert store.exists(saved.text_layer.sha256 or "")

    failed = Recognised(file.id, None, "its words could not be recognised in time")
    text_layers.save(session, store, patient.id, failed, "eng")  # a later failure
    assert files.to_json(saved)["ocr"] == "recognised"  # the words made before stay
