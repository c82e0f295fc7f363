"""The health summary: what a new doctor asks first (medications, allergies, other
conditions, treatments so far, results), each in its own section with its own short form.

The pages of each kind (medications.py, allergies.py, conditions.py, treatments.py,
results.py) add, edit and remove through the helpers here: a refused form comes back on
the summary with the reason beside its field; a one-click change (stop, "none") is
refused above the page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.choices import AllergyKind, Interpretation, MedicationKind, Severity, TreatmentKind
from carebinder.errors import FIELD, InvalidInput, NotFound
from carebinder.models import Patient
from carebinder.web.core import Page, Pages

pages = Pages()
TITLE = "Health summary"
SECTION = "/health"  # the entry of the navigation these pages belong to


def words(kind: type[Any]) -> list[tuple[str, str]]:
    """A vocabulary as a <select> offers it: (value, "Over the counter")."""
    return [(k.value, k.value.replace("-", " ").capitalize()) for k in kind]


def offered(s: Session, patient: Patient) -> dict[str, Any]:
    """What the forms offer: the binder's doctors and records, and each vocabulary."""
    from carebinder.services import doctors, records

    return {
        "patient": patient,
        "section": SECTION,
        "team": [(d.id, d.name) for d in doctors.list_doctors(s, patient.id)],
        "sources": [
            (r.id, r.title + (f" · {r.date.isoformat()}" if r.date else ""))
            for r in records.list_records(s, patient.id)
        ],
        "medication_kinds": words(MedicationKind),
        "severities": words(Severity),
        "allergy_kinds": words(AllergyKind),
        "treatment_kinds": words(TreatmentKind),
        "interpretations": words(Interpretation),
    }


def summary(s: Session, patient: Patient) -> dict[str, Any]:
    """Everything the summary shows, in the three states a doctor needs kept apart."""
    from carebinder.services import allergies, conditions, medications, results, treatments

    return {
        **offered(s, patient),
        "medications": medications.medication_state(s, patient),
        "allergies": allergies.allergy_state(s, patient),
        "conditions": conditions.list_conditions(s, patient.id),
        "treatments": treatments.list_treatments(s, patient.id),
        "trends": results.trends(results.list_results(s, patient.id)),
    }


@pages.get("/health")
def show(page: Page) -> Response:
    with page.binder() as (s, patient):
        return page.render("health/page.html", title=TITLE, refused=None, **summary(s, patient))


def add(page: Page, make: Callable[[Session, Patient], tuple[str, str]], form: str) -> Response:
    """An add form of the summary: done, or the summary again with `form`'s refusal."""
    return page.change(make, form="health/page.html", context=summary, title=TITLE, refused=form)


def click(page: Page, make: Callable[[Session, Patient], tuple[str, str]]) -> Response:
    """A button of the summary (stop, "none"): done, or refused above the page."""
    return page.change(
        make, form="health/page.html", context=summary, title=TITLE, refused=None, whole=True
    )


@contextmanager
def chosen(**fields: str) -> Iterator[None]:
    """A doctor or record chosen in a form (`prescriber="doctor"`) that is not in the
    binder (removed meanwhile, or a forged form) is refused beside its field."""
    try:
        yield
    except NotFound as error:
        for name, noun in fields.items():
            if error.noun == noun:
                raise InvalidInput(
                    f"{FIELD}: no {noun} #{error.ident} in this binder; choose one of the list.",
                    field=name,
                ) from None
        raise


@dataclass(frozen=True)
class Kind:
    """One kind of the summary's entries, for its edit and remove pages."""

    noun: str  # "medication"
    path: str  # "/medications"
    anchor: str  # its section of the summary: "medications"
    get: Callable[[Session, int, int], Any]
    remove: Callable[[Session, Any], None]
    named: Callable[[Any], str]  # what the pages call an entry: its name, its substance
    # The page that shows an entry, when it is not its row on the summary.
    where: Callable[[Any], str] | None = None

    def back(self, row: Any) -> str:
        return self.where(row) if self.where else f"{SECTION}#{self.noun}-{row.id}"


def edit_form(page: Page, kind: Kind) -> Response:
    with page.binder() as (s, patient):
        row = kind.get(s, patient.id, page.request.path_params["ident"])
        return page.render(
            "health/edit.html",
            kind=kind.noun,
            action=f"{kind.path}/{row.id}/edit",
            **editing(kind, row),
            **offered(s, patient),
        )


def editing(kind: Kind, row: Any) -> dict[str, Any]:
    return {"title": f"Edit {kind.named(row)}", "row": row, "back": kind.back(row)}


def edit(page: Page, kind: Kind, change: Callable[[Session, Any], str]) -> Response:
    """Save an entry with `change`, which returns the message; refused, its form again."""
    ident = page.request.path_params["ident"]

    def save(s: Session, patient: Patient) -> tuple[str, str]:
        row = kind.get(s, patient.id, ident)
        done = change(s, row)
        return kind.back(row), done

    def context(s: Session, patient: Patient) -> dict[str, Any]:
        return {**offered(s, patient), **editing(kind, kind.get(s, patient.id, ident))}

    return page.change(
        save,
        form="health/edit.html",
        context=context,
        kind=kind.noun,
        action=f"{kind.path}/{ident}/edit",
    )


def remove_form(page: Page, kind: Kind) -> Response:
    with page.binder() as (s, patient):
        row = kind.get(s, patient.id, page.request.path_params["ident"])
        name = kind.named(row)
        return page.render(
            "confirm.html",
            title=f"Remove {name}?",
            patient=patient,
            section=SECTION,
            message=f"{name} will be removed from the binder. This cannot be undone.",
            action=f"{kind.path}/{row.id}/remove",
            button=f"Remove {name}",
            back=kind.back(row),
        )


def remove(page: Page, kind: Kind) -> Response:
    ident = page.request.path_params["ident"]

    def remove_row(s: Session, patient: Patient) -> tuple[str, str]:
        row = kind.get(s, patient.id, ident)
        name = kind.named(row)
        kind.remove(s, row)
        return f"{SECTION}#{kind.anchor}", f"Removed {name}."

    if not page.flag("confirmed"):
        return page.redirect(f"{kind.path}/{ident}/remove")
    return page.change(remove_row, form="message.html", title="Not removed", message="")
