"""Scans and photos read (OCR): which files wait for their words, and what was recognised.

A file whose pages are pictures (a scan, a photo) gets a `TextLayer` row when it is
attached; recognising it (carebinder.ocr, in a reader process, without the write lock)
makes a PDF of the original with an invisible layer of words, which goes into the store
like any file, and the words into `file.text`, where search finds them. The original is
never changed, so the text layer can be made again at any time (`again`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.db import on_rollback
from carebinder.models import File, Record, Setting, TextLayer
from carebinder.services.files import discard, release_blobs
from carebinder.services.records import get_record
from carebinder.store import Store

if TYPE_CHECKING:
    from carebinder.ocr import Item, Recognised

# Below this mean word confidence (Tesseract's, 0 to 100), a reader is told the words
# may be misread.
LOW_CONFIDENCE = 80.0
LANGUAGES = "ocr_languages"  # the setting
NO_WORDS = "no words were found in it"


def waiting(
    session: Session, patient_id: int, records: Sequence[int] = (), *, again: bool = False
) -> list[File]:
    """The patient's files whose words wait to be recognised, in id order; only those of
    `records` when given. With `again`, also those already recognised or that failed."""
    query = select(File).join(TextLayer).join(Record).where(Record.patient_id == patient_id)
    if records:
        ids = [get_record(session, patient_id, ident).id for ident in records]
        query = query.where(File.record_id.in_(ids))
    if not again:
        query = query.where(TextLayer.sha256.is_(None), TextLayer.failed.is_(None))
    return list(session.scalars(query.order_by(File.id)))


def items(store: Store, files: Sequence[File]) -> list[Item]:
    """What the reader process is given for `files`: each original, checked by its SHA-256."""
    from carebinder.ocr import Item

    return [Item(f.id, store.path_for(f.sha256), f.media_type, f.sha256) for f in files]


def save(
    session: Session, store: Store, patient_id: int, found: Recognised, languages: str
) -> File | None:
    """Keep what was recognised for one file: its text-layer version in the store, the words
    in `file.text`; or why it could not be made. None when the file is gone meanwhile."""
    file = session.scalars(
        select(File).join(Record).where(File.id == found.key, Record.patient_id == patient_id)
    ).first()
    if file is None:
        return None
    layer = file.text_layer or TextLayer(pages=file.page_count)
    file.text_layer = layer
    if found.output is None or not found.recognised:
        # A page without words (a photo of a wound, a blank page) gains nothing from a
        # text layer: the original is printed and searched as it is.
        if layer.sha256 is None:  # a text layer made before stays: its words are good
            layer.failed = found.error or NO_WORDS
        session.flush()
        return file
    blob = store.put(found.output)
    if blob.created:
        engine = session.get_bind()
        on_rollback(session, functools.partial(discard, engine, store, [blob.sha256]))
    if layer.sha256 and layer.sha256 != blob.sha256:
        release_blobs(session, store, [layer.sha256])
    layer.sha256 = blob.sha256
    layer.pages, layer.pages_recognised = found.pages or layer.pages, found.recognised
    layer.confidence = None if found.confidence is None else round(found.confidence, 1)
    layer.languages, layer.made_at = languages, datetime.now(UTC)
    layer.failed = late_pages(found.late)  # the other pages' words are kept
    if found.text:
        file.text = found.text
    session.flush()
    return file


def late_pages(pages: Sequence[int]) -> str | None:
    """Why some pages of a recognised file have no words ('page 3 could not be read in
    time'), or None."""
    if not pages:
        return None
    listed = ", ".join(str(page) for page in pages)
    return f"{'page' if len(pages) == 1 else 'pages'} {listed} could not be read in time"


def recognised_words(data: dict[str, Any]) -> str:
    """'text recognised (2 pages, mean confidence 91%)': a file's JSON, as both faces say it."""
    from carebinder.words import plural

    confidence = data["ocr_confidence"]
    told = plural(data["ocr_pages"] or 0, "page") + (
        f", mean confidence {confidence:.0f}%" if confidence is not None else ""
    )
    late = f"; {data['ocr_failed']}" if data["ocr_failed"] else ""
    return f"text recognised ({told}){late}"


def ocr_words(data: dict[str, Any]) -> str | None:
    """What both faces say of a file's words (its JSON): recognised, waiting, or why not;
    None when it has nothing to recognise."""
    if data["ocr"] == "recognised":
        return recognised_words(data)
    if data["ocr"] == "waiting":
        return "scan: words not recognised yet (carebinder record read-text)"
    if data["ocr"] == "failed":
        return f"scan: words could not be recognised: {data['ocr_failed']}"
    return None


def low(confidence: float | None) -> bool:
    return confidence is not None and confidence < LOW_CONFIDENCE


def languages(session: Session, patient_id: int) -> str | None:
    """The languages chosen for the patient's scans (`spa+eng`), or None."""
    setting = session.get(Setting, (patient_id, LANGUAGES))
    return setting.value if setting else None


def reading_languages(session: Session, patient_id: int, given: str | None = None) -> str:
    """The languages to read the patient's scans in: those `given` for one command, else
    the patient's choice, else this computer's default (its locale's language and English)."""
    from carebinder.ocr.languages import from_locale

    return given or languages(session, patient_id) or from_locale()


def choose_languages(session: Session, patient_id: int, value: str | None) -> None:
    """Remember `value` (already checked) for the patient's scans; None forgets it."""
    setting = session.get(Setting, (patient_id, LANGUAGES))
    if value is None:
        if setting is not None:
            session.delete(setting)
    elif setting is None:
        session.add(Setting(patient_id=patient_id, name=LANGUAGES, value=value))
    else:
        setting.value = value
    session.flush()
