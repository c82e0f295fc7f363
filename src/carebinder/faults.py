"""Fault injection for the crash-safety tests, in the manner of SQLite's test hooks.

The code that writes the binder calls `checkpoint("store.fsync")` and the like at each
step that matters. Normally that does nothing. With `CAREBINDER_FAULT=point:action[:n]`
in the environment, the n-th time (default 1st) the process reaches `point`, it:
  kill    dies at once (SIGKILL: no clean-up, no finally blocks)
  enospc  fails as if the disk were full
  eio     fails as if the disk reported an I/O error
  hang    stops responding (sleeps for an hour)
  hog     allocates memory until it runs out
The tests use it to prove that no crash or failure at any step leaves the binder
inconsistent. It is read once, at import.
"""

from __future__ import annotations

import errno
import os
import signal
import time

ENV = "CAREBINDER_FAULT"

# Every point the code marks, in the order a `record add --file` reaches them.
POINTS = (
    "store.open",  # the temporary file is created
    "store.write",  # each chunk is written
    "store.fsync",  # before the temporary file is flushed to disk
    "store.rename",  # before it is renamed to its final name
    "store.dirsync",  # before the folder holding it is flushed
    "db.commit",  # before the transaction commits
    "db.committed",  # after the commit, before clean-up
)
# Reached by `carebinder restore`, in this order.
RESTORE_POINTS = (
    "restore.write",  # each chunk of a member written into the hidden staging folder
    "restore.rename",  # before the checked folder is moved into place as the home
    "restore.moved",  # after the move, before the binder is opened
)
# Reached by the child that reads untrusted files (carebinder.sandbox), once per file.
SANDBOX_POINT = "sandbox.inspect"
# Reached by that child before it reads the words of a PDF, once per PDF asked for text.
SANDBOX_TEXT_POINT = "sandbox.text"
# Reached by `carebinder packet` as it starts copying each file's pages into the packet.
PACKET_POINT = "packet.place"


def _parse(spec: str | None) -> tuple[str, str, int] | None:
    if not spec:
        return None
    point, _, rest = spec.partition(":")
    action, _, count = rest.partition(":")
    return point, action or "kill", int(count or 1)


_fault = _parse(os.environ.get(ENV))
_hits = 0


def checkpoint(point: str) -> None:
    """Reach `point`; fails or dies here if the environment asks for it."""
    global _hits
    if _fault is None or _fault[0] != point:
        return
    _hits += 1
    if _hits != _fault[2]:
        return
    action = _fault[1]
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    elif action == "eio":
        raise OSError(errno.EIO, os.strerror(errno.EIO))
    elif action == "hang":
        time.sleep(3600)
    elif action == "hog":
        hoard = []
        while True:
            hoard.append(bytearray(64 << 20))
