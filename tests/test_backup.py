"""Backup and restore: round trips, refusals, and backup files damaged or forged on purpose.

Every damaged or forged backup must be refused before the home is touched: the home does not
appear, and nothing is left beside it. The forging kit is checked too: what it builds from
the untouched parts restores, so each refusal is the one being tested.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import stat
import struct
import subprocess
import sys
import tarfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carebinder import backup as bk
from carebinder import config
from carebinder.choices import RecordKind
from carebinder.db import SCHEMA_HEAD, current_revision, open_binder, session_scope
from carebinder.errors import BinderMissing, CarebinderError, Conflict, InvalidInput
from carebinder.services import patients, records
from carebinder.store import Store
from tests.conftest import FILE_BACKUP, Cli, blob_files, mode, write_pdf

pytestmark = pytest.mark.sqlite_only(FILE_BACKUP)

PASSWORD = "correct horse battery staple"
MARKER = b"PATHOLOGY MARKER: invasive ductal carcinoma, grade 2\n"
CHUNK = 4096
MODES = pytest.mark.parametrize("password", [None, PASSWORD], ids=["plain", "encrypted"])


@pytest.fixture(autouse=True)
def _small_and_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks, so a small binder spans many of them, and a quick key derivation."""
    monkeypatch.setattr(bk, "CHUNK_SIZE", CHUNK)
    monkeypatch.setattr(bk, "SCRYPT_N", 1 << 10)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ana Souza's binder with one of everything and two files, made once with the CLI."""
    root = tmp_path_factory.mktemp("template")
    home = root / "home"
    pdf, notes = write_pdf(root / "biopsy.pdf", 2), root / "notes.txt"
    notes.write_bytes(MARKER)
    cli = Cli(CliRunner())
    commands = (
        ("init", "--name", "Ana Souza", "--born", "1964-04-12"),
        ("doctor", "add", "Dr. Wei Chen", "--specialty", "Medical oncology"),
        ("record", "add", "pathology", "Core biopsy", "--file", str(pdf), "--file", str(notes)),
        ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--record", "1"),
        ("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30"),
        ("question", "add", "Is surgery first?", "--appointment", "1"),
        ("material", "add", "glass-slides", "H&E slides"),
    )
    with pytest.MonkeyPatch.context() as env:  # module scope: before the per-test isolation
        for name in (config.HOME_ENV, config.DATABASE_ENV, config.PATIENT_ENV):
            env.delenv(name, raising=False)
        for command in commands:
            cli.ok("--home", str(home), *command)
    return home


@pytest.fixture
def filled(template: Path, settings: config.Settings) -> config.Settings:
    """A copy of the template binder in this test's home."""
    shutil.copytree(template, settings.home)
    return settings


def elsewhere(tmp_path: Path, name: str = "restored") -> config.Settings:
    return config.resolve(home=tmp_path / name, environ={})


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dump(database: Path) -> list[str]:
    connection = sqlite3.connect(database)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def blobs(home: Path) -> dict[str, bytes]:
    return {str(path.relative_to(home)): path.read_bytes() for path in blob_files(home)}


def plaintext(archive: Path, password: str | None = None) -> bytes:
    with archive.open("rb") as raw:
        return bk.SealedReader(raw, password).read()


def tar_members(payload: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        return tar.getmembers()


def refused(
    settings: config.Settings, archive: Path, password: str | None = None
) -> CarebinderError:
    """Restore must refuse, in one line, and leave no trace beside the home either."""
    parent = settings.home.parent
    before = sorted(os.listdir(parent))
    with pytest.raises(CarebinderError) as error:
        bk.restore_backup(settings, archive, password=password)
    message = error.value.message
    assert "\n" not in message
    assert "Ana" not in message and "MARKER" not in message
    assert not settings.home.exists()
    assert sorted(os.listdir(parent)) == before
    return error.value


# --- round trips ------------------------------------------------------------------------------


@MODES
def test_round_trip_gives_identical_data_and_blobs(
    filled: config.Settings, tmp_path: Path, password: str | None
) -> None:
    archive = tmp_path / "binder.backup"
    made = bk.create_backup(filled, archive, password=password)
    assert (made.path, made.files, made.left_out) == (archive, 2, ())
    assert made.encrypted is (password is not None)
    assert made.size == archive.stat().st_size

    target = elsewhere(tmp_path)
    restored = bk.restore_backup(target, archive, password=password)

    assert (restored.home, restored.files, restored.upgraded) == (target.home, 2, False)
    assert dump(target.home / "binder.db") == dump(filled.home / "binder.db")
    assert blobs(target.home) == blobs(filled.home)
    assert len(blobs(target.home)) == 2


def test_restored_binder_is_owner_only_and_opens_at_the_current_schema(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive)
    target = elsewhere(tmp_path)
    bk.restore_backup(target, archive)

    home = target.home
    assert mode(home) == 0o700
    assert mode(home / "binder.db") == 0o600
    assert mode(archive) == 0o600
    for path in (home / "files").rglob("*"):
        assert mode(path) == (0o700 if path.is_dir() else 0o400), path
    engine = open_binder(target)
    try:
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_restore_into_an_existing_folder_that_holds_only_empty_folders(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive)
    target = elsewhere(tmp_path)
    (target.home / "files" / "ab").mkdir(parents=True)

    bk.restore_backup(target, archive)

    assert blobs(target.home) == blobs(filled.home)
    assert dump(target.home / "binder.db") == dump(filled.home / "binder.db")
    assert mode(target.home) == 0o700


def test_restore_creates_the_folders_above_a_new_home(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive)
    target = config.resolve(home=tmp_path / "new" / "place" / "binder", environ={})
    bk.restore_backup(target, archive)
    assert blobs(target.home) == blobs(filled.home)
    assert sorted(os.listdir(target.home.parent)) == ["binder"]


def test_backup_holds_the_manifest_then_the_database_then_every_blob(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive)
    assert archive.read_bytes().startswith(bk.MAGIC)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files

    payload = plaintext(archive)
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        names = tar.getnames()
        contents = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    manifest = json.loads(contents.pop("manifest.json"))

    stored = [str(p.relative_to(filled.home)) for p in blob_files(filled.home)]
    assert names == ["manifest.json", "binder.db", *sorted(stored)]
    assert manifest["format"] == bk.FORMAT
    assert manifest["schema"] == SCHEMA_HEAD
    assert {m["path"]: (m["size"], m["sha256"]) for m in manifest["members"]} == {
        name: (len(data), sha256(data)) for name, data in contents.items()
    }
    body = {key: value for key, value in manifest.items() if key != "sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    assert manifest["sha256"] == sha256(canonical)

    snapshot = tmp_path / "snapshot.db"
    snapshot.write_bytes(contents["binder.db"])
    connection = sqlite3.connect(snapshot)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        connection.close()


def test_an_encrypted_backup_shows_nothing_of_the_binder(
    filled: config.Settings, tmp_path: Path
) -> None:
    plain, locked, again = (tmp_path / f"{n}.backup" for n in ("plain", "locked", "again"))
    bk.create_backup(filled, plain)
    bk.create_backup(filled, locked, password=PASSWORD)
    bk.create_backup(filled, again, password=PASSWORD)

    assert MARKER in plain.read_bytes() and b"Wei Chen" in plain.read_bytes()
    data = locked.read_bytes()
    for secret in (MARKER[:24], b"Wei Chen", b"Ana Souza", b"manifest.json", b"SQLite format 3"):
        assert secret not in data
    assert PASSWORD.encode() not in data
    header, _ = bk.Header.read(io.BytesIO(data))
    assert header.cipher == "aes-256-gcm"
    assert header.scrypt == (1 << 10, 8, 1)
    assert len(header.salt) == 16
    other, _ = bk.Header.read(io.BytesIO(again.read_bytes()))
    assert (other.salt, other.nonce_prefix) != (header.salt, header.nonce_prefix)
    assert bk.is_encrypted(locked) and not bk.is_encrypted(plain)


def test_the_password_matches_however_the_keyboard_composed_it(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive, password=unicodedata.normalize("NFC", "Zoë café"))
    target = elsewhere(tmp_path)
    bk.restore_backup(target, archive, password=unicodedata.normalize("NFD", "Zoë café"))
    assert blobs(target.home) == blobs(filled.home)


@MODES
@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 5])
def test_the_sealed_stream_round_trips_any_length(size: int, password: str | None) -> None:
    data = os.urandom(size)
    raw = io.BytesIO()
    writer = bk.SealedWriter(raw, password)
    for start in range(0, size, 1000):
        writer.write(data[start : start + 1000])
    writer.finish()
    overhead = 16 if password else 32
    header, header_bytes = bk.Header.read(io.BytesIO(raw.getvalue()))
    assert header.chunk_size == CHUNK
    frames = max(1, -(-size // CHUNK))
    assert len(raw.getvalue()) == len(header_bytes) + size + frames * overhead

    reader = bk.SealedReader(io.BytesIO(raw.getvalue()), password)
    pieces = []
    while piece := reader.read(777):
        pieces.append(piece)
    assert b"".join(pieces) == data


# --- restore refuses --------------------------------------------------------------------------


def test_restore_refuses_a_home_that_holds_a_binder_and_changes_nothing(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive)
    before = (dump(filled.home / "binder.db"), blobs(filled.home), sorted(filled.home.rglob("*")))

    with pytest.raises(Conflict, match="is not empty") as error:
        bk.restore_backup(filled, archive)

    assert "Choose a new folder with --home" in error.value.message
    after = (dump(filled.home / "binder.db"), blobs(filled.home), sorted(filled.home.rglob("*")))
    assert after == before


@pytest.mark.parametrize("stray", ["state.json", "files/ab/cdef", "notes/todo.txt"])
def test_restore_refuses_a_home_with_any_file_in_it(
    filled: config.Settings, tmp_path: Path, stray: str
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive)
    target = elsewhere(tmp_path)
    (target.home / stray).parent.mkdir(parents=True)
    (target.home / stray).write_text("mine")

    with pytest.raises(Conflict, match="is not empty"):
        bk.restore_backup(target, archive)

    assert [p for p in target.home.rglob("*") if p.is_file()] == [target.home / stray]
    assert (target.home / stray).read_text() == "mine"


def test_restore_refuses_a_file_or_a_broken_link_as_home(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive)
    target = elsewhere(tmp_path)
    target.home.write_text("not a folder")
    with pytest.raises(Conflict, match="is a file"):
        bk.restore_backup(target, archive)
    assert target.home.read_text() == "not a folder"
    target.home.unlink()
    target.home.symlink_to(tmp_path / "nowhere")
    with pytest.raises(Conflict, match="broken link"):
        bk.restore_backup(target, archive)
    assert not (tmp_path / "nowhere").exists()


def test_restore_refuses_a_database_other_than_binder_db_in_the_home(tmp_path: Path) -> None:
    archive = tmp_path / "binder.backup"
    archive.write_bytes(b"never read")
    for url in ("postgresql://ana:s3cret@db.example/binder", f"sqlite:///{tmp_path}/other.db"):
        settings = config.resolve(home=tmp_path / "restored", database_url=url, environ={})
        with pytest.raises(InvalidInput, match="leave out --db") as error:
            bk.restore_backup(settings, archive)
        assert "s3cret" not in error.value.message
    assert not (tmp_path / "restored").exists()


def test_wrong_or_missing_password_is_refused_and_nothing_is_written(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive, password=PASSWORD)
    target = elsewhere(tmp_path)
    for wrong in ("", "Correct horse battery staple", PASSWORD + " ", "s3cret"):
        error = refused(target, archive, wrong)
        assert error.message == "Wrong password or damaged archive. Nothing was restored."
    error = refused(target, archive, None)
    assert "encrypted" in error.message


@MODES
def test_a_byte_flipped_anywhere_is_detected_before_the_home_is_touched(
    filled: config.Settings, tmp_path: Path, password: str | None
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive, password=password)
    original = archive.read_bytes()
    places = labelled_offsets(archive, password)
    for label in ("header", "manifest", "database", "blob", "end of archive", "last tag"):
        assert any(name.startswith(label) for name in places), label

    target = elsewhere(tmp_path)
    damaged = tmp_path / "damaged.backup"
    for label, offset in places.items():
        data = bytearray(original)
        data[offset] ^= 0x01
        damaged.write_bytes(data)
        try:
            refused(target, damaged, password)
        except pytest.fail.Exception:
            pytest.fail(f"a flipped byte in {label} (offset {offset}) was not detected")
    assert len(places) > 100
    damaged.write_bytes(original)  # the undamaged file still restores
    bk.restore_backup(target, damaged, password=password)
    assert blobs(target.home) == blobs(filled.home)


def labelled_offsets(archive: Path, password: str | None) -> dict[str, int]:
    """File offsets of every header byte, of the start, middle and end of each member's tar
    header and data, of the start and tag of every chunk, and of the archive's last byte."""
    data = archive.read_bytes()
    header, header_bytes = bk.Header.read(io.BytesIO(data))
    start, frame = len(header_bytes), header.chunk_size + (16 if header.encrypted else 32)
    payload = plaintext(archive, password)

    def at(position: int) -> int:
        chunk, within = divmod(position, header.chunk_size)
        return start + chunk * frame + within

    places = {f"header byte {i}": i for i in range(start)}
    for info in tar_members(payload):
        kind = {"manifest.json": "manifest", "binder.db": "database"}.get(info.name, "blob")
        label = f"{kind} {info.name[-6:]}"
        places[f"{label} tar header"] = at(info.offset + 130)
        for where, position in (
            ("first", 0),
            ("middle", info.size // 2),
            ("last", info.size - 1),
        ):
            places[f"{label} {where}"] = at(info.offset_data + position)
    places["end of archive"] = at(len(payload) - 1)
    for number, offset in enumerate(range(start, len(data), frame)):
        places[f"chunk {number} first"] = offset
        places[f"chunk {number} tag"] = min(offset + frame, len(data)) - 1
    places["last tag"] = len(data) - 1
    return places


@MODES
def test_a_truncated_backup_is_refused(
    filled: config.Settings, tmp_path: Path, password: str | None
) -> None:
    archive = tmp_path / "binder.backup"
    bk.create_backup(filled, archive, password=password)
    original = archive.read_bytes()
    header, header_bytes = bk.Header.read(io.BytesIO(original))
    start, frame = len(header_bytes), header.chunk_size + (16 if password else 32)
    boundaries = list(range(start + frame, len(original), frame))
    assert len(boundaries) > 10
    cut = tmp_path / "cut.backup"
    for length in (0, 5, len(bk.MAGIC) + 2, start - 1, start, start + 1, *boundaries):
        cut.write_bytes(original[:length])
        message = refused(elsewhere(tmp_path), cut, password).message
        if length in boundaries or length == start:
            assert "cut short" in message or "smaller than its list" in message, length
    for length in (start + frame - 1, len(original) - 1, len(original) - 16):
        cut.write_bytes(original[:length])
        refused(elsewhere(tmp_path), cut, password)


@MODES
def test_appended_reordered_or_spliced_chunks_are_refused(
    filled: config.Settings, tmp_path: Path, password: str | None
) -> None:
    archive, other = tmp_path / "binder.backup", tmp_path / "other.backup"
    bk.create_backup(filled, archive, password=password)
    bk.create_backup(filled, other, password=password)
    data = archive.read_bytes()
    header, header_bytes = bk.Header.read(io.BytesIO(data))
    start, frame = len(header_bytes), header.chunk_size + (16 if password else 32)
    first, second = data[start : start + frame], data[start + frame : start + 2 * frame]
    _, other_header = bk.Header.read(io.BytesIO(other.read_bytes()))
    forged = tmp_path / "forged.backup"
    for variant in (
        data + b"\0",
        data + data[-frame:],
        data[:start] + second + first + data[start + 2 * frame :],
        data[:start] + data[start + frame :],  # a chunk left out
        other_header + data[start:],  # another backup's header
    ):
        forged.write_bytes(variant)
        refused(elsewhere(tmp_path), forged, password)


# --- backup refuses, keeps, reports -----------------------------------------------------------


def test_backup_refuses_a_database_that_is_not_sqlite(tmp_path: Path) -> None:
    url = "postgresql://ana:s3cret@db.example/binder"
    settings = config.resolve(home=tmp_path / "home", database_url=url, environ={})
    with pytest.raises(InvalidInput, match="only with a SQLite binder") as error:
        bk.create_backup(settings, tmp_path / "binder.backup")
    assert "s3cret" not in error.value.message
    assert sorted(os.listdir(tmp_path)) == []


def test_backup_without_a_binder_is_refused(settings: config.Settings, tmp_path: Path) -> None:
    with pytest.raises(BinderMissing, match="carebinder init"):
        bk.create_backup(settings, tmp_path / "binder.backup")
    assert not (tmp_path / "binder.backup").exists()


def test_backup_is_never_written_inside_the_binder(filled: config.Settings) -> None:
    database = filled.home / "binder.db"
    before = database.read_bytes()
    for target in (filled.home / "binder.backup", database, filled.store_dir / "x"):
        with pytest.raises(InvalidInput, match="outside the binder's folder"):
            bk.create_backup(filled, target, force=True)
    assert database.read_bytes() == before
    assert not (filled.home / "binder.backup").exists()


def test_backup_refuses_a_target_that_is_a_link_loop_or_not_a_file(
    filled: config.Settings, tmp_path: Path
) -> None:
    loop, fifo = tmp_path / "loop", tmp_path / "fifo"
    loop.symlink_to(loop)
    os.mkfifo(fifo)
    for target, says in ((loop, "leads nowhere"), (fifo, "not a regular file")):
        with pytest.raises(InvalidInput, match=says):
            bk.create_backup(filled, target, force=True)
    assert loop.is_symlink()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_backup_replaces_an_existing_file_only_when_forced(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    archive.write_bytes(b"last week's backup")
    with pytest.raises(Conflict, match="already exists"):
        bk.create_backup(filled, archive)
    assert archive.read_bytes() == b"last week's backup"
    bk.create_backup(filled, archive, force=True)
    bk.restore_backup(elsewhere(tmp_path), archive)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binder.backup", "home", "restored"]


def test_backup_keeps_orphan_blobs_and_leaves_out_stray_files(
    filled: config.Settings, tmp_path: Path
) -> None:
    orphan = b"a blob no record lists any more"
    digest = sha256(orphan)
    (filled.store_dir / digest[:2]).mkdir(exist_ok=True)
    (filled.store_dir / digest[:2] / digest[2:]).write_bytes(orphan)
    (filled.store_dir / ".tmp-123-abc").write_bytes(b"an interrupted write")
    (filled.store_dir / "zz").mkdir()
    (filled.store_dir / "zz" / "notes.txt").write_bytes(b"stray")
    (filled.store_dir / "ab").mkdir(exist_ok=True)
    (filled.store_dir / "ab" / ("c" * 62)).symlink_to("/etc/hostname")

    archive = tmp_path / "binder.backup"
    assert bk.create_backup(filled, archive).files == 3
    target = elsewhere(tmp_path)
    bk.restore_backup(target, archive)
    restored = blobs(target.home)
    assert restored[f"files/{digest[:2]}/{digest[2:]}"] == orphan
    assert len(restored) == 3


def test_backup_reports_files_the_binder_lists_but_the_store_lacks(
    filled: config.Settings, tmp_path: Path
) -> None:
    gone = blob_files(filled.home)[0]
    gone.unlink()
    archive = tmp_path / "binder.backup"
    made = bk.create_backup(filled, archive)
    assert (made.files, [item.kind for item in made.left_out]) == (1, ["blob_missing"])
    restored = bk.restore_backup(elsewhere(tmp_path), archive)
    assert restored.omitted == ((str(gone.relative_to(filled.home)), "blob_missing"),)


WRITER = r"""
import sys
from pathlib import Path
from carebinder import config
from carebinder.choices import RecordKind
from carebinder.db import open_binder, session_scope
from carebinder.services import doctors, records
from carebinder.store import Store

home, stop, inbox = (Path(arg) for arg in sys.argv[1:4])
settings = config.resolve(home=home, environ={})
engine = open_binder(settings)
store = Store(settings.store_dir)
i = 0
while not stop.exists() and i < 20000:
    with session_scope(engine) as s:
        doctors.add_doctor(s, 1, name=f"Dr. Writer {i:05}")
        if i % 5 == 0:
            lab = inbox / f"lab-{i}.txt"
            lab.write_bytes(f"lab result {i}\n".encode())
            records.add_record(
                s, store, 1, kind=RecordKind.LAB, title=f"Lab {i:05}", files=[lab]
            )
    if i == 0:
        print("ready", flush=True)
    i += 1
engine.dispose()
print(i, flush=True)
"""


def test_backup_taken_while_another_process_writes_is_consistent(
    binder: Cli, settings: config.Settings, tmp_path: Path
) -> None:
    stop, inbox = tmp_path / "stop", tmp_path / "writer-inbox"
    inbox.mkdir()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(settings.home), str(stop), str(inbox)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        counts = []
        for round_ in range(4):
            archive = tmp_path / f"during-{round_}.backup"
            assert bk.create_backup(settings, archive).left_out == ()
            target = elsewhere(tmp_path, f"restored-{round_}")
            bk.restore_backup(target, archive)
            counts.append(check_consistent(target.home))
            time.sleep(0.1)
    finally:
        stop.touch()
        out, _ = writer.communicate(timeout=60)
    assert writer.returncode == 0
    written = int(out.split()[-1])
    assert counts == sorted(counts)
    assert counts[0] < counts[-1] <= written  # the writes went on while the backups were taken


def check_consistent(home: Path) -> int:
    """The snapshot passes its checks and holds a prefix of the writer's commits."""
    connection = sqlite3.connect(home / "binder.db")
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM doctor WHERE name LIKE 'Dr. Writer %' ORDER BY id"
            )
        ]
        labs = connection.execute(
            "SELECT record.title, file.sha256 FROM record JOIN file ON file.record_id = record.id"
        ).fetchall()
    finally:
        connection.close()
    assert names == [f"Dr. Writer {i:05}" for i in range(len(names))]
    assert sorted(title for title, _ in labs) == [f"Lab {i:05}" for i in range(0, len(names), 5)]
    for _, digest in labs:
        assert (home / "files" / digest[:2] / digest[2:]).is_file()
    return len(names)


# --- forged archives --------------------------------------------------------------------------

MANIFEST = "manifest.json"
CREATED = "2026-11-02T10:00:00+00:00"


@dataclass(frozen=True)
class Parts:
    """The true contents of a small binder's backup, to forge archives from."""

    database: bytes
    blob_name: str
    blob: bytes

    @property
    def other_name(self) -> str:
        """A well-formed blob name that is not this binder's."""
        return "files/00/" + "0" * 62


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Parts:
    root = tmp_path_factory.mktemp("parts")
    settings = config.resolve(home=root / "home", environ={})
    lab = root / "cbc.txt"
    lab.write_bytes(MARKER)
    engine = open_binder(settings, create=True)
    try:
        with session_scope(engine) as s:
            patient = patients.add_patient(s, name="Ana Souza", born=date(1964, 4, 12))
            store = Store(settings.store_dir)
            records.add_record(s, store, patient.id, kind=RecordKind.LAB, title="CBC", files=[lab])
    finally:
        engine.dispose()
    archive = root / "real.backup"
    bk.create_backup(settings, archive)
    with tarfile.open(fileobj=io.BytesIO(plaintext(archive))) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    (blob_name,) = (name for name in files if name.startswith("files/"))
    return Parts(files["binder.db"], blob_name, files[blob_name])


Member = tuple[tarfile.TarInfo, bytes]


def entry(path: str, data: bytes) -> bk.Entry:
    return bk.Entry(path, len(data), sha256(data))


def manifest(*entries: bk.Entry, schema: str = SCHEMA_HEAD) -> bytes:
    return bk.Manifest(schema, CREATED, entries).encode()


def signed(body: dict[str, object], **dumps: object) -> bytes:
    """A manifest from any JSON body, with a correct checksum."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    options = {"sort_keys": True, "separators": (",", ":"), **dumps}
    return json.dumps({**body, "sha256": sha256(canonical)}, **options).encode()  # type: ignore[arg-type]


def body(p: Parts, **changes: object) -> dict[str, object]:
    members = [
        {"path": "binder.db", "size": len(p.database), "sha256": sha256(p.database)},
        {"path": p.blob_name, "size": len(p.blob), "sha256": sha256(p.blob)},
    ]
    return {"format": 1, "schema": SCHEMA_HEAD, "created": CREATED, "members": members, **changes}


def listed(p: Parts) -> bytes:
    return manifest(entry("binder.db", p.database), entry(p.blob_name, p.blob))


def regular(name: str, data: bytes, **attributes: object) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    for key, value in attributes.items():
        setattr(info, key, value)
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.devmajor, info.devminor = kind, linkname, 1, 3
    return info, b""


def standard(p: Parts, manifest_bytes: bytes | None = None) -> list[Member]:
    return [
        regular(MANIFEST, listed(p) if manifest_bytes is None else manifest_bytes),
        regular("binder.db", p.database),
        regular(p.blob_name, p.blob),
    ]


def tar(*members: Member, format: int = tarfile.GNU_FORMAT, **options: object) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=format, **options) as archive:  # type: ignore[call-overload]
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def raw_member(info: tarfile.TarInfo, data: bytes) -> bytes:
    """A member written by hand, so its header may declare any size."""
    header = info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")
    return header + data + bytes(-len(data) % 512)


def patched(
    payload: bytes, name: str, change: Callable[[bytearray, tarfile.TarInfo], None]
) -> bytes:
    data = bytearray(payload)
    (info,) = (m for m in tar_members(payload) if m.name == name)
    change(data, info)
    return bytes(data)


def fix_checksum(data: bytearray, offset: int) -> None:
    block = data[offset : offset + 512]
    block[148:156] = b" " * 8
    data[offset + 148 : offset + 156] = b"%06o\0 " % sum(block)


def other_revision(p: Parts, tmp: Path) -> bytes:
    path = tmp / "other-revision.db"
    path.write_bytes(p.database)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = '0000'")
    connection.close()
    return path.read_bytes()


def nonzero_padding(p: Parts) -> bytes:
    def change(data: bytearray, info: tarfile.TarInfo) -> None:
        data[info.offset_data + info.size] = ord("x")

    return patched(tar(*standard(p)), p.blob_name, change)


def bad_tar_checksum(p: Parts) -> bytes:
    def change(data: bytearray, info: tarfile.TarInfo) -> None:
        data[info.offset + 20] ^= 0x01

    return patched(tar(*standard(p)), p.blob_name, change)


def not_ustar(p: Parts) -> bytes:
    def change(data: bytearray, info: tarfile.TarInfo) -> None:
        data[info.offset + 257 : info.offset + 263] = b"posix\0"
        fix_checksum(data, info.offset)

    return patched(tar(*standard(p)), p.blob_name, change)


def data_after_the_end(p: Parts) -> bytes:
    return tar(*standard(p))[:-1] + b"x"


def members_only(archive: bytes) -> bytes:
    """A tar archive without its end-of-archive blocks and record padding.

    Cut at the end of the last member's data, not by stripping zero bytes: a database
    often ends in zeros, which are data."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as t:
        last = t.getmembers()[-1]
    return archive[: last.offset_data + -(-last.size // 512) * 512]


def huge_tar_size(p: Parts) -> bytes:
    info, data = regular(p.blob_name, p.blob)
    info.size = 1 << 40
    return b"".join([members_only(tar(*standard(p)[:2])), raw_member(info, data), bytes(1024)])


@dataclass(frozen=True)
class Forgery:
    name: str
    build: Callable[[Parts], bytes]
    says: str


def db(p: Parts) -> Member:
    return regular(DB, p.database)


def blob(p: Parts) -> Member:
    return regular(p.blob_name, p.blob)


def listing(*entries: bk.Entry, schema: str = SCHEMA_HEAD) -> Member:
    return regular(MANIFEST, manifest(*entries, schema=schema))


def db_entry(p: Parts) -> bk.Entry:
    return entry(DB, p.database)


def blob_entry(p: Parts, size: int | None = None, path: str | None = None) -> bk.Entry:
    return bk.Entry(path or p.blob_name, len(p.blob) if size is None else size, sha256(p.blob))


def plus(*extra: Member, **options: object) -> Callable[[Parts], bytes]:
    """The true members, then `extra`."""
    return lambda p: tar(*standard(p), *extra, **options)


def with_manifest(make: Callable[[Parts], bytes]) -> Callable[[Parts], bytes]:
    """The true members under another manifest."""
    return lambda p: tar(*standard(p, make(p)))


F = Forgery
DB, OTHER = "binder.db", "files/00/" + "0" * 62
LINK, NAME = "a link, a folder or a device", "unexpected name"
EVIL = b"evil"
FORGERIES = [
    # path traversal, and names that are not a backup's
    F("dotdot", plus(regular("../x", EVIL)), NAME),
    F("absolute", plus(regular("/etc/x", EVIL)), NAME),
    F("backslashes", plus(regular("files\\..\\x", EVIL)), NAME),
    F("dotdot in store", plus(regular("files/ab/../../x", EVIL)), NAME),
    F("dot slash", lambda p: tar(regular("./" + MANIFEST, listed(p)), db(p), blob(p)), NAME),
    F("uppercase blob", lambda p: tar(*standard(p), regular(p.blob_name.upper(), p.blob)), NAME),
    F("short blob name", plus(regular("files/ab/cd", EVIL)), NAME),
    F("unexpected name", plus(regular("notes.txt", EVIL)), NAME),
    F("empty name", plus(regular("", EVIL)), NAME),
    F("nul in name", plus(regular("binder.db\0/../x", EVIL)), NAME),
    F(
        "link name on a file",
        lambda p: tar(
            listing(db_entry(p), blob_entry(p)),
            db(p),
            regular(p.blob_name, p.blob, linkname="/etc/passwd"),
        ),
        NAME,
    ),
    F(
        "traversal listed",
        lambda p: tar(listing(db_entry(p), entry("../x", EVIL)), db(p), regular("../x", EVIL)),
        "names an unexpected file",
    ),
    F(
        "absolute listed",
        lambda p: tar(listing(db_entry(p), entry("/etc/x", EVIL)), db(p), regular("/etc/x", EVIL)),
        "names an unexpected file",
    ),
    # links, devices and other special entries
    F("symlink", plus(special(OTHER, tarfile.SYMTYPE, "/etc/passwd")), LINK),
    F(
        "symlink first",
        lambda p: tar(special(MANIFEST, tarfile.SYMTYPE, "/etc/x"), *standard(p)),
        LINK,
    ),
    F(
        "symlink as blob",
        lambda p: tar(
            listing(db_entry(p), blob_entry(p)),
            db(p),
            special(p.blob_name, tarfile.SYMTYPE, "../../binder.db"),
        ),
        LINK,
    ),
    F("hardlink", plus(special(OTHER, tarfile.LNKTYPE, DB)), LINK),
    F("character device", plus(special(OTHER, tarfile.CHRTYPE)), LINK),
    F("block device", plus(special(OTHER, tarfile.BLKTYPE)), LINK),
    F("fifo", plus(special(OTHER, tarfile.FIFOTYPE)), LINK),
    F("directory", plus(special("files/ab", tarfile.DIRTYPE)), LINK),
    F("contiguous file", plus(special(OTHER, tarfile.CONTTYPE)), LINK),
    F("gnu sparse", plus(special(OTHER, tarfile.GNUTYPE_SPARSE)), LINK),
    F("gnu long name", plus(regular("files/ab/" + "c" * 200, EVIL)), LINK),
    F(
        "pax path override",
        plus(regular(OTHER, EVIL, pax_headers={"path": "../x"}), format=tarfile.PAX_FORMAT),
        LINK,
    ),
    F("pax global header", plus(format=tarfile.PAX_FORMAT, pax_headers={"comment": "x"}), LINK),
    # members and manifest entries that do not pair up
    F("duplicate blob", lambda p: tar(*standard(p), blob(p)), "twice"),
    F("duplicate database", lambda p: tar(*standard(p), db(p)), "twice"),
    F("second manifest", lambda p: tar(*standard(p), regular(MANIFEST, listed(p))), "twice"),
    F(
        "member not in manifest",
        lambda p: tar(listing(db_entry(p)), db(p), blob(p)),
        "does not mention",
    ),
    F("manifest entry without member", lambda p: tar(*standard(p)[:2]), "missing"),
    F(
        "database member missing",
        lambda p: tar(regular(MANIFEST, listed(p)), blob(p)),
        "smaller than its list",
    ),
    F(
        "database missing, zeros instead",
        lambda p: tar(regular(MANIFEST, listed(p)), blob(p)) + bytes(len(p.database)),
        "missing",
    ),
    F(
        "size differs from manifest",
        lambda p: tar(listing(db_entry(p), blob_entry(p, len(p.blob) + 1)), db(p), blob(p)),
        "size does not match",
    ),
    F(
        "member longer than listed",
        lambda p: tar(*standard(p)[:2], regular(p.blob_name, p.blob + b"\0")),
        "size does not match",
    ),
    F("huge size in tar header", huge_tar_size, "size does not match"),
    F(
        "huge size in manifest",
        lambda p: tar(listing(db_entry(p), blob_entry(p, 10**10)), db(p), blob(p)),
        "smaller than its list",
    ),
    F(
        "impossible size",
        lambda p: tar(listing(db_entry(p), blob_entry(p, 1 << 50)), db(p), blob(p)),
        "impossible size",
    ),
    F(
        "negative size",
        lambda p: tar(listing(db_entry(p), blob_entry(p, -1)), db(p), blob(p)),
        "impossible size",
    ),
    F(
        "boolean size",
        with_manifest(
            lambda p: signed(
                body(p, members=[{"path": DB, "size": True, "sha256": sha256(p.database)}])
            )
        ),
        "impossible size",
    ),
    F(
        "content differs from checksum",
        lambda p: tar(*standard(p)[:2], regular(p.blob_name, bytes([p.blob[0] ^ 1]) + p.blob[1:])),
        "does not match its checksum",
    ),
    F(
        "blob under another name",
        lambda p: tar(
            listing(db_entry(p), blob_entry(p, path=OTHER)), db(p), regular(OTHER, p.blob)
        ),
        "does not match a file's name",
    ),
    # the manifest itself
    F(
        "manifest not first",
        lambda p: tar(db(p), regular(MANIFEST, listed(p)), blob(p)),
        "does not start",
    ),
    F("no manifest", lambda p: tar(db(p), blob(p)), "does not start"),
    F("empty archive", lambda p: tar(), "does not start"),
    F(
        "manifest checksum wrong",
        with_manifest(lambda p: listed(p).replace(b'"sha256":"', b'"sha256":"0', 1)[:-3] + b'"}'),
        "fails its checksum",
    ),
    F(
        "manifest not canonical",
        with_manifest(lambda p: signed(body(p), indent=1)),
        "expected form",
    ),
    F(
        "manifest duplicate key",
        with_manifest(lambda p: listed(p)[:-1] + b',"schema":"0001"}'),
        "cannot be read",
    ),
    F("manifest not json", with_manifest(lambda p: b"\xff not json"), "cannot be read"),
    F("manifest extra key", with_manifest(lambda p: signed(body(p, extra="x"))), "expected form"),
    F(
        "manifest without database",
        lambda p: tar(listing(blob_entry(p)), blob(p)),
        "has no database",
    ),
    F(
        "manifest names a file twice",
        lambda p: tar(listing(db_entry(p), blob_entry(p), blob_entry(p)), db(p), blob(p)),
        "twice",
    ),
    F(
        "manifest newer format",
        with_manifest(lambda p: signed(body(p, format=3))),
        "newer carebinder",
    ),
    F(
        "manifest newer schema",
        lambda p: tar(listing(db_entry(p), blob_entry(p), schema="9999"), db(p), blob(p)),
        "newer carebinder",
    ),
    # the tar structure around the members
    F("nonzero padding", nonzero_padding, "expected form"),
    F("data after the end", data_after_the_end, "unexpected data after"),
    F("bad tar checksum", bad_tar_checksum, "expected form"),
    F("not ustar", not_ustar, "expected form"),
    F("not a tar at all", lambda p: b"hello" * 1000, "expected form"),
    # the database member
    F(
        "database not sqlite",
        lambda p: tar(
            listing(entry(DB, MARKER * 100), blob_entry(p)), regular(DB, MARKER * 100), blob(p)
        ),
        "database cannot be read",
    ),
]


def seal(path: Path, payload: bytes, password: str | None) -> Path:
    with path.open("wb") as raw:
        writer = bk.SealedWriter(raw, password)
        writer.write(payload)
        writer.finish()
    return path


@MODES
def test_the_forging_kit_builds_archives_that_restore(
    parts: Parts, tmp_path: Path, password: str | None
) -> None:
    archive = seal(tmp_path / "kit.backup", tar(*standard(parts)), password)
    target = elsewhere(tmp_path)
    assert bk.restore_backup(target, archive, password=password).files == 1
    assert blobs(target.home) == {parts.blob_name: parts.blob}


@MODES
@pytest.mark.parametrize("forgery", FORGERIES, ids=[f.name for f in FORGERIES])
def test_a_forged_archive_is_refused_before_any_write(
    parts: Parts, tmp_path: Path, forgery: Forgery, password: str | None
) -> None:
    archive = seal(tmp_path / "forged.backup", forgery.build(parts), password)
    error = refused(elsewhere(tmp_path), archive, password)
    assert forgery.says in error.message


@MODES
def test_a_database_that_does_not_match_its_manifest_is_refused(
    parts: Parts, tmp_path: Path, password: str | None
) -> None:
    database = other_revision(parts, tmp_path)
    payload = tar(
        regular(MANIFEST, manifest(entry(DB, database), entry(parts.blob_name, parts.blob))),
        regular(DB, database),
        regular(parts.blob_name, parts.blob),
    )
    archive = seal(tmp_path / "forged.backup", payload, password)
    (tmp_path / "other-revision.db").unlink()
    assert "database does not match" in refused(elsewhere(tmp_path), archive, password).message


@pytest.mark.parametrize(
    ("limit", "value", "says"),
    [("MAX_MANIFEST", 64, "too large"), ("MAX_MEMBERS", 1, "expected form")],
)
def test_limits_on_the_manifest(
    parts: Parts,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    limit: str,
    value: int,
    says: str,
) -> None:
    monkeypatch.setattr(bk, limit, value)
    archive = seal(tmp_path / "forged.backup", tar(*standard(parts)), None)
    assert says in refused(elsewhere(tmp_path), archive).message


def test_not_enough_free_disk_space_is_refused_before_any_write(
    parts: Parts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = seal(tmp_path / "big.backup", tar(*standard(parts)), None)
    real = bk.shutil.disk_usage

    def full_disk(path: str | Path) -> object:
        return real(path)._replace(free=10_000_000)

    monkeypatch.setattr(bk.shutil, "disk_usage", full_disk)
    message = refused(elsewhere(tmp_path), archive).message
    assert message.startswith("Not enough free disk space to restore: it needs 67 MB")


def raw_header(text: bytes) -> bytes:
    return bk.MAGIC + struct.pack(">I", len(text)) + text


def header_fields(**fields: object) -> dict[str, object]:
    data = {"format": 1, "chunk_size": CHUNK, "cipher": "none", "nonce_prefix": "00" * 8}
    return {**data, **fields}


def header_of(**fields: object) -> bytes:
    return raw_header(
        json.dumps(header_fields(**fields), sort_keys=True, separators=(",", ":")).encode()
    )


KDF = {"name": "scrypt", "salt": "00" * 16, "n": 1024, "r": 8, "p": 1}
FORGED_FILES = {
    "empty file": (b"", "not a carebinder backup"),
    "not a backup": (b"%PDF-1.7\n" + bytes(100), "not a carebinder backup"),
    "newer format": (header_of(format=2), "newer carebinder"),
    "older format": (header_of(format=0), "format version is unknown"),
    "huge chunk size": (header_of(chunk_size=1 << 40), "impossible chunk size"),
    "tiny chunk size": (header_of(chunk_size=1), "impossible chunk size"),
    "unknown cipher": (header_of(cipher="rot13"), "unknown kind of encryption"),
    "huge scrypt": (
        header_of(cipher="aes-256-gcm", kdf={**KDF, "n": 1 << 30}),
        "out of range",
    ),
    "scrypt n not a power of two": (
        header_of(cipher="aes-256-gcm", kdf={**KDF, "n": 1000}),
        "out of range",
    ),
    "short nonce": (header_of(nonce_prefix="00"), "cannot be read"),
    "no salt": (header_of(cipher="aes-256-gcm", kdf={**KDF, "salt": "zz"}), "cannot be read"),
    "huge header": (bk.MAGIC + struct.pack(">I", 1 << 31), "too long"),
    "header not an object": (raw_header(b"[1]"), "cannot be read"),
    "header cut short": (bk.MAGIC + struct.pack(">I", 100) + b"{", "cut short"),
    "header not canonical": (
        raw_header(json.dumps(header_fields(), indent=1).encode()),
        "expected form",
    ),
    "header not json": (raw_header(b"\xff\xfe{}"), "cannot be read"),
}


@pytest.mark.parametrize("name", list(FORGED_FILES))
def test_a_forged_header_is_refused(tmp_path: Path, name: str) -> None:
    content, says = FORGED_FILES[name]
    archive = tmp_path / "forged.backup"
    archive.write_bytes(content + bytes(64))
    assert says in refused(elsewhere(tmp_path), archive, PASSWORD).message


def test_a_folder_a_fifo_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    for name, says in (("folder", "is a folder"), ("fifo", "not a backup"), ("gone", "No such")):
        assert says in refused(elsewhere(tmp_path), tmp_path / name).message
