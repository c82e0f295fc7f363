"""The pure readers of FHIR data types: text, names, addresses, dates, zones, results.

They take whatever JSON a file holds and never raise; what they return must be something
the binder's services accept.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from carebinder.dates import local_zone_name
from carebinder.fhir.values import (
    address_text,
    annotation_text,
    concept_text,
    extension_value,
    fhir_date,
    fhir_datetime,
    human_name,
    observation_value,
    telecom,
    tidy,
    zone_for,
)
from carebinder.services.common import LONG_TEXT, SHORT_TEXT, clean_text

# --- tidy -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, 42, 4.2, True, ["text"], {"text": "x"}])
def test_tidy_gives_none_for_anything_but_text(value: Any) -> None:
    assert tidy(value) is None


@pytest.mark.parametrize("value", ["", "   ", "\n\t\r", "\x00\x07\x1b"])
def test_tidy_gives_none_for_blank_text(value: str) -> None:
    assert tidy(value) is None


@pytest.mark.parametrize("value", ["\u200b", " \u200d\u2060 ", "\ufeff\u00a0"])
def test_tidy_gives_none_for_text_of_invisible_characters(value: str) -> None:
    """The binder takes such text for blank, and refuses it where a value is required."""
    assert tidy(value) is None
    assert clean_text(value, "--name") is None


def test_tidy_drops_control_characters_and_joins_lines() -> None:
    assert tidy("Dr.\x00 Carol\x1b[31m\r\nWeimann\t MD\x7f") == "Dr. Carol[31m Weimann MD"


def test_tidy_drops_lone_surrogates() -> None:
    assert tidy("Ad\udce1n Pulido") == "Adn Pulido"


def test_tidy_multiline_keeps_lines_and_tabs_but_not_carriage_returns() -> None:
    text = tidy("  First line   \r\nSecond\tline\x00\n\n  Third  ", 500, multiline=True)
    assert text == "First line\nSecond\tline\n\n  Third"


def test_tidy_keeps_accents_and_scripts() -> None:
    assert tidy("Øyvind Nguyễn — 王小明") == "Øyvind Nguyễn — 王小明"


def test_tidy_cuts_long_text_to_the_limit_with_an_ellipsis() -> None:
    text = tidy("a" * 500)
    assert text is not None
    assert len(text) == SHORT_TEXT
    assert text == "a" * (SHORT_TEXT - 1) + "…"
    assert tidy("b" * SHORT_TEXT) == "b" * SHORT_TEXT
    assert tidy("word " * 10, 12) == "word word w…"


@pytest.mark.parametrize(
    "value",
    ["Dr.\x00 Carol", "x" * 10_000, "tab\there", "bell\x07", "\ud800lone", "  padded  "],
)
def test_tidy_text_is_accepted_by_the_binder(value: str) -> None:
    short = tidy(value)
    assert clean_text(short, "--name") == short
    long = tidy(value * 3, LONG_TEXT, multiline=True)
    assert clean_text(long, "--notes", limit=LONG_TEXT) == long


# --- names, codes, contacts ---------------------------------------------------------------


def test_human_name_joins_given_and_family() -> None:
    names = [{"given": ["Carol", "Ann"], "family": "Weimann", "prefix": ["Dr."]}]
    assert human_name(names, with_prefix=False) == "Carol Ann Weimann"
    assert human_name(names, with_prefix=True) == "Dr. Carol Ann Weimann"


def test_human_name_prefers_the_official_name() -> None:
    names = [
        {"use": "nickname", "given": ["Annie"], "family": "Souza"},
        {"use": "official", "given": ["Ana"], "family": "Souza", "suffix": ["Jr."]},
    ]
    assert human_name(names, with_prefix=False) == "Ana Souza Jr."


def test_human_name_prefers_its_text() -> None:
    names = [{"text": " Ana  Souza ", "given": ["Other"], "family": "Name"}]
    assert human_name(names, with_prefix=True) == "Ana Souza"


def test_human_name_takes_a_single_object_and_skips_odd_parts() -> None:
    name = {"given": ["Ana", 7, None], "family": "Souza", "prefix": "Mrs."}
    assert human_name(name, with_prefix=True) == "Mrs. Ana Souza"


@pytest.mark.parametrize("names", [None, [], ["Ana Souza"], [{}], [{"given": []}], "Ana"])
def test_human_name_without_a_name_is_none(names: Any) -> None:
    assert human_name(names, with_prefix=True) is None


def test_address_text_as_lines() -> None:
    address = [
        {
            "line": ["55 Fruit Street", "Suite 3"],
            "city": "Boston",
            "state": "MA",
            "postalCode": "02114",
            "country": "US",
        }
    ]
    assert address_text(address) == "55 Fruit Street\nSuite 3\nBoston, MA 02114\nUS"


def test_address_text_with_some_parts_only() -> None:
    assert address_text([{"city": "Lynn"}]) == "Lynn"
    assert address_text([{"postalCode": "01901"}]) == "01901"
    assert address_text([{"state": "MA", "postalCode": "01901"}]) == "MA 01901"
    assert address_text({"line": ["1 Main St"], "country": "US"}) == "1 Main St\nUS"


def test_address_text_prefers_the_text_and_keeps_its_lines() -> None:
    address = [{"text": "450 Longwood Ave\r\nBoston, MA", "city": "Elsewhere"}]
    assert address_text(address) == "450 Longwood Ave\nBoston, MA"


@pytest.mark.parametrize("addresses", [None, [], [{}], ["a string"], [{"line": [None]}]])
def test_address_text_without_an_address_is_none(addresses: Any) -> None:
    assert address_text(addresses) is None


def test_concept_text_prefers_text_then_a_display() -> None:
    coded = {"coding": [{"code": "x"}, {"display": "Glucose"}]}
    assert concept_text(coded) == "Glucose"
    assert concept_text({**coded, "text": "Glucose [Mass/volume]"}) == "Glucose [Mass/volume]"
    assert concept_text({"coding": [{"code": "x"}]}) is None
    assert concept_text("Glucose") is None


def test_telecom_finds_the_first_of_a_system() -> None:
    resource = {
        "telecom": [
            {"system": "email", "value": "a@example.org"},
            {"system": "phone", "value": "  "},
            {"system": "phone", "value": "555-0100"},
        ]
    }
    assert telecom(resource, "phone") == "555-0100"
    assert telecom(resource, "email") == "a@example.org"
    assert telecom(resource, "fax") is None


def test_extension_value_and_annotation_text() -> None:
    resource = {
        "extension": [
            {"url": "urn:a", "valueString": "first"},
            {"url": "urn:b", "valueBoolean": False},
        ]
    }
    assert extension_value(resource, "urn:a") == "first"
    assert extension_value(resource, "urn:b") is False
    assert extension_value(resource, "urn:c") is None
    notes = [{"text": "One.\nTwo."}, {"author": "x"}, {"text": "Three."}]
    assert annotation_text(notes) == "One.\nTwo.\n\nThree."


# --- dates and times ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2013", date(2013, 1, 1)),
        ("2013-04", date(2013, 4, 1)),
        ("2013-04-03", date(2013, 4, 3)),
        ("2013-04-03T00:56:39Z", date(2013, 4, 3)),
        ("2013-04-03T23:30:00-05:00", date(2013, 4, 3)),
        ("1900-01-01", date(1900, 1, 1)),
        ("2199-12-31", date(2199, 12, 31)),
    ],
)
def test_fhir_date_reads_partial_dates(value: str, day: date) -> None:
    assert fhir_date(value) == day


@pytest.mark.parametrize(
    "value",
    ["1899-12-31", "1066", "0001-01-01", "2200-01-01", "9999"],
)
def test_fhir_date_drops_years_outside_the_binder(value: str) -> None:
    assert fhir_date(value) is None


@pytest.mark.parametrize(
    "value",
    [None, 2013, "", "201", "abcd", "2013-13", "2013-02-30", "2013-4", "13/04/2013", "2013-00"],
)
def test_fhir_date_gives_none_for_what_is_not_a_date(value: Any) -> None:
    assert fhir_date(value) is None


def test_fhir_datetime_keeps_the_offset() -> None:
    moment = fhir_datetime("2013-04-03T10:20:30.458-05:00")
    assert moment == datetime(2013, 4, 3, 10, 20, 30, 458_000, tzinfo=timezone(timedelta(hours=-5)))
    assert moment is not None
    assert moment.utcoffset() == timedelta(hours=-5)


def test_fhir_datetime_reads_z_as_utc() -> None:
    assert fhir_datetime("2013-04-03T00:56:39Z") == datetime(2013, 4, 3, 0, 56, 39, tzinfo=UTC)


def test_fhir_datetime_without_an_offset_is_taken_as_utc() -> None:
    moment = fhir_datetime("2013-04-03T10:00:00")
    assert moment == datetime(2013, 4, 3, 10, tzinfo=UTC)
    assert moment is not None
    assert moment.tzinfo is not None


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2013-04-03", datetime(2013, 4, 3, 12, tzinfo=UTC)),
        ("2013-04", datetime(2013, 4, 1, 12, tzinfo=UTC)),
        ("2013", datetime(2013, 1, 1, 12, tzinfo=UTC)),
    ],
)
def test_fhir_datetime_of_a_date_alone_is_noon_utc(value: str, moment: datetime) -> None:
    assert fhir_datetime(value) == moment


@pytest.mark.parametrize(
    "value",
    [
        None,
        1365000000,
        "yesterday",
        "2013-04-03T25:00:00Z",
        "1899-12-31T23:00:00Z",
        "2200-01-01T00:00:00Z",
        "1850-01-01",
    ],
)
def test_fhir_datetime_gives_none_for_bad_or_out_of_range_times(value: Any) -> None:
    assert fhir_datetime(value) is None


def _at(hours: float) -> datetime:
    return datetime(2025, 3, 4, 10, tzinfo=timezone(timedelta(hours=hours)))


def test_zone_for_takes_the_named_zone() -> None:
    assert zone_for(_at(-5), "America/Chicago") == "America/Chicago"


@pytest.mark.parametrize("named", ["Mars/Olympus_Mons", "", "../../etc/passwd", 42, None])
def test_zone_for_ignores_a_name_that_is_not_a_zone(named: Any) -> None:
    assert zone_for(_at(-5), named) == "Etc/GMT+5"


@pytest.mark.parametrize(
    ("hours", "zone"),
    [
        (-5, "Etc/GMT+5"),
        (3, "Etc/GMT-3"),
        (-12, "Etc/GMT+12"),
        (14, "Etc/GMT-14"),
        (1, "Etc/GMT-1"),
    ],
)
def test_zone_for_an_offset_uses_the_posix_sign(hours: int, zone: str) -> None:
    moment = _at(hours)
    assert zone_for(moment) == zone
    # The zone really is that many hours from UTC: the same instant, the same wall time.
    assert moment.astimezone(ZoneInfo(zone)).utcoffset() == timedelta(hours=hours)
    assert moment.astimezone(ZoneInfo(zone)).hour == 10


def test_zone_for_utc_is_a_zone_at_utc() -> None:
    zone = zone_for(datetime(2025, 3, 4, 10, tzinfo=UTC))
    assert zone in {"UTC", local_zone_name()}
    assert ZoneInfo(zone).utcoffset(datetime(2025, 3, 4)) == timedelta(0)


@pytest.mark.parametrize(("hours", "zone"), [(5.5, "Asia/Kolkata"), (-3.5, "America/St_Johns")])
def test_zone_for_a_half_hour_offset_is_a_real_zone_with_it(hours: float, zone: str) -> None:
    # No Etc/ zone has half hours: a canonical zone with that offset then (never an alias
    # such as Asia/Calcutta), so the visit shows at its own local time.
    assert zone_for(_at(hours)) == zone


# --- observations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "shown"),
    [
        ({"value": 188.6, "unit": "mg/dL"}, "188.6 mg/dL"),
        ({"value": 7, "unit": "%"}, "7 %"),
        ({"value": 4.2, "code": "mmol/L"}, "4.2 mmol/L"),
        ({"value": 0.5, "comparator": "<", "unit": "ng/mL"}, "<0.5 ng/mL"),
        ({"value": 120}, "120"),
    ],
)
def test_observation_value_of_a_quantity(quantity: dict[str, Any], shown: str) -> None:
    assert observation_value({"valueQuantity": quantity}) == shown


@pytest.mark.parametrize(
    "quantity", [{"unit": "mg"}, {"value": "12", "unit": "mg"}, {"value": True}, "12 mg"]
)
def test_observation_value_of_a_broken_quantity_is_none(quantity: Any) -> None:
    assert observation_value({"valueQuantity": quantity}) is None


def test_observation_value_of_a_concept_string_and_boolean() -> None:
    positive = {"coding": [{"system": "http://snomed.info/sct", "display": "Positive"}]}
    assert observation_value({"valueCodeableConcept": positive}) == "Positive"
    assert observation_value({"valueString": "  Never smoker\n"}) == "Never smoker"
    assert observation_value({"valueBoolean": True}) == "yes"
    assert observation_value({"valueBoolean": False}) == "no"
    assert observation_value({"valueBoolean": "maybe"}) is None


def test_observation_value_of_components() -> None:
    pressure = {
        "component": [
            {
                "code": {"text": "Diastolic Blood Pressure"},
                "valueQuantity": {"value": 80, "unit": "mm[Hg]"},
            },
            {
                "code": {"coding": [{"display": "Systolic Blood Pressure"}]},
                "valueQuantity": {"value": 121.5, "unit": "mm[Hg]"},
            },
            {"code": {"text": "No value"}},
            {"valueQuantity": {"value": 1, "unit": "no name"}},
        ]
    }
    assert observation_value(pressure) == (
        "Diastolic Blood Pressure 80 mm[Hg]; Systolic Blood Pressure 121.5 mm[Hg]"
    )


def test_observation_without_a_value_is_none() -> None:
    assert observation_value({"status": "final", "code": {"text": "Glucose"}}) is None
    assert observation_value({"component": []}) is None


@pytest.mark.parametrize("value", [12345.0, 250000.0])
def test_observation_value_of_a_large_quantity_is_not_in_scientific_notation(
    value: float,
) -> None:
    shown = observation_value({"valueQuantity": {"value": value, "unit": "cells/uL"}})
    assert shown == f"{int(value)} cells/uL"


def test_observation_value_of_an_integer() -> None:
    assert observation_value({"valueInteger": 7}) == "7"
