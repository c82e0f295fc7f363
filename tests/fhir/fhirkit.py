"""Helpers the FHIR tests share: the sample bundles, small bundles built by hand, an import
run the way `carebinder import` runs it, a small context to run one step of an import on,
and row counts to tell whether anything changed."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from carebinder import config
from carebinder.db import open_binder, session_scope
from carebinder.fhir import read
from carebinder.fhir.attachments import Decoded, Problem, decode_all
from carebinder.fhir.context import ImportContext
from carebinder.fhir.importer import Summary, import_bundle
from carebinder.models import Base, Patient
from carebinder.services import files
from carebinder.store import Store

# Synthea's sample bundles (tests/data/fhir/SOURCE.txt), kept gzip-compressed in the
# repository; each is decompressed once per test run into a temporary folder.
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "fhir"
_UNPACKED = tempfile.TemporaryDirectory(prefix="carebinder-fhir-samples-")
R4_SAMPLES = ("R4-Adan_Pulido.json", "R4-Ali_Herman.json", "R4-Cary_OHara.json")
STU3_SAMPLE = "STU3-Abbott_Pok.json"
SMALLEST_R4 = "R4-Cary_OHara.json"

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
NPI = "http://hl7.org/fhir/sid/us-npi"
VALID_NPI = "1234567893"  # the CMS example; its check digit is right

Resource = dict[str, Any]


def sample(name: str) -> Path:
    """The sample `name` (e.g. "R4-Cary_OHara.json") as a plain JSON file."""
    path = Path(_UNPACKED.name) / name
    if not path.exists():
        packed = SAMPLES / f"{name}.gz"
        assert packed.is_file(), f"missing FHIR sample {packed}"
        path.write_bytes(gzip.decompress(packed.read_bytes()))
    return path


def sample_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample(name).read_bytes())
    return data


def resources_of(document: dict[str, Any], kind: str) -> list[Resource]:
    return [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind]


# --- bundles built by hand ----------------------------------------------------------------


def new_id() -> str:
    return str(uuid.uuid4())


def ref(resource: Resource) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource['id']}"}


def bundle_doc(*resources: Resource, kind: str = "collection") -> dict[str, Any]:
    """A Bundle whose entries have urn:uuid fullUrls made from the resources' ids."""
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def parsed(document: dict[str, Any], name: str = "test.json") -> read.Bundle:
    return read.parse(json.dumps(document).encode(), name)


def patient_resource(
    given: str = "Ana", family: str = "Souza", born: str = "1964-04-12", **extra: Any
) -> Resource:
    return {
        "resourceType": "Patient",
        "id": new_id(),
        "name": [{"use": "official", "given": [given], "family": family}],
        "birthDate": born,
        **extra,
    }


def practitioner(given: str = "Carol", family: str = "Weimann", **extra: Any) -> Resource:
    return {
        "resourceType": "Practitioner",
        "id": new_id(),
        "name": [{"given": [given], "family": family, "prefix": ["Dr."]}],
        **extra,
    }


def organization(name: str) -> Resource:
    return {"resourceType": "Organization", "id": new_id(), "name": name}


def encounter(
    patient: Resource,
    doctor: Resource | None,
    start: str = "2025-03-04T10:00:00-05:00",
    **extra: Any,
) -> Resource:
    resource: Resource = {
        "resourceType": "Encounter",
        "id": new_id(),
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": ref(patient),
        "period": {"start": start},
        **extra,
    }
    if doctor is not None:
        resource["participant"] = [{"individual": ref(doctor)}]
    return resource


def lab_report(patient: Resource, title: str = "Basic Metabolic Panel", **extra: Any) -> Resource:
    return {
        "resourceType": "DiagnosticReport",
        "id": new_id(),
        "status": "final",
        "category": [{"coding": [{"system": V2_0074, "code": "LAB"}]}],
        "code": {"text": title},
        "subject": ref(patient),
        "effectiveDateTime": "2025-03-04T10:00:00-05:00",
        **extra,
    }


def observation(patient: Resource, name: str = "Hemoglobin", **value: Any) -> Resource:
    """A lab result; its value is `value` (by default valueQuantity 13.2 g/dL)."""
    return {
        "resourceType": "Observation",
        "id": new_id(),
        "status": "final",
        "code": {"text": name},
        "subject": ref(patient),
        **(value or {"valueQuantity": {"value": 13.2, "unit": "g/dL"}}),
    }


def document_reference(patient: Resource, *attachments: Resource, **extra: Any) -> Resource:
    return {
        "resourceType": "DocumentReference",
        "id": new_id(),
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11526-1"}]},
        "subject": ref(patient),
        "description": "Pathology report",
        "content": [{"attachment": a} for a in attachments],
        **extra,
    }


def pdf_attachment(content: bytes, title: str = "biopsy.pdf", **extra: Any) -> Resource:
    """An Attachment carrying `content` as FHIR says: base64 data, size and SHA-1 hash."""
    return {
        "contentType": "application/pdf",
        "title": title,
        "data": base64.b64encode(content).decode(),
        "size": len(content),
        "hash": fhir_hash(content),
        **extra,
    }


def fhir_hash(content: bytes) -> str:
    return base64.b64encode(hashlib.sha1(content).digest()).decode()


# --- importing, as the command does --------------------------------------------------------


@dataclass
class Binder:
    """A real binder: settings, an engine on its SQLite file, and its store."""

    settings: config.Settings
    engine: Engine
    store: Store


def new_binder(home: Path) -> Binder:
    settings = config.resolve(home=home, environ={})
    return Binder(settings, open_binder(settings, create=True), Store(settings.store_dir))


def run_import(engine: Engine, store: Store, bundle: read.Bundle) -> Summary:
    """Decode the attachments into a temporary folder, store them, then import in one write
    transaction: the steps of `carebinder import`."""
    with tempfile.TemporaryDirectory(prefix="carebinder-test-import-") as folder:
        decoded = decode_all(bundle, Path(folder))
        wanted = [(key, item.path) for key, item in decoded.items() if isinstance(item, Decoded)]
        problems = {key: item.reason for key, item in decoded.items() if isinstance(item, Problem)}
        prepared = files.prepare(store, [path for _, path in wanted], lambda _digest: None)
        by_attachment = {key: item for (key, _), item in zip(wanted, prepared, strict=True)}
        with session_scope(engine, write=True) as s:
            return import_bundle(s, store, bundle, by_attachment, problems)


# --- one step of an import -----------------------------------------------------------------


def step_context(
    session: Session, store: Store, patient: Patient, *resources: Resource
) -> ImportContext:
    """A context as the importer hands it to its steps: a bundle of `resources`, whose
    Patients are filed as `patient`, and nothing matched yet."""
    ctx = ImportContext(session, store, parsed(bundle_doc(*resources), "small.json"))
    for resource in ctx.bundle.of_type("Patient"):
        ctx.patient_of[id(resource)] = patient.id
    return ctx


def in_bundle(ctx: ImportContext, resource: Resource) -> Resource:
    """The bundle's own copy of `resource`: steps tell resources apart by identity."""
    found = ctx.bundle.resolve(ref(resource), resource["resourceType"])
    assert found is not None
    return found


def row_counts(engine: Engine) -> dict[str, int]:
    """The number of rows of every table of the binder."""
    with session_scope(engine, write=False) as s:
        return {
            table.name: s.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def database_bytes(engine: Engine) -> bytes:
    """Everything SQLite holds on disk for this binder (the file, after a checkpoint)."""
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    url = engine.url.database
    assert url is not None
    path = Path(url)
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
