"""`carebinder record add|list|show|edit|remove|attach|detach`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.cliutil import (
    FILE_KEYS,
    RECORD_KEYS,
    as_json,
    assert_keys,
    assert_refused,
    snapshot,
)
from tests.conftest import Cli, blob_files

MakeFile = Callable[[str, bytes], Path]
MakePdf = Callable[..., Path]


@pytest.fixture
def filed(binder: Cli, make_pdf: MakePdf) -> Cli:
    """Doctor #1; record #1 (pathology, one 2-page PDF as file #1); record #2 (imaging)."""
    binder.ok("doctor", "add", "Dr. Wei Chen", "--institution", "Mercy Hospital")
    binder.ok(
        "record",
        "add",
        "pathology",
        "Core biopsy",
        "--date",
        "2026-10-02",
        "--doctor",
        "1",
        "--file",
        str(make_pdf("pathology.pdf", pages=2)),
    )
    binder.ok("record", "add", "imaging", "Mammogram", "--date", "2026-09-20")
    return binder


# --- happy paths --------------------------------------------------------------------------


def test_add_prints_the_new_id(binder: Cli) -> None:
    result = binder.ok("record", "add", "lab", "CBC")
    assert result.stdout == "Added record #1: CBC\n"
    assert result.stderr == ""


def test_add_with_files_counts_them(binder: Cli, make_pdf: MakePdf, home: Path) -> None:
    result = binder.ok(
        "record",
        "add",
        "pathology",
        "Biopsy",
        "--file",
        str(make_pdf("a.pdf")),
        "--file",
        str(make_pdf("b.pdf", pages=3)),
    )
    assert result.stdout == "Added record #1: Biopsy (2 files)\n"
    assert result.stderr == ""
    assert len(blob_files(home)) == 2


def test_add_json_has_every_fact(binder: Cli, make_pdf: MakePdf) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen", "--institution", "Mercy Hospital")
    data = as_json(
        binder.ok(
            "record",
            "add",
            "pathology",
            "Core biopsy",
            "--date",
            "2026-10-02",
            "--doctor",
            "1",
            "--notes",
            "ER+ PR+ HER2-",
            "--file",
            str(make_pdf("pathology.pdf", pages=2)),
            "--json",
        )
    )
    assert_keys(data, RECORD_KEYS)
    assert data["kind"] == "pathology"
    assert data["title"] == "Core biopsy"
    assert data["date"] == "2026-10-02"
    assert data["doctor"] == 1
    assert data["institution"] == "Mercy Hospital"  # taken from the doctor when not given
    assert data["notes"] == "ER+ PR+ HER2-"
    (file,) = data["files"]
    assert_keys(file, FILE_KEYS)
    assert file["name"] == "pathology.pdf"
    assert file["media_type"] == "application/pdf"
    assert file["page_count"] == 2
    assert file["size"] > 0
    assert len(file["sha256"]) == 64
    assert file["unreadable"] is None


def test_list_table_oldest_first(filed: Cli) -> None:
    result = filed.ok("record", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "DATE", "KIND", "TITLE", "SOURCE", "FILES"]
    assert lines[1].split()[:3] == ["2", "2026-09-20", "imaging"]
    assert lines[2].split()[:3] == ["1", "2026-10-02", "pathology"]
    assert "Dr. Wei Chen, Mercy Hospital" in lines[2]


def test_list_json_and_kind_filter(filed: Cli) -> None:
    rows = as_json(filed.ok("record", "list", "--json"))
    assert [r["id"] for r in rows] == [2, 1]
    for row in rows:
        assert_keys(row, RECORD_KEYS)
    only = as_json(filed.ok("record", "list", "--kind", "pathology", "--json"))
    assert [r["id"] for r in only] == [1]


def test_list_when_empty(binder: Cli) -> None:
    result = binder.ok("record", "list")
    assert result.stdout == ""
    assert "No records yet" in result.stderr


def test_show_human_lists_files(filed: Cli) -> None:
    result = filed.ok("record", "show", "1")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "Record: #1 Core biopsy",
        "Kind:   pathology",
        "Date:   2026-10-02",
        "Source: Dr. Wei Chen, Mercy Hospital",
    ]
    assert lines[5].split() == ["FILE", "NAME", "TYPE", "SIZE", "PAGES", "STATUS"]
    assert lines[6].split()[:3] == ["1", "pathology.pdf", "application/pdf"]
    assert lines[6].split()[-2:] == ["2", "ok"]


def test_show_without_files_hints_on_stderr(filed: Cli) -> None:
    result = filed.ok("record", "show", "2")
    assert "Record: #2 Mammogram" in result.stdout
    assert result.stderr == "No files attached. Attach some: carebinder record attach 2 PATH\n"


def test_show_json(filed: Cli) -> None:
    data = as_json(filed.ok("record", "show", "1", "--json"))
    assert_keys(data, RECORD_KEYS)
    assert [f["name"] for f in data["files"]] == ["pathology.pdf"]


def test_edit_changes_and_clears_fields(filed: Cli) -> None:
    result = filed.ok("record", "edit", "2", "--title", "Diagnostic mammogram")
    assert result.stdout == "Updated record #2: Diagnostic mammogram\n"
    assert result.stderr == ""
    data = as_json(
        filed.ok(
            "record",
            "edit",
            "2",
            "--kind",
            "surgery",
            "--date",
            "",
            "--doctor",
            "1",
            "--institution",
            "Mass General",
            "--notes",
            "left side",
            "--json",
        )
    )
    assert data["kind"] == "surgery"
    assert data["date"] is None  # "" clears
    assert data["doctor"] == 1
    assert data["institution"] == "Mass General"
    assert data["notes"] == "left side"
    assert data["title"] == "Diagnostic mammogram"
    assert as_json(filed.ok("record", "show", "2", "--json")) == data


def test_attach_stores_the_same_bytes_once(filed: Cli, make_pdf: MakePdf, home: Path) -> None:
    scan = make_pdf("scan.pdf")
    result = filed.ok("record", "attach", "2", str(scan))
    assert result.stdout == "Attached file #2 to record #2: scan.pdf\n"
    assert result.stderr == ""
    added = as_json(filed.ok("record", "attach", "1", str(scan), "--json"))
    assert len(added) == 1
    assert_keys(added[0], FILE_KEYS)
    assert added[0]["id"] == 3
    assert len(blob_files(home)) == 2  # pathology.pdf and scan.pdf, stored once each


def test_attach_damaged_pdf_warns_on_stderr_and_keeps_json_pure(
    filed: Cli, make_file: MakeFile
) -> None:
    broken = make_file("broken.pdf", b"%PDF-1.4 this is not really a pdf")
    result = filed.ok("record", "attach", "2", str(broken), "--json")
    (file,) = as_json(result, quiet=False)
    assert file["unreadable"]
    assert file["page_count"] is None
    assert result.stderr.startswith("Warning: broken.pdf was stored but is unreadable")
    assert "bring separately" in result.stderr
    assert result.stderr.count("\n") == 1


def test_detach_with_yes_releases_the_blob(filed: Cli, home: Path) -> None:
    assert len(blob_files(home)) == 1
    result = filed.ok("record", "detach", "1", "1", "--yes")
    assert result.stdout == ""
    assert result.stderr == "Detached file #1 from record #1.\n"
    assert as_json(filed.ok("record", "show", "1", "--json"))["files"] == []
    assert blob_files(home) == []


def test_remove_with_yes_releases_its_blobs(filed: Cli, home: Path) -> None:
    result = filed.ok("record", "remove", "1", "--yes")
    assert result.stdout == ""
    assert result.stderr == "Removed record #1.\n"
    assert [r["id"] for r in as_json(filed.ok("record", "list", "--json"))] == [2]
    assert blob_files(home) == []


@pytest.mark.parametrize("command", ["remove", "detach"])
def test_a_folder_in_a_blobs_place_does_not_undo_a_removal(
    filed: Cli, make_pdf: MakePdf, home: Path, command: str
) -> None:
    """The rows go, and the other blobs with them; what cannot be removed from the store
    stays for `verify` to name. Before, the command said "Nothing was saved" (after its
    commit) and left the record's other blobs behind."""
    filed.ok("record", "attach", "1", str(make_pdf("second.pdf", pages=3)))
    shas = [f["sha256"] for f in as_json(filed.ok("record", "show", "1", "--json"))["files"]]
    first, second = (home / "files" / sha[:2] / sha[2:] for sha in shas)
    first.chmod(0o600)
    first.unlink()
    first.mkdir()
    args = ("record", "detach", "1", "1") if command == "detach" else ("record", "remove", "1")
    result = filed.ok(*args, "--yes")
    assert result.stderr == (
        "Detached file #1 from record #1.\n" if command == "detach" else "Removed record #1.\n"
    )
    files = [] if command == "remove" else [2]
    left = [r for r in as_json(filed.ok("record", "list", "--json")) if r["id"] == 1]
    assert [f["id"] for r in left for f in r["files"]] == files
    assert first.is_dir()
    assert second.exists() is (command == "detach")
    verify = filed("verify")
    assert verify.exit_code == 1
    assert verify.stdout == (
        f"files/{first.parent.name}/{first.name} does not belong in the file store. Move it"
        " out of the binder folder (keep it until every other problem is solved).\n"
    )


def test_remove_keeps_a_blob_another_record_uses(
    binder: Cli, make_pdf: MakePdf, home: Path
) -> None:
    pdf = str(make_pdf())
    binder.ok("record", "add", "lab", "Copy one", "--file", pdf)
    binder.ok("record", "add", "lab", "Copy two", "--file", pdf)
    binder.ok("record", "remove", "1", "--yes")
    assert len(blob_files(home)) == 1
    binder.ok("record", "remove", "2", "--yes")
    assert blob_files(home) == []


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("record", "add", "xray", "Chest"), 2, ("kind", "xray")),
        (("record", "add", "lab", ""), 1, ("TITLE", "empty")),
        (("record", "add", "lab", "CB\rC"), 1, ("TITLE", "control")),
        (("record", "add", "lab", "CBC", "--date", "2026-13-45"), 1, ("--date", "2026-13-45")),
        (("record", "add", "lab", "CBC", "--date", "next week"), 1, ("--date", "next week")),
        (("record", "add", "lab", "CBC", "--doctor", "99"), 1, ("doctor #99",)),
        (("record", "add", "lab", "CBC", "--pages", "2"), 2, ("--pages",)),
        (("record", "list", "--kind", "xray"), 2, ("--kind", "xray")),
        (("record", "show", "99"), 1, ("record #99", "carebinder record list")),
        (("record", "edit", "99", "--title", "X"), 1, ("record #99",)),
        (("record", "edit", "1", "--title", ""), 1, ("--title", "empty")),
        (("record", "edit", "1", "--date", "2026-13-45"), 1, ("--date", "2026-13-45")),
        (("record", "edit", "1", "--kind", "xray"), 2, ("--kind",)),
        (("record", "edit", "1", "--doctor", "99"), 1, ("doctor #99",)),
        (("record", "remove", "99", "--yes"), 1, ("record #99",)),
        (("record", "remove", "1"), 1, ("--yes", "terminal", "record #1")),
        (("record", "detach", "99", "1", "--yes"), 1, ("record #99",)),
        (("record", "detach", "2", "1", "--yes"), 1, ("file #1", "record show 2")),
        (("record", "detach", "1", "99", "--yes"), 1, ("file #99",)),
        (("record", "detach", "1", "1"), 1, ("--yes", "terminal")),
        (("record", "attach", "1"), 2, ("paths",)),
    ],
)
def test_refusals_change_nothing(
    filed: Cli, home: Path, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(filed, "record")
    blobs = blob_files(home)
    assert_refused(filed(*args), code, *needles)
    assert snapshot(filed, "record") == before
    assert blob_files(home) == blobs


def test_attach_to_unknown_record(filed: Cli, make_pdf: MakePdf, home: Path) -> None:
    before, blobs = snapshot(filed, "record"), blob_files(home)
    assert_refused(filed("record", "attach", "99", str(make_pdf("new.pdf"))), 1, "record #99")
    assert snapshot(filed, "record") == before
    assert blob_files(home) == blobs


@pytest.mark.parametrize("problem", ["missing", "folder", "empty"])
@pytest.mark.parametrize("command", ["attach", "add"])
def test_unusable_files_are_refused_and_nothing_is_stored(
    filed: Cli, make_pdf: MakePdf, make_file: MakeFile, home: Path, problem: str, command: str
) -> None:
    if problem == "missing":
        path, needle = make_pdf("here.pdf").with_name("gone.pdf"), "no such file"
    elif problem == "folder":
        path, needle = make_pdf("here.pdf").parent, "folder"
    else:
        path, needle = make_file("empty.pdf", b""), "empty"
    # A good new file goes first, so all-or-nothing is checked too.
    good = make_pdf("new-scan.pdf", pages=3)
    if command == "attach":
        args: tuple[str, ...] = ("record", "attach", "2", str(good), str(path))
    else:
        args = ("record", "add", "lab", "New", "--file", str(good), "--file", str(path))
    before, blobs = snapshot(filed, "record"), blob_files(home)
    assert_refused(filed(*args), 1, f"Cannot add {path}", needle)
    assert snapshot(filed, "record") == before
    assert blob_files(home) == blobs
