"""`verify.check`: a healthy binder is ok and counted, and checking changes nothing."""

from __future__ import annotations

from sqlalchemy import Engine

from carebinder import verify
from tests.conftest import blob_files, mode
from tests.verify.verifykit import (
    Binder,
    MakeFile,
    new_blob,
    run,
)

# --- a healthy binder -----------------------------------------------------------------------


def test_a_healthy_binder_is_ok_and_counted(engine: Engine, binder: Binder) -> None:
    report = run(engine, binder)
    assert report.ok, report.problems
    assert report.problems == ()
    total = sum(a.path.stat().st_size for a in binder.files)
    assert report.checked == verify.Checked(records=3, files=4, blobs=4, bytes=total, in_progress=0)


def test_check_changes_nothing(engine: Engine, binder: Binder, make_file: MakeFile) -> None:
    new_blob(binder, make_file)
    binder.home.chmod(0o755)
    before = {p: (p.read_bytes(), mode(p)) for p in blob_files(binder.home)}
    assert not run(engine, binder).ok
    assert {p: (p.read_bytes(), mode(p)) for p in blob_files(binder.home)} == before
    assert mode(binder.home) == 0o755
