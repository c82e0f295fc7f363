"""The languages a patient's scans and photos are read in (OCR), as `record ocr-lang`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.responses import Response

from carebinder.models import Patient
from carebinder.web.core import Page, Pages

pages = Pages()
TITLE = "Reading scans"


def current(s: Session, patient: Patient) -> dict[str, Any]:
    from carebinder.ocr.languages import installed, name, parse, tesseract
    from carebinder.services import text_layers

    chosen = text_layers.languages(s, patient.id)
    spec = text_layers.reading_languages(s, patient.id)
    return {
        "patient": patient,
        "chosen": chosen,
        "spec": spec,
        "names": [name(code) for code in parse(spec)],
        # osd (page orientation) and equ (equations) are Tesseract's, not languages to read.
        "installed": sorted(installed() - {"osd", "equ"}),
        "tesseract": tesseract() is not None,
    }


@pages.get("/scans")
def show(page: Page) -> Response:
    with page.binder() as (s, patient):
        return page.render("scans.html", title=TITLE, **current(s, patient))


@pages.post("/scans")
def choose(page: Page) -> Response:
    """Remember the languages typed (checked as the command line checks them), or, with
    `default`, forget them."""
    from carebinder.ocr.languages import check
    from carebinder.services import text_layers

    forget = page.flag("default")

    def choose_languages(s: Session, patient: Patient) -> tuple[str, str]:
        spec = None if forget else check(page.text("ocr_languages"))
        text_layers.choose_languages(s, patient.id, spec)
        said = "this computer's default" if spec is None else spec
        return "/scans", f"Scans and photos will be read in {said}."

    return page.change(choose_languages, form="scans.html", context=current, title=TITLE)
