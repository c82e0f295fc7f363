"""Reading FHIR data types as the binder's plain values: names, dates, codes, addresses.

Pure functions of JSON values; they never raise for odd content, they return None.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carebinder.dates import FIRST_YEAR, LAST_YEAR
from carebinder.fhir.read import Resource, as_list
from carebinder.services.common import SHORT_TEXT


def tidy(value: Any, limit: int = SHORT_TEXT, *, multiline: bool = False) -> str | None:
    """`value` as text the binder accepts: no control characters, at most `limit` long."""
    if not isinstance(value, str):
        return None
    kept = []
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cc", "Cs"):
            if multiline and char in "\n\t":
                kept.append(char)
            elif char in "\r\n\t":
                kept.append(" ")
        else:
            kept.append(char)
    text = "".join(kept).strip()
    if multiline:
        text = "\n".join(line.rstrip() for line in text.splitlines())
    else:
        text = " ".join(text.split())
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def obj(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one: for reading optional parts."""
    return value if isinstance(value, dict) else {}


def joined(*parts: str | None, sep: str = "\n") -> str | None:
    kept = [part for part in parts if part]
    return sep.join(kept) if kept else None


def concept_text(concept: Any) -> str | None:
    """The words of a CodeableConcept: its text, else the first coding's display."""
    if not isinstance(concept, dict):
        return None
    text = tidy(concept.get("text"))
    if text:
        return text
    for coding in as_list(concept.get("coding")):
        if isinstance(coding, dict) and tidy(coding.get("display")):
            return tidy(coding.get("display"))
    return None


def codes(concept: Any, system: str) -> list[str]:
    """The codes of `concept` (a CodeableConcept or a list of them) in `system`."""
    found = []
    for item in as_list(concept):
        if isinstance(item, dict):
            for coding in as_list(item.get("coding")):
                if isinstance(coding, dict) and coding.get("system") == system:
                    code = coding.get("code")
                    if isinstance(code, str):
                        found.append(code)
    return found


def code_in(concept: Any, system: str) -> str | None:
    found = codes(concept, system)
    return found[0] if found else None


def human_name(names: Any, *, with_prefix: bool) -> str | None:
    """The official (or first) HumanName as one line: "Dr. Carol Weimann"."""
    candidates = [n for n in as_list(names) if isinstance(n, dict)]
    if not candidates:
        return None
    chosen = next((n for n in candidates if n.get("use") == "official"), candidates[0])
    if tidy(chosen.get("text")):
        return tidy(chosen.get("text"))
    words = [
        *(as_list(chosen.get("prefix")) if with_prefix else []),
        *as_list(chosen.get("given")),
        chosen.get("family"),
        *as_list(chosen.get("suffix")),
    ]
    return tidy(" ".join(w for w in words if isinstance(w, str)))


def address_text(addresses: Any) -> str | None:
    """The first address as lines: street lines, then "City, State Postcode", then country."""
    for address in as_list(addresses):
        if not isinstance(address, dict):
            continue
        if tidy(address.get("text"), 2_000, multiline=True):
            return tidy(address.get("text"), 2_000, multiline=True)
        city = " ".join(
            part
            for part in (
                ", ".join(p for p in (tidy(address.get("city")), tidy(address.get("state"))) if p),
                tidy(address.get("postalCode")),
            )
            if part
        )
        lines = [tidy(line) for line in as_list(address.get("line"))]
        return joined(*lines, city or None, tidy(address.get("country")))
    return None


def telecom(resource: Resource, system: str) -> str | None:
    for point in as_list(resource.get("telecom")):
        if isinstance(point, dict) and point.get("system") == system:
            value = tidy(point.get("value"))
            if value:
                return value
    return None


def fhir_date(value: Any) -> date | None:
    """The day of a FHIR date or dateTime ("2013", "2013-04", "2013-04-03T00:56:39Z").

    A year or a month alone stands for its first day. Days outside the binder's years
    are dropped rather than stored wrong.
    """
    if not isinstance(value, str) or len(value) < 4:
        return None
    text = value[:10]
    try:
        if len(text) == 4:
            day = date(int(text), 1, 1)
        elif len(text) == 7:
            day = date(int(text[:4]), int(text[5:7]), 1)
        else:
            day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def fhir_datetime(value: Any) -> datetime | None:
    """An aware datetime from a FHIR dateTime or instant; a date alone is noon UTC."""
    if not isinstance(value, str):
        return None
    if len(value) <= 10:
        day = fhir_date(value)
        return None if day is None else datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        return None
    return moment


def zone_for(moment: datetime, named: Any = None) -> str:
    """An IANA zone for a FHIR time: the one named, else the local zone when its offset
    matches, else a fixed-offset zone ("Etc/GMT+5") or UTC."""
    if isinstance(named, str):
        try:
            ZoneInfo(named)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return named
    offset = moment.utcoffset() or timedelta(0)
    from carebinder.dates import local_zone_name

    local = local_zone_name()
    if _offset_in(local, moment) == offset:
        return local
    if offset == timedelta(0):
        return "UTC"
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if rest == 0 and -12 <= hours <= 14:
        # POSIX signs: Etc/GMT+5 is five hours *behind* UTC.
        return f"Etc/GMT{-hours:+d}"
    return "UTC"


def _offset_in(zone_name: str, moment: datetime) -> timedelta | None:
    try:
        zone: tzinfo = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return moment.astimezone(zone).utcoffset()


def quantity_text(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    number = value.get("value")
    if not isinstance(number, int | float) or isinstance(number, bool):
        return None
    shown = f"{number:.4g}" if isinstance(number, float) else str(number)
    unit = tidy(value.get("unit")) or tidy(value.get("code"))
    comparator = value.get("comparator") if isinstance(value.get("comparator"), str) else ""
    return f"{comparator}{shown} {unit}" if unit else f"{comparator}{shown}"


def observation_value(observation: Resource) -> str | None:
    """What an Observation found: "188.6 mg/dL", "Positive", "Systolic 120 mmHg, …"."""
    for key in ("valueQuantity", "valueCodeableConcept", "valueString", "valueBoolean"):
        if key in observation:
            value = observation[key]
            if key == "valueQuantity":
                return quantity_text(value)
            if key == "valueCodeableConcept":
                return concept_text(value)
            if key == "valueBoolean":
                return "yes" if value is True else "no" if value is False else None
            return tidy(value, 500)
    parts = []
    for component in as_list(observation.get("component")):
        if isinstance(component, dict):
            name, found = concept_text(component.get("code")), observation_value(component)
            if name and found:
                parts.append(f"{name} {found}")
    return "; ".join(parts) or None


def extension_value(resource: Resource, url: str) -> Any:
    """The value[x] of the first extension of `url`, or None."""
    for item in as_list(resource.get("extension")):
        if isinstance(item, dict) and item.get("url") == url:
            for key, value in item.items():
                if key.startswith("value"):
                    return value
            return item
    return None


def annotation_text(notes: Any) -> str | None:
    return joined(
        *(
            tidy(note.get("text"), 20_000, multiline=True)
            for note in as_list(notes)
            if isinstance(note, dict)
        ),
        sep="\n\n",
    )


def choice(enum_class: type[Any], value: Any) -> Any:
    try:
        return enum_class(value) if isinstance(value, str) else None
    except ValueError:
        return None


def all_codes(concept: Any) -> list[str]:
    if not isinstance(concept, dict):
        return []
    return [
        c["code"]
        for c in as_list(concept.get("coding"))
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    ]


def labelled(label: str, values: Iterable[str | None]) -> str | None:
    kept = [v for v in values if v]
    return f"{label}: {', '.join(kept)}" if kept else None
