"""Where a command writes its output (the packet, an export, a calendar): checked first,
written owner-only under a temporary name, then moved into place without ever replacing a
file the user did not ask to replace.

Shared by `packet`, `export` and `calendar`, so each refuses the same bad places with the
same words: a folder, a link that leads nowhere, a FIFO or a device, a missing folder, or an
existing file without --force.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from carebinder import config
from carebinder.errors import Conflict, InvalidInput

OPTION = "--out"


def check_file(target: Path, *, force: bool, example: str) -> Path:
    """`target` (with `~` expanded) if a file may be written there; refuses otherwise.

    `example` is a file name to suggest when `target` is a folder, e.g. `packet.pdf`.
    """
    target = target.expanduser()
    if target.is_dir():
        raise InvalidInput(
            f"{OPTION}: {target} is a folder. Give a file name, e.g. {target}/{example}"
        )
    if not target.parent.is_dir():
        raise InvalidInput(f"{OPTION}: the folder {target.parent} does not exist.")
    if target.is_symlink() and not target.exists():
        raise InvalidInput(f"{OPTION}: {target} is a link that leads nowhere. Choose a file name.")
    # A FIFO would block the command, and a device (/dev/sda) must never be written over.
    if target.exists() and not target.is_file():
        raise InvalidInput(f"{OPTION}: {target} is not a regular file. Choose a file name.")
    if target.exists() and not force:
        raise Conflict(f"{target} already exists. Add --force to replace it, or choose -o FILE.")
    return target


def check_folder(target: Path, *, force: bool, names: Iterable[str]) -> Path:
    """`target` if the files `names` may be written in that folder (new, empty, or with
    --force); refuses a file, a missing parent, and names inside that are not plain files."""
    target = target.expanduser()
    if target.is_symlink() and not target.exists():
        raise InvalidInput(f"{OPTION}: {target} is a link that leads nowhere. Choose a folder.")
    if target.exists() and not target.is_dir():
        raise InvalidInput(
            f"{OPTION}: {target} is a file, not a folder. Give a folder name,"
            f" e.g. {target.with_suffix('')}-tables"
        )
    if not target.exists():
        if not target.parent.is_dir():
            raise InvalidInput(f"{OPTION}: the folder {target.parent} does not exist.")
        return target
    if any(target.iterdir()) and not force:
        raise Conflict(
            f"The folder {target} is not empty. Add --force to replace its tables,"
            " or choose -o with a new folder."
        )
    for name in names:
        inside = target / name
        if (inside.exists() or inside.is_symlink()) and (
            inside.is_symlink() or not inside.is_file()
        ):
            raise InvalidInput(
                f"{OPTION}: {inside} is not a regular file. Move it away or choose another folder."
            )
    return target


def write_file(target: Path, data: bytes, *, force: bool) -> None:
    """Write `data` to `target`, owner-only: a temporary file in the same folder, flushed to
    disk, then moved into place (replacing a file only with `force`)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, config.PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            publish(tmp, target, force=force)
        except FileExistsError:
            raise Conflict(
                f"{target} appeared while it was being written; nothing was replaced."
            ) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_folder(target: Path, files: Mapping[str, bytes], *, force: bool) -> None:
    """Write `files` (name -> bytes) into the folder `target`, owner-only.

    A new folder is filled under a temporary name and renamed into place, so it appears
    whole or not at all; in an existing folder each file is replaced on its own.
    """
    if target.exists():
        for name, data in files.items():
            write_file(target / name, data, force=True)
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    tmp.mkdir(mode=config.PRIVATE_DIR)
    try:
        for name, data in files.items():
            write_file(tmp / name, data, force=False)
        try:
            tmp.rename(target)  # fails if a folder with files in it appeared meanwhile
        except OSError:
            raise Conflict(
                f"{target} appeared while the tables were being written; nothing was replaced."
            ) from None
    finally:
        if tmp.exists():
            for name in files:
                (tmp / name).unlink(missing_ok=True)
            tmp.rmdir()


def publish(tmp: Path, out: Path, *, force: bool) -> None:
    """Move the finished `tmp` to `out`. Without `force`, raise FileExistsError rather
    than replace a file that is there (even one that appeared since it was checked)."""
    if force:
        tmp.replace(out)
        return
    try:
        os.link(tmp, out)  # atomic, and fails if `out` exists
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links (a USB stick)
        if out.exists():
            raise FileExistsError(out) from None
        tmp.replace(out)
    else:
        tmp.unlink()
