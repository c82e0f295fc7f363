"""A FHIR file taken into the binder, start to end: read, its attachments decoded and
stored, then the bundle imported in one write transaction.

The slow part (decoding, storing and reading the files) happens before the write
transaction starts, so other commands go on writing meanwhile; the blobs stored for this
import are taken back if it then fails.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from carebinder import config
from carebinder.db import open_binder, session_scope
from carebinder.fhir import read
from carebinder.fhir.attachments import Decoded, decode_all
from carebinder.fhir.context import Summary
from carebinder.fhir.importer import import_bundle
from carebinder.services import files
from carebinder.store import Store


def import_file(
    settings: config.Settings,
    path: Path,
    *,
    command: str | None = None,
    storing: Callable[[int, str], None] | None = None,
) -> Summary:
    """Import the FHIR R4 bundle at `path` into the binder of `settings`; `command` names
    the change in the audit trail. `storing(count, bundle name)` is called before the
    bundle's files are stored, when it holds any."""
    bundle = read.load(path)
    with tempfile.TemporaryDirectory(prefix="carebinder-import-") as folder:
        decoded = decode_all(bundle, Path(folder))
        wanted = [(key, item.path) for key, item in decoded.items() if isinstance(item, Decoded)]
        problems = {
            key: item.reason for key, item in decoded.items() if not isinstance(item, Decoded)
        }
        if wanted and storing is not None:
            storing(len(wanted), bundle.name)
        engine = open_binder(settings)  # refuses before anything is stored when there is no binder
        store = Store(settings.store_dir)
        created: list[str] = []
        try:
            store.check(write=True)
            prepared = files.prepare(store, [file for _, file in wanted], created.append)
            by_attachment = {key: item for (key, _), item in zip(wanted, prepared, strict=True)}
            with session_scope(engine, write=True, command=command) as session:
                return import_bundle(session, store, bundle, by_attachment, problems)
        except BaseException:
            if created:
                files.discard(engine, store, created)
            raise
        finally:
            engine.dispose()
