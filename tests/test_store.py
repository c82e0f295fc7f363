"""The content-addressed file store: layout, de-duplication, refusals, modes and removal."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from carebinder import store as store_module
from carebinder.errors import FileRefused, StoreError
from carebinder.store import Store
from tests.conftest import blob_files, mode

REPORT = b"Surgical pathology report\nSpecimen: left breast, core biopsy\n"


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def temp_files(root: Path) -> list[Path]:
    """Leftover temporary files of an interrupted or refused write."""
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if p.name.startswith(store_module.TEMP_PREFIX))


def store_entries(root: Path) -> list[Path]:
    """Everything under the store root that is not a directory."""
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*") if not p.is_dir())


# --- put ------------------------------------------------------------------------------------


def test_put_names_the_blob_by_sha256_in_a_two_digit_shard(
    store: Store, home: Path, make_file: Callable[[str, bytes], Path]
) -> None:
    source = make_file("biopsy.txt", REPORT)
    digest = sha256(REPORT)

    blob = store.put(source)

    assert blob.sha256 == digest
    assert blob.size == len(REPORT)
    assert blob.created is True
    assert blob.path == home / "files" / digest[:2] / digest[2:]
    assert blob.path.relative_to(home).parts == ("files", digest[:2], digest[2:])
    assert len(blob.path.parent.name) == 2
    assert len(blob.path.name) == 62
    assert store.path_for(digest) == blob.path
    assert store.exists(digest)
    assert blob_files(home) == [blob.path]


def test_blob_content_is_identical_to_the_source(
    store: Store, make_file: Callable[[str, bytes], Path]
) -> None:
    content = bytes(range(256)) * 7 + "Øyvind Nguyễn".encode()
    source = make_file("mixed.bin", content)

    blob = store.put(source)

    assert blob.path.read_bytes() == content
    assert source.read_bytes() == content  # the source is left alone
    assert sha256(blob.path.read_bytes()) == blob.sha256


def test_same_bytes_are_stored_once(
    store: Store, home: Path, make_file: Callable[[str, bytes], Path], tmp_path: Path
) -> None:
    first_source = make_file("report.txt", REPORT)
    second_source = tmp_path / "elsewhere" / "copy of report.txt"
    second_source.parent.mkdir()
    second_source.write_bytes(REPORT)

    first = store.put(first_source)
    second = store.put(second_source)
    third = store.put(first_source)

    assert first.created is True
    assert second.created is False
    assert third.created is False
    assert first.sha256 == second.sha256 == third.sha256
    assert first.path == second.path == third.path
    assert blob_files(home) == [first.path]
    assert temp_files(store.root) == []


def test_different_bytes_are_different_blobs(
    store: Store, home: Path, make_file: Callable[[str, bytes], Path]
) -> None:
    a = store.put(make_file("a.txt", REPORT))
    b = store.put(make_file("b.txt", REPORT + b"addendum\n"))

    assert a.sha256 != b.sha256
    assert blob_files(home) == sorted([a.path, b.path])


def test_no_temporary_file_is_left_after_success(
    store: Store, make_file: Callable[[str, bytes], Path], make_pdf: Callable[..., Path]
) -> None:
    store.put(make_file("a.txt", REPORT))
    store.put(make_pdf("scan.pdf", pages=2))
    store.put(make_file("a-again.txt", REPORT))

    assert temp_files(store.root) == []
    assert all(not p.name.startswith(".") for p in store_entries(store.root))


@pytest.mark.parametrize(
    "size",
    [
        store_module.CHUNK - 1,
        store_module.CHUNK,
        store_module.CHUNK + 1,
        5 * store_module.CHUNK + 123,  # about 5 MB: several chunks
    ],
    ids=["chunk-1", "chunk", "chunk+1", "5MB"],
)
def test_large_files_are_hashed_across_chunks(
    store: Store, make_file: Callable[[str, bytes], Path], size: int
) -> None:
    content = random.Random(size).randbytes(size)
    source = make_file("big.bin", content)

    blob = store.put(source)

    assert blob.sha256 == sha256(content)
    assert blob.size == size
    assert blob.path.stat().st_size == size
    assert blob.path.read_bytes() == content
    assert temp_files(store.root) == []


def test_put_reads_the_source_in_chunks(
    store: Store,
    make_file: Callable[[str, bytes], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The source is streamed, never read whole: each read asks for at most CHUNK bytes."""
    content = random.Random(5).randbytes(5 * 1024 * 1024)
    source = make_file("big.bin", content)
    requested: list[int] = []
    real_fdopen = os.fdopen

    class Recording:
        def __init__(self, raw: Any) -> None:
            self.raw = raw

        def __enter__(self) -> Recording:
            return self

        def __exit__(self, *exc: object) -> None:
            self.raw.close()

        def fileno(self) -> int:
            return int(self.raw.fileno())

        def read(self, n: int = -1) -> bytes:
            requested.append(n)
            return self.raw.read(n)

    monkeypatch.setattr(
        store_module.os, "fdopen", lambda fd, *a, **k: Recording(real_fdopen(fd, *a, **k))
    )

    blob = store.put(source)

    assert blob.sha256 == sha256(content)
    assert len(requested) > 5
    assert all(0 < n <= store_module.CHUNK for n in requested)


def test_media_type_comes_from_the_first_bytes(
    store: Store, make_pdf: Callable[..., Path], make_file: Callable[[str, bytes], Path]
) -> None:
    assert store.put(make_pdf("report.pdf")).media_type == "application/pdf"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
    assert store.put(make_file("photo.pdf", png)).media_type == "image/png"


# --- refusals -------------------------------------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A named pipe, with a descriptor held open for reading and writing.

    The held descriptor means opening the pipe never waits for a writer, so a refusal
    test cannot hang (see `test_a_fifo_is_refused_without_waiting_for_a_writer`).
    """
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes need os.mkfifo")
    path = tmp_path / "inbox-pipe"
    os.mkfifo(path)
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    try:
        yield path
    finally:
        os.close(fd)


def _missing(tmp_path: Path) -> Path:
    return tmp_path / "no-such-report.pdf"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "inside.pdf").write_bytes(b"%PDF-1.4\n")
    return folder


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    return path


def _dangling_link(tmp_path: Path) -> Path:
    path = tmp_path / "link.pdf"
    path.symlink_to(tmp_path / "gone.pdf")
    return path


@pytest.mark.parametrize(
    ("make_source", "reason"),
    [
        (_missing, "no such file"),
        (_folder, "folder"),
        (_empty, "empty"),
        (_dangling_link, "no such file"),
    ],
    ids=["missing", "directory", "empty", "dangling-symlink"],
)
def test_refused_sources_leave_nothing_in_the_store(
    store: Store,
    home: Path,
    tmp_path: Path,
    make_source: Callable[[Path], Path],
    reason: str,
) -> None:
    source = make_source(tmp_path)

    with pytest.raises(FileRefused) as refused:
        store.put(source)

    assert reason in refused.value.message
    assert str(source) in refused.value.message
    assert blob_files(home) == []
    assert store_entries(store.root) == []
    assert temp_files(store.root) == []


def test_a_fifo_is_refused(store: Store, home: Path, fifo: Path) -> None:
    with pytest.raises(FileRefused, match="not a regular file"):
        store.put(fifo)

    assert blob_files(home) == []
    assert temp_files(store.root) == []


def test_a_fifo_is_refused_without_waiting_for_a_writer(
    store: Store, home: Path, tmp_path: Path
) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes need os.mkfifo")
    path = tmp_path / "pipe"
    os.mkfifo(path)
    outcome: list[BaseException | None] = []

    def put() -> None:
        try:
            store.put(path)
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome.append(error)
        else:
            outcome.append(None)

    worker = threading.Thread(target=put, daemon=True)
    worker.start()
    worker.join(timeout=1.5)
    blocked = worker.is_alive()
    if blocked:
        # Release the blocked open() so the thread can finish.
        os.close(os.open(path, os.O_RDWR | os.O_NONBLOCK))
        worker.join(timeout=5)

    assert not blocked, "Store.put blocked on a FIFO that has no writer"
    assert len(outcome) == 1
    assert isinstance(outcome[0], FileRefused)
    assert blob_files(home) == []
    assert temp_files(store.root) == []


def test_an_unreadable_file_is_refused(
    store: Store, home: Path, make_file: Callable[[str, bytes], Path]
) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read a file with mode 000")
    source = make_file("locked.pdf", b"%PDF-1.4\n")
    source.chmod(0o000)
    try:
        with pytest.raises(FileRefused, match="permission"):
            store.put(source)
    finally:
        source.chmod(0o600)

    assert blob_files(home) == []
    assert temp_files(store.root) == []


def test_a_permission_error_is_refused_even_for_root(
    store: Store,
    home: Path,
    make_file: Callable[[str, bytes], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same refusal as above, simulated, so it also runs where tests run as root."""
    source = make_file("locked.pdf", b"%PDF-1.4\n")
    real_open = os.open

    def denying_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if Path(path) == source:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(store_module.os, "open", denying_open)
    with pytest.raises(FileRefused, match="permission"):
        store.put(source)

    assert blob_files(home) == []
    assert temp_files(store.root) == []


def test_a_refusal_after_earlier_blobs_changes_nothing(
    store: Store, home: Path, make_file: Callable[[str, bytes], Path], tmp_path: Path
) -> None:
    kept = store.put(make_file("kept.txt", REPORT))
    before = {p: p.read_bytes() for p in blob_files(home)}

    for source in (_empty(tmp_path), _missing(tmp_path), _folder(tmp_path)):
        with pytest.raises(FileRefused):
            store.put(source)

    assert {p: p.read_bytes() for p in blob_files(home)} == before
    assert blob_files(home) == [kept.path]
    assert temp_files(store.root) == []


def test_a_failed_write_removes_its_temporary_file(
    store: Store,
    home: Path,
    make_file: Callable[[str, bytes], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error after the temporary file exists (here: fsync) leaves no trace."""
    source = make_file("a.txt", REPORT)

    def failing_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store_module.os, "fsync", failing_fsync)
    with pytest.raises(StoreError, match="Input/output"):
        store.put(source)

    assert blob_files(home) == []
    assert temp_files(store.root) == []


# --- modes ----------------------------------------------------------------------------------


def test_blobs_are_read_only_and_folders_private(
    store: Store, make_file: Callable[[str, bytes], Path]
) -> None:
    blob = store.put(make_file("a.txt", REPORT))

    assert mode(blob.path) == 0o400
    assert mode(blob.path) & 0o222 == 0
    assert mode(blob.path.parent) == 0o700
    assert mode(store.root) == 0o700


def test_put_leaves_the_mode_of_an_existing_store_root(
    store: Store, make_file: Callable[[str, bytes], Path]
) -> None:
    """A store folder may be a team's shared folder whose mode its owners chose (a binder's
    own files/ is tightened when the binder is opened, and `verify` reports loose ones);
    what put makes itself is owner-only."""
    store.root.mkdir(parents=True)
    store.root.chmod(0o750)

    blob = store.put(make_file("a.txt", REPORT))

    assert mode(store.root) == 0o750
    assert mode(blob.path.parent) == 0o700
    assert mode(blob.path) == 0o400


def test_put_makes_a_missing_store_root_owner_only(
    store: Store, make_file: Callable[[str, bytes], Path]
) -> None:
    assert not store.root.exists()
    store.put(make_file("a.txt", REPORT))
    assert mode(store.root) == 0o700


def test_a_duplicate_put_keeps_the_blob_read_only(
    store: Store, make_file: Callable[[str, bytes], Path]
) -> None:
    blob = store.put(make_file("a.txt", REPORT))
    again = store.put(make_file("b.txt", REPORT))

    assert again.path == blob.path
    assert mode(blob.path) == 0o400
    assert blob.path.read_bytes() == REPORT


# --- remove ---------------------------------------------------------------------------------


def two_contents_in_one_shard() -> tuple[bytes, bytes]:
    seen: dict[str, bytes] = {}
    for n in range(10_000):
        content = f"report {n}\n".encode()
        shard = sha256(content)[:2]
        if shard in seen:
            return seen[shard], content
        seen[shard] = content
    raise AssertionError("no two contents share a shard")  # pragma: no cover


def test_remove_deletes_the_blob_and_its_empty_shard(
    store: Store, home: Path, make_file: Callable[[str, bytes], Path]
) -> None:
    blob = store.put(make_file("a.txt", REPORT))

    store.remove(blob.sha256)

    assert not blob.path.exists()
    assert not blob.path.parent.exists()
    assert store.root.is_dir()  # the store itself stays
    assert not store.exists(blob.sha256)
    assert blob_files(home) == []


def test_remove_keeps_a_shard_that_still_holds_blobs(
    store: Store, home: Path, make_file: Callable[[str, bytes], Path]
) -> None:
    first, second = two_contents_in_one_shard()
    a = store.put(make_file("a.txt", first))
    b = store.put(make_file("b.txt", second))
    assert a.path.parent == b.path.parent

    store.remove(a.sha256)

    assert not a.path.exists()
    assert b.path.parent.is_dir()
    assert b.path.read_bytes() == second
    assert blob_files(home) == [b.path]

    store.remove(b.sha256)
    assert not b.path.parent.exists()


def test_remove_of_an_absent_blob_is_harmless(
    store: Store, home: Path, make_file: Callable[[str, bytes], Path]
) -> None:
    kept = store.put(make_file("a.txt", REPORT))

    store.remove(sha256(b"never stored"))
    store.remove(kept.sha256)
    store.remove(kept.sha256)

    assert blob_files(home) == []


def test_a_removed_blob_can_be_stored_again(
    store: Store, make_file: Callable[[str, bytes], Path]
) -> None:
    source = make_file("a.txt", REPORT)
    blob = store.put(source)
    store.remove(blob.sha256)

    again = store.put(source)

    assert again.created is True
    assert again.path == blob.path
    assert again.path.read_bytes() == REPORT
    assert mode(again.path.parent) == 0o700


@pytest.mark.parametrize(("code", "raised"), [(errno.EINVAL, False), (errno.EIO, True)])
def test_a_folder_sync_ignores_a_filesystem_without_it_but_not_a_disk_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, raised: bool
) -> None:
    """`fsync_dir` serves the store and backups alike: a disk error (EIO) means a new name may
    not survive a power cut, so it is not swallowed; EINVAL says only "not supported here"."""

    def failing(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(store_module.os, "fsync", failing)
    if raised:
        with pytest.raises(OSError, match=os.strerror(code)):
            store_module.fsync_dir(tmp_path)
    else:
        store_module.fsync_dir(tmp_path)
    store_module.fsync_dir(tmp_path / "no such folder")  # cannot be opened: nothing to sync


def test_the_listing_holds_only_blobs_in_name_order(
    store: Store, make_file: Callable[[str, bytes], Path]
) -> None:
    kept = sorted(store.put(make_file(f"{n}.txt", bytes([n]) * 10)).sha256 for n in range(3))
    (store.root / f"{store_module.TEMP_PREFIX}1-x").write_bytes(b"an interrupted write")
    (store.root / "zz").mkdir()
    (store.root / "zz" / ("c" * 62)).write_bytes(b"not in a shard")
    (store.root / kept[0][:2] / "notes.txt").write_bytes(b"stray")
    (store.root / "ab").mkdir(exist_ok=True)
    (store.root / "ab" / ("c" * 62)).symlink_to("/etc/hostname")

    assert store.blobs() == [store_module.Listed(sha, 10) for sha in kept]
