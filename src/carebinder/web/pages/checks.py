"""The audit trail and the binder's check, as `carebinder audit` and `carebinder verify`.

Both only read. `verify --repair` removes files, so it stays on the command line, which
the page names.
"""

from __future__ import annotations

from starlette.responses import Response

from carebinder.errors import InvalidInput
from carebinder.web.core import Page, Pages, refusal
from carebinder.web.jobs import Job

pages = Pages()

GONE = "This check is no longer known (the server was restarted, or it is too old). Run it again."
# `carebinder audit --limit`: its default and its bounds.
LIMIT, MAX_LIMIT = 50, 100_000


def limit(page: Page) -> int:
    value = page.request.query_params.get("limit", str(LIMIT)).strip()
    if not value.isdigit() or not 1 <= int(value[:7]) <= MAX_LIMIT:
        raise InvalidInput(
            f"{{field}}: {value[:20]!r} is not a number from 1 to {MAX_LIMIT:,}.", field="limit"
        )
    return int(value)


@pages.get("/audit")
def audit(page: Page) -> Response:
    """The newest changes first; with `serve --patient`, only that patient's (as `--patient`
    makes `carebinder audit` list only theirs)."""
    from carebinder import audit as trail

    try:
        count = limit(page)
    except InvalidInput as error:
        values = {"limit": page.request.query_params.get("limit", "")}
        return page.render(
            "checks/audit.html",
            status=400,
            title="Audit trail",
            rows=[],
            errors=refusal(error),
            values=values,
        )
    with page.session() as s:
        rows = [trail.to_json(e) for e in trail.events(s, patient_id=page.web.patient, limit=count)]
    return page.render(
        "checks/audit.html", title="Audit trail", rows=rows, values={"limit": str(count)}
    )


@pages.get("/verify")
def verify_start(page: Page) -> Response:
    """What the check does, and the button that starts it: it reads every stored file, so
    it runs when asked, in the background, not whenever the page is opened."""
    return page.render("checks/verify.html", title="Check the binder", job=None)


@pages.post("/verify")
def verify(page: Page) -> Response:
    from carebinder import verify as service

    settings = page.web.settings

    def check(job: Job) -> object:
        job.say("Reading the database and every stored file…")
        engine = service.open_for_check(settings)
        try:
            return service.check(engine, settings)
        finally:
            engine.dispose()

    return page.redirect(f"/verify/jobs/{page.web.jobs.start(check, file_name='report')}")


@pages.get("/verify/jobs/{ident:str}")
def verify_job(page: Page) -> Response:
    """The check under way (the page reloads itself), then its report, as the CLI says it."""
    from carebinder.verify.report import closing_lines

    job = page.web.jobs.get(page.request.path_params["ident"])
    if job is None:
        return page.render("message.html", status=404, title="Not found", message=GONE)
    done = job.done  # once: the check may finish while this page is being written
    report = job.result if done and not job.refused else None
    return page.render(
        "checks/verify.html",
        title="Check the binder",
        job=job,
        finished=done,
        report=report,
        closing=closing_lines(report, None) if report is not None else [],
    )
