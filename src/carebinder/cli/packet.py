"""`carebinder packet APPOINTMENT`: the PDF to bring to the visit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carebinder.cli.common import App, note, out, patient_session, store
from carebinder.cli.common import password as ask_password
from carebinder.cli.options import AppointmentId
from carebinder.errors import Conflict, InvalidInput
from carebinder.outfile import check_file
from carebinder.words import plural

# Packets this long report their progress on stderr.
PROGRESS_RECORDS = 20


PASSWORD_ENV = "CAREBINDER_PACKET_PASSWORD"  # noqa: S105 - the variable's name, not a secret


def register(app: App) -> None:
    app.command("packet")(packet)


def packet(
    ctx: typer.Context,
    appointment: AppointmentId,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the PDF (default: packet-NAME-DATE.pdf in this folder).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite the file if it exists.")] = False,
    paper: Annotated[str, typer.Option(help="Paper size: letter or a4.")] = "letter",
    password: Annotated[
        bool,
        typer.Option(
            "--password",
            help="Encrypt the PDF (AES-256). You are asked for the password, which does not"
            f" show on screen; scripts set {PASSWORD_ENV} instead.",
        ),
    ] = False,
    no_records: Annotated[
        bool, typer.Option("--no-records", help="Only the summary pages, without the records.")
    ] = False,
) -> None:
    """Write the packet to bring to a visit: summary, opinions, questions, checklist,
    care team, and the records themselves.

    A file that cannot be printed (a DICOM image, a damaged PDF, a page of no size) never
    stops the packet: it is listed to bring separately, with the reason, here and in the
    packet's records index, and everything else is printed.

    Example: carebinder packet 1 -o ~/Desktop/second-opinion.pdf --paper a4
    """
    from carebinder import sandbox

    if not no_records:
        sandbox.warm_up()  # the reader of the records' files gets ready meanwhile
    from carebinder.dates import shown
    from carebinder.packet.build import PAPERS, Options, build_packet
    from carebinder.packet.data import default_name
    from carebinder.packet.gather import gather
    from carebinder.services.appointments import get_appointment

    paper = paper.lower()
    if paper not in PAPERS:
        raise InvalidInput(f"--paper: {shown(paper)} is not a paper size. Use letter or a4.")
    secret = ask_password(PASSWORD_ENV, "packet", new=True) if password else None
    with patient_session(ctx) as (s, patient):
        row = get_appointment(s, patient.id, appointment)
        data = gather(s, store(ctx, write=False), row)
    default = Path.cwd() / default_name(data.patient.name, data.visit.start.date().isoformat())
    target = check_file(out_file or default, force=force, example="packet.pdf")
    loud = len(data.records) >= PROGRESS_RECORDS and not no_records
    try:
        result = build_packet(
            data,
            target,
            Options(paper=paper, password=secret, include_records=not no_records, force=force),
            progress=note if loud else lambda _: None,
        )
    except FileExistsError:
        raise Conflict(
            f"{target} appeared while the packet was being written; nothing was replaced."
        ) from None
    for record, name, reason in result.separately:
        note(f"Bring separately: {name} (record '{record}'): {reason}.")
    for record, name, notice in result.notices:
        note(f"Note: {name} (record '{record}'): {notice}.")
    records = plural(result.records, "record")
    note(f"Wrote {result.pages} pages ({records}{', encrypted' if secret else ''}).")
    out(str(result.path))
