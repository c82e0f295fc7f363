"""Column shapes shared by the models, declared once."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Annotated

from sqlalchemy import DateTime, Dialect, Enum, String, Text, TypeDecorator, func
from sqlalchemy.orm import mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC.

    SQLite has no time-zone type, so the value is stored naive in UTC and handed back
    aware; PostgreSQL gets `timestamp with time zone`. The same Python value either way.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("carebinder stores only time-zone-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def choice(enum_class: type[enum.Enum], name: str) -> Enum:
    """A portable enum: VARCHAR plus a named CHECK constraint, storing the `.value`s."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(str(m.value)) for m in enum_class),
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


Name = Annotated[str, mapped_column(String(200))]
ShortText = Annotated[str | None, mapped_column(String(200))]
LongText = Annotated[str | None, mapped_column(Text)]
# A T, N or M category as the doctor wrote it, without the c/p prefix: "T2", "N1mi", "M0".
TNM = Annotated[str | None, mapped_column(String(20))]
Timestamp = Annotated[
    datetime,
    mapped_column(UTCDateTime(), default=utcnow, server_default=func.current_timestamp()),
]

__all__ = ["TNM", "LongText", "Name", "ShortText", "Timestamp", "UTCDateTime", "choice", "utcnow"]
