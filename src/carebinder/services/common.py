"""Helpers every service uses: scoped lookups and text checks."""

from __future__ import annotations

import enum
import unicodedata
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from carebinder.errors import FIELD, InvalidInput, NotFound
from carebinder.models import OwnedByPatient

Owned = TypeVar("Owned", bound=OwnedByPatient)

# SQLite integers are signed 64-bit; anything outside cannot be an id.
MAX_ID = 2**63 - 1
SHORT_TEXT = 200
LONG_TEXT = 20_000


def get_scoped(
    session: Session, model: type[Owned], patient_id: int, ident: int, noun: str
) -> Owned:
    """The `model` row `ident` if it belongs to `patient_id`; NotFound otherwise.

    Every lookup of a user-given id goes through here, so one patient's ids can never
    reach another patient's data.
    """
    if not 1 <= ident <= MAX_ID:
        raise NotFound(noun, ident)
    row = session.scalar(
        select(model).where(
            model.id == ident,
            model.patient_id == patient_id,
        )
    )
    if row is None:
        raise NotFound(noun, ident)
    return row


def clean_text(
    value: str | None, field: str, *, required: bool = False, limit: int = SHORT_TEXT
) -> str | None:
    """`value` stripped, or None when blank. Refuses control characters and runaway lengths.
    `field` is the value's domain name, for the message (errors.InvalidInput).

    An empty string clears an optional field (`--phone ""`).
    """
    if value is None:
        if required:
            raise InvalidInput(f"{FIELD} is required.", field=field)
        return None
    text = value.strip()
    if all(unicodedata.category(char) in ("Cf", "Zs") for char in text):
        text = ""  # only invisible characters (e.g. a zero-width space)
    if not text:
        if required:
            raise InvalidInput(f"{FIELD} cannot be empty.", field=field)
        return None
    multiline = limit > SHORT_TEXT
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":  # bytes that are not UTF-8 text, as Python carries them
            raise InvalidInput(
                f"{FIELD} is not valid text (check the terminal's encoding).", field=field
            )
        if category == "Cc" and not (multiline and char in "\n\t"):
            raise InvalidInput(
                f"{FIELD} contains a control character; type plain text.", field=field
            )
    if len(text) > limit:
        raise InvalidInput(
            f"{FIELD} is too long ({len(text):,} characters; at most {limit:,}).", field=field
        )
    return text


def required_text(value: str | None, field: str, *, limit: int = SHORT_TEXT) -> str:
    text = clean_text(value, field, required=True, limit=limit)
    assert text is not None
    return text


def long_text(value: str | None, field: str) -> str | None:
    return clean_text(value, field, limit=LONG_TEXT)


class Keep(enum.Enum):
    """Marks an `edit` argument the user did not give: the field keeps its value."""

    KEEP = "keep"


KEEP = Keep.KEEP


def apply(row: object, **values: object) -> None:
    """Set the attributes whose value is not KEEP."""
    for name, value in values.items():
        if value is not KEEP:
            setattr(row, name, value)


def text_or_keep(value: str | Keep, field: str, *, limit: int = SHORT_TEXT) -> str | Keep | None:
    return value if value is KEEP else clean_text(value, field, limit=limit)


def check_order(
    first: date | None, last: date | None, *, first_field: str, last_field: str
) -> None:
    """Refuse a span that ends before it begins (stopped before started)."""
    if first is not None and last is not None and last < first:
        raise InvalidInput(
            f"{FIELD} ({last.isoformat()}) is before {first_field.replace('_', ' ')}"
            f" ({first.isoformat()}). Check the dates.",
            field=last_field,
        )


def iso(value: date | None) -> str | None:
    """A day as JSON carries it ("2026-12-07"), or None."""
    return value.isoformat() if value is not None else None


def ended_note(statement: str, day: date | None) -> str | None:
    """What both faces say when an entry ended a "none" statement (`statement`: "takes no
    medications"), or None when it ended none."""
    return f"This ends “{statement}” (stated {day.isoformat()})." if day else None


def date_or_keep(value: date | Keep | None, current: date | None) -> date | None:
    """The date an edit leaves: the new one, or the current one when not given."""
    return current if value is KEEP else value
