"""`carebinder init` and `carebinder demo`."""

from __future__ import annotations

from typing import Annotated

import typer

from carebinder.cli.app import App, note, open_engine, out, state


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
    from carebinder.db import session_scope
    from carebinder.errors import InvalidInput
    from carebinder.services import patients

    if (name is None) != (born is None):
        raise InvalidInput("Give both --name and --born to add the patient, or neither.")
    born_on = None
    if born is not None:
        from carebinder.dates import parse_date

        born_on = parse_date(born, "--born")
    settings = state(ctx).settings
    engine = open_engine(ctx, create=True)
    try:
        if name is not None and born_on is not None:
            with session_scope(engine) as s:
                existing = patients.find_patient(s, name=name, born=born_on)
                patient = existing or patients.add_patient(s, name=name, born=born_on)
                message = (
                    f"Patient #{patient.id} {patient.name} is already in the binder."
                    if existing
                    else f"Added patient #{patient.id}: {patient.name}"
                )
            out(message)
    finally:
        engine.dispose()
    note(f"Binder ready at {settings.home}")
    note("Next: carebinder doctor add NAME --specialty TEXT --institution TEXT")


def demo(ctx: typer.Context) -> None:
    """Build a sample binder in a new temporary folder, to try carebinder without your data.

    Example: carebinder demo
    """
    import tempfile
    from pathlib import Path

    from carebinder import config
    from carebinder import demo as sample
    from carebinder.db import open_binder, session_scope

    home = Path(tempfile.mkdtemp(prefix="carebinder-demo-"))
    settings = config.resolve(home=home, database_url=None, environ={})
    engine = open_binder(settings, create=True)
    try:
        with session_scope(engine) as s:
            summary = sample.build(s, settings)
    finally:
        engine.dispose()
    note(f"Sample binder for {summary.patient_name} written to {home}")
    out(str(home))
    note("Try it:")
    note(f"  export CAREBINDER_HOME={home}")
    note("  carebinder record list")
    note("  carebinder opinion compare")
    note(f"  carebinder checklist {summary.appointment_id}")
