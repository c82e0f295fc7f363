"""Making a backup: what the file holds and in which order, the targets it refuses, what
it keeps and leaves out, and a consistent snapshot while another process writes."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from carebinder import config
from carebinder.backup.create import create_backup
from carebinder.backup.restore import restore_backup
from carebinder.backup.seal import FORMAT, MAGIC
from carebinder.db import SCHEMA_HEAD
from carebinder.errors import BinderMissing, Conflict, InvalidInput
from tests.backup.kit import blobs, elsewhere, plaintext, sha256
from tests.conftest import FILE_BACKUP, Cli, blob_files

pytestmark = pytest.mark.sqlite_only(FILE_BACKUP)


def test_backup_holds_the_manifest_then_the_database_then_every_blob(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    create_backup(filled, archive)
    assert archive.read_bytes().startswith(MAGIC)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files

    payload = plaintext(archive)
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        names = tar.getnames()
        contents = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    manifest = json.loads(contents.pop("manifest.json"))

    stored = [str(p.relative_to(filled.home)) for p in blob_files(filled.home)]
    assert names == ["manifest.json", "binder.db", *sorted(stored)]
    assert manifest["format"] == FORMAT
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


# --- backup refuses, keeps, reports -----------------------------------------------------------


def test_backup_refuses_a_database_that_is_not_sqlite(tmp_path: Path) -> None:
    url = "postgresql://ana:s3cret@db.example/binder"
    settings = config.resolve(home=tmp_path / "home", database_url=url, environ={})
    with pytest.raises(InvalidInput, match="only with a SQLite binder") as error:
        create_backup(settings, tmp_path / "binder.backup")
    assert "s3cret" not in error.value.message
    assert sorted(os.listdir(tmp_path)) == []


def test_backup_without_a_binder_is_refused(settings: config.Settings, tmp_path: Path) -> None:
    with pytest.raises(BinderMissing, match="carebinder init"):
        create_backup(settings, tmp_path / "binder.backup")
    assert not (tmp_path / "binder.backup").exists()


def test_backup_is_never_written_inside_the_binder(filled: config.Settings) -> None:
    database = filled.home / "binder.db"
    before = database.read_bytes()
    for target in (filled.home / "binder.backup", database, filled.store_dir / "x"):
        with pytest.raises(InvalidInput, match="outside the binder's folder"):
            create_backup(filled, target, force=True)
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
            create_backup(filled, target, force=True)
    assert loop.is_symlink()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_backup_replaces_an_existing_file_only_when_forced(
    filled: config.Settings, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    archive.write_bytes(b"last week's backup")
    with pytest.raises(Conflict, match="already exists"):
        create_backup(filled, archive)
    assert archive.read_bytes() == b"last week's backup"
    create_backup(filled, archive, force=True)
    restore_backup(elsewhere(tmp_path), archive)
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
    assert create_backup(filled, archive).files == 3
    target = elsewhere(tmp_path)
    restore_backup(target, archive)
    restored = blobs(target.home)
    assert restored[f"files/{digest[:2]}/{digest[2:]}"] == orphan
    assert len(restored) == 3


def test_backup_reports_files_the_binder_lists_but_the_store_lacks(
    filled: config.Settings, tmp_path: Path
) -> None:
    gone = blob_files(filled.home)[0]
    gone.unlink()
    archive = tmp_path / "binder.backup"
    made = create_backup(filled, archive)
    assert (made.files, [item.kind for item in made.left_out]) == (1, ["blob_missing"])
    restored = restore_backup(elsewhere(tmp_path), archive)
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
            assert create_backup(settings, archive).left_out == ()
            target = elsewhere(tmp_path, f"restored-{round_}")
            restore_backup(target, archive)
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
