"""The one family of errors carebinder raises; the CLI turns them into messages and exit codes.

Messages are shown to patients: plain language, one line, and say what to do next.
They never contain patient data the user did not type for that command.
"""

from __future__ import annotations

import errno

# What a command exits with (DESIGN.md): 0 success, 1 a refused operation (not found,
# invalid data, conflict; also `verify` finding problems), 2 a usage error (Typer's own).
EXIT_REFUSED = 1


class CarebinderError(Exception):
    """A refused operation: the command prints its message and exits with EXIT_REFUSED."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(CarebinderError):
    """An id that is not in this patient's binder."""

    def __init__(
        self, noun: str, ident: object, hint: str | None = None, *, message: str | None = None
    ) -> None:
        self.noun = noun
        self.ident = ident
        super().__init__(
            message
            or f"No {noun} #{ident} in this binder. " + (hint or f"See `carebinder {noun} list`.")
        )


# Where a message names the field it is about: each face puts its own word for the field
# there (a flag on the command line, a label in the browser). Plain text, not a format
# string: a message may quote what the person typed, braces and all.
FIELD = "{field}"


class InvalidInput(CarebinderError):
    """A value that cannot be accepted (a bad date, an empty name, …).

    Services name the value by its domain name (`field`: "institution", "records_sent_on"),
    never by a command-line flag, and write FIELD where the message names it
    ("{field} is too long (…)"). `message` has the domain name there; `naming(word)`, the
    face's own word.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.template = message
        super().__init__(self.naming(field.replace("_", " ")) if field else message)

    def naming(self, word: str) -> str:
        """The message, with `word` where it names the field."""
        return self.template.replace(FIELD, word)


class Conflict(CarebinderError):
    """The operation would break a rule of the binder (e.g. removing a doctor with opinions)."""


class FileRefused(CarebinderError):
    """A file that cannot be added to the store (missing, a folder, unreadable, empty)."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"Cannot add {path}: {reason}")


class StoreError(CarebinderError):
    """The binder's own disk failed while storing a file (full, or an I/O error)."""

    def __init__(self, error: OSError) -> None:
        self.errno = error.errno
        if error.errno == errno.ENOSPC:
            message = "The disk is full: the file was not stored. Free some space and try again."
        else:
            reason = error.strerror or type(error).__name__
            message = (
                f"The disk holding the binder failed ({reason}): the file was not stored."
                " Nothing was changed. Check the disk, then try again."
            )
        super().__init__(message)


class Unprintable(CarebinderError):
    """A file (or one of its pages) the packet cannot print; the message says why, as a
    phrase that follows the file's name ("page 3 is too small to print (0.01 × 0.01 in)")."""


class BlobUnusable(CarebinderError):
    """A stored file that cannot be used: missing from the store, not a file there,
    unreadable, or damaged (its bytes no longer match the SHA-256 that names them).

    `kind` is the name `carebinder verify` gives the same problem (`blob_damaged`…);
    `reason` completes "it …" in a one-line message.
    """

    def __init__(self, kind: str, reason: str, sha256: str = "") -> None:
        self.kind = kind
        self.reason = reason
        self.sha256 = sha256
        super().__init__(f"A stored file {reason}. Run `carebinder verify`.")


class SearchUnavailable(CarebinderError):
    """The binder's database has no search backend."""


class StoreUnavailable(CarebinderError):
    """The file store folder is missing, not a folder, or not open to this user."""


class BinderMissing(CarebinderError):
    """There is no binder yet at the chosen home or database."""


class DatabaseUnreachable(CarebinderError):
    """The database (a server, or a file SQLite cannot open) could not be reached."""


class SchemaTooNew(CarebinderError):
    """The binder was written by a newer carebinder."""


class ArchiveRejected(CarebinderError):
    """A backup file that cannot be restored: damaged, forged, or not a backup at all."""


class NoPatient(CarebinderError):
    """No patient is selected and none can be chosen automatically."""


class Refused(CarebinderError):
    """The user declined, or confirmation could not be asked."""
