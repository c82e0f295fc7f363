"""The packet: the PDF to bring to a visit, as `carebinder packet APPOINTMENT` writes it.

Building it takes from a second to minutes (a big binder's scans), so the form starts a
job (web/jobs.py) and redirects to its page, which reloads itself with the build's
progress until the PDF is ready to download. The records ticked are the visit's choice,
kept as `carebinder appointment bring --replace` keeps it; every one ticked means no
choice (`--clear`): the packet then holds every record, also those added later.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from carebinder.errors import CarebinderError, InvalidInput, NoPatient, NotFound
from carebinder.web.core import Page, Pages, refusal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from carebinder.models import Appointment, Patient
    from carebinder.packet.data import PacketData
    from carebinder.web.jobs import Job

pages = Pages()

GONE = (
    "This packet is no longer here: it was downloaded already, or nobody fetched it in"
    " time. Build it again."
)


@pages.get("/packet")
def visits(page: Page) -> Response:
    from carebinder.services import appointments

    with page.binder() as (s, patient):
        return page.render(
            "packet/list.html",
            title="Packet",
            patient=patient,
            visits=[
                (a, appointments.local_start(a))
                for a in appointments.list_appointments(s, patient.id)
            ],
        )


def choices(s: Session, patient: Patient, appointment: Appointment) -> dict[str, Any]:
    """The form's context: the visit, every record, and those its packet holds now."""
    from carebinder.services import appointments, records

    everything = records.list_records(s, patient.id)
    chosen = {r.id for r in appointments.packet_records(s, appointment)}
    return {
        "patient": patient,
        "appointment": appointment,
        "start": appointments.local_start(appointment),
        "records": everything,
        "chosen": chosen,
        "title": f"Packet for the visit with {appointment.doctor.name}",
    }


@pages.get("/packet/{ident:int}")
def form(page: Page) -> Response:
    from carebinder.services import appointments

    with page.binder() as (s, patient):
        row = appointments.get_appointment(s, patient.id, page.request.path_params["ident"])
        return page.render("packet/form.html", **choices(s, patient, row))


def options(page: Page) -> tuple[str, str | None, bool]:
    """Paper size, password and --no-records, refused as the command line refuses them."""
    from carebinder.dates import shown
    from carebinder.packet.build import PAPERS

    paper = page.text("paper").lower()
    if paper not in PAPERS:
        raise InvalidInput(
            f"{{field}}: {shown(paper)} is not a paper size. Use letter or a4.", field="paper"
        )
    secret, again = page.text("password"), page.text("password_again")
    if secret != again:
        raise InvalidInput("The two passwords differ. Nothing was written.", field="password_again")
    return paper, secret or None, page.flag("no_records")


@pages.post("/packet/{ident:int}")
def build(page: Page) -> Response:
    from carebinder.store import Store

    ident = page.request.path_params["ident"]
    try:
        paper, secret, no_records = options(page)
        ticked = page.numbers("bring")
        store = Store(page.web.settings.store_dir).check(write=False)
        with page.binder(write=not no_records) as (s, patient):
            data = prepare(s, patient, ident, ticked, no_records, store)
    except (NotFound, NoPatient):
        raise
    except CarebinderError as error:
        with page.binder() as (s, patient):
            from carebinder.services import appointments

            row = appointments.get_appointment(s, patient.id, ident)
            context = choices(s, patient, row)
        if page.form is not None and "bring" in page.form:  # as ticked, when refused
            ticked_again = page.form.getlist("bring")  # type: ignore[attr-defined]
            context["chosen"] = {int(v) for v in ticked_again if v.isdigit() and len(v) < 19}
        return page.render(
            "packet/form.html", status=400, errors=refusal(error), values=page.values(), **context
        )

    def work(job: Job) -> Any:
        from carebinder.packet.build import Options, build_packet

        return build_packet(
            data,
            job.path,
            Options(paper=paper, password=secret, include_records=not no_records),
            progress=job.say,
        )

    from carebinder.packet.data import default_name

    name = default_name(data.patient.name, data.visit.start.date().isoformat())
    job = page.web.jobs.start(work, file_name=name, encrypted=secret is not None)
    return page.redirect(f"/packet/jobs/{job}")


def prepare(
    s: Session, patient: Patient, ident: int, ticked: list[int], no_records: bool, store: Any
) -> PacketData:
    """Keep the visit's choice of records (as `appointment bring --replace`, or `--clear`
    when every one is ticked), then copy out what the packet shows (as `packet` does)."""
    from carebinder.packet.gather import gather
    from carebinder.services import appointments, records

    row = appointments.get_appointment(s, patient.id, ident)
    if not no_records:
        everything = {r.id for r in records.list_records(s, patient.id)}
        if everything and not ticked:
            raise InvalidInput(
                "Tick the records to bring, or tick 'Only the summary pages'.", field="bring"
            )
        every = set(ticked) >= everything
        appointments.bring_records(s, row, [] if every else ticked, replace=True)
    return gather(s, store, row)


@pages.get("/packet/jobs/{ident:str}")
def progress(page: Page) -> Response:
    job = page.web.jobs.get(page.request.path_params["ident"])
    if job is None:
        return page.render("message.html", status=404, title="Not found", message=GONE)
    done = job.done  # once: the build may finish while this page is being written
    return page.render(
        "packet/job.html",
        title="The packet is ready" if done and not job.refused else "Building the packet",
        job=job,
        finished=done,
        ident=page.request.path_params["ident"],
    )


@pages.get("/packet/jobs/{ident:str}/download")
def download(page: Page) -> Response:
    ident = page.request.path_params["ident"]
    running = page.web.jobs.get(ident)
    if running is not None and not running.done:
        return page.redirect(f"/packet/jobs/{ident}")
    job = page.web.jobs.take(ident)
    if job is None or job.refused is not None or not job.path.is_file():
        if job is not None:
            shutil.rmtree(job.folder, ignore_errors=True)
        return page.render("message.html", status=404, title="Not found", message=GONE)
    return FileResponse(
        job.path,
        media_type="application/pdf",
        filename=job.file_name,
        background=BackgroundTask(shutil.rmtree, job.folder, ignore_errors=True),
    )
