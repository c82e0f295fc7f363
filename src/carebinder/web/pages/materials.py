"""Materials: slides, tissue blocks, imaging discs and records requests; a status is one click."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.choices import MaterialKind, MaterialStatus
from carebinder.models import Patient
from carebinder.web.core import Page, Pages

pages = Pages()


def listing(s: Session, patient: Patient) -> dict[str, Any]:
    from carebinder.services import materials

    return {
        "patient": patient,
        "materials": materials.list_materials(s, patient.id),
        "kinds": [k.value for k in MaterialKind],
        "statuses": [k.value for k in MaterialStatus],
        "dated": {status.value: column for status, column in materials.STATUS_DATE.items()},
    }


@pages.get("/materials")
def list_(page: Page) -> Response:
    with page.binder() as (s, patient):
        return page.render("materials/list.html", title="Materials", **listing(s, patient))


@pages.post("/materials/new")
def add(page: Page) -> Response:
    from carebinder.services import materials

    def add_material(s: Session, patient: Patient) -> tuple[str, str]:
        row = materials.add_material(
            s,
            patient.id,
            kind=page.choice("kind", MaterialKind),
            description=page.text("description"),
            institution=page.optional("institution"),
            status=page.choice("status", MaterialStatus),
            on=page.day("date"),
        )
        return f"/materials#m{row.id}", f"Added {row.description} ({row.status.value})."

    return page.change(add_material, form="materials/list.html", context=listing, title="Materials")


@pages.post("/materials/{ident:int}/status")
def status(page: Page) -> Response:
    """One click: the status the button names, dated today (as `material update`)."""
    from carebinder.services import materials

    ident = page.request.path_params["ident"]

    def update_material(s: Session, patient: Patient) -> tuple[str, str]:
        row = materials.get_material(s, patient.id, ident)
        materials.update_material(s, row, status=page.choice("status", MaterialStatus))
        return f"/materials#m{row.id}", f"{row.description} is now {row.status.value}."

    return page.change(
        update_material,
        form="materials/list.html",
        context=listing,
        title="Materials",
        updating=ident,
    )


@pages.get("/materials/{ident:int}/remove")
def remove_form(page: Page) -> Response:
    from carebinder.services import materials

    with page.binder() as (s, patient):
        row = materials.get_material(s, patient.id, page.request.path_params["ident"])
        return page.render(
            "confirm.html",
            title=f"Stop tracking {row.description}?",
            patient=patient,
            message=f"{row.description} will no longer be tracked in the binder."
            " This cannot be undone.",
            action=f"/materials/{row.id}/remove",
            button="Stop tracking it",
            back="/materials",
        )


@pages.post("/materials/{ident:int}/remove")
def remove(page: Page) -> Response:
    from carebinder.services import materials

    ident = page.request.path_params["ident"]

    def remove_material(s: Session, patient: Patient) -> tuple[str, str]:
        row = materials.get_material(s, patient.id, ident)
        materials.remove_material(s, row)
        return "/materials", f"Removed {row.description}."

    if not page.flag("confirmed"):
        return page.redirect(f"/materials/{ident}/remove")
    return page.change(remove_material, form="message.html", title="Not removed", message="")
