"""Service tests: search over real attached PDFs (their words read at attach time), scans
reported as such, PDFs attached before search, and the queries refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from carebinder.choices import RecordKind
from carebinder.errors import InvalidInput
from carebinder.models import File, Patient, Record
from carebinder.sandbox import MAX_TEXT_CHARS
from carebinder.services import files, records, search
from carebinder.store import Store
from tests.conftest import write_pdf
from tests.packet.pdfutil import png, scan_pdf, text_pdf

UNIQUE = "Xanthogranulomatous"  # in the PDF only: no title, note or name holds it


def filed(session: Session, store: Store, owner: Patient, title: str, *paths: Path) -> Record:
    """A record titled `title` with `paths` attached (read in the sandbox, as always)."""
    return records.add_record(
        session, store, owner.id, kind=RecordKind.OTHER, title=title, files=paths
    )


def test_a_word_only_inside_an_attached_pdf_is_found(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    pdf = text_pdf(
        tmp_path / "pathology.pdf",
        ["Surgical pathology report", f"Diagnosis: {UNIQUE} cholecystitis, no malignancy."],
    )
    record = filed(session, store, patient, "Gallbladder", pdf)
    (file,) = record.files
    assert file.has_text is True
    assert file.text is not None and UNIQUE in file.text
    assert "Surgical pathology report" in file.text

    results = search.search(session, patient.id, UNIQUE.lower())
    (hit,) = results.hits
    assert (hit.kind, hit.id, hit.record, hit.title) == (
        "file",
        file.id,
        record.id,
        "pathology.pdf",
    )
    assert [hit.snippet[a:b] for a, b in hit.highlights] == [UNIQUE]
    assert "cholecystitis" in hit.snippet
    assert results.scans == [] and results.unread == []


def test_a_scanned_pdf_is_reported_as_a_scan(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    scan = scan_pdf(tmp_path / "ct-scan.pdf", pages=2)
    record = filed(session, store, patient, "Outside CT report", scan)
    (file,) = record.files
    assert (file.page_count, file.unreadable, file.has_text, file.text) == (2, None, False, None)
    assert files.to_json(file)["has_text"] is False
    results = search.search(session, patient.id, "ct")
    assert [(h.kind, h.id) for h in results.hits] == [("record", record.id), ("file", file.id)]
    assert [(s.file, s.record, s.name) for s in results.scans] == [
        (file.id, record.id, "ct-scan.pdf")
    ]


def test_blank_pages_and_images_are_not_scans(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    blank_pdf, photo_png = write_pdf(tmp_path / "blank.pdf"), png(tmp_path / "photo.png")
    record = filed(session, store, patient, "Odds and ends", blank_pdf, photo_png)
    blank, photo = record.files
    assert (blank.has_text, blank.text) == (True, None)  # nothing written, nothing missed
    assert (photo.has_text, photo.text) == (None, None)  # not a PDF
    assert search.search(session, patient.id, "odds").scans == []


def test_the_words_of_a_long_pdf_are_capped(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    from reportlab.pdfgen.canvas import Canvas

    big = tmp_path / "big.pdf"
    canvas = Canvas(str(big))
    line = "lorem ipsum dolor sit amet consectetur " * 3
    for _ in range(MAX_TEXT_CHARS // (len(line) * 60) + 5):
        canvas.setFont("Helvetica", 4)
        for row in range(60):
            canvas.drawString(20, 800 - row * 12, line)
        canvas.showPage()
    canvas.save()
    record = filed(session, store, patient, "Big", big)
    (file,) = record.files
    assert file.text is not None
    assert len(file.text) == MAX_TEXT_CHARS
    assert file.has_text is True


def test_pdfs_attached_before_search_are_read_on_request(
    session: Session, store: Store, patient: Patient, other_patient: Patient, tmp_path: Path
) -> None:
    pdfs = [
        text_pdf(tmp_path / "old-report.pdf", [f"Old report: {UNIQUE}"]),
        scan_pdf(tmp_path / "old-scan.pdf"),
    ]
    mine = filed(session, store, patient, "Old", *pdfs)
    their_pdf = text_pdf(tmp_path / "theirs.pdf", ["Someone else's"])
    theirs = filed(session, store, other_patient, "Theirs", their_pdf)
    # As a binder from before this version has them: words not read.
    session.execute(update(File).values(text=None, has_text=None))
    session.expire_all()
    assert search.search(session, patient.id, UNIQUE).hits == []
    unread = files.unread_pdfs(session, patient.id)
    assert [f.original_name for f in unread] == ["old-report.pdf", "old-scan.pdf"]
    assert [u.name for u in search.search(session, patient.id, "old").unread] == [
        "old-report.pdf",
        "old-scan.pdf",
    ]

    found = files.read_words(store, unread)
    saved = files.save_words(session, patient.id, found)

    assert [(f.original_name, f.has_text) for f in saved] == [
        ("old-report.pdf", True),
        ("old-scan.pdf", False),
    ]
    results = search.search(session, patient.id, UNIQUE)
    assert [(h.kind, h.record) for h in results.hits] == [("file", mine.id)]
    assert results.unread == []
    assert [s.name for s in results.scans] == ["old-scan.pdf"]
    assert files.unread_pdfs(session, patient.id) == []
    # The other patient's file was not touched.
    assert [f.id for f in files.unread_pdfs(session, other_patient.id)] == [theirs.files[0].id]
    # Words found for another patient's file are never saved on this patient's behalf.
    assert files.save_words(session, patient.id, files.read_words(store, theirs.files)) == []


def test_a_pdf_missing_from_the_store_stays_unread(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    pdf = text_pdf(tmp_path / "gone.pdf", ["Gone"])
    record = filed(session, store, patient, "Gone", pdf)
    session.execute(update(File).values(text=None, has_text=None))
    session.expire_all()
    store.remove(record.files[0].sha256)
    unread = files.unread_pdfs(session, patient.id)
    found = files.read_words(store, unread)
    assert found[unread[0].id].error is not None
    assert files.save_words(session, patient.id, found) == []
    assert len(files.unread_pdfs(session, patient.id)) == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "query cannot be empty"),
        ("   ", "query cannot be empty"),
        ("-- * ()", "query has no words to look for"),
        ("x" * 501, "query is too long"),
        ("a\x1b[2Jb", "query contains a control character"),
    ],
)
def test_queries_without_words_are_refused(
    session: Session, patient: Patient, query: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        search.search(session, patient.id, query)


def test_results_as_json(session: Session, store: Store, patient: Patient) -> None:
    records.add_record(
        session, store, patient.id, kind=RecordKind.LAB, title="Ki67", notes="Ki67 at 20%"
    )
    data = search.to_json(search.search(session, patient.id, "ki67"))
    assert set(data) == {"query", "results", "scans", "unread"}
    (hit,) = data["results"]
    assert set(hit) == {
        "rank", "kind", "id", "record", "title", "snippet", "highlights", "score",
        "recognised", "confidence",
    }  # fmt: skip
    assert (hit["rank"], hit["kind"], hit["id"], hit["record"]) == (1, "record", 1, 1)
    assert all(hit["snippet"][a:b].casefold() == "ki67" for a, b in hit["highlights"])


@pytest.mark.sqlite_only("the index is an FTS5 table")
def test_the_index_is_an_fts5_table(session: Session) -> None:
    sql = session.execute(
        text("SELECT sql FROM sqlite_master WHERE name = 'search_index'")
    ).scalar_one()
    assert "fts5" in sql and "remove_diacritics 2" in sql and "porter" in sql
