"""Reading an opinion's structured cancer facts from mCODE-shaped FHIR: the primary site
and laterality (Condition.bodySite and mCODE's laterality qualifier), the histology
(mCODE's histology-morphology-behavior extension), and the staging, grade and ECOG
Observations tied to the diagnosis: named by the opinion's CarePlan (supportingInfo), by
the Condition (stage.assessment), or naming the Condition (focus).

TNM observations say their basis by their code (clinical or pathologic LOINC, mCODE's
SNOMED cT/pT…). When T, N and M come with different bases, the T's basis is kept and the
notes say what each was. A value the binder cannot read as a category is kept in the
notes instead, so the opinion is never lost for it.
"""

from __future__ import annotations

import re
from typing import Any

from carebinder.choices import Laterality, StagingBasis
from carebinder.errors import InvalidInput
from carebinder.fhir import mcode
from carebinder.fhir.context import ImportContext
from carebinder.fhir.read import Resource, as_list
from carebinder.fhir.values import codes, concept_text, extension_value, obj, tidy
from carebinder.services import staging

_EDITION = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+edition|edition\s+(\d{1,2})", re.IGNORECASE)
_AJCC_WORDS = re.compile(r"^american joint committee on cancer\s+|\s*\(qualifier value\)$", re.I)


def observations(ctx: ImportContext, plan: Resource | None, condition: Resource) -> list[Resource]:
    """The staging, grade and ECOG observations of a diagnosis (see the module)."""
    found: dict[int, Resource] = {}
    references = [*as_list((plan or {}).get("supportingInfo"))]
    for stage in as_list(condition.get("stage")):
        references += as_list(obj(stage).get("assessment"))
    for reference in references:
        target = ctx.bundle.resolve(reference, "Observation")
        if target is not None:
            found[id(target)] = target
    if condition.get("id") and not str(condition.get("id")).startswith("#"):
        for observation in ctx.bundle.of_type("Observation"):
            focus = [ctx.bundle.resolve(f, "Condition") for f in as_list(observation.get("focus"))]
            if any(target is condition for target in focus):
                found[id(observation)] = observation
    return list(found.values())


def facts(
    ctx: ImportContext, plan: Resource | None, condition: Resource
) -> tuple[dict[str, Any], list[str]]:
    """The opinion's structured fields (keyword arguments of opinions.add_opinion), and
    lines for its notes about what could not be kept as a field."""
    fields: dict[str, Any] = {}
    notes: list[str] = []
    site = next(iter(as_list(condition.get("bodySite"))), None)
    if isinstance(site, dict):
        fields["site"] = concept_text(site)
        side = extension_value(site, mcode.EXT_LATERALITY)
        fields["laterality"] = _laterality(side)
    fields["histology"] = concept_text(extension_value(condition, mcode.EXT_HISTOLOGY))
    categories: dict[str, tuple[str, StagingBasis | None]] = {}
    for observation in observations(ctx, plan, condition):
        ctx.read_with.add(id(observation))
        code = observation.get("code")
        found = [
            c
            for c in (
                *codes(code, "http://loinc.org"),
                *codes(code, mcode.SNOMED),
                *codes(code, mcode.STAGING),
            )
            if c in mcode.TNM_OF or c in (mcode.GRADE[0], mcode.ECOG[0])
        ]
        if not found:
            continue
        value = _words(observation.get("valueCodeableConcept")) or tidy(
            observation.get("valueString")
        )
        edition = _edition(observation.get("method"))
        if edition is not None:
            fields["ajcc_edition"] = edition
        if found[0] == mcode.ECOG[0]:
            fields["ecog"] = _ecog(observation)
        elif found[0] == mcode.GRADE[0]:
            fields["grade"] = value
        else:
            letter, basis = mcode.TNM_OF[found[0]]
            if letter == "stage":
                fields["stage_group"] = value
                if basis is not None:
                    fields["stage_basis"] = basis
            elif value:
                categories[letter] = (value, basis)
    _tnm(fields, categories, notes)
    return {k: v for k, v in fields.items() if v is not None}, notes


def _tnm(
    fields: dict[str, Any], categories: dict[str, tuple[str, StagingBasis | None]], notes: list[str]
) -> None:
    bases = {basis for _, basis in categories.values() if basis is not None}
    basis = fields.pop("stage_basis", None)
    if categories:
        first = categories.get("T") or next(iter(categories.values()))
        basis = first[1] or (next(iter(bases)) if len(bases) == 1 else basis)
    if len(bases) > 1:
        notes.append(
            "Staging as given: "
            + ", ".join(
                f"{letter} {value} ({b.value if b else 'no basis'})"
                for letter, (value, b) in categories.items()
            )
            + "."
        )
    for letter, (value, _) in categories.items():
        try:
            category = staging.category(value, letter, letter.lower())
        except InvalidInput:
            notes.append(f"{letter} category as given: {value}.")
            continue
        if category is not None:
            fields[letter.lower()] = category.value
    fields["staging"] = basis


def _words(concept: Any) -> str | None:
    """A staging value's words: its text, else the AJCC code ("cT2"), else its display
    without SNOMED's wrapping ("American Joint Committee on Cancer cT2 (qualifier value)")."""
    if not isinstance(concept, dict):
        return None
    if tidy(concept.get("text")):
        return tidy(concept.get("text"))
    for coding in as_list(concept.get("coding")):
        if isinstance(coding, dict) and coding.get("system") == "http://cancerstaging.org":
            return tidy(coding.get("code"))
    shown = concept_text(concept)
    return _AJCC_WORDS.sub("", shown) if shown else None


def _edition(method: Any) -> int | None:
    for code in codes(method, mcode.SNOMED):
        if code in mcode.AJCC_OF:
            return mcode.AJCC_OF[code]
    text = concept_text(method)
    found = _EDITION.search(text) if text else None
    if found is None:
        return None
    edition = int(found[1] or found[2])
    return edition if edition in staging.AJCC_RANGE else None


def _ecog(observation: Resource) -> int | None:
    value = observation.get("valueInteger")
    if not isinstance(value, int):
        concept = observation.get("valueCodeableConcept")
        answers = [mcode.ECOG_ANSWERS.get(c) for c in codes(concept, "http://loinc.org")]
        value = next((a for a in answers if a is not None), None)
        text = concept_text(concept) or ""
        if value is None and text[:1].isdigit():
            value = int(text[0])
    return value if isinstance(value, int) and value in staging.ECOG_RANGE else None


def _laterality(side: Any) -> Laterality | None:
    for code in codes(side, mcode.SNOMED):
        if code in mcode.LATERALITY_OF:
            return mcode.LATERALITY_OF[code]
    text = (concept_text(side) or "").casefold()
    return next((s for s in Laterality if s.value == text), None)
