"""`carebinder record …`: medical documents and their files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from carebinder.choices import RecordKind
from carebinder.cli.common import (
    App,
    confirm_removal,
    date_or_none,
    emit_json,
    fields,
    keep_date,
    keep_text,
    keep_value,
    note,
    out,
    patient_session,
    preparing,
    result,
    store,
    table,
)
from carebinder.cli.options import DateOpt, Json, Notes, RecordId, Yes
from carebinder.cli.reading import (
    NO_TESSERACT,
    Outcome,
    after_attaching,
    interrupted,
    languages,
    recognise,
)
from carebinder.words import human_size, plural

app = App(help="Medical records (pathology, surgery, imaging, labs…) and their files.")

Doctor = Annotated[
    int | None, typer.Option("--doctor", help="Id of the doctor the record is from.")
]
Institution = Annotated[str | None, typer.Option(help="Where the record is from.")]
Paths = Annotated[list[Path], typer.Argument(help="Files to attach (PDF, images, DICOM…).")]

SCAN_NOTE = "{name} has no text layer (it is a scan): search cannot see its words."
OcrLang = Annotated[
    str | None,
    typer.Option(
        "--ocr-lang",
        metavar="LANGS",
        help="Languages of scans and photos, as Tesseract names them, e.g. spa+eng"
        " (default: the patient's choice, else this computer's language and English).",
        show_default=False,
    ),
]
NoOcr = Annotated[
    bool,
    typer.Option(
        "--no-ocr",
        help="Do not read the words of scans and photos now (`record read-text` reads them).",
    ),
]


def _warn_unreadable(files: list[dict[str, Any]]) -> None:
    for file in files:
        if file["unreadable"]:
            note(
                f"Warning: {file['name']} was stored but is unreadable: {file['unreadable']}."
                " It will be listed as 'bring separately' in the packet."
            )
            continue
        if file["unprintable"]:
            note(
                f"Warning: {file['name']} was stored, but the packet cannot print it:"
                f" {file['unprintable']}. It will be listed as 'bring separately' in the packet."
            )
        if file["notice"]:
            note(f"Note: {file['name']}: {file['notice']}.")
        if file["has_text"] is False and file["ocr"] is None:
            note(SCAN_NOTE.format(name=file["name"]))


def _status(file: dict[str, Any]) -> str:
    """A file's line in `record show`: readable, and searchable, recognised or a scan; then
    what a reader should know of it (the packet cannot print it, it was repaired)."""
    from carebinder.services.text_layers import ocr_words

    if file["unreadable"]:
        return f"unreadable: {file['unreadable']}"
    if file["unprintable"]:
        status = f"cannot be printed in the packet: {file['unprintable']}"
    elif file["ocr"] is not None:
        status = ocr_words(file) or ""
    elif file["has_text"] is False:
        status = "scan: no text layer, search cannot see its words"
    elif file["has_text"] is None and file["media_type"] == "application/pdf":
        status = "ok; words not read yet (carebinder record read-text)"
    else:
        status = "ok"
    return f"{status}; {file['notice']}" if file["notice"] else status


@app.command("add")
def add(
    ctx: typer.Context,
    kind: Annotated[RecordKind, typer.Argument(help="What kind of record it is.")],
    title: Annotated[str, typer.Argument(help="e.g. 'Breast core biopsy pathology'.")],
    date: DateOpt = None,
    doctor: Doctor = None,
    institution: Institution = None,
    notes: Notes = None,
    file: Annotated[
        list[Path] | None,
        typer.Option("--file", help="A file to attach; repeat for several.", show_default=False),
    ] = None,
    ocr_lang: OcrLang = None,
    no_ocr: NoOcr = False,
    as_json: Json = False,
) -> None:
    """Add a record, with its files. The words of scans and photos are recognised (OCR)
    after they are attached, with a progress bar; --no-ocr leaves that for later.

    Example: carebinder record add pathology "Core biopsy report" --date 2026-10-02
    --doctor 1 --file ~/Downloads/pathology.pdf
    """
    from carebinder.services import records, text_layers

    on = date_or_none(date, "--date")
    given = languages(ocr_lang)
    with preparing(ctx, file or []) as prepared, patient_session(ctx, write=True) as (s, patient):
        record = records.add_record(
            s,
            store(ctx, check=bool(file)),
            patient.id,
            kind=kind,
            title=title,
            date=on,
            doctor=doctor,
            institution=institution,
            notes=notes,
            prepared=prepared,
        )
        data = records.to_json(record)
        spec = None if no_ocr else text_layers.reading_languages(s, patient.id, given)
    _warn_unreadable(data["files"])
    attached = len(data["files"])
    if not as_json:
        out(
            f"Added record #{data['id']}: {data['title']}"
            + (f" ({plural(attached, 'file')})" if attached else "")
        )
    read = {f["id"]: f for f in after_attaching(ctx, data["files"], data["id"], spec).read}
    if as_json:
        emit_json({**data, "files": [read.get(f["id"], f) for f in data["files"]]})


@app.command("list")
def list_(
    ctx: typer.Context,
    kind: Annotated[RecordKind | None, typer.Option(help="Only records of this kind.")] = None,
    as_json: Json = False,
) -> None:
    """List the records, oldest first.

    Example: carebinder record list --kind pathology
    """
    from carebinder.services import records

    with patient_session(ctx) as (s, patient):
        rows = records.list_records(s, patient.id, kind=kind)
        data = [records.to_json(r) for r in rows]
        sources = [records.source_label(r) for r in rows]
    if as_json:
        emit_json(data)
        return
    table(
        ["ID", "DATE", "KIND", "TITLE", "SOURCE", "FILES"],
        [
            [r["id"], r["date"], r["kind"], r["title"], source, len(r["files"]) or ""]
            for r, source in zip(data, sources, strict=True)
        ],
        empty="No records yet. Add one: carebinder record add KIND TITLE --file PATH",
    )


@app.command("show")
def show(ctx: typer.Context, record: RecordId, as_json: Json = False) -> None:
    """Show a record and its files.

    Example: carebinder record show 3
    """
    from carebinder.services import records

    with patient_session(ctx) as (s, patient):
        row = records.get_record(s, patient.id, record)
        data = records.to_json(row)
        source = records.source_label(row)
    if as_json:
        emit_json(data)
        return
    fields(
        [
            ("Record", f"#{data['id']} {data['title']}"),
            ("Kind", data["kind"]),
            ("Date", data["date"]),
            ("Source", source),
            ("Notes", data["notes"]),
        ]
    )
    if data["files"]:
        out()
    table(
        ["FILE", "NAME", "TYPE", "SIZE", "PAGES", "STATUS"],
        [
            [
                f["id"],
                f["name"],
                f["media_type"],
                human_size(f["size"]),
                f["page_count"],
                _status(f),
            ]
            for f in data["files"]
        ],
        empty=f"No files attached. Attach some: carebinder record attach {record} PATH",
    )


@app.command("edit")
def edit(
    ctx: typer.Context,
    record: RecordId,
    kind: Annotated[RecordKind | None, typer.Option(help="What kind of record it is.")] = None,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    date: DateOpt = None,
    doctor: Doctor = None,
    institution: Institution = None,
    notes: Notes = None,
    as_json: Json = False,
) -> None:
    """Change a record's details. An empty value ("") clears a field.

    Example: carebinder record edit 3 --date 2026-10-02 --institution "Mass General"
    """
    from carebinder.services import records

    with patient_session(ctx, write=True) as (s, patient):
        row = records.edit_record(
            s,
            records.get_record(s, patient.id, record),
            kind=keep_value(kind),
            title=keep_text(title),
            date=keep_date(date, "--date"),
            doctor=keep_value(doctor),
            institution=keep_text(institution),
            notes=keep_text(notes),
        )
        data = records.to_json(row)
    result(data, as_json, f"Updated record #{data['id']}: {data['title']}")


@app.command("remove")
def remove(ctx: typer.Context, record: RecordId, yes: Yes = False) -> None:
    """Remove a record and its attached files.

    Example: carebinder record remove 3 --yes
    """
    from carebinder.services import records

    with patient_session(ctx, write=True) as (s, patient):
        row = records.get_record(s, patient.id, record)
        count = len(row.files)
        confirm_removal(
            f"record #{row.id} {row.title}"
            + (f" and its {plural(count, 'file')}" if count else ""),
            yes,
        )
        records.remove_record(s, store(ctx), row)
    note(f"Removed record #{record}.")


@app.command("attach")
def attach(
    ctx: typer.Context,
    record: RecordId,
    paths: Paths,
    ocr_lang: OcrLang = None,
    no_ocr: NoOcr = False,
    as_json: Json = False,
) -> None:
    """Attach files to a record. The same file is stored only once. If one of the files
    cannot be read (a wrong path, a folder, an empty file), none is attached. The words
    of scans and photos are then recognised (OCR), with a progress bar; --no-ocr leaves
    that for `carebinder record read-text`.

    Example: carebinder record attach 3 scan-page1.jpg scan-page2.jpg --ocr-lang spa+eng
    """
    from carebinder.services import files, records, text_layers

    given = languages(ocr_lang)
    with preparing(ctx, paths) as prepared, patient_session(ctx, write=True) as (s, patient):
        row = records.get_record(s, patient.id, record)
        added = [files.to_json(f) for f in files.attach_prepared(s, store(ctx), row, prepared)]
        spec = None if no_ocr else text_layers.reading_languages(s, patient.id, given)
    _warn_unreadable(added)
    if len(added) < len(paths):
        same = len(paths) - len(added)
        note(
            f"{plural(same, 'file')} {'was' if same == 1 else 'were'} already attached to record"
            f" #{record} and not added again."
        )
    if not as_json:
        for f in added:
            out(f"Attached file #{f['id']} to record #{record}: {f['name']}")
    read = {f["id"]: f for f in after_attaching(ctx, added, record, spec).read}
    if as_json:
        emit_json([read.get(f["id"], f) for f in added])


@app.command("detach")
def detach(
    ctx: typer.Context,
    record: RecordId,
    file: Annotated[int, typer.Argument(help="The file's id (see `carebinder record show`).")],
    yes: Yes = False,
) -> None:
    """Remove one file from a record.

    Example: carebinder record detach 3 7 --yes
    """
    from carebinder.services import files, records

    with patient_session(ctx, write=True) as (s, patient):
        row = records.get_record(s, patient.id, record)
        target = files.get_file(s, row, file)
        confirm_removal(f"file #{target.id} {target.original_name} from record #{record}", yes)
        files.detach_file(s, store(ctx), row, target)
    note(f"Detached file #{file} from record #{record}.")


@app.command("read-text")
def read_text(
    ctx: typer.Context,
    record: Annotated[
        list[int] | None,
        typer.Argument(help="Only the files of these records (default: all).", show_default=False),
    ] = None,
    again: Annotated[
        bool,
        typer.Option("--again", help="Recognise scans and photos again, even those already read."),
    ] = False,
    ocr_lang: OcrLang = None,
    as_json: Json = False,
) -> None:
    """Read the words still unread, so that `carebinder search` finds them: PDFs attached
    before carebinder read them, and scans and photos whose words are recognised (OCR)
    here, with a progress bar. Each file is kept as soon as it is read: after Ctrl-C, run
    it again to go on. A file whose copy in the binder is missing or damaged is not read,
    and says so.

    Example: carebinder record read-text 3 --ocr-lang spa+eng
    """
    from carebinder.ocr.languages import tesseract
    from carebinder.services import files, records, text_layers

    given = languages(ocr_lang)
    with patient_session(ctx) as (s, patient):
        pending = files.unread_pdfs(s, patient.id)
        if record:
            for ident in record:  # refused for a record not in this binder
                records.get_record(s, patient.id, ident)
            pending = [f for f in pending if f.record_id in record]
    saved: dict[int, dict[str, Any]] = {}
    found = files.read_words(store(ctx, write=False), pending)
    if pending:
        with patient_session(ctx, write=True) as (s, patient):
            saved = {f.id: files.to_json(f) for f in files.save_words(s, patient.id, found)}
    with patient_session(ctx) as (s, patient):
        scans = [
            (f.id, f.record_id, f.original_name)
            for f in text_layers.waiting(s, patient.id, record or (), again=again)
        ]
        spec = text_layers.reading_languages(s, patient.id, given)
    lines = not as_json
    for f in pending:
        data = saved.get(f.id)
        where = f"File #{f.id} of record #{f.record_id}: {f.original_name}"
        why = found[f.id].error if f.id in found and found[f.id].error else None
        if not lines:
            continue
        if data is None:
            out(f"{where}: not read ({why or 'its words could not be read'}).")
        elif data["has_text"]:
            out(f"{where}: read.")
        else:
            out(f"{where}: no text layer (a scan), search cannot see its words.")
    cannot = bool(scans) and tesseract() is None
    if cannot:
        note(NO_TESSERACT.format(name=scans[0][2]))
    ocr = recognise(ctx, scans, spec, lines=lines) if scans and not cannot else Outcome()
    if as_json:
        emit_json(
            {
                "read": list(saved.values()),
                "not_read": [
                    {
                        "id": f.id,
                        "record": f.record_id,
                        "name": f.original_name,
                        "why": found[f.id].error
                        if f.id in found and found[f.id].error
                        else "its words could not be read",
                    }
                    for f in pending
                    if f.id not in saved
                ],
                "recognised": ocr.read,
                "not_recognised": ocr.not_read,
            }
        )
    if ocr.interrupted:
        interrupted(len(ocr.read), len(scans))
    if as_json:
        return
    if not pending and not scans:
        note("Every PDF's words are already read: search sees them all.")
        return
    if pending:
        note(f"Read {len(saved)} of {plural(len(pending), 'PDF')}.")
    if scans and not cannot:
        note(f"Recognised the words of {len(ocr.read)} of {plural(len(scans), 'scan')}.")


@app.command("ocr-lang")
def ocr_lang_(
    ctx: typer.Context,
    langs: Annotated[
        str | None,
        typer.Argument(
            help="Languages to read this patient's scans in, e.g. spa+eng.",
            show_default=False,
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Forget the choice: this computer's default.")
    ] = False,
) -> None:
    """Show or choose the languages this patient's scans and photos are read in (OCR).
    Without a choice, they are read in this computer's language and English.

    Example: carebinder record ocr-lang spa+eng
    """
    from carebinder.services import text_layers

    checked = languages(langs)
    with patient_session(ctx, write=checked is not None or clear) as (s, patient):
        if checked is not None or clear:
            text_layers.choose_languages(s, patient.id, checked)
        saved = text_layers.languages(s, patient.id)
        spec = text_layers.reading_languages(s, patient.id)
    where = "chosen for this patient" if saved else "this computer's default"
    out(f"Scans are read in {spec} ({where}).")
