"""What every page of the web face shares: the binder, forms, rendering and refusals.

A page reads like a command: parse the form, one service call in `session_scope()`, then
render, or redirect after a change (POST/redirect/GET, so a reload never repeats it). A
refused change re-renders its form with what was typed and the message beside its field,
in the command line's words with the field's label where the command line says its flag.

Pages are plain functions of a `Page`, run in a worker thread (the database and the files
block); the event loop only reads forms and writes responses.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from carebinder import config
from carebinder.errors import FIELD, CarebinderError, InvalidInput, NoPatient, NotFound
from carebinder.web.jobs import Jobs
from carebinder.web.security import CSRF_FIELD, csrf_token, log, same

if TYPE_CHECKING:
    import jinja2
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from carebinder.models import Patient

# The labels of the fields, as the forms show them and as refusals name them: the command
# line's help words ("--born" is "Date of birth").
LABELS = {
    "name": "Name",
    "born": "Date of birth",
    "mrn": "Medical record number",
    "phone": "Phone",
    "email": "Email",
    "address": "Address",
    "insurer": "Insurer",
    "plan": "Plan",
    "member_id": "Member id",
    "insurer_phone": "Insurer's phone",
    "specialty": "Specialty",
    "institution": "Institution",
    "npi": "NPI",
    "fax": "Fax",
    "portal": "Patient portal",
    "referred_by": "Referred by",
    "notes": "Notes",
    "text": "Question",
    "answer": "Answer",
    "by": "Answered by",
    "appointment": "Appointment",
    "query": "Search",
    "ocr_languages": "Languages",
    # opinions
    "doctor": "Doctor",
    "diagnosis": "Diagnosis",
    "stage": "Stage",
    "date": "Date",
    "records": "Based on the records",
    # an opinion's cancer facts
    "site": "Primary site",
    "laterality": "Laterality",
    "histology": "Histology",
    "grade": "Grade",
    "t": "T category",
    "n": "N category",
    "m": "M category",
    "staging": "Staging basis",
    "ajcc_edition": "AJCC edition",
    "ecog": "ECOG",
    # appointments
    "starts_at": "Date and time",
    "time": "Time",
    "time_zone": "Time zone",
    "location": "Location",
    "purpose": "Purpose",
    "status": "Status",
    "companion": "Companion",
    "staff_told": "Staff told",
    "records_sent_on": "Records sent on",
    "coverage": "Insurance coverage",
    "coverage_ref": "Authorization or reference number",
    # materials
    "kind": "Kind",
    "description": "Description",
    # records
    "title": "Title",
    "files": "Files",
    # the packet, import, export, calendar, audit
    "bring": "Records to bring",
    "paper": "Paper size",
    "no_records": "Only the summary pages, without the records",
    "password": "Password",
    "password_again": "Repeat the password",
    "file": "FHIR file",
    "format": "Format",
    "all_patients": "Every patient of the binder",
    "no_data": "Without the files' bytes",
    "upcoming": "Only visits that have not started yet",
    "no_reminder": "No reminder the day before planned visits",
    "limit": "How many events, newest first",
    # the health summary: medications, allergies, conditions, treatments, results
    "dose": "Dose",
    "how": "How it is taken",
    "started": "Started",
    "stopped": "Stopped",
    "reason": "What it is for",
    "prescriber": "Prescribed by",
    "substance": "Substance",
    "reaction": "Reaction",
    "severity": "Severity",
    "since": "Since",
    "ended": "Ended",
    "response": "Response",
    "value": "Value",
    "unit": "Unit",
    "interpretation": "Interpretation",
    "record": "From the record",
}
E = TypeVar("E", bound=enum.Enum)
# Form fields a page never hands to a service.
NOT_DATA = frozenset({CSRF_FIELD})
# Form fields never shown again after a refusal: typed once more instead.
SECRET = frozenset({"password", "password_again"})
MAX_FORM_FIELDS = 200


@dataclass
class Web:
    """The server's state: the binder it opens, its key, its templates."""

    settings: config.Settings
    engine: Engine
    key: str
    templates: jinja2.Environment
    patient: int | None = None  # --patient, else the one `patient use` remembered
    done: dict[str, str] = field(default_factory=dict)  # messages shown after a redirect
    jobs: Jobs = field(default_factory=Jobs)  # packets being built, by random id

    @property
    def csrf(self) -> str:
        return csrf_token(self.key)

    def chosen(self) -> int | None:
        return self.patient or config.remembered_patient(self.settings)


@dataclass
class Page:
    """One request, as a page sees it."""

    request: Request
    web: Web
    form: Mapping[str, Any] | None = None
    # An upload refused before its form could be read (too large): nothing of it was kept.
    refused: CarebinderError | None = None

    # --- the binder ---

    @contextmanager
    def binder(self, *, write: bool = False) -> Iterator[tuple[Session, Patient]]:
        """A session, and the patient the pages work on."""
        from carebinder.services.patients import choose_patient

        with self.session(write=write) as s:
            yield (
                s,
                choose_patient(s, self.web.patient, config.remembered_patient(self.web.settings)),
            )

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        from carebinder.db import session_scope

        route = self.request.scope.get("route")
        command = f"web {self.request.method} {getattr(route, 'path', '')}".strip()
        with session_scope(self.web.engine, write=write, command=command) as s:
            yield s

    # --- forms ---

    def text(self, name: str) -> str:
        """A text field as typed ("" when absent)."""
        value = (self.form or {}).get(name, "")
        return value if isinstance(value, str) else ""

    def optional(self, name: str) -> str | None:
        """A text field, None when left empty: as an option not given on the command line."""
        return self.text(name).strip() or None

    def number(self, name: str) -> int | None:
        """A choice of id (a <select>), None when none was chosen."""
        value = self.text(name).strip()
        return an_id(value, name) if value else None

    def required(self, name: str) -> int:
        """A choice of id that must be made (a command line's required option)."""
        value = self.number(name)
        if value is None:
            raise InvalidInput(f"{FIELD} is missing: choose one.", field=name)
        return value

    def numbers(self, name: str) -> list[int]:
        """The ids of a group of checkboxes (a repeated option on the command line)."""
        return [an_id(value, name) for value in self.ticked(name)]

    def ticked(self, name: str) -> list[str]:
        """Every value of a repeated field as sent (the boxes ticked in a group)."""
        got = self.form.getlist(name) if isinstance(self.form, FormData) else []
        return [value for value in got if isinstance(value, str)]

    def choice(self, name: str, kind: type[E]) -> E:
        """One of a fixed vocabulary (a <select> of choices.py's words)."""
        return choice(self.text(name), kind, name)

    def option(self, name: str, kind: type[E]) -> E | None:
        """One of a fixed vocabulary, None when none was chosen (an optional <select>)."""
        value = self.text(name)
        return choice(value, kind, name) if value.strip() else None

    def whole(self, name: str) -> int | None:
        """A whole number (an AJCC edition, an ECOG status), None when left empty."""
        value = self.text(name).strip()
        if not value:
            return None
        if not value.isdigit() or len(value) > 18:
            raise InvalidInput(f"{FIELD}: {value[:20]!r} is not a whole number.", field=name)
        return int(value)

    def day(self, name: str) -> date | None:
        """A date field, None when left empty (an <input type=date>)."""
        from carebinder.dates import parse_date

        value = self.text(name)
        return parse_date(value, name) if value.strip() else None

    def flag(self, name: str) -> bool:
        """Whether the checkbox `name` is ticked: as a flag given on the command line."""
        return self.text(name) == "yes"

    def values(self) -> dict[str, str]:
        """What was typed, to fill the form again after a refusal."""
        return {
            k: v
            for k, v in (self.form or {}).items()
            if isinstance(v, str) and k not in NOT_DATA and k not in SECRET
        }

    # --- answers ---

    def render(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        done = self.request.query_params.get("done")
        page = self.web.templates.get_template(template).render(
            csrf=self.web.csrf,
            path=self.request.url.path,
            done=self.web.done.pop(done, None) if done else None,
            labels=LABELS,
            errors=context.pop("errors", {}),
            values=context.pop("values", {}),
            **context,
        )
        return HTMLResponse(page, status_code=status)

    def redirect(self, location: str, done: str | None = None) -> RedirectResponse:
        """303 See Other to `location`, which then shows `done` once."""
        if done:
            token = secrets.token_urlsafe(8)
            self.web.done[token] = done
            while len(self.web.done) > 100:  # a message never shown is dropped in time
                self.web.done.pop(next(iter(self.web.done)))
            where, hash_, fragment = location.partition("#")
            where += ("&" if "?" in where else "?") + f"done={token}"
            location = where + hash_ + fragment
        return RedirectResponse(location, status_code=303)

    def change(
        self,
        make: Callable[[Session, Any], tuple[str, str]],
        /,
        *,
        form: str,
        context: Callable[[Session, Patient], dict[str, Any]] | None = None,
        patient: bool = True,
        whole: bool = False,
        **more: Any,
    ) -> Response:
        """Make a change and redirect to where it says, with its message; or, refused, show
        `form` again with what was typed and the reason beside its field (`whole`: above
        the page, for a button that has no field of its own)."""
        try:
            if patient:
                with self.binder(write=True) as (s, chosen):
                    location, done = make(s, chosen)
            else:
                with self.session(write=True) as s:
                    location, done = make(s, None)
        except (NotFound, NoPatient):
            raise  # the page's own answer (answer() below)
        except CarebinderError as error:
            return self.refuse(error, form=form, context=context, whole=whole, **more)
        return self.redirect(location, done)

    def refuse(
        self,
        error: CarebinderError,
        /,
        *,
        form: str,
        context: Callable[[Session, Patient], dict[str, Any]] | None = None,
        status: int = 400,
        whole: bool = False,
        **more: Any,
    ) -> Response:
        """`form` again, with what was typed and the reason `error` gives beside its field
        (`whole`: above the page, in the field's words)."""
        extra: dict[str, Any] = {}
        if context is not None:
            with self.binder() as (s, chosen):
                extra = context(s, chosen)
        errors = refusal(error, shown=() if whole else None)
        return self.render(
            form, status=status, errors=errors, values=self.values(), **extra, **more
        )


def an_id(value: str, field: str) -> int:
    """`value` as the id of one of a form's choices, refused beside `field` otherwise."""
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput(f"{FIELD}: {value[:20]!r} is not one of the choices.", field=field)
    return int(value)


def choice(value: str, kind: type[E], field: str) -> E:
    """`value` as one of `kind`'s words (RecordKind…), refused beside `field` otherwise."""
    try:
        return kind(value.strip())
    except ValueError:
        words = ", ".join(str(member.value) for member in kind)
        raise InvalidInput(f"{FIELD}: {value[:20]!r} is not one of {words}.", field=field) from None


def refusal(error: CarebinderError, shown: Collection[str] | None = None) -> dict[str, str]:
    """The message of a refused change, by the field it is beside ("" for the whole form).
    `shown`: the fields the page has; a message about another one goes above the page."""
    if isinstance(error, InvalidInput) and error.field:
        name = error.field.removeprefix("--").replace("-", "_")
        label = LABELS.get(name)
        if label is not None:
            return {name if shown is None or name in shown else "": error.naming(label)}
    return {"": error.message}


def not_found(error: NotFound) -> str:
    """A NotFound in the page's words: the command line's hint names a command."""
    return f"No {error.noun} #{error.ident} in this binder."


class Pages:
    """The pages of one noun: `@pages.get("/doctors")`, `@pages.post("/doctors/new")`."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def get(self, path: str) -> Callable[[Callable[[Page], Response]], Callable[[Page], Response]]:
        return self._add(path, "GET")

    def post(self, path: str) -> Callable[[Callable[[Page], Response]], Callable[[Page], Response]]:
        return self._add(path, "POST")

    def upload(
        self, path: str
    ) -> Callable[[Callable[[Page], Response]], Callable[[Page], Response]]:
        """A POST carrying files (web/uploads.py): its body is counted as it arrives, and one
        over the limit reaches the page as `page.refused`, with no form."""
        return self._add(path, "POST", upload=True)

    def _add(
        self, path: str, method: str, *, upload: bool = False
    ) -> Callable[[Callable[[Page], Response]], Callable[[Page], Response]]:
        def register(function: Callable[[Page], Response]) -> Callable[[Page], Response]:
            async def endpoint(request: Request) -> Response:
                from carebinder.web import uploads

                web: Web = request.app.state.web
                form = None
                if upload:
                    try:
                        form = await uploads.read_form(request)
                    except InvalidInput as error:  # too large: refused before it is read
                        page = Page(request, web, refused=error)
                        return await run_in_threadpool(answer, function, page)
                elif method == "POST":
                    form = await request.form(max_fields=MAX_FORM_FIELDS)
                if form is not None:
                    token = form.get(CSRF_FIELD)
                    if not isinstance(token, str) or not same(token, web.csrf):
                        return forbidden(web)
                try:
                    return await run_in_threadpool(answer, function, Page(request, web, form))
                finally:
                    if upload and form is not None:
                        await form.close()  # the uploaded files' spooled copies

            self.routes.append(Route(path, endpoint, methods=[method]))
            return function

        return register


def answer(function: Callable[[Page], Response], page: Page) -> Response:
    """The page's response, or the one that says why there is none."""
    try:
        return function(page)
    except NoPatient:
        from carebinder.services.patients import several_patients

        with page.session() as s:
            several = several_patients(s)
        if several:
            return page.redirect("/patients", "Choose the patient to work on.")
        return page.redirect(
            "/patients/new", "Welcome. Start with the person whose binder this is."
        )
    except NotFound as error:
        return page.render("message.html", status=404, title="Not found", message=not_found(error))
    except CarebinderError as error:
        return page.render("message.html", status=400, title="Refused", message=error.message)
    except Exception as error:  # noqa: BLE001 - the last line of defence: no traceback, no data
        log.error("unexpected %s on %s", type(error).__name__, page.request.method)
        return page.render(
            "message.html",
            status=500,
            title="Something went wrong",
            message=f"Unexpected error ({type(error).__name__}). Nothing was saved."
            " Please report this to the carebinder team.",
        )


def forbidden(web: Web) -> Response:
    page = web.templates.get_template("message.html").render(
        title="Refused",
        message="This change did not come from carebinder's own page, so nothing was changed."
        " Go back, reload the page and try again.",
        csrf=web.csrf,
        path="",
        done=None,
        labels=LABELS,
        errors={},
        values={},
    )
    return HTMLResponse(page, status_code=403)
