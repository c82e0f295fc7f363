"""`carebinder backup` and `carebinder restore`: the whole binder in one file, and back."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from carebinder.cli.common import App, note, out, report_left_out, state
from carebinder.cli.common import password as ask_password
from carebinder.outfile import check_file
from carebinder.words import human_size, plural

PASSWORD_ENV = "CAREBINDER_BACKUP_PASSWORD"  # noqa: S105 - the variable's name, not a secret
# Why a backup was made without a file, as its list of contents says (verify's names).
WHY = {
    "blob_missing": "missing from the file store",
    "blob_not_a_file": "not a regular file in the store",
    "blob_unreadable": "unreadable",
    "blob_damaged": "damaged",
}


def register(app: App) -> None:
    """Add the command(s) of this module to `app`."""
    app.command("backup")(backup)
    app.command("restore")(restore)


def backup(
    ctx: typer.Context,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the backup (default: carebinder-backup-DATE.cbk in this"
            " folder). Best on another disk.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite the file if it exists.")] = False,
    password: Annotated[
        bool,
        typer.Option(
            "--password",
            help="Encrypt the backup (AES-256). You are asked for the password, which does not"
            f" show on screen; scripts set {PASSWORD_ENV} instead.",
        ),
    ] = False,
) -> None:
    """Save the whole binder, the database and every file, in one backup file.

    A file whose copy is missing, damaged or unreadable is left out and named, and the
    backup records it; everything else is backed up (run `carebinder verify` about it).

    Example: carebinder backup -o /media/usb/binder.cbk --password
    """
    from carebinder.backup import check_backup_source, create_backup
    from carebinder.backup.create import default_name

    settings = state(ctx).settings
    check_backup_source(settings)
    target = check_file(
        out_file or Path.cwd() / default_name(date.today()), force=force, example="binder.cbk"
    )
    secret = ask_password(PASSWORD_ENV, "backup", new=True) if password else None
    result = create_backup(settings, target, password=secret, force=force)
    what = f"the database and {plural(result.files, 'file')}"
    encrypted = ", encrypted" if result.encrypted else ""
    note(f"Backed up the binder: {what} ({human_size(result.size)}{encrypted}).")
    if result.encrypted:
        note("Keep the password somewhere safe: without it, this backup cannot be restored.")
    report_left_out(
        result.left_out,
        "the backup holds everything else, and its list of contents names what it lacks.",
    )
    out(str(result.path))


def restore(
    ctx: typer.Context,
    archive: Annotated[
        Path,
        typer.Argument(help="The backup file to restore.", metavar="FILE", show_default=False),
    ],
) -> None:
    """Put a backup back into an empty home folder. The whole backup is checked first;
    if anything in it is damaged, nothing is written. For an encrypted backup you are asked
    for its password; scripts set CAREBINDER_BACKUP_PASSWORD instead. If the backup was
    made without some files (damaged or missing then), it says which.

    Example: carebinder --home ~/carebinder-restored restore binder.cbk
    """
    from carebinder.backup import check_restore_target, is_encrypted, restore_backup

    settings = state(ctx).settings
    check_restore_target(settings)
    archive = archive.expanduser()
    encrypted = "This backup is encrypted"
    secret = (
        ask_password(PASSWORD_ENV, "backup", new=False, why=encrypted)
        if is_encrypted(archive)
        else None
    )
    result = restore_backup(settings, archive, password=secret)
    if result.upgraded:
        note("The backup came from an older carebinder; the binder was brought up to date.")
    note(f"Restored the binder: the database and {plural(result.files, 'file')}.")
    for path, why in result.omitted:
        note(f"Not restored: {path} ({WHY.get(why, why)} when the backup was made).")
    if result.omitted:
        note(
            f"{plural(len(result.omitted), 'file')} left out when this backup was made (see"
            " above): `carebinder verify` names the records they belong to. Attach the"
            " originals again, or restore them from an older backup."
        )
    out(str(result.home))
