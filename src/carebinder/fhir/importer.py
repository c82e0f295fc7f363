"""`carebinder import`: a FHIR R4 bundle into the binder.

What a patient would want in the binder is kept; the rest (claims, immunizations, vital
signs, social findings…) is counted as skipped, with the reason. Every row made
remembers its FHIR ids and identifiers (`source_key`), so importing the same bundle
again adds nothing, and a bundle exported by carebinder comes back as the same binder.

Like every service, this takes a Session and never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.choices import TreatmentKind
from carebinder.errors import CarebinderError, InvalidInput
from carebinder.fhir import care, clinical, documents, health, labs, mcode, people, therapy
from carebinder.fhir.context import ImportContext, Summary, validation_problem
from carebinder.fhir.ids import row_uuid, source_keys, vocab_codes
from carebinder.fhir.read import Bundle, Resource, as_list
from carebinder.fhir.values import address_text, codes, fhir_date, human_name, telecom, tidy
from carebinder.models import Patient, SourceKey
from carebinder.services import files, patients
from carebinder.store import Store

Step = Callable[[ImportContext, int, Resource], None]

# Read as part of other resources (a doctor's institution, a report's results…), so never
# reported as skipped.
NO_INFO = 'it says nothing is known about {}: the binder shows "not recorded"'
SUPPORTING = frozenset({"Organization", "Location", "PractitionerRole", "Medication"})
# Why a kind of resource is not kept, when carebinder has no place for it.
NOT_KEPT = {
    "Immunization": "immunizations are not kept",
    "Claim": "billing is not kept",
    "ExplanationOfBenefit": "billing is not kept",
    "Goal": "care goals are not kept",
    "Provenance": "not kept",
    "Device": "devices are not kept",
    "ImagingStudy": "imaging studies are kept as their reports",
    "Media": "media are not kept",
}


def import_bundle(
    session: Session,
    store: Store,
    bundle: Bundle,
    prepared: dict[int, files.Prepared],
    problems: dict[int, str],
) -> Summary:
    """Import `bundle` (its files already `prepared`, keyed by id() of each attachment)."""
    ctx = ImportContext(session, store, bundle, prepared, problems)
    _run(ctx)
    return ctx.summary


def _run(ctx: ImportContext) -> None:
    """The steps in order: patients, doctors, records, opinions and other conditions,
    visits, medications, allergies, treatments and results, questions, materials,
    insurance; then what was not kept, and why."""
    found = list(ctx.bundle.of_type("Patient"))
    if not found:
        raise InvalidInput(
            f"{ctx.bundle.name} holds no Patient, so carebinder cannot tell whose records"
            " these are. Export the bundle with the patient included."
        )
    for resource in found:
        _patient(ctx, resource)
    if not ctx.patient_of:
        reasons = "; ".join(sorted({reason for _, reason in ctx.summary.skipped}))
        raise InvalidInput(
            f"{ctx.bundle.name}: the patient cannot be filed ({reasons}), so nothing was"
            " imported. Ask the sender for a complete export."
        )
    ctx.load_keys()
    for resource in found:
        if id(resource) in ctx.patient_of:
            patient_id = ctx.patient_of[id(resource)]
            ctx.remember(patient_id, "patient", patient_id, resource)
    proposals = [r for r in ctx.bundle.of_type("CarePlan") if care.is_opinion(r)]
    addressed = {id(condition) for plan in proposals for condition in ctx.addressed(plan)}
    for resource in ctx.bundle.of_type("Practitioner"):
        if len(ctx.patient_of) == 1:
            people.doctor(ctx, next(iter(ctx.patient_of.values())), resource)
    people.link_referrals(ctx)
    for resource in ctx.bundle.resources:
        kind = resource["resourceType"]
        plan = kind == "CarePlan" and not care.is_opinion(resource)
        # carebinder's own treatments are no records
        treatment = kind == "Procedure" and therapy.own_kind(resource) is not None
        document = kind in ("DiagnosticReport", "DocumentReference", "Procedure")
        if (plan or document) and not treatment:
            _each_patient(ctx, resource, documents.record)
    for plan in proposals:
        _each_patient(ctx, plan, care.opinion)
    for resource in ctx.bundle.of_type("Condition"):
        if id(resource) not in addressed:
            _each_patient(ctx, resource, _problem)
    for resource in ctx.bundle.of_type("Encounter", "Appointment"):
        _each_patient(ctx, resource, care.appointment)
    _health(ctx)
    for resource in ctx.bundle.of_type("Communication"):
        _each_patient(ctx, resource, care.question)
    for resource in ctx.bundle.of_type("Task"):
        _each_patient(ctx, resource, care.material)
    for resource in ctx.bundle.of_type("Coverage"):
        _each_patient(ctx, resource, care.coverage)
    handled = {
        "Patient", "Practitioner", "DiagnosticReport", "DocumentReference", "Procedure",
        "CarePlan", "Condition", "Encounter", "Appointment", "MedicationRequest",
        "MedicationStatement", "AllergyIntolerance", "Observation", "Communication", "Task",
        "Coverage",
    }  # fmt: skip
    for resource in ctx.bundle.resources:
        kind = resource["resourceType"]
        if kind not in handled | SUPPORTING:
            ctx.summary.skip(resource, NOT_KEPT.get(kind, "carebinder has no place for it"))
    # Files stored for documents that were then skipped (or taken back) leave the store
    # after the commit; those a record now holds stay (see files.discard).
    stored = {item.blob.sha256 for item in ctx.prepared.values() if item.blob.created}
    files.release_blobs(ctx.session, ctx.store, stored)


def _problem(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    """A Condition: the cancer (an opinion), another health problem, or neither
    (clinical.condition_kind). One an earlier import made an opinion stays that opinion."""
    if ctx.existing(patient_id, "opinion", resource) is not None:
        care.opinion(ctx, patient_id, resource)  # reads its staging with it
        return
    kind, reason = clinical.condition_kind(resource)
    if kind == clinical.CANCER:
        care.opinion(ctx, patient_id, resource)
    elif kind == clinical.CONDITION:
        health.condition(ctx, patient_id, resource)
    else:
        ctx.summary.skip(resource, str(reason))


def _health(ctx: ImportContext) -> None:
    """Medicines (medications, or treatments when they treat the cancer), allergies, the
    "none known" statements after them, cancer procedures, and laboratory results."""
    statements: list[tuple[Resource, Step]] = []
    for resource in ctx.bundle.of_type("MedicationRequest", "MedicationStatement"):
        if health.is_statement(resource, mcode.NO_KNOWN_MEDICATIONS):
            statements.append((resource, health.no_medications))
        elif health.is_statement(resource, mcode.NO_MEDICATION_INFO):
            ctx.summary.skip(resource, NO_INFO.format("medications"))
        else:
            _each_patient(ctx, resource, _medicine)
    for resource in ctx.bundle.of_type("AllergyIntolerance"):
        if health.is_statement(resource, mcode.NO_KNOWN_ALLERGIES):
            statements.append((resource, health.no_allergies))
        elif health.is_statement(resource, mcode.NO_ALLERGY_INFO):
            ctx.summary.skip(resource, NO_INFO.format("allergies"))
        else:
            _each_patient(ctx, resource, health.allergy)
    for resource, step in statements:
        _each_patient(ctx, resource, step)
    for resource in ctx.bundle.of_type("Procedure"):
        own = therapy.own_kind(resource)
        kind = own or clinical.procedure_kind(ctx.bundle, resource)
        # Another system's procedure was a record above (or was skipped, and counted):
        # its treatment goes beside the record, and is not counted twice.
        admitted = ctx.owner(resource) is not None and ctx.invalid(resource) is None
        if kind is not None and (own is not None or admitted):
            _each_patient(ctx, resource, _procedure(kind))
    for resource in ctx.bundle.of_type("Observation"):
        if id(resource) in ctx.read_with:
            continue
        if labs.is_opinion_fact(resource):
            ctx.summary.skip(resource, "staging or performance status that names no diagnosis")
        elif labs.is_lab(resource):
            _each_patient(ctx, resource, labs.result)
        elif not labs.in_a_report(ctx, resource):
            ctx.summary.skip(resource, labs.why_not_kept(resource))


def _procedure(kind: TreatmentKind) -> Step:
    def step(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
        therapy.procedure(ctx, patient_id, resource, kind)

    return step


def _medicine(ctx: ImportContext, patient_id: int, resource: Resource) -> None:
    own = therapy.own_kind(resource)
    mine = bool(codes(resource.get("category"), mcode.MEDICATION_KIND))
    kind = own or (None if mine else clinical.drug_kind(health.medicine_name(ctx, resource)))
    if kind is None:
        health.medication(ctx, patient_id, resource)
    else:
        therapy.medicine(ctx, patient_id, resource, kind)


def _each_patient(ctx: ImportContext, resource: Resource, step: Step) -> None:
    """Run `step` for the patient `resource` belongs to, in a savepoint: a step the binder
    refuses is taken back and counted as skipped, and the import goes on."""
    patient_id = ctx.admitted(resource)
    if patient_id is None:
        return
    saved = (dict(ctx.keys), dict(ctx.made), dict(ctx.made_as), ctx.summary.snapshot())
    try:
        with ctx.session.begin_nested():
            step(ctx, patient_id, resource)
    except CarebinderError as error:
        # The savepoint took back its rows; forget what this step learnt about them.
        ctx.keys, ctx.made, ctx.made_as = saved[0], saved[1], saved[2]
        ctx.summary.restore(saved[3])
        ctx.summary.skip(resource, f"it could not be kept ({_in_words(error)[:120]})")


def _patient(ctx: ImportContext, resource: Resource) -> None:
    """The binder patient of a Patient resource: found, or added."""
    problem = ctx.invalid(resource)
    if problem is not None:
        ctx.summary.skip(resource, problem)
        return
    name = human_name(resource.get("name"), with_prefix=False)
    born = fhir_date(resource.get("birthDate"))
    if name is None or born is None or born > date.today():
        ctx.summary.skip(resource, "the patient has no name or date of birth")
        return
    found = _patient_by_keys(ctx, resource)
    how = "already in the binder"
    if found is None:
        found = patients.find_patient(ctx.session, name=name, born=born)
        how = "same name and date of birth"
    if found is None:
        found = patients.add_patient(
            ctx.session,
            name=name,
            born=born,
            address=address_text(resource.get("address")),
            mrn=_mrn(resource),
            phone=telecom(resource, "phone"),
            email=telecom(resource, "email"),
        )
        how = "new"
        ctx.summary.imported["patient"] += 1
    else:
        for column, value in (
            ("mrn", _mrn(resource)),
            ("phone", telecom(resource, "phone")),
            ("email", telecom(resource, "email")),
            ("address", address_text(resource.get("address"))),
        ):
            if getattr(found, column) is None and value is not None:
                setattr(found, column, value)
    ctx.patient_of[id(resource)] = found.id
    ctx.summary.patients.append((found.id, found.name, how))


def _patient_by_keys(ctx: ImportContext, resource: Resource) -> Patient | None:
    """The patient an earlier import made from `resource`, or whose own export it is."""
    keys = source_keys(resource)
    found = ctx.session.scalar(
        select(SourceKey.entity_id)
        .where(SourceKey.entity == "patient", SourceKey.key.in_(keys))
        .limit(1)
    )
    if found is not None:
        return ctx.session.get(Patient, found)
    ident = resource.get("id")
    for patient in ctx.session.scalars(select(Patient)) if isinstance(ident, str) else ():
        if row_uuid(patient) == ident:
            return patient
    return None


def _in_words(error: CarebinderError) -> str:
    """Why the binder refused a step, in the import's words: a field by its name ("the
    notes field is too long (…)"), never by a command-line flag."""
    if isinstance(error, InvalidInput) and error.field:
        return error.naming(f"the {error.field.replace('_', ' ')} field")
    return error.message


# --- small readers ------------------------------------------------------------------------


def _mrn(resource: Resource) -> str | None:
    for identifier in as_list(resource.get("identifier")):
        if isinstance(identifier, dict) and "MR" in vocab_codes(identifier.get("type")):
            return tidy(identifier.get("value"))
    return None


__all__: Sequence[str] = ["Summary", "import_bundle", "source_keys", "validation_problem"]
