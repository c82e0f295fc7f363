"""The manifest: paths, sizes and checksums that are a backup's own, in the one form
`Manifest.encode` writes, within the limits a restore accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backup.forging import (
    DB,
    EVIL,
    OTHER,
    F,
    Forgery,
    Parts,
    assert_refused,
    blob,
    blob_entry,
    body,
    db,
    db_entry,
    entry,
    forged,
    listed,
    listing,
    regular,
    seal,
    signed,
    standard,
    tar,
    with_manifest,
)
from tests.backup.kit import elsewhere, refused, sha256
from tests.conftest import FILE_BACKUP

pytestmark = pytest.mark.sqlite_only(FILE_BACKUP)


FORGERIES = [
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
        "blob under another name",
        lambda p: tar(
            listing(db_entry(p), blob_entry(p, path=OTHER)), db(p), regular(OTHER, p.blob)
        ),
        "does not match a file's name",
    ),
    # the manifest itself
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
]


@forged(FORGERIES)
def test_a_forged_manifest_is_refused_before_any_write(
    parts: Parts, tmp_path: Path, forgery: Forgery, password: str | None
) -> None:
    assert_refused(parts, tmp_path, forgery, password)


@pytest.mark.parametrize(
    ("limit", "value", "says"),
    [
        ("carebinder.backup.restore.MAX_MANIFEST", 64, "too large"),
        ("carebinder.backup.manifest.MAX_MEMBERS", 1, "expected form"),
    ],
)
def test_limits_on_the_manifest(
    parts: Parts,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    limit: str,
    value: int,
    says: str,
) -> None:
    monkeypatch.setattr(limit, value)  # where the limit is read
    archive = seal(tmp_path / "forged.backup", tar(*standard(parts)), None)
    assert says in refused(elsewhere(tmp_path), archive).message
