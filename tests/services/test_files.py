"""Service tests: files attached to records, the content-addressed store, and clean-up."""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from carebinder.db import session_scope
from carebinder.errors import FileRefused, NotFound
from carebinder.models import File, Patient, Record, RecordKind
from carebinder.services import files, patients, records
from carebinder.store import Store
from tests.conftest import blob_files

DICOM = b"\x00" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x02" * 100


def _file_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(File))


def _record(session: Session, store: Store, patient: Patient) -> Record:
    return records.add_record(session, store, patient.id, kind=RecordKind.OTHER, title="Docs")


def _new_patient(engine: Engine) -> int:
    with session_scope(engine) as s:
        return patients.add_patient(s, name="Ana", born=date(1964, 4, 12)).id


def test_attach_stores_bytes_and_facts(
    session: Session,
    store: Store,
    patient: Patient,
    home: Path,
    make_pdf: Callable[..., Path],
) -> None:
    rec = _record(session, store, patient)
    path = make_pdf("Pathology report.pdf", pages=3)
    content = path.read_bytes()
    [f] = files.attach_files(session, store, rec, [path])
    sha = hashlib.sha256(content).hexdigest()
    assert (f.original_name, f.media_type, f.size, f.page_count, f.sha256, f.unreadable) == (
        "Pathology report.pdf",
        "application/pdf",
        len(content),
        3,
        sha,
        None,
    )
    assert f.record_id == rec.id
    assert store.path_for(sha) == home / "files" / sha[:2] / sha[2:]
    assert store.path_for(sha).read_bytes() == content
    assert blob_files(home) == [store.path_for(sha)]
    assert files.to_json(f) == {
        "id": f.id,
        "name": "Pathology report.pdf",
        "media_type": "application/pdf",
        "size": len(content),
        "page_count": 3,
        "sha256": sha,
        "unreadable": None,
        "has_text": True,  # blank pages: nothing written, nothing a search could miss
        "unprintable": None,
        "notice": None,
        "ocr": None,  # words read: nothing to recognise
        "ocr_pages": None,
        "ocr_confidence": None,
        "ocr_languages": None,
        "ocr_failed": None,
    }


def test_same_bytes_are_stored_once(
    session: Session,
    store: Store,
    patient: Patient,
    home: Path,
    make_pdf: Callable[..., Path],
    make_file: Callable[[str, bytes], Path],
) -> None:
    first = make_pdf("a.pdf")
    second = make_file("b-renamed.pdf", first.read_bytes())
    rec = _record(session, store, patient)
    other = _record(session, store, patient)
    [f1] = files.attach_files(session, store, rec, [first])
    [f2] = files.attach_files(session, store, other, [second])
    assert f1.sha256 == f2.sha256
    assert f1.id != f2.id
    assert (f1.original_name, f2.original_name) == ("a.pdf", "b-renamed.pdf")
    assert len(blob_files(home)) == 1
    assert _file_rows(session) == 2


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("scan.dcm", DICOM, "application/dicom"),
        ("IM00001", DICOM, "application/dicom"),
        ("photo.pdf", JPEG, "image/jpeg"),
        ("chart.jpg", PNG, "image/png"),
        ("notes.pdf", "Résumé of the visit\n".encode(), "text/plain"),
        ("blob.txt", b"\x00\x01\x02\x03\xfe\xff", "application/octet-stream"),
        ("archive.pdf", b"PK\x03\x04" + b"\x00" * 40, "application/zip"),
    ],
)
def test_media_type_is_sniffed_not_taken_from_the_name(
    session: Session,
    store: Store,
    patient: Patient,
    make_file: Callable[[str, bytes], Path],
    name: str,
    content: bytes,
    media_type: str,
) -> None:
    rec = _record(session, store, patient)
    [f] = files.attach_files(session, store, rec, [make_file(name, content)])
    assert f.media_type == media_type
    if media_type.startswith("image/"):
        # Only the signature is an image here: reading it finds that out, and says so.
        assert f.page_count is None
        assert (f.unreadable or "").startswith("the image cannot be read")
    else:
        assert (f.page_count, f.unreadable) == (None, None)
    assert f.size == len(content)


def test_pdf_named_jpg_is_a_pdf_with_pages(
    session: Session,
    store: Store,
    patient: Patient,
    make_pdf: Callable[..., Path],
    make_file: Callable[[str, bytes], Path],
) -> None:
    content = make_pdf("real.pdf", pages=2).read_bytes()
    rec = _record(session, store, patient)
    [f] = files.attach_files(session, store, rec, [make_file("scan.jpg", content)])
    assert (f.original_name, f.media_type, f.page_count, f.unreadable) == (
        "scan.jpg",
        "application/pdf",
        2,
        None,
    )


def test_pdf_with_junk_before_the_marker_is_a_pdf(
    session: Session,
    store: Store,
    patient: Patient,
    make_pdf: Callable[..., Path],
    make_file: Callable[[str, bytes], Path],
) -> None:
    content = b"\r\n\r\n" + make_pdf("real.pdf", pages=1).read_bytes()
    rec = _record(session, store, patient)
    [f] = files.attach_files(session, store, rec, [make_file("scanner.pdf", content)])
    assert f.media_type == "application/pdf"


def test_damaged_pdf_is_kept_and_marked_unreadable(
    session: Session,
    store: Store,
    patient: Patient,
    home: Path,
    make_file: Callable[[str, bytes], Path],
) -> None:
    path = make_file("broken.pdf", b"%PDF-1.7\n garbage")
    rec = _record(session, store, patient)
    [f] = files.attach_files(session, store, rec, [path])
    assert f.media_type == "application/pdf"
    assert f.page_count is None
    assert f.unreadable is not None
    assert f.unreadable.startswith("the PDF is damaged (")
    assert str(path) not in f.unreadable
    assert str(home) not in f.unreadable
    assert store.exists(f.sha256)


def test_encrypted_pdf_is_password_protected(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    path = tmp_path / "locked.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.add_blank_page()
    pdf.save(path, encryption=pikepdf.Encryption(owner="o", user="secret"))
    rec = _record(session, store, patient)
    [f] = files.attach_files(session, store, rec, [path])
    assert (f.media_type, f.page_count, f.unreadable) == (
        "application/pdf",
        None,
        "the PDF is password-protected",
    )
    assert store.exists(f.sha256)


def test_pdf_encrypted_without_user_password_is_readable(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    path = tmp_path / "owner-only.pdf"
    pdf = pikepdf.new()
    for _ in range(3):
        pdf.add_blank_page()
    pdf.save(path, encryption=pikepdf.Encryption(owner="o", user=""))
    rec = _record(session, store, patient)
    [f] = files.attach_files(session, store, rec, [path])
    assert (f.page_count, f.unreadable) == (3, None)


def _assert_nothing_stored(session: Session, home: Path) -> None:
    assert blob_files(home) == []
    assert _file_rows(session) == 0


def test_missing_file_is_refused(
    session: Session, store: Store, patient: Patient, home: Path, tmp_path: Path
) -> None:
    rec = _record(session, store, patient)
    missing = tmp_path / "nope.pdf"
    with pytest.raises(FileRefused) as caught:
        files.attach_files(session, store, rec, [missing])
    assert caught.value.path == missing
    assert "no such file" in caught.value.reason
    assert str(caught.value).startswith(f"Cannot add {missing}:")
    _assert_nothing_stored(session, home)


def test_folder_is_refused(
    session: Session, store: Store, patient: Patient, home: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "inside.pdf").write_bytes(b"%PDF-1.4\n")
    rec = _record(session, store, patient)
    with pytest.raises(FileRefused, match="it is a folder"):
        files.attach_files(session, store, rec, [folder])
    _assert_nothing_stored(session, home)


def test_empty_file_is_refused(
    session: Session,
    store: Store,
    patient: Patient,
    home: Path,
    make_file: Callable[[str, bytes], Path],
) -> None:
    rec = _record(session, store, patient)
    with pytest.raises(FileRefused, match="the file is empty"):
        files.attach_files(session, store, rec, [make_file("empty.pdf", b"")])
    _assert_nothing_stored(session, home)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root can read a file whatever its mode",
)
def test_unreadable_file_is_refused(
    session: Session,
    store: Store,
    patient: Patient,
    home: Path,
    make_file: Callable[[str, bytes], Path],
) -> None:
    path = make_file("secret.pdf", b"%PDF-1.4\n")
    path.chmod(0)
    try:
        rec = _record(session, store, patient)
        with pytest.raises(FileRefused, match="permission"):
            files.attach_files(session, store, rec, [path])
    finally:
        path.chmod(0o600)
    _assert_nothing_stored(session, home)


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_device_is_refused(session: Session, store: Store, patient: Patient, home: Path) -> None:
    rec = _record(session, store, patient)
    with pytest.raises(FileRefused, match="not a regular file"):
        files.attach_files(session, store, rec, [Path("/dev/null")])
    _assert_nothing_stored(session, home)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_is_refused_without_waiting(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    rec = _record(session, store, patient)
    outcome: dict[str, BaseException] = {}

    def attach() -> None:
        try:
            files.attach_files(session, store, rec, [fifo])
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            outcome["error"] = error

    worker = threading.Thread(target=attach, daemon=True)
    worker.start()
    worker.join(timeout=0.5)
    blocked = worker.is_alive()
    if blocked:  # let the worker go: a writer that closes at once gives it end-of-file
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=5.0)
    assert not blocked
    assert isinstance(outcome.get("error"), FileRefused)
    assert "not a regular file" in str(outcome["error"])


def test_one_bad_path_refuses_the_whole_list_before_copying(
    session: Session,
    store: Store,
    patient: Patient,
    home: Path,
    tmp_path: Path,
    make_pdf: Callable[..., Path],
) -> None:
    rec = _record(session, store, patient)
    with pytest.raises(FileRefused, match="no such file"):
        files.attach_files(session, store, rec, [make_pdf(), tmp_path / "missing.pdf"])
    _assert_nothing_stored(session, home)


def test_non_utf8_file_name_is_shown_with_replacement(
    session: Session, store: Store, patient: Patient, tmp_path: Path
) -> None:
    if sys.platform == "darwin" or os.fsencode("x") != b"x":
        pytest.skip("needs a file system that accepts any bytes in names")
    raw = os.fsencode(tmp_path) + b"/caf\xe9.txt"
    with open(raw, "wb") as handle:
        handle.write(b"coffee notes\n")
    rec = _record(session, store, patient)
    [f] = files.attach_files(session, store, rec, [Path(os.fsdecode(raw))])
    assert f.original_name == "caf\ufffd.txt"


def test_get_and_detach_file(
    engine: Engine,
    store: Store,
    home: Path,
    make_pdf: Callable[..., Path],
    make_file: Callable[[str, bytes], Path],
) -> None:
    pid = _new_patient(engine)
    keep = make_pdf("keep.pdf", pages=2)
    drop = make_file("drop.txt", b"drop me\n")
    with session_scope(engine) as s:
        rec = records.add_record(
            s, store, pid, kind=RecordKind.LAB, title="CBC", files=[keep, drop]
        )
        rid = rec.id
        keep_id, drop_id = (f.id for f in rec.files)
        drop_sha = rec.files[1].sha256
    assert len(blob_files(home)) == 2

    with session_scope(engine) as s:
        rec = records.get_record(s, pid, rid)
        assert files.get_file(s, rec, drop_id).original_name == "drop.txt"
        files.detach_file(s, store, rec, files.get_file(s, rec, drop_id))
        assert store.exists(drop_sha)  # still there until the commit
    assert not store.exists(drop_sha)
    assert len(blob_files(home)) == 1
    with Session(engine) as s:
        rec = records.get_record(s, pid, rid)
        assert [f.id for f in rec.files] == [keep_id]
        with pytest.raises(NotFound) as caught:
            files.get_file(s, rec, drop_id)
        assert f"carebinder record show {rid}" in str(caught.value)


def test_detach_keeps_a_blob_another_record_uses(
    engine: Engine, store: Store, make_pdf: Callable[..., Path]
) -> None:
    pid = _new_patient(engine)
    path = make_pdf()
    with session_scope(engine) as s:
        r1 = records.add_record(s, store, pid, kind=RecordKind.LAB, title="1", files=[path])
        records.add_record(s, store, pid, kind=RecordKind.LAB, title="2", files=[path])
        rid, sha = r1.id, r1.files[0].sha256
    with session_scope(engine) as s:
        rec = records.get_record(s, pid, rid)
        files.detach_file(s, store, rec, rec.files[0])
    assert store.exists(sha)


def test_rollback_removes_a_blob_this_transaction_stored(
    engine: Engine, store: Store, home: Path, make_pdf: Callable[..., Path]
) -> None:
    pid = _new_patient(engine)
    with pytest.raises(RuntimeError, match="power cut"), session_scope(engine) as s:
        rec = records.add_record(s, store, pid, kind=RecordKind.LAB, title="CBC")
        files.attach_files(s, store, rec, [make_pdf("a.pdf"), make_pdf("b.pdf", pages=2)])
        assert len(blob_files(home)) == 2
        raise RuntimeError("power cut")
    assert blob_files(home) == []
    with Session(engine) as s:
        assert _file_rows(s) == 0
        assert records.list_records(s, pid) == []


def test_rollback_keeps_a_blob_that_existed_before(
    engine: Engine,
    store: Store,
    home: Path,
    make_pdf: Callable[..., Path],
    make_file: Callable[[str, bytes], Path],
) -> None:
    pid = _new_patient(engine)
    old = make_pdf("old.pdf")
    with session_scope(engine) as s:
        first = records.add_record(s, store, pid, kind=RecordKind.LAB, title="1", files=[old])
        old_sha = first.files[0].sha256
    new = make_file("new.txt", b"new bytes\n")
    again = make_file("old-again.pdf", old.read_bytes())
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        rec = records.add_record(s, store, pid, kind=RecordKind.LAB, title="2")
        added = files.attach_files(s, store, rec, [again, new])
        new_sha = added[1].sha256
        raise RuntimeError("interrupted")
    assert store.exists(old_sha)
    assert not store.exists(new_sha)
    assert blob_files(home) == [store.path_for(old_sha)]
    with Session(engine) as s:
        assert s.scalars(select(File.sha256)).all() == [old_sha]


def test_refused_file_mid_list_rolls_back_earlier_blobs(
    engine: Engine,
    store: Store,
    home: Path,
    make_pdf: Callable[..., Path],
    make_file: Callable[[str, bytes], Path],
) -> None:
    pid = _new_patient(engine)
    empty = make_file("empty.pdf", b"")
    with pytest.raises(FileRefused, match="empty"), session_scope(engine) as s:
        records.add_record(
            s, store, pid, kind=RecordKind.LAB, title="CBC", files=[make_pdf("ok.pdf"), empty]
        )
    assert blob_files(home) == []
    with Session(engine) as s:
        assert _file_rows(s) == 0
        assert records.list_records(s, pid) == []
