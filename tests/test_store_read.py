"""Reading a blob back: its bytes only when they are still the ones its name promises."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from carebinder.errors import BlobUnusable
from carebinder.store import Store
from tests.blobdamage import DAMAGE, WAYS, damage

REPORT = b"Surgical pathology report\nSpecimen: left breast, core biopsy\n" * 50

MakeFile = Callable[[str, bytes], Path]


def test_an_intact_blob_is_read_whole_or_only_checked(store: Store, make_file: MakeFile) -> None:
    blob = store.put(make_file("biopsy.txt", REPORT))
    assert store.read(blob.sha256) == REPORT
    assert store.read(blob.sha256, keep=False) == b""
    assert store.unusable([blob.sha256]) == {}


@WAYS
def test_a_damaged_blob_is_refused_saying_why(store: Store, make_file: MakeFile, how: str) -> None:
    blob = store.put(make_file("biopsy.txt", REPORT))
    damage(blob.path, how)
    for keep in (True, False):
        with pytest.raises(BlobUnusable) as caught:
            store.read(blob.sha256, keep=keep)
        assert (caught.value.kind, caught.value.sha256) == (DAMAGE[how], blob.sha256)
        assert "\n" not in caught.value.message
        assert caught.value.message.startswith(f"A stored file {caught.value.reason}.")


def test_a_pipe_in_a_blobs_place_is_refused_without_waiting(
    store: Store, make_file: MakeFile
) -> None:
    blob = store.put(make_file("biopsy.txt", REPORT))
    damage(blob.path, "fifo")
    outcome: list[object] = []
    reader = threading.Thread(target=lambda: outcome.append(store.unusable([blob.sha256])))
    reader.start()
    reader.join(timeout=5)
    blocked = reader.is_alive()
    if blocked:  # free the thread: open the pipe for writing
        blob.path.open("wb").close()
        reader.join(timeout=5)
    assert not blocked, "Store.read waited on a named pipe"
    (found,) = outcome
    assert isinstance(found, dict)
    assert found[blob.sha256].kind == "blob_not_a_file"


def test_unusable_names_only_the_bad_ones(store: Store, make_file: MakeFile) -> None:
    good = store.put(make_file("a.txt", REPORT))
    bad = store.put(make_file("b.txt", REPORT + b"more"))
    damage(bad.path, "flipped bit")
    gone = hashlib.sha256(b"never stored").hexdigest()
    found = store.unusable([good.sha256, bad.sha256, gone])
    assert {sha: error.kind for sha, error in found.items()} == {
        bad.sha256: "blob_damaged",
        gone: "blob_missing",
    }
