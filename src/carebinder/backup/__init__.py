"""Backup and restore: the whole binder in one file, checked in full before anything is restored.

A backup file is a short header followed by a sealed stream (`seal`): chunks that each carry
a tag, so a changed byte, a reordered chunk, a truncation or appended bytes are all caught,
and that are encrypted when a password is given. Inside the stream is an uncompressed tar
(`tarstream` reads it): the manifest first (`manifest`), then a snapshot of the database,
then every blob. `create` writes a backup; `restore` checks all of it into a temporary folder
beside the home and only then moves that folder into place.

Only the names the rest of carebinder uses are exported here; the parts are imported from
their own modules (and a test that changes a constant changes it where it is read).
"""

from carebinder.backup.create import BackupResult, check_backup_source, create_backup
from carebinder.backup.restore import (
    RestoreResult,
    check_restore_target,
    is_encrypted,
    restore_backup,
)

__all__ = [
    "BackupResult",
    "RestoreResult",
    "check_backup_source",
    "check_restore_target",
    "create_backup",
    "is_encrypted",
    "restore_backup",
]
