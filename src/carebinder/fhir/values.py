"""Reading FHIR data types as the binder's plain values: names, dates, codes, addresses.

Pure functions of JSON values; they never raise for odd content, they return None.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carebinder.dates import FIRST_YEAR, LAST_YEAR, local_zone_name
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
    # Only invisible characters (a zero-width space…) are blank to the binder: a required
    # field would be refused, so the import treats the value as missing.
    if all(unicodedata.category(char) in ("Cf", "Zs") for char in text):
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
    local = local_zone_name()
    if _offset_in(local, moment) == offset:
        return local
    if offset == timedelta(0):
        return "UTC"
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    if rest == 0 and -12 <= hours <= 14:
        # POSIX signs: Etc/GMT+5 is five hours *behind* UTC.
        return f"Etc/GMT{-hours:+d}"
    # A half-hour zone (India, Newfoundland…): the first zone with that offset then.
    return next((z for z in _zones() if _offset_in(z, moment) == offset), "UTC")


@functools.cache
def _zones() -> list[str]:
    """Canonical zone names (zone1970.tab: no old aliases such as Asia/Calcutta), in the
    file's order; every zone name when that table cannot be found."""
    import zoneinfo

    for folder in zoneinfo.TZPATH:
        table = Path(folder) / "zone1970.tab"
        if table.is_file():
            lines = table.read_text(encoding="utf-8").splitlines()
            return [line.split("	")[2] for line in lines if line and not line.startswith("#")]
    return sorted(zoneinfo.available_timezones())


def _offset_in(zone_name: str, moment: datetime) -> timedelta | None:
    try:
        zone: tzinfo = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return moment.astimezone(zone).utcoffset()


def number_text(number: Any) -> str | None:
    """A measured number as people write it: 12345, 66.04, 0.00012 (not 1.234e+04).

    Generated data carries float noise (66.04000000000001); four decimals are kept, and
    small values keep three significant digits.
    """
    if not isinstance(number, int | float) or isinstance(number, bool):
        return None
    if isinstance(number, int) or number.is_integer():
        return str(int(number))
    if abs(number) >= 0.01:
        return f"{number:.4f}".rstrip("0").rstrip(".")
    return f"{number:.3g}"


def quantity_text(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    shown = number_text(value.get("value"))
    if shown is None:
        return None
    unit = tidy(value.get("unit")) or tidy(value.get("code"))
    comparator = value.get("comparator") if isinstance(value.get("comparator"), str) else ""
    return f"{comparator}{shown} {unit}" if unit else f"{comparator}{shown}"


def observation_value(observation: Resource) -> str | None:
    """What an Observation found: "188.6 mg/dL", "Positive", "Systolic 120 mmHg; …"."""
    readers: dict[str, Callable[[Any], str | None]] = {
        "valueQuantity": quantity_text,
        "valueCodeableConcept": concept_text,
        "valueString": lambda v: tidy(v, 500),
        "valueBoolean": lambda v: "yes" if v is True else "no" if v is False else None,
        "valueInteger": number_text,
        "valueDateTime": lambda v: tidy(v),
        "valueTime": lambda v: tidy(v),
        "valueRange": _range_text,
        "valueRatio": _ratio_text,
        "valuePeriod": lambda v: _range_text(v, low="start", high="end"),
    }
    for key, read in readers.items():
        if key in observation:
            return read(observation[key])
    parts = []
    for component in as_list(observation.get("component")):
        if isinstance(component, dict):
            name, found = concept_text(component.get("code")), observation_value(component)
            if name and found:
                parts.append(f"{name} {found}")
    return "; ".join(parts) or None


def _range_text(value: Any, *, low: str = "low", high: str = "high") -> str | None:
    if not isinstance(value, dict):
        return None
    ends = [
        quantity_text(value.get(end)) or tidy(value.get(end)) if end in value else None
        for end in (low, high)
    ]
    if ends[0] and ends[1]:
        return f"{ends[0]} to {ends[1]}"
    if ends[0]:
        return f"from {ends[0]}"
    return f"up to {ends[1]}" if ends[1] else None


def _ratio_text(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    top, bottom = quantity_text(value.get("numerator")), quantity_text(value.get("denominator"))
    return f"{top} / {bottom}" if top and bottom else None


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
