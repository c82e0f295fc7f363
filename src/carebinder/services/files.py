"""Files attached to records: their bytes go to the store, their facts to the database.

Order matters for durability: the bytes are in the store (fsynced, renamed) before the row
is written; if the command then fails, a blob it created is removed again. A blob leaves
the store only when no file row references it, checked under the write lock.

Attaching is two steps so the slow part holds no lock: `prepare` stores and reads the
files, then `attach_prepared`, inside the write transaction, writes their rows.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, and_, or_, select
from sqlalchemy.orm import Session

from carebinder.db import after_commit, on_rollback
from carebinder.errors import BlobUnusable, FileRefused, NotFound
from carebinder.models import File, Record, TextLayer
from carebinder.sandbox import IMAGE_TYPES
from carebinder.store import Blob, Store

if TYPE_CHECKING:
    from carebinder.sandbox import Finding

PDF = "application/pdf"


@dataclass(frozen=True)
class Prepared:
    """A file already in the store and already read (pages, or why it is unreadable; a
    PDF's words), waiting for its row."""

    path: Path
    blob: Blob
    page_count: int | None
    unreadable: str | None
    text: str | None = None
    has_text: bool | None = None
    unprintable: str | None = None
    notice: str | None = None
    # Pages that are pictures without words: what OCR reads (None: not read).
    scanned: int | None = None

    @property
    def to_recognise(self) -> int | None:
        """Pages to recognise (OCR), or None when there is nothing to read: a photo or an
        image's frames, a PDF's pages without words; never a file that cannot be printed."""
        if self.unreadable or self.unprintable or self.page_count is None:
            return None
        if self.blob.media_type == PDF:
            return self.scanned or None
        return self.page_count if self.blob.media_type in IMAGE_TYPES else None


def prepare(
    store: Store, paths: Sequence[Path], on_created: Callable[[str], None]
) -> list[Prepared]:
    """Store each file and read it (in the sandbox). Takes no database lock, so the slow
    part of attaching happens while other commands go on writing. `on_created` is told of
    each blob this call put in the store, to take it back if the command then fails."""
    for path in paths:  # refuse obvious mistakes before copying anything
        if path.is_symlink() and not path.exists():
            raise FileRefused(path, "it is a link that leads nowhere (broken, or a loop).")
        if not path.exists():
            raise FileRefused(path, "no such file. Check the path.")
        if path.is_dir():
            raise FileRefused(path, "it is a folder. Give the files inside it instead.")
        if not path.is_file():
            raise FileRefused(path, "it is not a regular file.")
    stored = []
    for path in paths:
        blob = store.put(path)
        if blob.created:
            on_created(blob.sha256)
        stored.append((path, blob))
    # One reader process for all of them: an import may bring dozens of files.
    findings = inspect_all([blob for _, blob in stored])
    return [
        Prepared(
            path,
            blob,
            found.pages,
            found.error,
            found.text,
            found.has_text,
            found.unprintable,
            found.notice,
            found.scanned,
        )
        for (path, blob), found in zip(stored, findings, strict=True)
    ]


def attach_prepared(
    session: Session, store: Store, record: Record, prepared: Sequence[Prepared]
) -> list[File]:
    """Add the rows of prepared files to `record`. Returns the new rows: bytes the record
    already holds are not attached twice."""
    added = []
    held = {file.sha256 for file in record.files}
    for item in prepared:
        if item.blob.sha256 in held:
            continue
        held.add(item.blob.sha256)
        _ensure_stored(session, store, item)
        file = File(
            original_name=display_name(item.path),
            media_type=item.blob.media_type,
            size=item.blob.size,
            page_count=item.page_count,
            sha256=item.blob.sha256,
            unreadable=item.unreadable,
            text=item.text,
            has_text=item.has_text,
            unprintable=item.unprintable,
            notice=item.notice,
        )
        if item.to_recognise:  # waits for its words to be recognised (OCR)
            file.text_layer = TextLayer(pages=item.to_recognise)
        record.files.append(file)
        added.append(file)
    session.flush()
    return added


def _ensure_stored(session: Session, store: Store, item: Prepared) -> None:
    """The blob was stored before this transaction took the write lock; a concurrent
    removal may have released the same bytes since. Under the lock, store them again."""
    if store.exists(item.blob.sha256):
        return
    again = store.put(item.path)
    if again.created:
        on_rollback(session, functools.partial(discard, session.get_bind(), store, [again.sha256]))
    if again.sha256 != item.blob.sha256:
        raise FileRefused(item.path, "it changed while it was being added. Try again.")


def attach_files(
    session: Session, store: Store, record: Record, paths: Sequence[Path]
) -> list[File]:
    """Store each file and attach it to `record`, all or nothing (see `prepare`)."""
    engine = session.get_bind()

    def take_back(digest: str) -> None:
        on_rollback(session, functools.partial(discard, engine, store, [digest]))

    return attach_prepared(session, store, record, prepare(store, paths, take_back))


def display_name(path: Path) -> str:
    """The file's name as text, even when the name is not valid UTF-8."""
    return os.fsencode(path.name).decode("utf-8", "replace")[:255]


def inspect_all(blobs: Sequence[Blob]) -> list[Finding]:
    """Pages or image frames, or why each is unreadable, and a PDF's words, for stored
    files, read in a child process with limits (carebinder.sandbox). Never raises for bad
    content."""
    from carebinder.sandbox import inspect_files

    return inspect_files([(blob.path, blob.media_type) for blob in blobs], read_text=True)


# --- the words of PDFs attached before carebinder read them ---------------------------------


# A readable PDF whose words were never read (attached before carebinder read them).
UNREAD = and_(File.media_type == PDF, File.unreadable.is_(None), File.has_text.is_(None))
# A PDF without a text layer: a scan, whose words search cannot see.
SCANNED = File.has_text.is_(False)


def unread_pdfs(session: Session, patient_id: int) -> list[File]:
    """The patient's readable PDFs whose words were never read (attached before search)."""
    query = select(File).join(Record).where(Record.patient_id == patient_id, UNREAD)
    return list(session.scalars(query.order_by(File.id)))


def unsearchable_pdfs(session: Session, patient_id: int) -> list[tuple[int, int, str, bool | None]]:
    """(file id, record id, name, has_text) of the patient's PDFs search cannot see into:
    scans (has_text False) and PDFs whose words were never read (None)."""
    query = (
        select(File.id, File.record_id, File.original_name, File.has_text)
        .join(Record)
        .outerjoin(TextLayer)
        .where(Record.patient_id == patient_id, or_(SCANNED, UNREAD), TextLayer.sha256.is_(None))
        .order_by(File.id)
    )
    return [(r.id, r.record_id, r.original_name, r.has_text) for r in session.execute(query)]


def read_words(store: Store, files: Sequence[File]) -> dict[int, Finding]:
    """The words of each file (by file id), read in the sandbox. Takes no lock. A file whose
    bytes in the store cannot be used (missing, damaged, a folder in its place…) is left
    out, its finding saying why; the others are read all the same."""
    from carebinder.sandbox import Finding, inspect_files

    found: dict[int, Finding] = {}
    usable = []
    for file in files:
        try:
            store.read(file.sha256, keep=False)
        except BlobUnusable as error:
            found[file.id] = Finding(None, f"it {error.reason}; run `carebinder verify`")
        else:
            usable.append(file)
    read = inspect_files([(store.path_for(f.sha256), f.media_type) for f in usable], read_text=True)
    found.update((file.id, finding) for file, finding in zip(usable, read, strict=True))
    return found


def save_words(session: Session, patient_id: int, found: dict[int, Finding]) -> list[File]:
    """Store the words read for the patient's files that still have none; returns them.
    A file whose words could not be read (or that is gone from the store) stays unread."""
    saved = []
    for file in unread_pdfs(session, patient_id):
        finding = found.get(file.id)
        if finding is None or finding.has_text is None:
            continue
        file.text, file.has_text = finding.text, finding.has_text
        file.unprintable, file.notice = finding.unprintable, finding.notice
        if finding.scanned and not finding.unprintable and file.text_layer is None:
            file.text_layer = TextLayer(pages=finding.scanned)  # a scan: its words wait for OCR
        saved.append(file)
    session.flush()
    return saved


def get_file(session: Session, record: Record, ident: int) -> File:
    for file in record.files:
        if file.id == ident:
            return file
    raise NotFound(
        "file",
        ident,
        message=f"Record #{record.id} has no file #{ident}."
        f" See `carebinder record show {record.id}` for its files.",
    )


def blobs_of(files: Iterable[File]) -> list[str]:
    """The blobs `files` use: their own and their text-layer versions."""
    found = []
    for file in files:
        found.append(file.sha256)
        if file.text_layer is not None and file.text_layer.sha256:
            found.append(file.text_layer.sha256)
    return found


def detach_file(session: Session, store: Store, record: Record, file: File) -> None:
    digests = blobs_of([file])
    record.files.remove(file)
    session.flush()
    release_blobs(session, store, digests)


def release_blobs(session: Session, store: Store, digests: Iterable[str]) -> None:
    """After the commit, remove those of `digests` that no file row references any more."""
    candidates = set(digests)
    if candidates:
        after_commit(session, functools.partial(discard, session.get_bind(), store, candidates))


def discard(engine: Engine | Connection, store: Store, digests: Iterable[str]) -> None:
    """Remove the blobs of `digests` that no file row (nor text layer) references.

    Checked and removed inside a write transaction: a command attaching the same bytes
    re-checks them under that lock before it writes its row (see `_ensure_stored`).
    """
    candidates = set(digests)
    bind = engine.engine if isinstance(engine, Connection) else engine
    with Session(bind.execution_options(sqlite_begin="IMMEDIATE")) as check, check.begin():
        used = set(check.scalars(select(File.sha256).where(File.sha256.in_(candidates))))
        used |= set(check.scalars(select(TextLayer.sha256).where(TextLayer.sha256.in_(candidates))))
        for digest in sorted(candidates - used):
            # Something the store cannot remove (a folder in a blob's place, a read-only
            # share) is left for `carebinder verify` to name: it must not stop the removal
            # of the others, nor turn a committed command into an error.
            with contextlib.suppress(OSError):
                store.remove(digest)


def to_json(file: File) -> dict[str, Any]:
    return {
        "id": file.id,
        "name": file.original_name,
        "media_type": file.media_type,
        "size": file.size,
        "page_count": file.page_count,
        "sha256": file.sha256,
        "unreadable": file.unreadable,
        # True: its words are searchable; False: a scan, without a text layer; None: not a
        # PDF, unreadable, or attached before carebinder read the words of PDFs.
        "has_text": file.has_text,
        # Why the packet cannot print a file it can read (e.g. a page of no size), or None.
        "unprintable": file.unprintable,
        # What a reader should know (e.g. it was damaged and repaired), or None.
        "notice": file.notice,
        **ocr_json(file.text_layer),
    }


def ocr_status(layer: TextLayer | None) -> str | None:
    """None (nothing to recognise), "waiting", "recognised" or "failed"."""
    if layer is None:
        return None
    if layer.sha256:
        return "recognised"
    return "failed" if layer.failed else "waiting"


def ocr_json(layer: TextLayer | None) -> dict[str, Any]:
    """A file's OCR facts: None when it has nothing to recognise (a PDF with words, a file
    that cannot be read); else "waiting" (for `record read-text`), "recognised" (with the
    pages where words were found, Tesseract's mean word confidence and the languages) or
    "failed" (with why)."""
    made = layer is not None and bool(layer.sha256)
    return {
        "ocr": ocr_status(layer),
        "ocr_pages": layer.pages_recognised if layer and made else None,
        "ocr_confidence": layer.confidence if layer and made else None,
        "ocr_languages": layer.languages if layer and made else None,
        "ocr_failed": layer.failed if layer else None,
    }
