"""A record's files: attach more (`record attach`), detach one (`record detach`), and
download the stored bytes.

A download is always an attachment with the stored media type, never shown in the page
(a stored HTML file must not run as this site), and its bytes are read through the store,
which checks them against the SHA-256 they were stored under.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.errors import BlobUnusable
from carebinder.models import Patient
from carebinder.services.files import Prepared
from carebinder.web import uploads
from carebinder.web.core import Page, Pages
from carebinder.words import human_size, plural

pages = Pages()
FORM = "records/attach.html"


def the_record(ident: int) -> Any:
    """The context of the attach form: the record files go to."""

    def context(s: Session, patient: Patient) -> dict[str, Any]:
        from carebinder.services import records

        return {
            "patient": patient,
            "record": records.get_record(s, patient.id, ident),
            "upload_limit": human_size(uploads.MAX_UPLOAD_BYTES),
        }

    return context


@pages.get("/records/{ident:int}/attach")
def attach_form(page: Page) -> Response:
    ident = page.request.path_params["ident"]
    with page.binder() as (s, patient):
        return page.render(
            FORM,
            title="Attach files",
            action=f"/records/{ident}/attach",
            **the_record(ident)(s, patient),
        )


@pages.upload("/records/{ident:int}/attach")
def attach(page: Page) -> Response:
    from carebinder.services import files, records
    from carebinder.store import Store

    ident = page.request.path_params["ident"]

    def attach_files(s: Session, patient: Patient, prepared: list[Prepared]) -> tuple[str, str]:
        row = records.get_record(s, patient.id, ident)
        if not prepared:
            raise files_missing()
        added = files.attach_prepared(s, Store(page.web.settings.store_dir), row, prepared)
        said = [f"Attached file #{f.id} to record #{ident}: {f.original_name}." for f in added]
        same = len(prepared) - len(added)
        if same:
            said.append(
                f"{plural(same, 'file')} {'was' if same == 1 else 'were'} already attached to"
                f" record #{ident} and not added again."
            )
        return f"/records/{ident}", " ".join(said)

    from carebinder.web.pages.record_reading import after_upload

    return after_upload(
        page,
        uploads.attach(
            page,
            attach_files,
            form=FORM,
            context=the_record(ident),
            title="Attach files",
            action=f"/records/{ident}/attach",
        ),
    )


def files_missing() -> Exception:
    from carebinder.errors import InvalidInput

    return InvalidInput("Choose at least one file to attach.", field=uploads.FIELD)


@pages.get("/records/{ident:int}/files/{file:int}/detach")
def detach_form(page: Page) -> Response:
    from carebinder.services import files, records

    ident, number = page.request.path_params["ident"], page.request.path_params["file"]
    with page.binder() as (s, patient):
        row = records.get_record(s, patient.id, ident)
        target = files.get_file(s, row, number)
        return page.render(
            "confirm.html",
            title=f"Detach {target.original_name}?",
            patient=patient,
            message=f"File #{target.id} {target.original_name} will be removed from record"
            f" #{row.id} {row.title}. This cannot be undone.",
            action=f"/records/{row.id}/files/{target.id}/detach",
            button="Detach the file",
            back=f"/records/{row.id}",
        )


@pages.post("/records/{ident:int}/files/{file:int}/detach")
def detach(page: Page) -> Response:
    from carebinder.services import files, records
    from carebinder.store import Store

    ident, number = page.request.path_params["ident"], page.request.path_params["file"]

    def detach_file(s: Session, patient: Patient) -> tuple[str, str]:
        row = records.get_record(s, patient.id, ident)
        target = files.get_file(s, row, number)
        store = Store(page.web.settings.store_dir).check(write=True)
        files.detach_file(s, store, row, target)
        return f"/records/{ident}", f"Detached file #{number} from record #{ident}."

    if not page.flag("confirmed"):
        return page.redirect(f"/records/{ident}/files/{number}/detach")
    return page.change(detach_file, form="message.html", title="Not detached", message="")


@pages.get("/records/{ident:int}/files/{file:int}/download")
def download(page: Page) -> Response:
    from carebinder.services import files, records
    from carebinder.store import Store

    ident, number = page.request.path_params["ident"], page.request.path_params["file"]
    with page.binder() as (s, patient):
        target = files.get_file(s, records.get_record(s, patient.id, ident), number)
        name, media_type, sha256 = target.original_name, target.media_type, target.sha256
    try:
        content = Store(page.web.settings.store_dir).check(write=False).read(sha256)
    except BlobUnusable as error:
        return page.render(
            "message.html",
            status=500,
            title="This file cannot be downloaded",
            message=f"{name} cannot be downloaded: the copy in the binder {error.reason}."
            " Run `carebinder verify` to see what is wrong and how to mend it.",
            patient=patient,
        )
    # The type as stored (Starlette would add a charset to a text/ one).
    return Response(
        content, headers={"content-type": media_type, "content-disposition": attachment(name)}
    )


def attachment(name: str) -> str:
    """A Content-Disposition that saves the file under `name`: plain ASCII for every
    browser, and the exact name (RFC 5987 `filename*`) for those that read it."""
    plain = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in name)
    exact = quote(name, safe="")
    if plain == name:
        return f'attachment; filename="{plain}"'
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{exact}"
