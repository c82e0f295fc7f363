"""Files uploaded in the browser, taken in the way `record add --file` takes files on disk.

- An upload's body is counted as it arrives. One over `MAX_UPLOAD_BYTES` (its
  Content-Length says so, or its bytes show it) is refused before its form is read, the
  limit said beside the file field, and nothing of it is stored.
- What arrives is written to a private temporary folder (owner-only, removed afterwards),
  each file under its own name in a folder of its own, so two files of the same name stay
  two files and the binder shows the name the person's computer gave it.
- From there it goes the way of `--file`: `services.files.prepare` stores and reads each
  file in the sandbox, with the same limits, outside the write transaction; then the
  change writes their rows. One file refused (empty, unreadable) refuses them all, and
  blobs the refused upload put in the store are taken back, as the command line does.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.types import Message

from carebinder.errors import CarebinderError, FileRefused, InvalidInput
from carebinder.words import human_size

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from starlette.responses import Response

    from carebinder.models import Patient
    from carebinder.services.files import Prepared
    from carebinder.web.core import Page

# The most one upload may bring, all its files together. Tests patch this name, here.
MAX_UPLOAD_BYTES = 500_000_000
MAX_FILES = 100
MAX_FIELDS = 50
FIELD = "files"  # the file input's name, and the field its refusals are shown beside
NAME_BYTES = 200  # a file name's length on disk, within every file system's 255
UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def too_large(limit: int) -> InvalidInput:
    return InvalidInput(
        f"This upload is too large: at most {human_size(limit)} at a time. Upload fewer files"
        " at once, or attach a larger file with `carebinder record attach`. Nothing was added.",
        field=FIELD,
    )


async def read_form(request: Request) -> FormData:
    """The form of an upload; refused (InvalidInput beside the file field) as soon as its
    body is over the limit, before the rest is read. The parser closes what it spooled."""
    limit = MAX_UPLOAD_BYTES
    receive = request.receive
    counted, finished = 0, False

    async def counting() -> Message:
        nonlocal counted, finished
        message = await receive()
        finished = message["type"] != "http.request" or not message.get("more_body", False)
        if message["type"] == "http.request":
            counted += len(message.get("body", b""))
            if counted > limit:
                raise too_large(limit)
        return message

    try:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        return await Request(request.scope, counting).form(
            max_files=MAX_FILES, max_fields=MAX_FIELDS
        )
    except InvalidInput:
        # The rest is read and dropped: a browser still sending when the connection closes
        # shows "connection reset", not the page that says why.
        while not finished:
            message = await receive()
            finished = message["type"] != "http.request" or not message.get("more_body", False)
        raise


def safe_name(given: str | None) -> str:
    """The last part of the name the browser sent (some send a whole Windows path), without
    control characters, short enough for any disk (its extension kept); "upload" when
    nothing is left."""
    name = UNSAFE.sub("", re.split(r"[\\/]", given or "")[-1]).strip()
    stem, dot, suffix = name.rpartition(".")
    if not (dot and stem and len(suffix) <= 16):
        stem, dot, suffix = name, "", ""
    room = NAME_BYTES - len(f"{dot}{suffix}".encode())
    name = stem.encode()[:room].decode("utf-8", "ignore") + dot + suffix
    return "upload" if name.strip(". ") == "" else name


@contextmanager
def spooled(page: Page) -> Iterator[dict[Path, str]]:
    """The files of the upload written to a private temporary folder, each under its own
    name: {path: name as sent}. The folder and everything in it goes afterwards."""
    chosen = [
        item
        for item in (page.form.getlist(FIELD) if isinstance(page.form, FormData) else [])
        # A file input left empty still sends a part: no name, no bytes.
        if isinstance(item, UploadFile) and (item.filename or item.size)
    ]
    folder = Path(tempfile.mkdtemp(prefix="carebinder-upload-"))  # mode 0700
    try:
        written: dict[Path, str] = {}
        for number, item in enumerate(chosen):
            own = folder / str(number)
            own.mkdir(mode=0o700)
            path = own / safe_name(item.filename)
            item.file.seek(0)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(item.file, out, 1 << 20)
            written[path] = path.name
        yield written
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def attach(
    page: Page,
    make: Callable[[Session, Patient, list[Prepared]], tuple[str, str]],
    /,
    *,
    form: str,
    context: Callable[[Session, Patient], dict[str, Any]] | None = None,
    **more: Any,
) -> Response:
    """Store and read the uploaded files (`prepare`, as `--file` does), then make the change
    that attaches them; refused, `form` again with the reason beside its field."""
    from carebinder.services import files
    from carebinder.store import Store

    if page.refused is not None:
        return page.refuse(page.refused, form=form, context=context, status=413, **more)
    store = Store(page.web.settings.store_dir)
    created: list[str] = []
    try:
        with spooled(page) as names:
            try:
                if names:
                    store.check(write=True)
                prepared = files.prepare(store, list(names), created.append)
            except FileRefused as error:
                name = names.get(Path(str(error.path)), "the file")
                refused = InvalidInput(f"Cannot add {name}: {error.reason}", field=FIELD)
                return page.refuse(refused, form=form, context=context, **more)
            except CarebinderError as error:  # the store cannot be used, or the disk failed
                return page.refuse(error, form=form, context=context, **more)
            return page.change(
                lambda s, patient: make(s, patient, prepared),
                form=form,
                context=context,
                **more,
            )
    finally:
        # Whatever happened: `discard` keeps every blob a committed row references, so this
        # takes back exactly what a refused or failed upload left in the store.
        if created:
            files.discard(page.web.engine, store, created)
