"""The summary page, laid out from hand-built data (no database): the cancer card first,
then key results, treatments, medications, allergies, other conditions, the plan and the key
dates. Every test reads the produced PDF back."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest

from carebinder.packet.data import (
    AllergyInfo,
    ConditionInfo,
    HealthInfo,
    MarkerInfo,
    MedicationInfo,
    ResultInfo,
    TreatmentInfo,
)
from carebinder.packet.render import render_front
from tests.packet.pdfutil import HEALTH, flat, read, sample_data

ORDER = [
    "Invasive ductal carcinoma, left breast",  # the card
    "Key results",
    "Treatments so far",
    "Current medications",
    "Allergies",
    "Other conditions:",
    "Proposed treatment",
    "Key dates",
]


def summary_pages(**changes: Any) -> list[str]:
    """The flattened text of each page of the summary, and the page count of the front."""
    rendered = render_front(sample_data(**changes), "letter", None)
    texts = read(rendered.pdf).texts
    start = next(m.page for m in rendered.marks if m.title == "Summary")
    end = next(m.page for m in rendered.marks if m.title == "Opinions so far")
    return [flat(text) for text in texts[start:end]]


def summary_text(**changes: Any) -> str:
    return " ".join(summary_pages(**changes))


def with_health(**changes: Any) -> str:
    return summary_text(health=replace(HEALTH, **changes))


def test_a_typical_case_is_one_page_in_the_order_a_new_oncologist_reads() -> None:
    (page,) = summary_pages()
    places = [page.index(heading) for heading in ORDER]
    assert places == sorted(places), list(zip(ORDER, places, strict=True))


def test_the_card_gives_the_cancer_facts_of_the_most_recent_opinion() -> None:
    text = summary_text()
    for expected in (
        "Primary site Breast",
        "Laterality left",
        "Histology Invasive ductal carcinoma",
        "Grade 3",
        "TNM pT2 pN1a cM0 (pathologic)",
        "Stage group IIB",
        "AJCC edition 8th",
        "ECOG 1 — restricted in strenuous activity, can do light work",
        "According to Dr. Priya Raman, 12 Nov 2026",
    ):
        assert expected in text, expected
    assert "cT2" not in text  # the earlier opinion is on the opinions page, not here


def test_a_card_without_structured_facts_gives_what_there_is() -> None:
    data = sample_data()
    plain = replace(
        data.current,
        site=None,
        laterality=None,
        histology=None,
        grade=None,
        tnm=None,
        staging=None,
        ajcc_edition=None,
        ecog=None,
        ecog_meaning=None,
        stage="pT1c N1mi M0, stage IB",
    )
    text = summary_text(current=plain)
    assert "Invasive ductal carcinoma, left breast Stage group pT1c N1mi M0, stage IB" in text
    for absent in ("Primary site", "TNM", "ECOG", "AJCC"):
        assert absent not in text


def test_without_an_opinion_the_summary_says_so_and_gives_the_rest() -> None:
    text = summary_text(current=None, opinions=(), differing=frozenset(), opinion_notes=())
    assert "Summary No opinion has been recorded yet. Key results" in text
    assert "Proposed treatment" not in text
    assert "Current medications" in text


def test_key_results_give_the_latest_value_and_first_to_latest_when_repeated() -> None:
    text = summary_text()
    assert "ER 95% (positive) 20 Oct 2026" in text
    assert "HER2 1+ (negative) 20 Oct 2026" in text
    assert "CA 15-3 34 U/mL (high) 20 Nov 2026 21 → 34 U/mL, 4 values since 01 Sep 2026" in text


def test_results_left_out_are_counted() -> None:
    text = with_health(other_results=12)
    assert "12 other laboratory results, imported from health records, are not shown here." in (
        text
    )
    text = with_health(markers=(), other_results=3)
    assert "Key results: none recorded (besides 3 other laboratory results, not shown)" in text


def test_a_repeated_marker_whose_unit_changed_gives_both_units() -> None:
    marker = MarkerInfo(
        "PSA",
        ResultInfo("0.9", "ng/mL", date(2026, 10, 1)),
        first=ResultInfo("900", "pg/mL", date(2025, 1, 1)),
        count=2,
    )
    assert "900 pg/mL → 0.9 ng/mL, 2 values since 01 Jan 2025" in with_health(markers=(marker,))


def test_treatments_give_their_dates_doctor_and_response() -> None:
    text = summary_text()
    assert (
        "Sentinel lymph node biopsy Dr. Marcus Bell surgery 02 Nov 2026 1 of 2 nodes positive"
        in text
    )
    assert "Letrozole hormone therapy since 06 Nov 2026 —" in text
    ended = TreatmentInfo("chemotherapy", "AC-T", date(2026, 1, 5), date(2026, 4, 20))
    assert "AC-T chemotherapy 05 Jan 2026 – 20 Apr 2026" in with_health(treatments=(ended,))


def test_current_medications_give_their_doses_and_mark_supplements() -> None:
    text = summary_text()
    assert "Letrozole 2.5 mg by mouth, once a day breast cancer" in text
    assert "Vitamin D3 (supplement) 2000 IU" in text
    assert "Lisinopril (" not in text  # a prescription is not marked
    text = with_health(medications=(MedicationInfo("Ibuprofen", kind="over-the-counter"),))
    assert "Ibuprofen (over the counter) — — —" in text


def test_medications_none_known_and_not_recorded_are_told_apart() -> None:
    text = with_health(medications=(), no_medications_on=date(2026, 11, 2))
    assert "Current medications: none (as of 02 Nov 2026)" in text
    text = with_health(medications=(), no_medications_on=None)
    assert "Medications: not recorded — please ask" in text


def test_allergies_give_their_reactions_severe_ones_marked() -> None:
    text = summary_text()
    assert "Allergies Reaction Severity" in text
    assert "Penicillin (medication) hives and swelling of the face ⚠ severe" in text
    assert "Adhesive tape skin rash mild" in text


def test_no_known_allergies_and_not_recorded_are_told_apart() -> None:
    text = with_health(allergies=(), no_allergies_on=date(2026, 11, 2))
    assert "No known allergies (as of 02 Nov 2026)" in text
    assert "please ask" not in text
    text = with_health(allergies=(), no_allergies_on=None)
    assert "Allergies: not recorded — please ask" in text
    assert "No known allergies" not in text


def test_other_conditions_with_their_dates() -> None:
    text = summary_text()
    assert "Other conditions: High blood pressure (since 01 Mar 2015) · Hypothyroidism" in text


def test_an_empty_binder_says_what_is_not_recorded() -> None:
    text = summary_text(health=HealthInfo())
    for expected in (
        "Key results: none recorded",
        "Treatments so far: none recorded",
        "Medications: not recorded — please ask",
        "Allergies: not recorded — please ask",
        "Other conditions: none recorded",
    ):
        assert expected in text, expected
    places = [text.index(x) for x in ("Key results:", "Treatments", "Medications:", "Allergies:")]
    assert places == sorted(places)


# --- long lists go on over the next page, whole -------------------------------------------------

MEDICATIONS = tuple(
    MedicationInfo(f"Medicine {i:02}", f"{i} mg", "by mouth, once a day", reason="a reason")
    for i in range(40)
)
CONDITIONS = tuple(ConditionInfo(f"Condition {i:02}", date(2000 + i, 1, 1)) for i in range(15))
LONG_MARKER = MarkerInfo(
    "CA-125",
    ResultInfo("12", "U/mL", date(2026, 11, 1)),
    first=ResultInfo("180", "U/mL", date(2024, 1, 1)),
    count=30,
)


@pytest.fixture(scope="module")
def long_case() -> list[str]:
    health = replace(
        HEALTH,
        markers=(*HEALTH.markers, LONG_MARKER),
        medications=MEDICATIONS,
        allergies=(),
        no_allergies_on=None,
        conditions=CONDITIONS,
    )
    return summary_pages(health=health)


def test_long_lists_spill_onto_a_second_page_with_every_row(long_case: list[str]) -> None:
    assert len(long_case) == 2
    text = " ".join(long_case)
    for i in range(40):
        assert text.count(f"Medicine {i:02} {i} mg by mouth, once a day a reason") == 1, i
    for i in range(15):
        assert f"Condition {i:02} (since 01 Jan {2000 + i})" in text, i
    assert "CA-125 12 U/mL 01 Nov 2026 180 → 12 U/mL, 30 values since 01 Jan 2024" in text
    assert "Allergies: not recorded — please ask" in text
    places = [text.index(heading) for heading in ORDER]
    assert places == sorted(places)


def test_a_list_that_goes_on_repeats_its_header_on_the_next_page(long_case: list[str]) -> None:
    first, second = long_case
    assert "Current medications Dose How taken For" in first
    assert second.startswith("Current medications Dose How taken For Medicine")
    last_on_first = max(i for i in range(40) if f"Medicine {i:02}" in first)
    assert f"Medicine {last_on_first + 1:02}" in second


def test_a_long_key_results_list_spills_whole() -> None:
    start = date(2026, 1, 1)
    markers = tuple(
        MarkerInfo(f"Marker {i:02}", ResultInfo(str(i), "U/mL", start + timedelta(days=i)))
        for i in range(45)
    )
    pages = summary_pages(health=replace(HEALTH, markers=markers))
    assert len(pages) >= 2
    text = " ".join(pages)
    for i in range(45):
        assert text.count(f"Marker {i:02} {i} U/mL") == 1, i
    assert pages[1].startswith("Key results Latest Date First → latest Marker")


def test_a_long_allergy_list_keeps_severe_ones_marked_on_every_page() -> None:
    allergies = tuple(
        AllergyInfo(f"Substance {i:02}", "hives", "severe" if i % 10 == 0 else "mild")
        for i in range(50)
    )
    pages = summary_pages(health=replace(HEALTH, allergies=allergies))
    text = " ".join(pages)
    assert len(pages) >= 2
    assert text.count("⚠ severe") == 5
    for i in range(50):
        assert f"Substance {i:02} hives" in text


def test_an_opinion_without_a_plan_says_so() -> None:
    text = summary_text(current=replace(sample_data().current, plan=None))
    assert "Proposed treatment: not given in the latest opinion" in text
