"""`carebinder calendar -o FILE.ics`: the appointments, for a calendar program."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carebinder.cli.common import App, note, out, patient_session
from carebinder.cli.options import STDOUT, output
from carebinder.outfile import check_file, write_file
from carebinder.words import plural


def register(app: App) -> None:
    app.command("calendar")(calendar)


def calendar(
    ctx: typer.Context,
    out_file: Annotated[Path, output("The .ics file to write ('-' for standard output).")],
    force: Annotated[bool, typer.Option(help="Overwrite the file if it exists.")] = False,
    upcoming: Annotated[
        bool, typer.Option("--upcoming", help="Only visits that have not started yet.")
    ] = False,
    no_reminder: Annotated[
        bool,
        typer.Option("--no-reminder", help="No reminder the day before planned visits."),
    ] = False,
) -> None:
    """Write the appointments as a calendar file (.ics) to import into Google Calendar,
    Outlook or Apple Calendar. Each visit is one hour long, in its own time zone, with
    the records and materials to bring and the questions to ask in its description, and
    a reminder the day before. Exporting again gives each visit the same identity, so a
    calendar program can recognise a visit it already has.

    The description holds medical details: import it into a calendar that only you, and
    the people you choose, can read.

    Example: carebinder calendar -o ~/Desktop/appointments.ics --upcoming
    """
    from carebinder.interop.ical import gather, render

    target = None
    if out_file != STDOUT:
        target = check_file(out_file, force=force, example="appointments.ics")
    with patient_session(ctx) as (s, patient):
        data = gather(s, patient, upcoming=upcoming)
    ics = render(data, reminder=not no_reminder)
    if target is None:
        typer.echo(ics, nl=False)
        return
    write_file(target, ics, force=force)
    count = len(data.visits)
    note(f"Wrote {plural(count, 'appointment')} to the calendar file.")
    out(str(target))
