"""The files inside a FHIR bundle: base64 attachments decoded to files, ready to store.

Decoding happens before the write transaction (like `record add --file`), into a private
temporary folder that is removed afterwards. An attachment given only as a URL is not
fetched (carebinder never goes on the network): it is counted as not included.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carebinder.fhir.read import Bundle, Resource, as_list
from carebinder.fhir.values import concept_text, tidy

# Which parts of which resources hold the documents themselves.
ATTACHMENT_PATHS = {
    "DocumentReference": ("content", "attachment"),
    "DiagnosticReport": ("presentedForm", None),
}


@dataclass(frozen=True)
class Decoded:
    """One attachment written to a temporary file, under the name the binder will show."""

    path: Path


@dataclass(frozen=True)
class Problem:
    """An attachment that was not decoded, and why."""

    reason: str


def attachments_of(resource: Resource) -> Iterator[dict[str, Any]]:
    """The Attachment objects of a resource that carries documents."""
    where = ATTACHMENT_PATHS.get(resource.get("resourceType", ""))
    if where is None:
        return
    outer, inner = where
    for item in as_list(resource.get(outer)):
        attachment = item.get(inner) if inner and isinstance(item, dict) else item
        if isinstance(attachment, dict):
            yield attachment


def is_placeholder(attachment: dict[str, Any]) -> bool:
    """An attachment with neither data nor a URL nor a size: a record without a file."""
    return not any(key in attachment for key in ("data", "url", "size", "hash"))


def decode_all(bundle: Bundle, folder: Path) -> dict[int, Decoded | Problem]:
    """Each attachment with data decoded into `folder`; keyed by id() of its JSON object."""
    found: dict[int, Decoded | Problem] = {}
    number = 0
    for resource in bundle.resources:
        for attachment in attachments_of(resource):
            if "data" not in attachment:
                continue
            number += 1
            found[id(attachment)] = _decode(attachment, resource, folder / str(number))
    return found


def _decode(attachment: dict[str, Any], resource: Resource, folder: Path) -> Decoded | Problem:
    data = attachment.get("data")
    if not isinstance(data, str):
        return Problem("its data is not base64 text")
    try:
        # Encoders often wrap base64 in lines of 76: the whitespace is not data.
        content = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        return Problem("its data is not valid base64")
    if not content:
        return Problem("it is empty")
    declared = attachment.get("hash")
    if isinstance(declared, str) and declared and declared != fhir_hash(content):
        return Problem("it is damaged (its hash does not match its data)")
    size = attachment.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and size != len(content):
        return Problem("it is damaged (its size does not match its data)")
    folder.mkdir(mode=0o700)
    path = folder / file_name(attachment, resource)
    path.write_bytes(content)
    return Decoded(path)


def fhir_hash(content: bytes) -> str:
    """Attachment.hash as FHIR defines it: the base64 of the SHA-1 of the data."""
    return base64.b64encode(hashlib.sha1(content).digest()).decode()  # noqa: S324 - FHIR's choice


def file_name(attachment: dict[str, Any], resource: Resource) -> str:
    """A plain file name for an attachment: its title, else the document's, plus a suffix."""
    title = tidy(attachment.get("title")) or tidy(resource.get("description"))
    title = title or concept_text(resource.get("type")) or concept_text(resource.get("code"))
    stem = re.sub(r'[\\/:*?"<>|\x00]+', "-", title or "document").strip(". -")[:120]
    stem = stem or "document"
    if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", Path(stem).suffix):
        return stem  # the title already names the file, e.g. "biopsy.pdf"
    content_type = attachment.get("contentType")
    suffix = (
        mimetypes.guess_extension(content_type.split(";")[0].strip())
        if isinstance(content_type, str)
        else None
    )
    return stem + (suffix or "")
