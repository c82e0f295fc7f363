"""`carebinder backup` and `carebinder restore`: what they print, the password, and refusals."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest

from carebinder.backup import is_encrypted, seal
from carebinder.cli import common as cli_common
from tests.blobdamage import damage
from tests.cli.cliutil import assert_refused, no_traceback, snapshot
from tests.conftest import FILE_BACKUP, Cli, blob_files

pytestmark = pytest.mark.sqlite_only(FILE_BACKUP)


PASSWORD = "s3cret horse"
ENV = "CAREBINDER_BACKUP_PASSWORD"


@pytest.fixture(autouse=True)
def _fast_key_derivation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seal, "SCRYPT_N", 1 << 10)


@pytest.fixture
def full(binder: Cli, make_pdf: Callable[..., Path]) -> Cli:
    """One of everything for patient #1, and one file in the store."""
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok("record", "add", "pathology", "Core biopsy", "--file", str(make_pdf()))
    binder.ok("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--record", "1")
    binder.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30")
    binder.ok("question", "add", "Is surgery first?", "--appointment", "1")
    binder.ok("material", "add", "glass-slides", "H&E slides")
    return binder


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the commands believe they run at a terminal (the runner feeds the typed input)."""
    at_terminal = SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(cli_common, "sys", at_terminal)


def same_binder(cli: Cli, home: Path, restored: Path) -> None:
    assert snapshot(cli, global_args=("--home", str(restored))) == snapshot(cli)
    relative = {str(p.relative_to(home)): p.read_bytes() for p in blob_files(home)}
    assert {str(p.relative_to(restored)): p.read_bytes() for p in blob_files(restored)} == relative
    assert len(relative) == 1


# --- happy paths --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "why", "said"),
    [
        ("missing", "it is missing from the binder's file store", "missing from the file store"),
        (
            "flipped bit",
            "it is damaged (its content no longer matches what was attached)",
            "damaged",
        ),
    ],
)
def test_backup_and_restore_name_a_file_left_out(
    full: Cli, home: Path, tmp_path: Path, how: str, why: str, said: str
) -> None:
    (blob,) = blob_files(home)
    where = blob.relative_to(home).as_posix()
    damage(blob, how)
    archive = tmp_path / "binder.backup"
    result = full.ok("backup", "-o", str(archive))
    assert result.stdout == f"{archive}\n"
    assert result.stderr.splitlines()[1:] == [
        f"Left out report.pdf (file #1 of record #1): {why}. `carebinder verify` says what to do.",
        "1 file left out (see above); the backup holds everything else, and its list of"
        " contents names what it lacks.",
    ]
    assert result.stderr.startswith("Backed up the binder: the database and 0 files (")

    restored = tmp_path / "restored"
    result = full.ok("--home", str(restored), "restore", str(archive))
    assert result.stderr == (
        "Restored the binder: the database and 0 files.\n"
        f"Not restored: {where} ({said} when the backup was made).\n"
        "1 file left out when this backup was made (see above): `carebinder verify` names"
        " the records they belong to. Attach the originals again, or restore them from an"
        " older backup.\n"
    )
    check = full("--home", str(restored), "verify")
    assert check.exit_code == 1
    assert check.stdout.startswith("File #1 (record #1) is missing from the file store.")


def test_backup_then_restore_into_a_new_home_gives_the_same_binder(
    full: Cli, home: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    result = full.ok("backup", "-o", str(archive))
    assert result.stdout == f"{archive}\n"
    assert re.fullmatch(
        r"Backed up the binder: the database and 1 file \(\d+\.\d KB\)\.\n", result.stderr
    )

    restored = tmp_path / "restored"
    result = full.ok("--home", str(restored), "restore", str(archive))
    assert result.stdout == f"{restored}\n"
    assert result.stderr == "Restored the binder: the database and 1 file.\n"
    same_binder(full, home, restored)


def test_backup_writes_a_dated_file_in_the_current_folder_by_default(
    full: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    monkeypatch.chdir(folder)
    result = full.ok("backup")
    expected = folder / f"carebinder-backup-{date.today().isoformat()}.cbk"
    assert result.stdout == f"{expected}\n"
    assert expected.is_file()
    assert "Ana" not in expected.name


def test_encrypted_backup_with_the_password_from_the_environment(
    full: Cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive, restored = tmp_path / "binder.backup", tmp_path / "restored"
    monkeypatch.setenv(ENV, PASSWORD)
    result = full.ok("backup", "-o", str(archive), "--password")
    assert ", encrypted)." in result.stderr
    assert "Keep the password somewhere safe" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert is_encrypted(archive)

    result = full.ok("--home", str(restored), "restore", str(archive))
    assert PASSWORD not in result.stdout + result.stderr
    same_binder(full, home, restored)


def test_the_password_variable_alone_does_not_encrypt(
    full: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, PASSWORD)
    archive = tmp_path / "binder.backup"
    full.ok("backup", "-o", str(archive))
    assert not is_encrypted(archive)


def test_password_is_asked_twice_for_backup_and_once_for_restore(
    full: Cli, home: Path, tmp_path: Path, terminal: None
) -> None:
    archive, restored = tmp_path / "binder.backup", tmp_path / "restored"
    typed = f"{PASSWORD}\n{PASSWORD}\n"
    result = full("backup", "-o", str(archive), "--password", input=typed)
    assert result.exit_code == 0, result.stderr
    assert "Password for the backup" in result.stderr and "Repeat" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert is_encrypted(archive)

    result = full("--home", str(restored), "restore", str(archive), input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.stderr
    assert "Password of the backup" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    same_binder(full, home, restored)


# --- the password refused -----------------------------------------------------------------------


def test_passwords_that_differ_write_nothing(full: Cli, tmp_path: Path, terminal: None) -> None:
    archive = tmp_path / "binder.backup"
    result = full("backup", "-o", str(archive), "--password", input="s3cret\nsecret\n")
    assert result.exit_code == 1
    no_traceback(result)
    assert "Error: The two passwords differ. Nothing was written." in result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    assert not archive.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_an_empty_password_is_asked_again_and_nothing_is_written(
    full: Cli, tmp_path: Path, terminal: None
) -> None:
    archive = tmp_path / "binder.backup"
    result = full("backup", "-o", str(archive), "--password", input="\n\n")
    assert result.exit_code == 1
    no_traceback(result)
    assert result.stderr.count("Password for the backup") >= 2
    assert not archive.exists()


def test_a_password_without_a_terminal_or_variable_is_refused(full: Cli, tmp_path: Path) -> None:
    archive = tmp_path / "binder.backup"
    result = full("backup", "-o", str(archive), "--password")
    assert_refused(result, 1, "--password", "no terminal", ENV)
    assert not archive.exists()


def test_a_password_is_never_taken_from_the_command_line(full: Cli, tmp_path: Path) -> None:
    archive = tmp_path / "binder.backup"
    result = full("backup", "-o", str(archive), "--password", PASSWORD)
    assert result.exit_code == 2  # a usage error: the word is an unexpected argument
    assert not archive.exists()


def test_restore_refuses_a_wrong_or_missing_password(
    full: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive, restored = tmp_path / "binder.backup", tmp_path / "restored"
    monkeypatch.setenv(ENV, PASSWORD)
    full.ok("backup", "-o", str(archive), "--password")

    monkeypatch.setenv(ENV, "not the password")
    result = full("--home", str(restored), "restore", str(archive))
    line = assert_refused(result, 1, "Wrong password or damaged archive", "Nothing was restored")
    assert "not the password" not in line
    monkeypatch.delenv(ENV)
    result = full("--home", str(restored), "restore", str(archive))
    assert_refused(result, 1, "encrypted", "no terminal", ENV)
    assert not restored.exists()


# --- other refusals -----------------------------------------------------------------------------


def test_backup_never_replaces_a_file_unless_forced(full: Cli, tmp_path: Path) -> None:
    archive = tmp_path / "binder.backup"
    archive.write_bytes(b"last week's backup")
    result = full("backup", "-o", str(archive))
    assert_refused(result, 1, "already exists", "--force")
    assert archive.read_bytes() == b"last week's backup"

    full.ok("backup", "-o", str(archive), "--force")
    assert archive.read_bytes().startswith(seal.MAGIC)


def test_backup_refuses_a_folder_a_missing_folder_and_the_binders_own_folder(
    full: Cli, home: Path, tmp_path: Path
) -> None:
    assert_refused(full("backup", "-o", str(tmp_path)), 1, "--out", "is a folder")
    missing = tmp_path / "nowhere" / "binder.backup"
    assert_refused(full("backup", "-o", str(missing)), 1, "--out", "does not exist")
    inside = home / "binder.backup"
    assert_refused(full("backup", "-o", str(inside)), 1, "outside the binder's folder")
    assert not inside.exists()


def test_backup_refuses_a_link_loop_a_broken_link_and_a_fifo(full: Cli, tmp_path: Path) -> None:
    loop, broken, fifo = tmp_path / "loop", tmp_path / "broken", tmp_path / "fifo"
    loop.symlink_to(loop)
    broken.symlink_to(tmp_path / "nowhere")
    os.mkfifo(fifo)
    for target, says in ((loop, "leads nowhere"), (broken, "leads nowhere"), (fifo, "regular")):
        assert_refused(full("backup", "-o", str(target), "--force"), 1, "--out", says)
    assert_refused(full("backup", "-o", str(loop / "x.backup")), 1, "--out")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert not (tmp_path / "nowhere").exists()


def test_backup_without_a_binder_is_refused(cli: Cli, home: Path, tmp_path: Path) -> None:
    archive = tmp_path / "binder.backup"
    assert_refused(cli("backup", "-o", str(archive)), 1, "No binder at", "carebinder init")
    assert not archive.exists()
    assert not home.exists()


def test_backup_and_restore_refuse_a_shared_database(cli: Cli, tmp_path: Path) -> None:
    url = ("--db", "postgresql://ana:pa55word@db.example/binder")
    archive = tmp_path / "binder.backup"
    line = assert_refused(cli(*url, "backup", "-o", str(archive)), 1, "only with a SQLite")
    assert "pa55word" not in line
    archive.write_bytes(b"anything")
    line = assert_refused(cli(*url, "restore", str(archive)), 1, "leave out --db")
    assert "pa55word" not in line


def test_restore_refuses_a_home_that_is_not_empty_and_changes_nothing(
    full: Cli, home: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "binder.backup"
    full.ok("doctor", "add", "Dr. Only Here")
    before = snapshot(full)
    full.ok("backup", "-o", str(archive))
    full.ok("doctor", "remove", "2", "--yes")
    after_removal = snapshot(full)

    result = full("restore", str(archive))

    assert_refused(result, 1, "is not empty", "--home")
    assert snapshot(full) == after_removal != before


def test_restore_refuses_a_damaged_backup_and_writes_nothing(full: Cli, tmp_path: Path) -> None:
    archive, restored = tmp_path / "binder.backup", tmp_path / "restored"
    full.ok("backup", "-o", str(archive))
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    archive.write_bytes(data)

    result = full("--home", str(restored), "restore", str(archive))

    assert_refused(result, 1, "damaged", "Nothing was restored")
    assert not restored.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binder.backup", "home", "inbox"]


def test_restore_refuses_what_is_not_a_backup(
    cli: Cli, tmp_path: Path, make_pdf: Callable[..., Path]
) -> None:
    restored = tmp_path / "restored"
    pdf = make_pdf()
    assert_refused(cli("--home", str(restored), "restore", str(pdf)), 1, "not a carebinder backup")
    gone = tmp_path / "gone.backup"
    assert_refused(cli("--home", str(restored), "restore", str(gone)), 1, "No such file")
    assert_refused(cli("--home", str(restored), "restore", str(tmp_path)), 1, "is a folder")
    assert not restored.exists()


def test_restore_refuses_a_backup_from_a_newer_carebinder(cli: Cli, tmp_path: Path) -> None:
    header = b'{"chunk_size":4096,"cipher":"none","format":2,"nonce_prefix":"0000000000000000"}'
    archive = tmp_path / "future.backup"
    archive.write_bytes(seal.MAGIC + len(header).to_bytes(4, "big") + header + bytes(64))
    result = cli("--home", str(tmp_path / "restored"), "restore", str(archive))
    assert_refused(result, 1, "newer carebinder", "Update carebinder")


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_help_explains_with_an_example(cli: Cli, command: str) -> None:
    result = cli.ok(command, "--help")
    assert "Example: carebinder" in result.stdout
