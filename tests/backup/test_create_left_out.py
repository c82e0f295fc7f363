"""Backup with one bad blob: that file is left out and named, the backup holds everything
else, and its manifest says what it lacks, so that restore says it too.

Before, a damaged blob made `backup` refuse to write anything (the binder had no backup
at all), an unreadable one failed with a bare "Permission denied", and a missing one was
counted in a warning but named nowhere, in the backup least of all.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from carebinder import config, verify
from carebinder.backup.create import create_backup
from carebinder.backup.manifest import OMITTED_FORMAT
from carebinder.backup.restore import restore_backup
from carebinder.backup.seal import FORMAT, SealedReader, SealedWriter
from carebinder.db import open_binder
from carebinder.errors import CarebinderError
from tests.backup.kit import MODES, made_with_cli
from tests.blobdamage import DAMAGE, WAYS, damage
from tests.conftest import FILE_BACKUP, blob_files, write_pdf

pytestmark = pytest.mark.sqlite_only(FILE_BACKUP)


# Small chunks and a quick key derivation: tests/backup/conftest.py.


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three records with a file each: biopsy.pdf (file #1), scan.pdf (#2), notes.txt (#3)."""
    root = tmp_path_factory.mktemp("template")
    home = root / "home"
    notes = root / "notes.txt"
    notes.write_bytes(b"Consultation notes\n" * 40)
    commands = (
        ("init", "--name", "Ana Souza", "--born", "1964-04-12"),
        ("record", "add", "pathology", "Biopsy", "--file", str(write_pdf(root / "biopsy.pdf"))),
        ("record", "add", "imaging", "CT", "--file", str(write_pdf(root / "scan.pdf", 2))),
        ("record", "add", "consultation", "Visit", "--file", str(notes)),
    )
    return made_with_cli(home, commands)


@pytest.fixture
def filled(template: Path, settings: config.Settings) -> config.Settings:
    shutil.copytree(template, settings.home, symlinks=True)
    return settings


def blob_of(settings: config.Settings, file: int) -> Path:
    engine = open_binder(settings)
    try:
        with engine.connect() as conn:
            (sha,) = conn.exec_driver_sql("SELECT sha256 FROM file WHERE id = ?", (file,)).one()
    finally:
        engine.dispose()
    return settings.store_dir / sha[:2] / sha[2:]


def rel(settings: config.Settings, blob: Path) -> str:
    return blob.relative_to(settings.home).as_posix()


def manifest_of(archive: Path, password: str | None = None) -> dict[str, object]:
    with archive.open("rb") as raw:
        payload = SealedReader(raw, password).read()
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        data: dict[str, object] = json.loads(member.read())
    return data


@MODES
@WAYS
def test_one_bad_blob_is_left_out_and_the_rest_backed_up(
    filled: config.Settings, tmp_path: Path, how: str, password: str | None
) -> None:
    bad = blob_of(filled, 2)
    where = rel(filled, bad)
    damage(bad, how)
    archive = tmp_path / "binder.backup"
    made = create_backup(filled, archive, password=password)

    (item,) = made.left_out
    assert (item.name, item.file, item.record, item.kind) == ("scan.pdf", 2, 2, DAMAGE[how])
    assert item.message.startswith(
        f"Left out scan.pdf (file #2 of record #2): it {item.reason[3:]}"
    )
    assert made.files == 2
    manifest = manifest_of(archive, password)
    assert manifest["format"] == OMITTED_FORMAT
    assert manifest["omitted"] == [{"path": where, "reason": DAMAGE[how]}]

    target = config.resolve(home=tmp_path / "restored", environ={})
    restored = restore_backup(target, archive, password=password)
    assert (restored.files, restored.omitted) == (2, ((where, DAMAGE[how]),))
    kept = {blob_of(filled, n).read_bytes() for n in (1, 3)}
    assert {p.read_bytes() for p in blob_files(target.home)} == kept
    engine = open_binder(target)
    try:
        problems = verify.check(engine, target, min_age=0).problems
    finally:
        engine.dispose()
    assert [(p.kind, p.file) for p in problems] == [("blob_missing", 2)]


def test_every_bad_blob_is_found_though_copying_meets_only_the_first(
    filled: config.Settings, tmp_path: Path
) -> None:
    """The manifest comes first in the archive: a blob found damaged while copying means
    writing it again, after checking every blob once, so all of them are named."""
    for file in (1, 3):
        damage(blob_of(filled, file), "flipped bit")
    made = create_backup(filled, tmp_path / "binder.backup")
    assert [(item.file, item.kind) for item in made.left_out] == [
        (1, "blob_damaged"),
        (3, "blob_damaged"),
    ]
    assert made.files == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binder.backup", "home"]


def test_a_damaged_blob_no_record_uses_is_named_by_its_place(
    filled: config.Settings, tmp_path: Path
) -> None:
    orphan = b"a blob no record lists any more"
    digest = hashlib.sha256(orphan).hexdigest()
    path = filled.store_dir / digest[:2] / digest[2:]
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(orphan[:-1] + b"!")
    made = create_backup(filled, tmp_path / "binder.backup")
    (item,) = made.left_out
    assert (item.name, item.file, item.record) == (rel(filled, path), None, None)
    assert item.message.startswith(f"Left out {rel(filled, path)}: it is damaged")
    assert made.files == 3


def test_without_a_bad_blob_the_manifest_keeps_the_first_format(
    filled: config.Settings, tmp_path: Path
) -> None:
    """So that an older carebinder still restores every backup that lacks nothing."""
    archive = tmp_path / "binder.backup"
    assert create_backup(filled, archive).left_out == ()
    manifest = manifest_of(archive)
    assert manifest["format"] == FORMAT == 1
    assert set(manifest) == {"format", "schema", "created", "members", "sha256"}


# --- the manifest's list of what a backup lacks, forged -----------------------------------------


Body = dict[str, Any]


def forged(archive: Path, change: Callable[[Body], None], target: Path) -> Path:
    """`archive` (plain) with its manifest changed by `change`, signed again."""
    with archive.open("rb") as raw:
        payload = SealedReader(raw).read()
    with tarfile.open(fileobj=io.BytesIO(payload)) as tar:
        members = [(info, tar.extractfile(info).read()) for info in tar]  # type: ignore[union-attr]
    body = {k: v for k, v in json.loads(members[0][1]).items() if k != "sha256"}
    change(body)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    signed = {**body, "sha256": hashlib.sha256(canonical).hexdigest()}
    manifest = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        members[0][0].size = len(manifest)
        tar.addfile(members[0][0], io.BytesIO(manifest))
        for info, data in members[1:]:
            tar.addfile(info, io.BytesIO(data))
    with target.open("wb") as raw:
        writer = SealedWriter(raw)
        writer.write(buffer.getvalue())
        writer.finish()
    return target


ELSEWHERE = "files/00/" + "0" * 62


def listing(*items: object) -> Callable[[Body], None]:
    return lambda body: body.update(omitted=list(items))


def one(path: object = ELSEWHERE, reason: object = "blob_missing", **extra: object) -> Body:
    return {"path": path, "reason": reason, **extra}


OMITTED_FORGERIES: dict[str, tuple[Callable[[Body], None], str]] = {
    "format 2 without a list": (lambda body: body.pop("omitted"), "expected form"),
    "format 1 with a list": (lambda body: body.update(format=1), "expected form"),
    "an empty list": (listing(), "expected form"),
    "not a list": (lambda body: body.update(omitted=5), "expected form"),
    "an unknown reason": (listing(one(reason="stolen")), "expected form"),
    "a reason that is not text": (listing(one(reason=["blob_missing"])), "expected form"),
    "an extra key": (listing(one(x=1)), "expected form"),
    "the database": (listing(one("binder.db")), "unexpected file"),
    "a path outside the store": (listing(one("../x")), "unexpected file"),
    "a path that is not text": (listing(one({"a": 1})), "unexpected file"),
    "a blob the backup holds": (
        lambda body: body.update(omitted=[one(body["members"][1]["path"])]),
        "unexpected file",
    ),
    "the same blob twice": (listing(one(), one(reason="blob_damaged")), "twice"),
}


@pytest.mark.parametrize("name", list(OMITTED_FORGERIES))
def test_a_forged_list_of_what_a_backup_lacks_is_refused(
    filled: config.Settings, tmp_path: Path, name: str
) -> None:
    damage(blob_of(filled, 2), "missing")
    archive = tmp_path / "real.backup"
    create_backup(filled, archive)
    change, says = OMITTED_FORGERIES[name]
    fake = forged(archive, change, tmp_path / "forged.backup")
    target = config.resolve(home=tmp_path / "restored", environ={})
    with pytest.raises(CarebinderError) as error:
        restore_backup(target, fake)
    assert says in error.value.message
    assert not target.home.exists()


def test_the_forging_kit_leaves_a_true_list_restorable(
    filled: config.Settings, tmp_path: Path
) -> None:
    damage(blob_of(filled, 2), "missing")
    archive = tmp_path / "real.backup"
    create_backup(filled, archive)
    same = forged(archive, lambda body: None, tmp_path / "same.backup")
    target = config.resolve(home=tmp_path / "restored", environ={})
    assert restore_backup(target, same).omitted == (
        (rel(filled, blob_of(filled, 2)), "blob_missing"),
    )
