"""The content-addressed file store: `files/ab/cdef…`, named by SHA-256.

It knows nothing of the database. A write streams the source once (hashing while copying)
into a temporary file in the store, fsyncs it, then renames it into place, so a blob is
either whole or absent. The same bytes are stored once.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from carebinder import config
from carebinder.errors import BlobUnusable, FileRefused, StoreError, StoreUnavailable
from carebinder.faults import checkpoint
from carebinder.media import HEADER_SIZE, sniff

CHUNK = 1 << 20
NONBLOCK = getattr(os, "O_NONBLOCK", 0)
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
TEMP_PREFIX = ".tmp-"

# A blob's name is its SHA-256 in hex, split after two characters: `files/ab/cdef…`. What a
# folder holds beside these (temporary files, anything put there by hand) is not a blob.
SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)
SHARD = re.compile(r"[0-9a-f]{2}", re.ASCII)
BLOB_NAME = re.compile(r"[0-9a-f]{62}", re.ASCII)


@dataclass(frozen=True)
class Listed:
    """A blob found in the store by its name (its bytes are not read)."""

    sha256: str
    size: int


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    media_type: str
    path: Path
    # True when this call wrote the bytes (they were not in the store before).
    created: bool


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root

    def check(self, *, write: bool) -> Store:
        """This store, if its folder exists and this user can read it (and, with `write`,
        add and remove files in it); refused otherwise, before anything is changed."""
        where = shown_path(self.root)
        fix = "give the right folder with --store (or CAREBINDER_STORE)"
        try:
            info = self.root.stat()
        except FileNotFoundError:
            raise StoreUnavailable(
                f"The file store folder {where} does not exist. If it is a shared folder,"
                f" check that it is reachable (mounted); or {fix}."
            ) from None
        except (OSError, ValueError) as error:  # ValueError: a NUL in the name
            reason = getattr(error, "strerror", None) or type(error).__name__
            raise StoreUnavailable(
                f"The file store folder {where} cannot be opened ({reason}): {fix}."
            ) from None
        if not stat.S_ISDIR(info.st_mode):
            raise StoreUnavailable(f"The file store {where} is not a folder: {fix}.")
        wanted = os.R_OK | os.X_OK | (os.W_OK if write else 0)
        if not os.access(self.root, wanted):
            verb = "write in" if write else "read"
            raise StoreUnavailable(
                f"You may not {verb} the file store folder {where}. Ask whoever manages it"
                f" for access; or {fix}."
            )
        return self

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def blobs(self) -> list[Listed]:
        """Every blob in the store, in name order: no temporary or stray file, and no link
        (nothing outside the store is taken for a blob)."""
        found: list[Listed] = []
        if not self.root.is_dir():
            return found
        for shard in sorted(os.scandir(self.root), key=lambda e: e.name):
            if not SHARD.fullmatch(shard.name) or not shard.is_dir(follow_symlinks=False):
                continue
            for blob in sorted(os.scandir(shard.path), key=lambda e: e.name):
                if BLOB_NAME.fullmatch(blob.name) and blob.is_file(follow_symlinks=False):
                    size = blob.stat(follow_symlinks=False).st_size
                    found.append(Listed(shard.name + blob.name, size))
        return found

    def put(self, source: Path) -> Blob:
        """Copy `source` into the store and return its blob.

        Refuses a missing file, a folder, an unreadable file and an empty file; in each
        case nothing is written.
        """
        fd = _open_source(source)
        started = os.fstat(fd)
        with os.fdopen(fd, "rb") as src:
            if not self.root.is_dir():
                config.make_private_dir(self.root)  # an existing (shared) store keeps its mode
            tmp = _temp_path(self.root)
            digest = hashlib.sha256()
            size = 0
            header = b""
            try:
                with tmp.open("xb") as out:
                    checkpoint("store.open")
                    while chunk := _read(src, source):
                        if len(header) < HEADER_SIZE:
                            header += chunk[: HEADER_SIZE - len(header)]
                        digest.update(chunk)
                        checkpoint("store.write")
                        out.write(chunk)
                        size += len(chunk)
                    if _changed(src, size, started):
                        raise FileRefused(
                            source,
                            "it changed while it was being read. Try again once it is complete.",
                        )
                    out.flush()
                    checkpoint("store.fsync")
                    os.fsync(out.fileno())
                if size == 0:
                    raise FileRefused(source, "the file is empty.")
                sha256 = digest.hexdigest()
                final = self.path_for(sha256)
                # Same bytes already stored: keep that blob, unless it is not whole (then the
                # good copy just made takes its place).
                created = not (final.is_file() and final.stat().st_size == size)
                if created:
                    config.make_private_dir(final.parent)
                    tmp.chmod(0o400)
                    checkpoint("store.rename")
                    tmp.replace(final)
                    checkpoint("store.dirsync")
                    fsync_dir(final.parent)
                else:
                    tmp.unlink()
            except OSError as error:  # writing to the store failed: the disk, not the file
                tmp.unlink(missing_ok=True)
                raise StoreError(error) from None
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return Blob(sha256, size, sniff(header), final, created)

    def read(self, sha256: str, *, keep: bool = True) -> bytes:
        """The bytes of a blob, checked against the SHA-256 that names it (with
        `keep=False`, only checked: b"" is returned). BlobUnusable says why a blob cannot
        be used; nothing waits on a named pipe or follows a link put in a blob's place."""
        try:
            fd = os.open(self.path_for(sha256), os.O_RDONLY | NOFOLLOW | NONBLOCK)
        except FileNotFoundError:
            raise missing(sha256) from None
        except OSError as error:
            if error.errno == errno.ELOOP:  # O_NOFOLLOW met a link
                raise not_a_file(sha256) from None
            raise unreadable(error, sha256) from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise not_a_file(sha256)
        digest = hashlib.sha256()
        content = b""
        with os.fdopen(fd, "rb") as handle:
            try:
                if keep:  # read whole, then hashed: one copy in memory, not two
                    content = handle.read()
                    digest.update(content)
                else:
                    while chunk := handle.read(CHUNK):
                        digest.update(chunk)
            except OSError as error:
                raise unreadable(error, sha256) from None
        if digest.hexdigest() != sha256:
            raise damaged(sha256)
        return content

    def unusable(self, digests: Iterable[str]) -> dict[str, BlobUnusable]:
        """Those of `digests` whose blob cannot be used (`read` says why), read once each."""
        found = {}
        for sha256 in digests:
            try:
                self.read(sha256, keep=False)
            except BlobUnusable as error:
                found[sha256] = error
        return found

    def remove(self, sha256: str) -> None:
        """Delete a blob. The caller has checked that nothing references it."""
        path = self.path_for(sha256)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only succeeds when the shard is empty


# Why a blob cannot be used, named as `carebinder verify` names the same problems.


def missing(sha256: str) -> BlobUnusable:
    return BlobUnusable("blob_missing", "is missing from the binder's file store", sha256)


def not_a_file(sha256: str) -> BlobUnusable:
    where = "a folder or a link is in its place"
    return BlobUnusable("blob_not_a_file", f"is not a regular file in the store ({where})", sha256)


def unreadable(error: OSError, sha256: str) -> BlobUnusable:
    reason = f"cannot be read ({error.strerror or type(error).__name__})"
    return BlobUnusable("blob_unreadable", reason, sha256)


def damaged(sha256: str) -> BlobUnusable:
    reason = "is damaged (its content no longer matches what was attached)"
    return BlobUnusable("blob_damaged", reason, sha256)


def shown_path(path: Path, limit: int = 200) -> str:
    """A path for a one-line message: a very long one keeps its start and its end."""
    text = os.fsdecode(path)
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 3 :]}"


def _changed(src: BinaryIO, size: int, started: os.stat_result) -> bool:
    """True when the file being added grew, shrank or was rewritten while it was read."""
    now = os.fstat(src.fileno())
    return size != now.st_size or (now.st_mtime_ns, now.st_size) != (
        started.st_mtime_ns,
        started.st_size,
    )


def _read(src: BinaryIO, source: Path) -> bytes:
    """The next chunk of the file being added; a failure to read it is the file's fault."""
    try:
        return src.read(CHUNK)
    except OSError as error:
        raise FileRefused(source, f"it could not be read ({error.strerror}).") from None


def _open_source(source: Path) -> int:
    # Non-blocking, so a named pipe with no writer is refused instead of waiting forever.
    try:
        fd = os.open(source, os.O_RDONLY | NONBLOCK)
    except FileNotFoundError:
        raise FileRefused(source, "no such file. Check the path.") from None
    except IsADirectoryError:
        raise FileRefused(source, "it is a folder. Give the files inside it instead.") from None
    except PermissionError:
        raise FileRefused(source, "you do not have permission to read it.") from None
    except OSError as error:
        raise FileRefused(source, f"it cannot be read ({error.strerror}).") from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        os.close(fd)
        raise FileRefused(source, "it is a folder. Give the files inside it instead.")
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise FileRefused(source, "it is not a regular file.")
    if NONBLOCK:
        os.set_blocking(fd, True)
    return fd


def _temp_path(root: Path) -> Path:
    return root / f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(6).hex()}"


def fsync_dir(path: Path) -> None:
    """Make a rename in the folder `path` durable (POSIX).

    A no-op where folders cannot be opened (Windows) or where the filesystem refuses fsync
    on a folder (EINVAL, EBADF): there is nothing more to be done. Any other error is the
    disk's (EIO) and is raised: the new name may not survive a power cut, and a backup or a
    stored file must not be reported as safe when it may not be.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)
