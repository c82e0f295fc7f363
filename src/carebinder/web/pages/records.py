"""Records: the medical documents of the case, each with its files (`carebinder record`).

Adding a record brings its files along, uploaded as `record add --file` attaches files
on disk (web/uploads.py). Attaching more, detaching and downloading are in record_files.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.choices import RecordKind
from carebinder.dates import parse_date
from carebinder.errors import InvalidInput
from carebinder.models import File, Patient
from carebinder.services.files import Prepared
from carebinder.web import uploads
from carebinder.web.core import Page, Pages, choice, refusal
from carebinder.words import human_size, plural

pages = Pages()
FORM = "records/form.html"


def choices(s: Session, patient: Patient) -> dict[str, Any]:
    """What the record form offers: the kinds, and the patient's doctors."""
    from carebinder.services import doctors

    return {
        "patient": patient,
        "doctors": doctors.list_doctors(s, patient.id),
        "kinds": RecordKind,
        "upload_limit": human_size(uploads.MAX_UPLOAD_BYTES),
    }


def told(added: list[File]) -> str:
    """What `record add` warns of the files just attached, as one paragraph."""
    said = []
    for file in added:
        if file.unreadable:
            said.append(
                f"{file.original_name} was stored but is unreadable: {file.unreadable}."
                " It will be listed as 'bring separately' in the packet."
            )
            continue
        if file.unprintable:
            said.append(
                f"{file.original_name} was stored, but the packet cannot print it:"
                f" {file.unprintable}. It will be listed as 'bring separately' in the packet."
            )
        if file.notice:
            said.append(f"{file.original_name}: {file.notice}.")
        if file.has_text is False and file.text_layer is None:
            said.append(
                f"{file.original_name} has no text layer (it is a scan):"
                " search cannot see its words."
            )
    return "".join(f" {line}" for line in said)


@pages.get("/records")
def list_(page: Page) -> Response:
    from carebinder.services import records

    wanted = page.request.query_params.get("kind", "")
    errors: dict[str, str] = {}
    try:
        kind = choice(wanted, RecordKind, "kind") if wanted else None
    except InvalidInput as error:  # a kind typed in the address: all records, and why
        kind, errors = None, refusal(error)
    with page.binder() as (s, patient):
        rows = records.list_records(s, patient.id, kind=kind)
        return page.render(
            "records/list.html",
            status=400 if errors else 200,
            errors=errors,
            title="Records",
            patient=patient,
            records=[(r, records.source_label(r)) for r in rows],
            kinds=RecordKind,
            kind=kind,
        )


@pages.get("/records/new")
def new(page: Page) -> Response:
    with page.binder() as (s, patient):
        return page.render(FORM, title="Add a record", action="/records/new", **choices(s, patient))


@pages.upload("/records/new")
def add(page: Page) -> Response:
    from carebinder.services import records
    from carebinder.store import Store

    def add_record(s: Session, patient: Patient, prepared: list[Prepared]) -> tuple[str, str]:
        row = records.add_record(
            s,
            Store(page.web.settings.store_dir),
            patient.id,
            kind=page.choice("kind", RecordKind),
            title=page.text("title"),
            date=parse_date(page.text("date"), "date") if page.optional("date") else None,
            doctor=page.number("doctor"),
            institution=page.optional("institution"),
            notes=page.optional("notes"),
            prepared=prepared,
        )
        attached = f" ({plural(len(row.files), 'file')})" if row.files else ""
        return f"/records/{row.id}", (
            f"Added record #{row.id}: {row.title}{attached}." + told(list(row.files))
        )

    from carebinder.web.pages.record_reading import after_upload

    return after_upload(
        page,
        uploads.attach(
            page,
            add_record,
            form=FORM,
            context=choices,
            title="Add a record",
            action="/records/new",
        ),
    )


@pages.get("/records/{ident:int}")
def show(page: Page) -> Response:
    from carebinder.services import records

    with page.binder() as (s, patient):
        row = records.get_record(s, patient.id, page.request.path_params["ident"])
        return page.render(
            "records/show.html",
            title=row.title,
            patient=patient,
            record=row,
            size=human_size,
            words=ocr_words(row),
            can_read=tesseract() is not None,
        )


def ocr_words(record: Any) -> dict[int, str]:
    """What the record's page says of each file's recognised words, in `record show`'s words."""
    from carebinder.services.files import to_json
    from carebinder.services.text_layers import ocr_words as words

    said = {f.id: words(to_json(f)) for f in record.files}
    return {ident: text for ident, text in said.items() if text}


def tesseract() -> str | None:
    from carebinder.ocr.languages import tesseract as found

    return found()


@pages.get("/records/{ident:int}/edit")
def edit_form(page: Page) -> Response:
    from carebinder.services import records

    with page.binder() as (s, patient):
        row = records.get_record(s, patient.id, page.request.path_params["ident"])
        return page.render(
            FORM,
            title=f"Edit {row.title}",
            row=row,
            action=f"/records/{row.id}/edit",
            **choices(s, patient),
        )


@pages.post("/records/{ident:int}/edit")
def edit(page: Page) -> Response:
    from carebinder.services import records

    ident = page.request.path_params["ident"]

    def edit_record(s: Session, patient: Patient) -> tuple[str, str]:
        row = records.edit_record(
            s,
            records.get_record(s, patient.id, ident),
            kind=page.choice("kind", RecordKind),
            title=page.text("title"),
            # An empty field clears it, as `record edit --date ""` does.
            date=parse_date(page.text("date"), "date") if page.optional("date") else None,
            doctor=page.number("doctor"),
            institution=page.text("institution"),
            notes=page.text("notes"),
        )
        return f"/records/{row.id}", f"Updated record #{row.id}: {row.title}"

    return page.change(
        edit_record,
        form=FORM,
        context=choices,
        title="Edit the record",
        action=f"/records/{ident}/edit",
    )


@pages.get("/records/{ident:int}/remove")
def remove_form(page: Page) -> Response:
    from carebinder.services import records

    with page.binder() as (s, patient):
        row = records.get_record(s, patient.id, page.request.path_params["ident"])
        count = len(row.files)
        what = f"Record #{row.id} {row.title}" + (
            f" and its {plural(count, 'file')}" if count else ""
        )
        return page.render(
            "confirm.html",
            title=f"Remove {row.title}?",
            patient=patient,
            message=f"{what} will be removed from the binder. This cannot be undone.",
            action=f"/records/{row.id}/remove",
            button="Remove the record",
            back=f"/records/{row.id}",
        )


@pages.post("/records/{ident:int}/remove")
def remove(page: Page) -> Response:
    from carebinder.services import records
    from carebinder.store import Store

    ident = page.request.path_params["ident"]

    def remove_record(s: Session, patient: Patient) -> tuple[str, str]:
        row = records.get_record(s, patient.id, ident)
        records.remove_record(s, Store(page.web.settings.store_dir).check(write=True), row)
        return "/records", f"Removed record #{ident}."

    if not page.flag("confirmed"):
        return page.redirect(f"/records/{ident}/remove")
    return page.change(remove_record, form="message.html", title="Not removed", message="")
