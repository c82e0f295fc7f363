"""Ids that link a binder's rows and FHIR resources, in both directions.

`row_uuid` is the id carebinder's export gives a row, so an import can recognise a
binder's own export; `source_keys` are the ids a resource brings with it, kept with the
row an import makes from it, so importing the same resource again finds that row.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import Any

from carebinder.fhir import vocab
from carebinder.fhir.read import Resource, as_list
from carebinder.fhir.values import codes

NAMESPACE = uuid.UUID("5b0e9a56-3c1b-4c47-9a53-6f1c2d7e8a10")  # carebinder's own


def row_uuid(row: Any) -> str:
    """A UUID for a row: the same in every export, different in every binder."""
    created = row.created_at.astimezone(UTC).isoformat() if row.created_at else ""
    return str(uuid.uuid5(NAMESPACE, f"{row.__tablename__}/{row.id}/{created}"))


def source_keys(resource: Resource) -> list[str]:
    """The keys that identify a resource across imports: Type/id, and its identifiers
    (except private ones such as a social security number, which never enter a binder)."""
    kind = resource.get("resourceType")
    keys = []
    if isinstance(resource.get("id"), str):
        keys.append(f"{kind}/{resource['id']}"[:500])
    for identifier in as_list(resource.get("identifier")):
        if not isinstance(identifier, dict) or _private(identifier):
            continue
        system, value = identifier.get("system"), identifier.get("value")
        if isinstance(system, str) and isinstance(value, str) and system and value:
            keys.append(f"{kind} identifier {system}|{value}"[:500])
    return keys


def _private(identifier: dict[str, Any]) -> bool:
    kinds = set(vocab_codes(identifier.get("type")))
    return bool(kinds & vocab.PRIVATE_IDENTIFIER_TYPES) or (
        identifier.get("system") in vocab.PRIVATE_IDENTIFIER_SYSTEMS
    )


def vocab_codes(concept: Any) -> list[str]:
    """The HL7 v2-0203 identifier type codes of `concept` ("MR", "SS"…)."""
    return codes(concept, vocab.V2_0203)
