"""`verify.report`: what a report may say, and its JSON document."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import Engine

from carebinder import verify
from carebinder.verify.database import SQLITE_CHECKS
from tests.verify.verifykit import (
    Binder,
    MakeFile,
    flip_bit,
    new_blob,
    only,
    rewrite,
    run,
)


def test_no_patient_data_in_any_problem(
    engine: Engine, binder: Binder, make_file: MakeFile
) -> None:
    rewrite(binder.files[0].path, flip_bit)
    rewrite(binder.files[1].path, lambda c: c[:10])
    binder.files[2].path.unlink()
    new_blob(binder, make_file)
    (binder.store.root / ".tmp-1-abc").write_bytes(b"x")
    binder.home.chmod(0o755)
    report = run(engine, binder)
    assert len(report.problems) == 6
    document = json.dumps(verify.to_json(report), ensure_ascii=False)
    for secret in ("Ana", "Souza", "Bob", "Lee", "biopsy", "1964", "carcinoma", str(binder.home)):
        assert secret not in document, secret


def test_odd_names_are_escaped(engine: Engine, binder: Binder) -> None:
    odd = os.fsencode(binder.store.root) + b"/bad\x1b[31m\xff"
    Path(os.fsdecode(odd)).write_bytes(b"x")
    problem = only(run(engine, binder), "stray_file")
    assert problem.path == "files/bad\\x1b[31m\\xff"
    json.dumps(verify.to_json(run(engine, binder)))  # no lone surrogates


def test_json_document_is_stable(engine: Engine, binder: Binder, make_file: MakeFile) -> None:
    new_blob(binder, make_file)
    document = verify.to_json(run(engine, binder))
    assert set(document) == {"ok", "checked", "skipped", "problems", "repaired"}
    assert document["skipped"] == ([] if engine.dialect.name == "sqlite" else list(SQLITE_CHECKS))
    assert document["ok"] is False
    assert set(document["checked"]) == {"records", "files", "blobs", "bytes", "in_progress"}
    [problem] = document["problems"]
    assert set(problem) == {
        "kind",
        "message",
        "fixable",
        "path",
        "patient",
        "record",
        "file",
        "table",
        "row",
        "detail",
    }
    assert problem["kind"] == "orphan_blob"
    assert problem["path"].startswith("files/")
