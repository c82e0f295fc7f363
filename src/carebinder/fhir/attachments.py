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
import urllib.parse
from collections.abc import Container, Iterator
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


def is_data_url(value: object) -> bool:
    """A `data:` URL (RFC 2397): the file itself, written into the link."""
    return isinstance(value, str) and value[:5].lower() == "data:"


def decode_all(bundle: Bundle, folder: Path) -> dict[int, Decoded | Problem]:
    """Each attachment with data (or a `data:` URL) decoded into `folder`; keyed by id()
    of its JSON object."""
    found: dict[int, Decoded | Problem] = {}
    number = 0
    for resource in bundle.resources:
        for attachment in attachments_of(resource):
            if "data" not in attachment and not is_data_url(attachment.get("url")):
                continue
            number += 1
            found[id(attachment)] = _decode(attachment, resource, folder / str(number))
    return found


def without_data(resource: Resource, dropped: Container[int]) -> Resource:
    """`resource` as it is, except that the attachments in `dropped` (by id()) lose their
    data (or `data:` URL), hash and size: one attachment that cannot be decoded must not
    make the whole document invalid, and with it every other file and fact it holds."""
    where = ATTACHMENT_PATHS.get(resource.get("resourceType", ""))
    if where is None or not any(id(a) in dropped for a in attachments_of(resource)):
        return resource
    outer, inner = where

    def bare(attachment: Any) -> Any:
        if not isinstance(attachment, dict) or id(attachment) not in dropped:
            return attachment
        inline = ("data", "hash", "size", *(["url"] if is_data_url(attachment.get("url")) else []))
        return {k: v for k, v in attachment.items() if k not in inline}

    def swap(item: Any) -> Any:
        if inner is None:
            return bare(item)
        if isinstance(item, dict) and id(item.get(inner)) in dropped:
            return {**item, inner: bare(item[inner])}
        return item

    return {**resource, outer: [swap(item) for item in as_list(resource.get(outer))]}


def _decode(attachment: dict[str, Any], resource: Resource, folder: Path) -> Decoded | Problem:
    if "data" not in attachment:
        try:
            content = _data_url(attachment["url"])
        except (binascii.Error, ValueError):
            return Problem("its data: link cannot be read")
    elif not isinstance(attachment["data"], str):
        return Problem("its data is not base64 text")
    else:
        try:
            # Encoders often wrap base64 in lines of 76: the whitespace is not data.
            content = base64.b64decode("".join(attachment["data"].split()), validate=True)
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


def _data_url(url: str) -> bytes:
    """The bytes of a `data:` URL: `data:[type][;base64],content` (RFC 2397)."""
    head, comma, body = url[5:].partition(",")
    if not comma:
        raise ValueError("no comma")
    if head.lower().endswith(";base64"):
        return base64.b64decode("".join(urllib.parse.unquote(body).split()), validate=True)
    return urllib.parse.unquote_to_bytes(body)


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
