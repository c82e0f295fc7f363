"""Files attached to records: their bytes go to the store, their facts to the database.

Order matters for durability: the bytes are in the store (fsynced, renamed) before the row
is written; if the transaction then fails, a blob this command created is removed again.
A blob leaves the store only after a commit, and only when no file row references it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.db import after_commit, on_rollback
from carebinder.errors import FileRefused, NotFound
from carebinder.models import File, Record
from carebinder.store import Store


def attach_files(
    session: Session, store: Store, record: Record, paths: Sequence[Path]
) -> list[File]:
    """Store each file and attach it to `record`. All or nothing.

    Returns the new file rows: bytes the record already holds are not attached twice.
    """
    for path in paths:  # refuse obvious mistakes before copying anything
        if not path.exists():
            raise FileRefused(path, "no such file. Check the path.")
        if path.is_dir():
            raise FileRefused(path, "it is a folder. Give the files inside it instead.")
        if not path.is_file():
            raise FileRefused(path, "it is not a regular file.")
    added = []
    held = {file.sha256 for file in record.files}
    for path in paths:
        blob = store.put(path)
        if blob.created:
            on_rollback(session, functools.partial(store.remove, blob.sha256))
        if blob.sha256 in held:
            continue
        held.add(blob.sha256)
        page_count, unreadable = inspect(blob.path, blob.media_type)
        file = File(
            original_name=display_name(path),
            media_type=blob.media_type,
            size=blob.size,
            page_count=page_count,
            sha256=blob.sha256,
            unreadable=unreadable,
        )
        record.files.append(file)
        added.append(file)
    session.flush()
    return added


def display_name(path: Path) -> str:
    """The file's name as text, even when the name is not valid UTF-8."""
    return os.fsencode(path.name).decode("utf-8", "replace")[:255]


def inspect(path: Path, media_type: str) -> tuple[int | None, str | None]:
    """(pages or image frames, why it is unreadable) for a stored file, read in a child
    process with limits (carebinder.sandbox). Never raises for bad content."""
    from carebinder.sandbox import inspect_files

    (finding,) = inspect_files([(path, media_type)])
    return finding.pages, finding.error


def get_file(session: Session, record: Record, ident: int) -> File:
    for file in record.files:
        if file.id == ident:
            return file
    raise NotFound(
        "file",
        ident,
        message=f"Record #{record.id} has no file #{ident}."
        f" See `carebinder record show {record.id}` for its files.",
    )


def detach_file(session: Session, store: Store, record: Record, file: File) -> None:
    record.files.remove(file)
    session.flush()
    release_blobs(session, store, [file.sha256])


def release_blobs(session: Session, store: Store, digests: Iterable[str]) -> None:
    """After the commit, remove those of `digests` that no file row references any more."""
    candidates = set(digests)
    if not candidates:
        return
    # Checked and removed inside a write transaction: a command attaching the same bytes
    # holds the write lock from before it stores them until its row is committed, so it
    # either committed first (its row is seen here) or stores them again after.
    engine = session.get_bind().execution_options(sqlite_begin="IMMEDIATE")

    def cleanup() -> None:
        with Session(engine) as check, check.begin():
            used = set(check.scalars(select(File.sha256).where(File.sha256.in_(candidates))))
            for digest in candidates - used:
                store.remove(digest)

    after_commit(session, cleanup)


def to_json(file: File) -> dict[str, Any]:
    return {
        "id": file.id,
        "name": file.original_name,
        "media_type": file.media_type,
        "size": file.size,
        "page_count": file.page_count,
        "sha256": file.sha256,
        "unreadable": file.unreadable,
    }
