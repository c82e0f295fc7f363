"""Reading a FHIR file: JSON, a Bundle, FHIR R4, and references between its resources.

Everything here refuses before anything is written: a file that is not JSON, not a
Bundle, or of another FHIR version (STU3, DSTU2, R5) is turned away with one line that
says what it is and what to do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from carebinder.errors import InvalidInput

Resource = dict[str, Any]

# A bundle is read whole into memory; past this it is surely not a patient's records.
MAX_BYTES = 512 << 20
SHOWN_NAME = 60
ACCEPTED_TYPES = frozenset({"collection", "transaction", "searchset", "batch", "document"})

# Resource types that exist only in older FHIR versions.
STU3_ONLY = frozenset(
    {
        "ProcedureRequest",
        "ReferralRequest",
        "DeviceComponent",
        "ImagingManifest",
        "ProcessRequest",
        "ProcessResponse",
        "EligibilityRequest",
        "EligibilityResponse",
        "EnrollmentRequest",
        "EnrollmentResponse",
        "DataElement",
        "ServiceDefinition",
        "BodySite",
        "Sequence",
        "ExpansionProfile",
    }
)
DSTU2_ONLY = frozenset({"MedicationOrder", "DiagnosticOrder", "Order", "OrderResponse"})
# STU3 put the encounter of these resources under `context`; R4 renamed it `encounter`.
STU3_CONTEXT = frozenset(
    {
        "Condition",
        "CarePlan",
        "Procedure",
        "MedicationRequest",
        "Observation",
        "DiagnosticReport",
        "Immunization",
    }
)


class Bundle:
    """The resources of one bundle, in file order, and a way to follow references."""

    def __init__(self, name: str, entries: list[tuple[Resource, str | None]]) -> None:
        self.name = name
        self.resources = [resource for resource, _ in entries]
        self._by_ref: dict[str, Resource] = {}
        for resource, full_url in entries:
            kind, ident = resource.get("resourceType"), resource.get("id")
            if isinstance(ident, str):
                self._by_ref.setdefault(f"{kind}/{ident}", resource)
            if full_url:
                self._by_ref.setdefault(full_url, resource)
                # An absolute URL also answers to its relative form, Type/id.
                parts = full_url.rstrip("/").split("/")
                if len(parts) >= 2 and parts[-2] == kind:
                    self._by_ref.setdefault(f"{parts[-2]}/{parts[-1]}", resource)
            for system, value in identifiers(resource):
                self._by_ref.setdefault(f"{kind}?identifier={system}|{value}", resource)

    def of_type(self, *kinds: str) -> Iterator[Resource]:
        return (r for r in self.resources if r.get("resourceType") in kinds)

    def resolve(self, reference: Any, *kinds: str) -> Resource | None:
        """The resource a Reference points to, if it is in the bundle and of `kinds`."""
        if not isinstance(reference, dict):
            return None
        target = reference.get("reference")
        if not isinstance(target, str):
            return None
        if "/_history/" in target:  # a versioned reference: the bundle holds one version
            target = target.split("/_history/")[0]
        found = self._by_ref.get(target)
        if found is None and "/" in target and not target.startswith("urn:"):
            found = self._by_ref.get("/".join(target.rstrip("/").split("/")[-2:]))
        if found is None or (kinds and found.get("resourceType") not in kinds):
            return None
        return found


def identifiers(resource: Resource) -> Iterator[tuple[str, str]]:
    """(system, value) of each identifier that has both."""
    for identifier in as_list(resource.get("identifier")):
        if isinstance(identifier, dict):
            system, value = identifier.get("system"), identifier.get("value")
            if isinstance(system, str) and isinstance(value, str) and system and value:
                yield system, value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def load(path: Path) -> Bundle:
    """The bundle in `path`, refused unless it is a FHIR R4 Bundle in JSON."""
    # The name as the person typed it, shortened: messages stay one line.
    shown = os.fsencode(path.name).decode("utf-8", "replace")
    shown = shown if len(shown) <= SHOWN_NAME else shown[: SHOWN_NAME - 1] + "…"
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise InvalidInput(f"{shown} is not a file. Give the FHIR file you downloaded.")
        if size > MAX_BYTES:
            raise InvalidInput(
                f"{shown} is too large for a FHIR import ({size >> 20:,} MB; at most"
                f" {MAX_BYTES >> 20:,} MB). Ask for the records of one patient."
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"No such file: {shown}. Check the path.") from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InvalidInput(f"Cannot read {shown} ({reason}).") from None
    return parse(raw, shown)


def parse(raw: bytes, shown: str) -> Bundle:
    if not raw.strip():
        raise InvalidInput(f"{shown} is empty. Give the FHIR file you downloaded.")
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"{shown} is not valid JSON (line {error.lineno}, column {error.colno}:"
            f" {error.msg}). A FHIR import needs the .json file exactly as downloaded."
        ) from None
    except (UnicodeDecodeError, RecursionError):
        raise InvalidInput(
            f"{shown} is not a JSON text file. A FHIR import needs the .json file"
            " exactly as downloaded."
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("resourceType"), str):
        raise InvalidInput(
            f"{shown} is JSON but not FHIR (it has no resourceType). Give a FHIR R4 Bundle."
        )
    kind = document["resourceType"]
    if kind != "Bundle":
        raise InvalidInput(
            f"{shown} holds one FHIR {kind[:40]}, not a Bundle. Export a Bundle (all of the"
            " patient's records in one file) and import that."
        )
    bundle_type = document.get("type")
    if bundle_type is None:
        raise InvalidInput(
            f"{shown} is a FHIR Bundle without a type, so its contents cannot be trusted to"
            " be records. Export a collection, transaction or searchset Bundle."
        )
    if bundle_type not in ACCEPTED_TYPES:
        raise InvalidInput(
            f"{shown} is a FHIR Bundle of type {str(bundle_type)[:40]!r}, which holds no"
            " records to import. Export a collection, transaction or searchset Bundle."
        )
    entries: list[tuple[Resource, str | None]] = []
    for entry in as_list(document.get("entry")):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            url = entry.get("fullUrl")
            entries.append((resource, url if isinstance(url, str) else None))
    version = other_version(document, [resource for resource, _ in entries])
    if version is not None:
        name, sign = version
        raise InvalidInput(
            f"{shown} is a FHIR {name} file ({sign}); carebinder imports FHIR R4 only."
            " Ask the portal or clinic for a FHIR R4 export."
        )
    return Bundle(shown, entries)


def other_version(document: Resource, resources: list[Resource]) -> tuple[str, str] | None:
    """(version, the sign of it) when the bundle is not FHIR R4, else None."""
    declared = _declared_version(document, resources)
    if declared is not None:
        return declared
    for resource in resources:
        kind = resource["resourceType"]
        if kind in DSTU2_ONLY:
            return "DSTU2", f"it has {kind} resources"
        if kind in STU3_ONLY:
            return "STU3", f"it has {kind} resources"
        if kind in ("Condition", "Encounter") and "patient" in resource:
            return "DSTU2", f"{kind} names its patient in 'patient'"
        for status in ("clinicalStatus", "verificationStatus"):
            if kind in ("Condition", "AllergyIntolerance") and isinstance(
                resource.get(status), str
            ):
                return "STU3", f"{kind}.{status} is a plain code"
        if kind in STU3_CONTEXT and "context" in resource:
            return "STU3", f"{kind} names its encounter in 'context'"
        if kind == "Encounter" and (
            "actualPeriod" in resource or isinstance(resource.get("class"), list)
        ):
            return "R5", "Encounter has the R5 shape"
        if kind == "Encounter" and "reason" in resource:
            return "STU3", "Encounter.reason is the STU3 name of reasonCode"
        if kind == "MedicationRequest" and isinstance(resource.get("medication"), dict):
            return "R5", "MedicationRequest.medication is an R5 CodeableReference"
    return None


def _declared_version(document: Resource, resources: list[Resource]) -> tuple[str, str] | None:
    """A version the file states: a CapabilityStatement-style fhirVersion or profile URLs."""
    for resource in [document, *resources]:
        meta = resource.get("meta")
        profiles = as_list(meta.get("profile")) if isinstance(meta, dict) else []
        for profile in profiles:
            text = str(profile)
            for marker, name in (("/STU3/", "STU3"), ("/DSTU2/", "DSTU2"), ("/R5/", "R5")):
                if marker in text:
                    return name, "its profiles say so"
    version = document.get("fhirVersion")
    if isinstance(version, str) and version and not version.startswith("4.0"):
        names = {"1.0": "DSTU2", "3.0": "STU3", "4.3": "R4B", "5.0": "R5"}
        return names.get(version[:3], version[:20]), f"fhirVersion is {version[:20]}"
    return None


def contained(resource: Resource, reference: Any) -> Resource | None:
    target = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(target, str) or not target.startswith("#"):
        return None
    for item in as_list(resource.get("contained")):
        if isinstance(item, dict) and item.get("id") == target[1:]:
            return item
    return None
