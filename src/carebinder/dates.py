"""Reading the dates and times people type: ISO forms, plus `today` and `tomorrow`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carebinder.errors import FIELD, InvalidInput

DATE_FORM = "YYYY-MM-DD (e.g. 2026-12-03), or 'today'"
DATETIME_FORM = "'YYYY-MM-DD HH:MM' (e.g. '2026-12-03 09:30')"
# A date outside these years is a typing mistake in a medical binder, not a real date.
FIRST_YEAR, LAST_YEAR = 1900, 2199
SHOWN = 40  # characters of a bad value repeated in an error message


def shown(value: str) -> str:
    """`value` quoted for an error message, shortened if long."""
    return repr(value if len(value) <= SHOWN else value[: SHOWN - 1] + "…")


def _plausible(day: date, value: str, field: str) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(
            f"{FIELD}: {shown(value)} is not a plausible date (the year {day.year})."
            f" Use {DATE_FORM}.",
            field=field,
        )


def parse_date(value: str, field: str, *, today: date | None = None) -> date:
    """A date from `value`; `field` names it in the error message (errors.InvalidInput)."""
    today = today or date.today()
    word = value.strip().lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise InvalidInput(
            f"{FIELD}: {shown(value)} is not a date. Use {DATE_FORM}.", field=field
        ) from None
    _plausible(day, value, field)
    return day


def parse_datetime(value: str, field: str, zone: ZoneInfo) -> datetime:
    """An aware datetime from `value`, read in `zone` unless it carries its own offset."""
    text = value.strip()
    word, _, rest = text.partition(" ")
    if word.lower() in ("today", "tomorrow"):
        text = f"{parse_date(word, field).isoformat()} {rest}".strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{FIELD}: {shown(value)} is not a date and time. Use {DATETIME_FORM}.", field=field
        ) from None
    if len(text) <= len("2026-12-03"):
        raise InvalidInput(
            f"{FIELD}: {shown(value)} has no time of day. Use {DATETIME_FORM}.", field=field
        )
    _plausible(moment.date(), value, field)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
        back = moment.astimezone(UTC).astimezone(zone)
        if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
            raise InvalidInput(
                f"{FIELD}: {moment:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks"
                " change then. Check the time of the appointment.",
                field=field,
            )
    return moment


def parse_zone(name: str, field: str = "time_zone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"{FIELD}: {shown(name)} is not a time zone. Use a name like 'America/New_York'"
            " or 'Europe/Paris'.",
            field=field,
        ) from None


def local_zone_name() -> str:
    """This machine's IANA time zone, e.g. 'Europe/Paris' (UTC when it cannot be told)."""
    try:
        from tzlocal import get_localzone_name

        name = get_localzone_name()
    except Exception:  # noqa: BLE001 - tzlocal raises several kinds on odd systems
        return "UTC"
    return name or "UTC"
