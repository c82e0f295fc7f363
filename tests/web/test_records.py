"""The records pages as a person uses them: add a record with its files uploaded, read them
back as downloads, see what the packet cannot print; every refusal beside its field with
nothing stored; another patient's records out of reach."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from carebinder.web import uploads
from tests.conftest import Cli, blob_files
from tests.packet.oddfiles import ODD_PDFS
from tests.packet.pdfutil import scan_pdf
from tests.web.webutil import KEY, ORIGIN, Browser, field_error, field_value, texts

PDF = "application/pdf"
Files = list[tuple[str, tuple[str, bytes, str]]]


def upload(browser: Browser, path: str, form: dict[str, str], *files: Path) -> Any:
    """POST `form` with `files` in the file input, as the browser sends a multipart form."""
    sent: Files = [("files", (f.name, f.read_bytes(), PDF)) for f in files]
    return browser.post(
        path, form, files=sent or [("files", ("", b"", "application/octet-stream"))]
    )


def add(browser: Browser, *files: Path, **form: str) -> Any:
    return upload(
        browser, "/records/new", {"kind": "pathology", "title": "Core biopsy", **form}, *files
    )


def nothing_added(browser: Browser, home: Path) -> None:
    assert "No records yet" in browser.get("/records").text
    assert blob_files(home) == []


def test_a_record_with_one_pdf_reads_back_as_a_download(
    ana: Browser, make_pdf: Callable[..., Path]
) -> None:
    pdf = make_pdf("pathology.pdf", pages=3)
    response = add(ana, pdf, date="2026-10-02", institution="Mass General")
    assert response.history[0].status_code == 303  # POST/redirect/GET
    assert response.url.path == "/records/1"
    assert texts(response.text, "done") == ["Added record #1: Core biopsy (1 file)."]
    row = response.text.split('id="file-')[1]
    assert "pathology.pdf" in row and ">3<" in row and PDF in row

    download = ana.get("/records/1/files/1/download")
    assert download.status_code == 200
    assert download.content == pdf.read_bytes()
    assert download.headers["content-type"] == PDF
    assert download.headers["content-disposition"] == 'attachment; filename="pathology.pdf"'
    assert download.headers["x-content-type-options"] == "nosniff"
    with pikepdf.open(io.BytesIO(download.content)) as back:
        assert len(back.pages) == 3


def test_several_files_at_once_and_the_command_line_sees_them(
    ana: Browser, make_pdf: Callable[..., Path], cli: Cli
) -> None:
    first, second = make_pdf("page-1.pdf"), make_pdf("page-2.pdf", pages=2)
    response = add(ana, first, second, kind="imaging", title="CT chest")
    assert texts(response.text, "done") == ["Added record #1: CT chest (2 files)."]
    shown = cli.ok("record", "show", "1").stdout
    assert "page-1.pdf" in shown and "page-2.pdf" in shown and "imaging" in shown
    listing = ana.get("/records").text
    assert "CT chest" in listing and "<td>2</td>" in listing
    assert ana.get("/records/1/files/2/download").content == second.read_bytes()


def test_a_name_beyond_ascii_is_kept_exactly(ana: Browser, make_pdf: Callable[..., Path]) -> None:
    pdf = make_pdf("biópsia mama.pdf")
    add(ana, pdf)
    download = ana.get("/records/1/files/1/download")
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"bi_psia mama.pdf\"; filename*=UTF-8''bi%C3%B3psia%20mama.pdf"
    )
    assert download.content == pdf.read_bytes()


def test_a_pdf_the_packet_cannot_print_is_to_be_brought_separately(
    ana: Browser, tmp_path: Path
) -> None:
    (odd,) = [o for o in ODD_PDFS if o.name == "speck.pdf"]
    path = tmp_path / odd.name
    odd.make(path)
    response = add(ana, path)
    assert odd.reason is not None
    assert f"the packet cannot print it: {odd.reason}" in texts(response.text, "done")[0]
    assert f"Cannot be printed: bring it separately. ({odd.reason})" in texts(
        response.text, "warning"
    )
    assert ana.get("/records/1/files/1/download").content == path.read_bytes()


def test_a_scan_says_it_has_no_text(
    ana: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a computer without Tesseract (tests/ocr/test_web.py reads scans)."""
    monkeypatch.setenv("PATH", "/nonexistent")
    response = add(ana, scan_pdf(tmp_path / "scan.pdf"))
    assert response.url.path == "/records/1"
    assert "Scan: words not recognised yet (carebinder record read-text)." in response.text
    assert (
        "Scans and photos cannot be read on this computer yet. To read them, install OCR"
        " (sudo apt-get install tesseract-ocr)" in response.text
    )


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"date": "02/10/2026"}, "date", "Date: '02/10/2026' is not a date."),
        ({"date": "1802-10-02"}, "date", "is not a plausible date"),
        ({"title": "  "}, "title", "Title cannot be empty."),
        ({"kind": "horoscope"}, "kind", "Kind: 'horoscope' is not one of pathology, "),
        ({"doctor": "7"}, "", "No doctor #7 in this binder."),
    ],
)
def test_a_refused_record_keeps_what_was_typed_and_stores_nothing(
    ana: Browser,
    make_pdf: Callable[..., Path],
    home: Path,
    form: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = add(ana, make_pdf(), institution="Mass General", **form)
    assert response.status_code in (400, 404)
    shown = field_error(response.text, field) if field else texts(response.text, "message")[0]
    assert message in shown
    if field:
        assert field_value(response.text, "institution") == "Mass General"
    nothing_added(ana, home)  # the PDF was stored and read, then taken back


def test_an_empty_file_refuses_the_whole_upload(
    ana: Browser, make_pdf: Callable[..., Path], tmp_path: Path, home: Path
) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    response = add(ana, make_pdf("good.pdf"), empty, notes="From the portal")
    assert response.status_code == 400
    assert field_error(response.text, "files") == "Cannot add empty.pdf: the file is empty."
    assert field_value(response.text, "notes") == "From the portal"
    assert str(tmp_path) not in response.text and "carebinder-upload-" not in response.text
    nothing_added(ana, home)


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    ana: Browser, make_pdf: Callable[..., Path], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1_000)
    response = add(ana, make_pdf(pages=5))
    assert response.status_code == 413
    assert field_error(response.text, "files").startswith(
        "This upload is too large: at most 1.0 KB at a time."
    )
    nothing_added(ana, home)


def test_an_upload_without_a_length_is_counted_as_it_arrives(
    ana: Browser, make_pdf: Callable[..., Path], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A body sent in chunks says no Content-Length: its bytes are counted instead."""
    from carebinder.web.security import csrf_token

    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 2_000)
    boundary = "carebinder-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in [("csrf", csrf_token(KEY)), ("kind", "lab"), ("title", "CBC")]
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.pdf"\r\n'
        f"Content-Type: {PDF}\r\n\r\n".encode()
        + make_pdf(pages=20).read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    body = b"".join(parts)
    assert len(body) > 2_000

    def chunks() -> Any:
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    response = ana.client.post(
        "/records/new",
        content=chunks(),
        headers={"origin": ORIGIN, "content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    assert "content-length" not in response.request.headers
    assert "at most 2.0 KB at a time" in field_error(response.text, "files")
    nothing_added(ana, home)


def test_a_forged_upload_stores_nothing(
    ana: Browser, make_pdf: Callable[..., Path], home: Path
) -> None:
    pdf = make_pdf()
    response = ana.client.post(
        "/records/new",
        data={"kind": "lab", "title": "CBC", "csrf": "forged"},
        files=[("files", (pdf.name, pdf.read_bytes(), PDF))],
        headers={"origin": ORIGIN},
    )
    assert response.status_code == 403
    nothing_added(ana, home)


def test_records_are_listed_by_date_and_filtered_by_kind(
    ana: Browser, make_pdf: Callable[..., Path]
) -> None:
    add(ana, title="Later pathology", date="2026-10-20")
    add(ana, kind="lab", title="CBC", date="2026-10-01")
    listing = ana.get("/records").text
    assert listing.index("CBC") < listing.index("Later pathology")  # as `record list`
    only = ana.get("/records?kind=lab").text
    assert "CBC" in only and "Later pathology" not in only
    assert "No surgery records yet." in ana.get("/records?kind=surgery").text
    refused = ana.get("/records?kind=horoscope")
    assert refused.status_code == 400
    assert field_error(refused.text, "kind").startswith(
        "Kind: 'horoscope' is not one of pathology, "
    )
    assert "CBC" in refused.text and "Later pathology" in refused.text


def test_editing_a_record(ana: Browser) -> None:
    ana.post("/doctors/new", {"name": "Dr. Wei Chen", "institution": "Mass General"})
    add(ana, date="2026-10-02")
    form = ana.get("/records/1/edit").text
    assert field_value(form, "date") == "2026-10-02"
    assert 'enctype="multipart/form-data"' not in form  # no files here: attach has its page
    saved = ana.post(
        "/records/1/edit",
        {"kind": "surgery", "title": "Lumpectomy", "date": "", "doctor": "1", "notes": "Margins"},
    )
    assert texts(saved.text, "done") == ["Updated record #1: Lumpectomy"]
    assert "Dr. Wei Chen" in saved.text and "Margins" in saved.text
    assert "<dt>Date</dt>" not in saved.text  # an empty date clears it, as `--date ""`

    refused = ana.post("/records/1/edit", {"kind": "surgery", "title": "X", "date": "soon"})
    assert refused.status_code == 400
    assert field_error(refused.text, "date").startswith("Date: 'soon' is not a date.")
    assert "Lumpectomy" in ana.get("/records/1").text  # unchanged


def test_attaching_more_and_detaching_one(
    ana: Browser, make_pdf: Callable[..., Path], home: Path
) -> None:
    first, second = make_pdf("one.pdf"), make_pdf("two.pdf", pages=2)
    add(ana, first)
    attached = upload(ana, "/records/1/attach", {}, second, first)
    assert texts(attached.text, "done") == [
        "Attached file #2 to record #1: two.pdf. 1 file was already attached to record #1 and"
        " not added again."
    ]
    none = upload(ana, "/records/1/attach", {})
    assert field_error(none.text, "files") == "Choose at least one file to attach."

    confirm = ana.get("/records/1/files/2/detach")
    assert "File #2 two.pdf will be removed from record #1 Core biopsy." in confirm.text
    assert ana.post("/records/1/files/2/detach").url.path == "/records/1/files/2/detach"
    assert len(blob_files(home)) == 2  # not without the confirmation
    detached = ana.post("/records/1/files/2/detach", {"confirmed": "yes"})
    assert texts(detached.text, "done") == ["Detached file #2 from record #1."]
    assert "two.pdf" not in detached.text
    assert len(blob_files(home)) == 1


def test_removing_a_record_after_confirming(
    ana: Browser, make_pdf: Callable[..., Path], home: Path
) -> None:
    add(ana, make_pdf())
    confirm = ana.get("/records/1/remove")
    assert "Record #1 Core biopsy and its 1 file will be removed" in confirm.text
    assert ana.post("/records/1/remove").url.path == "/records/1/remove"
    assert "Core biopsy" in ana.get("/records").text
    removed = ana.post("/records/1/remove", {"confirmed": "yes"})
    assert texts(removed.text, "done") == ["Removed record #1."]
    nothing_added(ana, home)


def test_a_damaged_file_is_a_message_not_a_download(
    ana: Browser, make_pdf: Callable[..., Path], home: Path
) -> None:
    add(ana, make_pdf("pathology.pdf"))
    (blob,) = blob_files(home)
    blob.chmod(0o600)
    blob.write_bytes(b"%PDF-1.7 not what was attached")
    response = ana.get("/records/1/files/1/download")
    assert response.status_code == 500
    assert "content-disposition" not in response.headers
    assert texts(response.text, "message") == [
        "pathology.pdf cannot be downloaded: the copy in the binder is damaged (its content no"
        " longer matches what was attached). Run `carebinder verify` to see what is wrong and"
        " how to mend it."
    ]
    blob.unlink()
    (missing,) = texts(ana.get("/records/1/files/1/download").text, "message")
    assert "the copy in the binder is missing from the binder's file store." in missing


def test_unknown_and_other_patients_records_are_not_found(
    ana: Browser, make_pdf: Callable[..., Path]
) -> None:
    ana.post("/patients/new", {"name": "Maria Souza", "born": "1940-01-01"})
    ana.post("/patients/use", {"patient": "2"})
    add(ana, make_pdf(), title="Maria's scan")
    ana.post("/patients/use", {"patient": "1"})
    add(ana, make_pdf("ana.pdf"), title="Ana's report")  # record #2, file #2
    for response in [
        ana.get("/records/1"),
        ana.get("/records/1/edit"),
        ana.post("/records/1/edit", {"kind": "lab", "title": "Taken over"}),
        ana.get("/records/1/remove"),
        ana.post("/records/1/remove", {"confirmed": "yes"}),
        ana.get("/records/1/attach"),
        upload(ana, "/records/1/attach", {}, make_pdf("x.pdf")),
        ana.get("/records/1/files/1/download"),
        ana.post("/records/1/files/1/detach", {"confirmed": "yes"}),
        ana.get("/records/99"),
    ]:
        assert response.status_code == 404
        assert texts(response.text, "message")[0] in (
            "No record #1 in this binder.",
            "No record #99 in this binder.",
        )
        assert "Maria" not in response.text
    other = ana.get("/records/2/files/1/download")  # Ana's record, Maria's file
    assert other.status_code == 404
    assert texts(other.text, "message") == ["No file #1 in this binder."]
    ana.post("/patients/use", {"patient": "2"})
    assert "Maria&#39;s scan" in ana.get("/records/1").text  # untouched


def test_uploads_pass_through_a_private_folder_that_is_then_removed(
    ana: Browser, make_pdf: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from carebinder.services import files

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    seen: list[tuple[str, int, int]] = []
    prepare = files.prepare

    def watched(store: Any, paths: Any, on_created: Any) -> Any:
        for path in paths:
            folder = path.parent.parent
            seen.append((path.name, folder.stat().st_mode & 0o777, path.stat().st_mode & 0o777))
        return prepare(store, paths, on_created)

    monkeypatch.setattr(files, "prepare", watched)
    same = make_pdf("report.pdf")
    add(ana, same, same)  # two files of one name: each in a folder of its own
    add(ana, make_pdf("other.pdf"), title="")  # refused
    assert seen == [("report.pdf", 0o700, 0o600)] * 2 + [("other.pdf", 0o700, 0o600)]
    assert list(scratch.iterdir()) == []
