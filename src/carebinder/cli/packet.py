"""`carebinder packet APPOINTMENT`: the PDF to bring to the visit."""

from __future__ import annotations

import re
import sys
import unicodedata
import warnings
from pathlib import Path
from typing import Annotated

import typer

from carebinder.cli.app import App, note, out, patient_session, store
from carebinder.cli.options import AppointmentId
from carebinder.errors import Conflict, InvalidInput

# Packets this long report their progress on stderr.
PROGRESS_RECORDS = 20


with warnings.catch_warnings():
    # Typer calls flag_value unsupported, yet it is the one way to let `--password` be
    # given alone (then asked for without echo) or with its value; Typer is pinned <0.29.
    warnings.simplefilter("ignore", DeprecationWarning)
    PasswordOption = Annotated[
        str | None,
        typer.Option(
            "--password",
            help="Encrypt the PDF (AES-256) with this password. Give --password alone to be"
            " asked for it without it showing on screen.",
            show_default=False,
            flag_value="",
        ),
    ]


def register(app: App) -> None:
    app.command("packet")(packet)


def default_name(patient: str, visit_day: str) -> str:
    """e.g. `packet-Ana-Souza-2026-12-03.pdf`: plain ASCII, safe on every filesystem."""
    ascii_name = unicodedata.normalize("NFKD", patient).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-") or "patient"
    return f"packet-{slug}-{visit_day}.pdf"


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
    password: PasswordOption = None,
    no_records: Annotated[
        bool, typer.Option("--no-records", help="Only the summary pages, without the records.")
    ] = False,
) -> None:
    """Write the packet to bring to a visit: summary, opinions, questions, checklist,
    care team, and the records themselves.

    Example: carebinder packet 1 -o ~/Desktop/second-opinion.pdf --paper a4
    """
    from carebinder.packet.build import PAPERS, Options, build_packet
    from carebinder.packet.gather import gather
    from carebinder.services.appointments import get_appointment

    paper = paper.lower()
    if paper not in PAPERS:
        raise InvalidInput(f"--paper: {paper!r} is not a paper size. Use letter or a4.")
    if password == "":
        password = _ask_password()
    with patient_session(ctx) as (s, patient):
        row = get_appointment(s, patient.id, appointment)
        data = gather(s, store(ctx), row)
    target = out_file or Path.cwd() / default_name(
        data.patient.name, data.visit.start.date().isoformat()
    )
    target = target.expanduser()
    if target.is_dir():
        raise InvalidInput(
            f"--out: {target} is a folder. Give a file name, e.g. {target}/packet.pdf"
        )
    if not target.parent.is_dir():
        raise InvalidInput(f"--out: the folder {target.parent} does not exist.")
    if target.exists() and not force:
        raise Conflict(f"{target} already exists. Add --force to replace it, or choose -o FILE.")
    loud = len(data.records) >= PROGRESS_RECORDS and not no_records
    try:
        result = build_packet(
            data,
            target,
            Options(paper=paper, password=password, include_records=not no_records, force=force),
            progress=note if loud else lambda _: None,
        )
    except FileExistsError:
        raise Conflict(
            f"{target} appeared while the packet was being written; nothing was replaced."
        ) from None
    for record, name, reason in result.separately:
        note(f"Bring separately: {name} (record '{record}'): {reason}.")
    note(
        f"Wrote {result.pages} pages ({result.records} records"
        + (", encrypted" if password else "")
        + ")."
    )
    out(str(result.path))


def _ask_password() -> str:
    if not sys.stdin.isatty():
        raise InvalidInput(
            "--password: there is no terminal to ask for it. Give it as --password TEXT."
        )
    first = str(typer.prompt("Password for the packet", hide_input=True, err=True))
    second = str(typer.prompt("Repeat the password", hide_input=True, err=True))
    if first != second:
        raise InvalidInput("The two passwords differ. Nothing was written.")
    if not first:
        raise InvalidInput("The password is empty. Nothing was written.")
    return first
