"""Reading the words of a record's scans and photos (OCR) from the browser, as `record
attach` and `record read-text` do: in a background job whose page shows the pages done and
left, each file kept as soon as it is read.

An upload that brings scans or photos goes on to that job's page (the upload's own message
shown there); a record whose scans wait has a button that starts it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.responses import Response

from carebinder.web.core import Page, Pages
from carebinder.web.jobs import Job

pages = Pages()
GONE = "This reading is over or unknown (a restarted carebinder forgets them)."


def start(
    page: Page, record: int, done: str | None = None, *, again: bool = False
) -> Response | None:
    """Start reading the record's scans and photos that wait (`again`: all of them, as
    `record read-text --again`), and go to the job's page; None when none wait or
    Tesseract is missing (the record's page says so)."""
    from carebinder.ocr.languages import tesseract
    from carebinder.services import text_layers

    if tesseract() is None:
        return None
    with page.binder() as (s, patient):
        waiting = text_layers.waiting(s, patient.id, [record], again=again)
        ids = [f.id for f in waiting]
        spec = text_layers.reading_languages(s, patient.id)
    if not ids:
        return None

    def work(job: Job) -> Any:
        return read(page, ids, spec, job)

    job = page.web.jobs.start(work, file_name="")
    return page.redirect(f"/records/{record}/reading/{job}", done)


def read(page: Page, ids: list[int], spec: str, job: Job) -> list[tuple[str, str]]:
    """Recognise the files `ids`, saving each as it is done; (name, what became of it)."""
    from carebinder.ocr import Progress, Recognising
    from carebinder.services import text_layers
    from carebinder.services.files import to_json
    from carebinder.store import Store

    store = Store(page.web.settings.store_dir).check(write=True)
    with page.binder() as (s, patient):
        rows = [f for f in text_layers.waiting(s, patient.id, again=True) if f.id in ids]
        items, names = text_layers.items(store, rows), [f.original_name for f in rows]

    def say(at: Progress) -> None:
        where = f" (file {at.number} of {at.files})" if at.files > 1 else ""
        pages = f": page {min(at.done + 1, at.pages)} of {at.pages}" if at.pages else ""
        job.say(f"Reading the words of {at.name}{where}{pages}.")

    told: list[tuple[str, str]] = []
    with Recognising(items, spec, names=names, progress=say) as reading:
        for found, name in zip(reading, names, strict=True):
            with page.binder(write=True) as (s, patient):
                saved = text_layers.save(s, store, patient.id, found, spec)
                data = to_json(saved) if saved is not None else None
            words = text_layers.ocr_words(data) if data else None
            told.append((name, words or f"words not recognised ({found.error})"))
    return told


@pages.get("/records/{ident:int}/reading/{job:str}")
def progress(page: Page) -> Response:
    ident = page.request.path_params["ident"]
    job = page.web.jobs.get(page.request.path_params["job"])
    if job is None:
        return page.render("message.html", status=404, title="Not found", message=GONE)
    done = job.done  # once: the work may finish while this page is written
    with page.binder() as (_, patient):
        return page.render(
            "records/reading.html",
            title="Words recognised" if done and not job.refused else "Reading the words",
            job=job,
            finished=done,
            record=ident,
            patient=patient,
        )


@pages.post("/records/{ident:int}/read")
def read_now(page: Page) -> Response:
    ident = page.request.path_params["ident"]
    started = start(page, ident, again=page.flag("again"))
    return started or page.redirect(f"/records/{ident}")


def after_upload(page: Page, response: Response) -> Response:
    """An upload that attached files: on to reading the words of its scans and photos, the
    upload's message shown there; else the upload's own answer."""
    location = response.headers.get("location") if response.status_code == 303 else None
    found = re.fullmatch(r"/records/(\d+)", urlsplit(location or "").path)
    if location is None or found is None:
        return response
    tokens = parse_qs(urlsplit(location).query).get("done")
    token = tokens[0] if tokens else None
    message = page.web.done.pop(token, None) if token else None
    started = start(page, int(found.group(1)), message)
    if started is not None:
        return started
    if token and message:
        page.web.done[token] = message  # shown by the record's page, as before
    return response
