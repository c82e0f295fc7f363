"""Options shared by many commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

Json = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Remove without asking.")]
Notes = Annotated[str | None, typer.Option(help="Free-text notes.")]
Phone = Annotated[str | None, typer.Option(help="Phone number.")]
Email = Annotated[str | None, typer.Option(help="Email address.")]
Address = Annotated[str | None, typer.Option(help="Postal address.")]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="Date, YYYY-MM-DD or 'today'.", show_default=False)
]
DoctorId = Annotated[int, typer.Argument(help="The doctor's id (see `carebinder doctor list`).")]
RecordId = Annotated[int, typer.Argument(help="The record's id (see `carebinder record list`).")]
AppointmentId = Annotated[
    int, typer.Argument(help="The appointment's id (see `carebinder appointment list`).")
]

# `-o -`: write to standard output instead of a file.
STDOUT = Path("-")


def output(help: str) -> Any:
    """The `-o/--out` option of a command that writes a file (`-` for standard output)."""
    return typer.Option("--out", "-o", allow_dash=True, help=help, show_default=False)
