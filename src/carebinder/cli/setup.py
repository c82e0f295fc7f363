"""`carebinder init` and `carebinder demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carebinder.cli.common import App, note, open_engine, out, start_up_done, state


def register(app: App) -> None:
    app.command("init")(init)
    app.command("demo")(demo)


def init(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Option(help="The patient's full name (adds the first patient).")
    ] = None,
    born: Annotated[
        str | None, typer.Option(help="The patient's date of birth, YYYY-MM-DD.")
    ] = None,
) -> None:
    """Create the binder. Safe to run again: it never removes anything.

    Example: carebinder init --name "Ana Souza" --born 1961-04-12
    """
    from carebinder import config
    from carebinder.db import session_scope
    from carebinder.errors import InvalidInput
    from carebinder.services import patients

    if (name is None) != (born is None):
        raise InvalidInput("Give both --name and --born to add the patient, or neither.")
    born_on = None
    if name is not None and born is not None:
        from carebinder.dates import parse_date
        from carebinder.services.common import required_text

        name = required_text(name, "--name")
        born_on = parse_date(born, "--born")
    settings = state(ctx).settings
    engine = open_engine(ctx, create=True)
    try:
        if name is not None and born_on is not None:
            with session_scope(engine, command="init") as s:
                existing = patients.find_patient(s, name=name, born=born_on)
                patient = existing or patients.add_patient(s, name=name, born=born_on)
                message = (
                    f"Patient #{patient.id} {patient.name} is already in the binder."
                    if existing
                    else f"Added patient #{patient.id}: {patient.name}"
                )
                remembered = config.remembered_patient(settings)
                chosen = patients.chosen_or_new(s, remembered, patient)
            if chosen is patient:  # the patient commands work on, until `patient use`
                config.remember_patient(settings, patient.id)
            out(message)
    finally:
        engine.dispose()
    note(f"Binder ready at {settings.home}")
    note("Next: carebinder doctor add NAME --specialty TEXT --institution TEXT")


def demo(
    ctx: typer.Context,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the sample packet (default: inside the sample binder).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Build a sample binder in a new temporary folder, and its packet, to try carebinder
    without your own data.

    Example: carebinder demo --out sample-packet.pdf
    """
    from carebinder import demo as sample

    start_up_done()  # this command does not ask for the global options (see state())
    made = sample.make(out_file)
    note(f"Sample binder for {made.patient_name}: {made.home}")
    note(f"Its packet ({made.pages} pages): {made.packet}")
    out(str(made.packet))
    note("Open it in your browser:")
    note(f"  {_as_typed()} --home {made.home} serve")
    note("Or try it on the command line:")
    note(f"  export CAREBINDER_HOME={made.home}")
    note("  carebinder record list")
    note("  carebinder opinion compare")
    note(f"  carebinder checklist {made.appointment_id}")
    note(f"  carebinder packet {made.appointment_id}")


def _as_typed() -> str:
    """How to run carebinder again from here: its name when the shell finds this very
    program by it, else the path it was started by (e.g. .venv/bin/carebinder from make)."""
    import shutil
    import sys

    started = sys.argv[0]
    found = shutil.which("carebinder")
    if found and Path(found).resolve() == Path(started).resolve():
        return "carebinder"
    return started if Path(started).name == "carebinder" else "carebinder"
