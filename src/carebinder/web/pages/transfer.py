"""Into the binder and out of it: import a FHIR file, export, the calendar, a backup.

As `carebinder import`, `export`, `calendar` and `backup`, with the same services; what the
command line writes to a file is a download here (a browser saves one file, so the CSV
tables come as one .zip). Restoring a backup stays on the command line: it replaces a whole
binder, which a page of that binder should not do.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from carebinder.errors import CarebinderError, InvalidInput
from carebinder.web.core import Page, Pages, refusal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from carebinder.models import Patient

pages = Pages()

FORMATS = ("json", "csv", "fhir")
# The FHIR bundle's own media type (RFC 6838 registration by HL7).
FHIR_JSON = "application/fhir+json"


def attachment(content: bytes, media_type: str, name: str) -> Response:
    """`content` as a download named `name`."""
    return Response(
        content,
        media_type=media_type,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def passwords(page: Page) -> str | None:
    """The password typed twice (None when left empty), as the command line asks for it."""
    secret, again = page.text("password"), page.text("password_again")
    if secret != again:
        raise InvalidInput("The two passwords differ. Nothing was written.", field="password_again")
    return secret or None


# --- import -----------------------------------------------------------------------------------


@pages.get("/import")
def import_form(page: Page) -> Response:
    return page.render("transfer/import.html", title="Import a FHIR file")


def upload_name(name: str) -> str:
    """The uploaded file's own name (messages name it), without any folder."""
    base = Path(name.replace("\\", "/")).name.strip()
    return base if base not in ("", ".", "..") else "upload.json"


@pages.post("/import")
def import_file(page: Page) -> Response:
    from carebinder.fhir import intake
    from carebinder.fhir.words import REST, summary_lines
    from carebinder.leftout import report_lines

    upload = (page.form or {}).get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("{field}: choose the file to import.", field="file")
        with tempfile.TemporaryDirectory(prefix="carebinder-upload-") as folder:
            path = Path(folder) / upload_name(upload.filename)
            with path.open("xb") as copy:
                shutil.copyfileobj(upload.file, copy)
            summary = intake.import_file(page.web.settings, path, command="web POST /import")
    except CarebinderError as error:
        return page.render(
            "transfer/import.html",
            status=400,
            title="Import a FHIR file",
            errors=refusal(error, shown={"file"}),  # a fact in the file: above the form
        )
    return page.render(
        "transfer/imported.html",
        title="Imported",
        lines=summary_lines(summary),
        left_out=report_lines(summary.left_out, REST),
    )


# --- export -----------------------------------------------------------------------------------


@pages.get("/export")
def export_form(page: Page) -> Response:
    return page.render("transfer/export.html", title="Export", formats=FORMATS)


@contextmanager
def chosen(page: Page, all_patients: bool) -> Iterator[tuple[Session, list[Patient]]]:
    """A session, and the patients to export: the chosen one, or all (--all-patients)."""
    if not all_patients:
        with page.binder() as (s, patient):
            yield s, [patient]
        return
    from carebinder.services.patients import list_patients

    with page.session() as s:
        yield s, list_patients(s)


@pages.get("/export/file")
def export(page: Page) -> Response:
    from carebinder.dates import shown

    page.form = page.request.query_params
    format_ = page.text("format")
    all_patients, no_data = page.flag("all_patients"), page.flag("no_data")
    try:
        if format_ not in FORMATS:
            raise InvalidInput(
                f"{{field}}: {shown(format_)} is not one of the choices.", field="format"
            )
        if no_data and format_ != "fhir":
            raise InvalidInput(
                f"{{field}} is for the FHIR format only: {format_} never holds the files'"
                " bytes. Leave it unticked.",
                field="no_data",
            )
    except InvalidInput as error:
        return page.render(
            "transfer/export.html",
            status=400,
            title="Export",
            formats=FORMATS,
            errors=refusal(error),
            values=page.values(),
        )
    day = date.today().isoformat()
    if format_ == "fhir":
        return export_fhir(page, all_patients, data=not no_data, name=f"carebinder-fhir-{day}.json")
    from carebinder.interop.tabular import csv_files, export_document, json_bytes

    with chosen(page, all_patients) as (s, patients):
        document = export_document(s, patients)
    if format_ == "json":
        return attachment(json_bytes(document), "application/json", f"carebinder-{day}.json")
    tables = io.BytesIO()
    with zipfile.ZipFile(tables, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in csv_files(document).items():
            archive.writestr(f"carebinder-tables-{day}/{name}", content)
    return attachment(tables.getvalue(), "application/zip", f"carebinder-tables-{day}.zip")


def export_fhir(page: Page, all_patients: bool, *, data: bool, name: str) -> Response:
    """The FHIR R4 Bundle; a file whose copy is missing or damaged is described without its
    bytes, as the command line does (which also names it: `carebinder verify` does here)."""
    from carebinder.fhir.exporter import export_patients
    from carebinder.store import Store

    store = Store(page.web.settings.store_dir).check(write=False)
    with chosen(page, all_patients) as (s, patients):
        bundle, _ = export_patients(s, store, patients, data=data)
    content = json.dumps(bundle, ensure_ascii=False, indent=1).encode()
    return attachment(content, FHIR_JSON, name)


# --- calendar ---------------------------------------------------------------------------------


@pages.get("/calendar")
def calendar_form(page: Page) -> Response:
    with page.binder() as (_, patient):
        return page.render("transfer/calendar.html", title="Calendar", patient=patient)


@pages.get("/calendar/file")
def calendar(page: Page) -> Response:
    from carebinder.interop.ical import gather, render

    page.form = page.request.query_params
    with page.binder() as (s, patient):
        data = gather(s, patient, upcoming=page.flag("upcoming"))
    ics = render(data, reminder=not page.flag("no_reminder"))
    return attachment(ics, "text/calendar; charset=utf-8", "appointments.ics")


# --- backup -----------------------------------------------------------------------------------


@pages.get("/backup")
def backup_form(page: Page) -> Response:
    return page.render("transfer/backup.html", title="Backup")


@pages.post("/backup")
def backup(page: Page) -> Response:
    from carebinder.backup import check_backup_source, create_backup
    from carebinder.backup.create import default_name

    folder = Path(tempfile.mkdtemp(prefix="carebinder-backup-"))  # mode 0700
    try:
        secret = passwords(page)
        check_backup_source(page.web.settings)
        result = create_backup(
            page.web.settings, folder / default_name(date.today()), password=secret
        )
    except CarebinderError as error:
        shutil.rmtree(folder, ignore_errors=True)
        return page.render(
            "transfer/backup.html",
            status=400,
            title="Backup",
            errors=refusal(error),
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        result.path,
        media_type="application/octet-stream",
        filename=result.path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
