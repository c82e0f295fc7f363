"""Reading a FHIR file: what is refused before anything is written (not JSON, not a Bundle,
another FHIR version, not a file), and how references between resources are followed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from carebinder.errors import InvalidInput
from carebinder.fhir import read
from tests.conftest import write_pdf
from tests.fhir.fhirkit import (
    R4_SAMPLES,
    STU3_SAMPLE,
    bundle_doc,
    new_id,
    parsed,
    patient_resource,
    practitioner,
    sample,
    sample_json,
)


def refusal(raw: bytes, name: str = "records.json") -> str:
    with pytest.raises(InvalidInput) as caught:
        read.parse(raw, name)
    message = caught.value.message
    assert "\n" not in message
    return message


def refusal_of(path: Path) -> str:
    with pytest.raises(InvalidInput) as caught:
        read.load(path)
    message = caught.value.message
    assert "\n" not in message
    return message


# --- not JSON, not FHIR, not a Bundle -------------------------------------------------------


def test_malformed_json_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "portal-export.json"
    path.write_text('{\n  "resourceType": "Bundle",\n  "type": "collection",,\n  "entry": []\n}\n')
    message = refusal_of(path)
    assert message.startswith("portal-export.json is not valid JSON (line 3, column 24")
    assert "exactly as downloaded" in message


def test_truncated_download_is_malformed_json(tmp_path: Path) -> None:
    whole = json.dumps(bundle_doc(patient_resource()), indent=1)
    path = tmp_path / "cut.json"
    path.write_text(whole[: len(whole) // 2])
    assert "is not valid JSON (line" in refusal_of(path)


@pytest.mark.parametrize("raw", [b"", b"  \n"])
def test_an_empty_file_is_called_empty(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "empty.json"
    path.write_bytes(raw)
    assert refusal_of(path) == "empty.json is empty. Give the FHIR file you downloaded."


def test_a_pdf_is_not_a_json_text_file(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "records.json")  # a PDF saved under a .json name
    message = refusal_of(path)
    assert message.startswith("records.json is not a JSON text file.")


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",  # a gzipped download
        bytes(range(256)),
    ],
    ids=["png", "gzip", "all-bytes"],
)
def test_binary_content_is_refused_as_not_json(raw: bytes) -> None:
    message = refusal(raw)
    assert message.startswith("records.json is not")
    assert "JSON" in message


def test_deeply_nested_json_is_refused_not_crashing() -> None:
    message = refusal(b"[" * 100_000 + b"]" * 100_000)
    assert "JSON" in message


@pytest.mark.parametrize(
    "document",
    [[{"resourceType": "Bundle", "type": "collection"}], "Bundle", 42, None],
    ids=["array", "string", "number", "null"],
)
def test_json_that_is_not_an_object_is_not_fhir(document: Any) -> None:
    message = refusal(json.dumps(document).encode())
    assert message == (
        "records.json is JSON but not FHIR (it has no resourceType). Give a FHIR R4 Bundle."
    )


@pytest.mark.parametrize(
    "document",
    [{"type": "collection", "entry": []}, {"resourceType": 7}, {"resourceType": None}],
    ids=["missing", "number", "null"],
)
def test_json_object_without_a_resource_type_is_not_fhir(document: dict[str, Any]) -> None:
    assert "has no resourceType" in refusal(json.dumps(document).encode())


def test_a_patient_instead_of_a_bundle_is_refused() -> None:
    message = refusal(json.dumps(patient_resource()).encode())
    assert message.startswith("records.json holds one FHIR Patient, not a Bundle.")
    assert "Export a Bundle" in message


def test_a_huge_resource_type_is_cut_short_in_the_message() -> None:
    message = refusal(json.dumps({"resourceType": "X" * 5_000}).encode())
    assert len(message) < 300


@pytest.mark.parametrize(
    "kind", ["history", "transaction-response", "batch-response", "nonsense", 3]
)
def test_bundle_types_without_records_are_refused(kind: Any) -> None:
    document = bundle_doc(patient_resource())
    document["type"] = kind
    message = refusal(json.dumps(document).encode())
    assert f"is a FHIR Bundle of type {str(kind)!r}" in message
    assert "Export a collection, transaction or searchset Bundle" in message


@pytest.mark.parametrize("kind", [None, "missing"])
def test_bundle_without_a_type_is_refused(kind: str | None) -> None:
    document = bundle_doc(patient_resource())
    if kind is None:
        document["type"] = None
    else:
        del document["type"]
    message = refusal(json.dumps(document).encode())
    assert "is a FHIR Bundle without a type" in message
    assert "Export a collection, transaction or searchset Bundle" in message


@pytest.mark.parametrize("kind", ["collection", "transaction", "searchset", "batch", "document"])
def test_bundle_types_with_records_are_accepted(kind: str) -> None:
    patient = patient_resource()
    bundle = parsed(bundle_doc(patient, practitioner(), kind=kind))
    assert [r["resourceType"] for r in bundle.resources] == ["Patient", "Practitioner"]
    assert bundle.resources[0] == patient


def test_entries_without_a_resource_are_left_out() -> None:
    patient = patient_resource()
    document = bundle_doc(patient)
    document["entry"] += [
        {"fullUrl": "urn:uuid:nothing"},
        {"resource": "not an object"},
        {"resource": {"id": "no-type"}},
        "not an entry",
    ]
    assert parsed(document).resources == [patient]


def test_a_bundle_with_no_entries_is_read_as_empty() -> None:
    assert parsed({"resourceType": "Bundle", "type": "collection"}).resources == []


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    raw = b"\xef\xbb\xbf" + json.dumps(bundle_doc(patient_resource())).encode()
    assert len(read.parse(raw, "bom.json").resources) == 1


# --- other FHIR versions ------------------------------------------------------------------


def test_the_stu3_sample_is_refused_naming_stu3() -> None:
    message = refusal_of(sample(STU3_SAMPLE))
    assert message.startswith(f"{STU3_SAMPLE} is a FHIR STU3 file (")
    assert "carebinder imports FHIR R4 only" in message
    assert "Ask the portal or clinic for a FHIR R4 export" in message


@pytest.mark.parametrize("name", R4_SAMPLES)
def test_the_r4_samples_are_read_whole(name: str) -> None:
    bundle = read.load(sample(name))
    assert bundle.name == name
    assert len(bundle.resources) == len(sample_json(name)["entry"])


def _version_refusal(*resources: dict[str, Any]) -> str:
    return refusal(json.dumps(bundle_doc(patient_resource(), *resources)).encode())


def test_dstu2_medication_order_is_refused() -> None:
    message = _version_refusal(
        {"resourceType": "MedicationOrder", "id": new_id(), "status": "active"}
    )
    assert "is a FHIR DSTU2 file (it has MedicationOrder resources)" in message


def test_dstu2_condition_naming_its_patient_is_refused() -> None:
    condition = {
        "resourceType": "Condition",
        "id": new_id(),
        "patient": {"reference": "Patient/1"},
        "code": {"text": "Asthma"},
        "verificationStatus": "confirmed",
    }
    message = _version_refusal(condition)
    assert "is a FHIR DSTU2 file (Condition names its patient in 'patient')" in message


def test_dstu2_encounter_naming_its_patient_is_refused() -> None:
    visit = {"resourceType": "Encounter", "id": new_id(), "status": "finished", "patient": {}}
    assert "FHIR DSTU2 file" in _version_refusal(visit)


def test_r5_encounter_with_actual_period_is_refused() -> None:
    visit = {
        "resourceType": "Encounter",
        "id": new_id(),
        "status": "completed",
        "class": [{"coding": [{"code": "AMB"}]}],
        "actualPeriod": {"start": "2025-01-01T10:00:00Z"},
    }
    assert "is a FHIR R5 file (Encounter has the R5 shape)" in _version_refusal(visit)


def test_r5_medication_request_with_codeable_reference_is_refused() -> None:
    request = {
        "resourceType": "MedicationRequest",
        "id": new_id(),
        "status": "active",
        "intent": "order",
        "medication": {"concept": {"text": "Tamoxifen"}},
    }
    assert "FHIR R5 file" in _version_refusal(request)


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "ProcedureRequest", "status": "active"},
        {"resourceType": "Condition", "clinicalStatus": "active", "code": {"text": "x"}},
        {"resourceType": "Observation", "status": "final", "context": {"reference": "E/1"}},
    ],
    ids=["stu3-only-type", "plain-code-status", "context"],
)
def test_stu3_shapes_are_refused(resource: dict[str, Any]) -> None:
    assert "is a FHIR STU3 file" in _version_refusal({"id": new_id(), **resource})


@pytest.mark.parametrize(
    ("profile", "version"),
    [
        ("http://hl7.org/fhir/STU3/StructureDefinition/Patient", "STU3"),
        ("http://hl7.org/fhir/DSTU2/StructureDefinition/Patient", "DSTU2"),
        ("http://hl7.org/fhir/R5/StructureDefinition/Patient", "R5"),
    ],
)
def test_a_declared_profile_of_another_version_is_refused(profile: str, version: str) -> None:
    patient = patient_resource(meta={"profile": [profile]})
    message = refusal(json.dumps(bundle_doc(patient)).encode())
    assert f"is a FHIR {version} file (its profiles say so)" in message


def test_an_r4_condition_is_not_mistaken_for_another_version() -> None:
    condition = {
        "resourceType": "Condition",
        "id": new_id(),
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"text": "Asthma"},
        "subject": {"reference": "Patient/1"},
        "encounter": {"reference": "Encounter/1"},
    }
    assert len(parsed(bundle_doc(patient_resource(), condition)).resources) == 2


# --- files that are not files -------------------------------------------------------------


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    assert refusal_of(tmp_path / "nowhere.json") == "No such file: nowhere.json. Check the path."


def test_a_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    message = refusal_of(folder)
    assert message == "downloads is not a file. Give the FHIR file you downloaded."


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    assert refusal_of(fifo) == "pipe.json is not a file. Give the FHIR file you downloaded."


def test_a_long_file_name_is_shortened_in_the_message(tmp_path: Path) -> None:
    name = "records-" + "x" * 200 + ".json"
    message = refusal_of(tmp_path / name)
    assert message.startswith("No such file: records-xxx")
    assert "…" in message
    assert len(message) < 120


def test_a_file_name_that_is_not_utf8_is_shown_readably(tmp_path: Path) -> None:
    path = Path(os.fsdecode(bytes(tmp_path) + b"/r\xe9sultats.json"))
    path.write_bytes(b"{,}")
    message = refusal_of(path)
    assert message.startswith("r\ufffdsultats.json is not valid JSON (line 1, column 2")
    message.encode("utf-8")  # no lone surrogates: the message can be printed


def test_a_path_through_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a folder")
    message = refusal_of(tmp_path / "notes.txt" / "records.json")
    assert message == "Cannot read records.json (Not a directory)."


# --- references ---------------------------------------------------------------------------


@pytest.fixture
def people() -> tuple[dict[str, Any], dict[str, Any], read.Bundle]:
    """A patient at an absolute URL with an MRN, and a practitioner at a urn:uuid."""
    patient = patient_resource(
        id="p1",
        identifier=[{"system": "http://hospital.example/mrn", "value": "MRN-42"}],
    )
    doctor = practitioner()
    bundle = read.Bundle(
        "refs.json",
        [
            (patient, "https://fhir.hospital.example/r4/Patient/p1"),
            (doctor, f"urn:uuid:{doctor['id']}"),
        ],
    )
    return patient, doctor, bundle


def test_reference_by_urn_uuid_full_url(people: Any) -> None:
    _, doctor, bundle = people
    assert bundle.resolve({"reference": f"urn:uuid:{doctor['id']}"}) is doctor


def test_reference_by_type_and_id(people: Any) -> None:
    patient, doctor, bundle = people
    assert bundle.resolve({"reference": "Patient/p1"}) is patient
    assert bundle.resolve({"reference": f"Practitioner/{doctor['id']}"}) is doctor


def test_reference_by_absolute_url(people: Any) -> None:
    patient, _, bundle = people
    assert bundle.resolve({"reference": "https://fhir.hospital.example/r4/Patient/p1"}) is patient


def test_reference_by_absolute_url_of_a_resource_given_by_urn(people: Any) -> None:
    _, doctor, bundle = people
    url = f"https://elsewhere.example/fhir/Practitioner/{doctor['id']}"
    assert bundle.resolve({"reference": url}) is doctor


def test_conditional_reference_by_identifier(people: Any) -> None:
    patient, _, bundle = people
    found = bundle.resolve({"reference": "Patient?identifier=http://hospital.example/mrn|MRN-42"})
    assert found is patient
    assert bundle.resolve(
        {"reference": "Patient?identifier=http://hospital.example/mrn|MRN-4"}
    ) is (None)


def test_reference_of_the_wrong_type_is_not_followed(people: Any) -> None:
    _, doctor, bundle = people
    reference = {"reference": f"urn:uuid:{doctor['id']}"}
    assert bundle.resolve(reference, "Patient", "Organization") is None
    assert bundle.resolve(reference, "Practitioner") is doctor


@pytest.mark.parametrize(
    "reference",
    [
        {"reference": "Patient/p2"},
        {"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"},
        {"reference": "#contained"},
        {"display": "Dr. Nobody"},
        {"reference": 42},
        "Patient/p1",
        None,
    ],
    ids=["other-id", "other-uuid", "contained", "display-only", "number", "string", "none"],
)
def test_references_that_lead_nowhere_give_none(people: Any, reference: Any) -> None:
    _, _, bundle = people
    assert bundle.resolve(reference) is None


def test_versioned_reference_is_resolved(people: Any) -> None:
    patient, _, bundle = people
    assert bundle.resolve({"reference": "Patient/p1/_history/3"}) is patient


def test_of_type_keeps_file_order() -> None:
    first, second = patient_resource(given="A"), patient_resource(given="B")
    bundle = parsed(bundle_doc(first, practitioner(), second))
    assert list(bundle.of_type("Patient")) == [first, second]
