"""`--store DIR` / `CAREBINDER_STORE`: the attached files in a folder of their own (a team's
shared folder), on SQLite and PostgreSQL alike; and each refusal of a store that cannot
be used, with nothing changed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from carebinder import config
from tests.cli.cliutil import as_json, assert_refused, snapshot
from tests.conftest import FILE_BACKUP, Cli, blob_files, mode

MakePdf = Callable[..., Path]


@pytest.fixture
def share(tmp_path: Path) -> Path:
    """Where a team's shared folder is mounted; the store goes inside it."""
    folder = tmp_path / "share"
    folder.mkdir()
    return folder


@pytest.fixture
def shared(cli: Cli, share: Path) -> Cli:
    """A binder whose store is `share/files`, made by `init --store`."""
    cli.ok("--store", str(share / "files"), "init", "--name", "Ana Souza", "--born", "1964-04-12")
    return cli


def in_store(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_init_makes_the_store_owner_only_and_files_go_there(
    shared: Cli, share: Path, home: Path, make_pdf: MakePdf
) -> None:
    store = share / "files"
    assert mode(store) == 0o700
    added = as_json(
        shared.ok(
            "--store",
            str(store),
            "record",
            "add",
            "lab",
            "Labs",
            "--file",
            str(make_pdf()),
            "--json",
        )
    )
    sha = added["files"][0]["sha256"]
    assert in_store(store) == [store / sha[:2] / sha[2:]]
    assert mode(store / sha[:2]) == 0o700 and mode(store / sha[:2] / sha[2:]) == 0o400
    assert blob_files(home) == []  # nothing in the home's own files/
    assert not (home / config.STORE_DIR).exists()


def test_the_environment_variable_works_like_the_option(
    shared: Cli, share: Path, home: Path, make_pdf: MakePdf, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.STORE_ENV, str(share / "files"))
    shared.ok("record", "add", "lab", "Labs", "--file", str(make_pdf(pages=2)))
    assert len(in_store(share / "files")) == 1
    assert blob_files(home) == []
    assert shared.ok("verify").stderr.endswith("Binder OK: 1 record, 1 file checked.\n")
    # The option beats the variable: the home's own files/ does not have the blob.
    result = shared("--store", str(home / config.STORE_DIR), "verify")
    assert result.exit_code == 1


def test_packet_reads_the_records_from_the_chosen_store(
    shared: Cli, share: Path, make_pdf: MakePdf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.STORE_ENV, str(share / "files"))
    shared.ok("doctor", "add", "Dr. Wei Chen")
    shared.ok("record", "add", "pathology", "Biopsy", "--file", str(make_pdf(pages=3)))
    shared.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30")
    out = tmp_path / "packet.pdf"
    shared.ok("packet", "1", "-o", str(out))
    import pikepdf

    with pikepdf.open(out) as pdf:
        pages = len(pdf.pages)
    without = tmp_path / "summary.pdf"
    shared.ok("packet", "1", "--no-records", "-o", str(without))
    with pikepdf.open(without) as pdf:
        # The record's three pages, merged from the store (and its divider).
        assert pages >= len(pdf.pages) + 3


def test_a_missing_store_is_refused_and_nothing_changes(
    shared: Cli, share: Path, make_pdf: MakePdf, tmp_path: Path
) -> None:
    missing = tmp_path / "unmounted" / "files"
    shared.ok("doctor", "add", "Dr. Wei Chen")
    shared.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30")
    before = snapshot(shared, "record")
    result = shared(
        "--store", str(missing), "record", "add", "lab", "Labs", "--file", str(make_pdf())
    )
    assert_refused(result, 1, f"The file store folder {missing} does not exist", "--store")
    assert snapshot(shared, "record") == before
    assert not missing.parent.exists()
    shared.ok("--store", str(missing), "record", "add", "lab", "Labs")  # no file, no store
    for args in (["packet", "1"], ["record", "attach", "1", str(make_pdf())], ["verify"]):
        assert_refused(shared("--store", str(missing), *args), 1, "does not exist")
    assert not missing.parent.exists()


def test_commands_that_need_no_files_work_without_the_store(shared: Cli, tmp_path: Path) -> None:
    """A colleague whose share is not mounted can still read and plan (no files needed)."""
    missing = tmp_path / "unmounted" / "files"
    shared.ok("--store", str(missing), "doctor", "add", "Dr. Wei Chen")
    assert "Dr. Wei Chen" in shared.ok("--store", str(missing), "doctor", "list").stdout
    assert not missing.parent.exists()


def test_a_file_as_the_store_is_refused(shared: Cli, tmp_path: Path, make_pdf: MakePdf) -> None:
    not_a_folder = tmp_path / "store.txt"
    not_a_folder.write_text("a file")
    result = shared("--store", str(not_a_folder), "record", "attach", "1", str(make_pdf()))
    assert_refused(result, 1, f"The file store {not_a_folder} is not a folder", "--store")
    assert not_a_folder.read_text() == "a file"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write in any folder"
)
def test_a_store_this_user_may_not_write_in_is_refused(
    shared: Cli, share: Path, make_pdf: MakePdf
) -> None:
    store = share / "files"
    store.chmod(0o500)
    try:
        result = shared(
            "--store", str(store), "record", "add", "lab", "L", "--file", str(make_pdf())
        )
        assert_refused(result, 1, f"You may not write in the file store folder {store}")
        assert in_store(store) == []
        shared.ok("--store", str(store), "verify")  # reading is enough for verify
    finally:
        store.chmod(0o700)


def test_init_does_not_make_a_missing_share(cli: Cli, tmp_path: Path, home: Path) -> None:
    """The parent of the store is missing: most likely a shared folder not mounted. init
    refuses rather than make a local folder that would hide the share."""
    store = tmp_path / "unmounted" / "files"
    result = cli("--store", str(store), "init")
    assert_refused(result, 1, f"The folder {store.parent} that should hold the file store")
    assert not store.parent.exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_init_keeps_the_permissions_of_an_existing_store(cli: Cli, share: Path) -> None:
    """A team's folder, set up by whoever manages the share, keeps its mode: init and every
    command after it leave it as it is."""
    store = share / "files"
    store.mkdir()
    store.chmod(0o770)
    cli.ok("--store", str(store), "init", "--name", "Ana Souza", "--born", "1964-04-12")
    cli.ok("--store", str(store), "doctor", "list")
    assert mode(store) == 0o770


def test_db_status_says_where_everything_is(shared: Cli, share: Path, home: Path) -> None:
    store = share / "files"
    data = as_json(shared.ok("--store", str(store), "db", "status", "--json"))
    assert (data["home"], data["store"], data["store_problem"]) == (str(home), str(store), None)
    assert "password" not in data["database"]
    lines = shared.ok("--store", str(store), "db", "status").stdout.splitlines()
    assert lines[:3] == [f"Binder:  {home}", f"Database: {data['database']}", f"Store:   {store}"]
    store.rmdir()
    missing = shared.ok("--store", str(store), "db", "status")
    assert missing.stdout.splitlines()[2] == f"Store:   {store} (not usable, see below)"
    assert "does not exist" in missing.stderr
    data = as_json(shared.ok("--store", str(store), "db", "status", "--json"))
    assert "does not exist" in data["store_problem"]


def test_help_names_the_option_and_its_variable(cli: Cli) -> None:
    text = cli.ok("--help").stdout
    assert "--store" in text and "CAREBINDER_STORE" in text


@pytest.mark.sqlite_only(FILE_BACKUP)
def test_backup_takes_the_files_from_the_chosen_store(
    shared: Cli, share: Path, make_pdf: MakePdf, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.STORE_ENV, str(share / "files"))
    shared.ok("record", "add", "lab", "Labs", "--file", str(make_pdf(pages=2)))
    archive = tmp_path / "binder.cbk"
    result = shared.ok("backup", "-o", str(archive))
    assert "1 file" in result.stderr + result.stdout
    # Restore rebuilds a whole binder (database and files/) in an empty home, so it refuses
    # a chosen store, saying how to get there.
    target = tmp_path / "restored"
    refused = shared("--home", str(target), "restore", str(archive))
    assert_refused(refused, 1, "leave out --store")
    assert not target.exists()
    monkeypatch.delenv(config.STORE_ENV)
    shared.ok("--home", str(target), "restore", str(archive))
    assert [p.read_bytes() for p in blob_files(target)] == [
        p.read_bytes() for p in in_store(share / "files")
    ]
    # Inside the store is no place for the backup either.
    inside = share / "files" / "binder.cbk"
    assert_refused(
        shared("--store", str(share / "files"), "backup", "-o", str(inside)), 1, "outside"
    )


@pytest.mark.sqlite_only(FILE_BACKUP)
def test_backup_refuses_a_missing_store(shared: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "unmounted"
    archive = tmp_path / "binder.cbk"
    assert_refused(
        shared("--store", str(missing), "backup", "-o", str(archive)), 1, "does not exist"
    )
    assert not archive.exists()
