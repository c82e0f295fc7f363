"""The packet's own pages, laid out by ReportLab from hand-built data: no database here.

Every test reads the produced PDF back (pypdf for text, pikepdf for structure).
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pikepdf
import pytest
from reportlab.graphics.shapes import Line, Rect, String
from reportlab.lib.colors import white
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from carebinder.choices import Purpose
from carebinder.packet.data import (
    DOCTORS_NOTE,
    AllergyInfo,
    CheckInfo,
    Event,
    MedicationInfo,
    QuestionInfo,
)
from carebinder.packet.record_pages import LABEL_WIDTH, RecordPage, render_bands, render_records
from carebinder.packet.render import ANSWER_LINES, render_front, render_stamp
from carebinder.packet.styles import BAND_TOP, DIFFERS, FONT, geometry, register_fonts
from carebinder.packet.timeline import drawing
from carebinder.packet.triage import PdfPart, RecordPlan
from tests.packet.pdfutil import (
    A4,
    LETTER,
    PAPER_SIZES,
    file_info,
    flat,
    font_files,
    person,
    read,
    record_info,
    sample_data,
)

SECTIONS = [
    "Cover",
    "Summary",
    "Opinions so far",
    "Questions for this visit",
    "Checklist",
    "Care team",
    "Records index",
]
MARKUP = "ER <5% & PR+"


def front_text(data: Any = None, pages: dict[int, int] | None = None) -> list[str]:
    rendered = render_front(data or sample_data(), "letter", pages)
    texts = read(rendered.pdf).texts
    assert len(texts) == rendered.page_count
    return texts


def section(texts: list[str], heading: str) -> str:
    """The flattened text of the page that starts with `heading`."""
    found = [flat(t) for t in texts if flat(t).startswith(heading)]
    assert len(found) == 1, (heading, [flat(t)[:40] for t in texts])
    return found[0]


# --- front matter -----------------------------------------------------------------------------


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_front_has_every_section_in_order_each_marked_on_its_page(paper: str) -> None:
    rendered = render_front(sample_data(), paper, None)
    packet = read(rendered.pdf)

    assert [m.title for m in rendered.marks] == SECTIONS
    assert [m.level for m in rendered.marks] == [0] * len(SECTIONS)
    pages = [m.page for m in rendered.marks]
    assert pages == sorted(pages)
    assert pages[0] == 0
    assert rendered.page_count == packet.pages == pages[-1] + 1
    for mark in rendered.marks:
        heading = "Second-opinion visit" if mark.title == "Cover" else mark.title
        assert heading in packet.texts[mark.page], mark
    with pikepdf.open(io.BytesIO(rendered.pdf)) as pdf:
        for page in pdf.pages:
            width, height = (float(v) for v in page.mediabox[2:])
            assert (width, height) == pytest.approx(PAPER_SIZES[paper], abs=1)


def test_cover_shows_the_visit_the_patient_insurance_companion_and_why() -> None:
    cover = flat(front_text()[0])
    for expected in (
        "Second-opinion visit",
        "Dr. Wei Chen",
        "Breast medical oncology, Northeastern Cancer Institute",
        "Thursday 03 December 2026, 09:30 (EST, America/New_York)",
        "450 Longwood Ave, 3rd floor, Boston",
        "Name Ana Souza",
        "Date of birth 12 Apr 1964",
        "MRN MRN 004417-2",
        "Phone (617) 555-0143",
        "Payer Blue Harbor Health",
        "Plan PPO Select",
        "Member id BHH-22871934",
        "Coverage for this visit confirmed (reference PA-88231)",
        "Companion Marco Souza (husband)",
        "I am seeking a second opinion on my diagnosis and proposed treatment.",
        "Doctors I have already consulted:",
        "Dr. Marcus Bell, Breast surgery, Mercy General Hospital",
        "Dr. Priya Raman, Medical oncology, Mercy General Hospital",
    ):
        assert expected in cover, expected


def test_cover_gives_the_zone_the_visit_is_in_on_its_day() -> None:
    lisbon = ZoneInfo("Europe/Lisbon")
    data = sample_data()
    data = replace(
        data,
        visit=replace(
            data.visit, start=datetime(2026, 7, 14, 15, 5, tzinfo=lisbon), time_zone="Europe/Lisbon"
        ),
    )
    assert "Tuesday 14 July 2026, 15:05 (WEST, Europe/Lisbon)" in flat(front_text(data)[0])


@pytest.mark.parametrize(
    ("purpose", "title", "statement"),
    [
        (
            Purpose.THIRD_OPINION,
            "Third-opinion visit",
            "I am seeking a third opinion on my diagnosis and proposed treatment.",
        ),
        (Purpose.FOLLOW_UP, "Follow-up visit", "This is a follow up visit."),
        (Purpose.OTHER, "Visit", "This visit is about my diagnosis and care."),
    ],
)
def test_cover_states_the_purpose_of_the_visit(
    purpose: Purpose, title: str, statement: str
) -> None:
    data = sample_data()
    data = replace(data, visit=replace(data.visit, purpose=purpose, title=title))
    cover = flat(front_text(data)[0])
    assert cover.startswith(title)
    assert statement in cover
    if purpose is Purpose.FOLLOW_UP:
        assert "seeking" not in cover


def test_cover_without_companion_or_other_doctors_says_so() -> None:
    data = sample_data(consulted=())
    data = replace(data, visit=replace(data.visit, companion=None, location=None))
    cover = flat(front_text(data)[0])
    assert "Companion None named" in cover
    assert "already consulted" not in cover


def test_summary_leads_with_the_cancer_card_and_ends_with_the_key_dates() -> None:
    summary = section(front_text(), "Summary")
    for expected in (
        "Summary Invasive ductal carcinoma, left breast Primary site Breast Laterality left",
        "Histology Invasive ductal carcinoma Grade 3",
        "TNM pT2 pN1a cM0 (pathologic) Stage group IIB",
        "AJCC edition 8th ECOG 1 — restricted in strenuous activity, can do light work",
        "According to Dr. Priya Raman, 12 Nov 2026",
        "Proposed treatment Axillary dissection, radiation and endocrine therapy",
        "Key dates",
        "record opinion visit",  # the legend
        "24 Oct 2026 Opinion: Dr. Marcus Bell",
        "03 Dec 2026 Visit: Dr. Wei Chen",
    ):
        assert expected in summary, expected
    assert summary.index("Proposed treatment") < summary.index("Key dates")


def test_summary_is_one_page_and_lists_at_most_fourteen_events() -> None:
    start = date(2026, 8, 1)
    events = tuple(
        Event(start + timedelta(days=3 * i), f"Lab result {i:02}", "record") for i in range(20)
    )
    texts = front_text(sample_data(timeline=events))
    summary = section(texts, "Summary")
    assert section(texts, "Opinions so far")  # the next section starts on its own page
    shown = re.findall(r"Lab result \d\d", summary)
    assert sorted(set(shown)) == [f"Lab result {i:02}" for i in range(6, 20)]  # the latest
    assert "…and 6 more events, not shown here" in summary


def test_summary_without_opinions_says_so() -> None:
    texts = front_text(
        sample_data(current=None, opinions=(), differing=frozenset(), opinion_notes=())
    )
    assert "No opinion has been recorded yet." in section(texts, "Summary")
    assert "No opinion has been recorded yet." in section(texts, "Opinions so far")


def test_opinions_side_by_side_shade_and_mark_the_facts_that_differ() -> None:
    rendered = render_front(sample_data(), "letter", None)
    page = next(m.page for m in rendered.marks if m.title == "Opinions so far")
    opinions = flat(read(rendered.pdf).texts[page])
    for expected in (
        "Dr. Marcus Bell Mercy General Hospital, 24 Oct 2026"
        " Dr. Priya Raman Mercy General Hospital, 12 Nov 2026",
        "Diagnosis Invasive ductal carcinoma, left breast Invasive ductal carcinoma, left breast",
        "Grade ≠ 2 3",
        "T T2 T2",
        "N ≠ N1 N1a",
        "TNM basis ≠ clinical pathologic",
        "Stage group ≠ IA IIB",
        "AJCC edition 8 8",
        "ECOG ≠ 0 1",
        "Plan ≠ Lumpectomy with sentinel node biopsy Axillary dissection, radiation and"
        " endocrine therapy",
        "≠ and shading mark where the opinions differ: grade, N, TNM basis, stage group, ECOG,"
        " plan.",
        DOCTORS_NOTE,
    ):
        assert expected in opinions, expected
    assert "Diagnosis ≠" not in opinions
    # The rows that differ are shaded: one filled rectangle each, in the shading colour.
    with pikepdf.open(io.BytesIO(rendered.pdf)) as pdf:
        fills = [
            tuple(round(float(x), 3) for x in operands)
            for operands, op in pikepdf.parse_content_stream(pdf.pages[page])
            if str(op) == "rg"
        ]
    shading = tuple(round(c, 3) for c in DIFFERS.rgb())
    assert fills.count(shading) == 6


def test_many_opinions_go_three_to_a_table_each_with_the_facts_named() -> None:
    data = sample_data()
    many = tuple(
        replace(data.current, doctor=f"Dr. Number {i}", grade=str(i % 2 + 1)) for i in range(5)
    )
    rendered = render_front(sample_data(opinions=many), "letter", None)
    page = next(m.page for m in rendered.marks if m.title == "Opinions so far")
    opinions = flat(read(rendered.pdf).texts[page])
    assert "Grade ≠ 1 2 1" in opinions  # the first three
    assert "Grade ≠ 2 1" in opinions  # the last two, in a table of their own
    assert opinions.count("Diagnosis") == 2
    for i in range(5):
        assert f"Dr. Number {i}" in opinions


def test_opinions_that_agree_carry_no_mark_and_no_note() -> None:
    data = sample_data()
    same = replace(data.current, doctor="Dr. Ada Park")
    opinions = section(
        front_text(
            sample_data(opinions=(data.current, same), differing=frozenset(), opinion_notes=())
        ),
        "Opinions so far",
    )
    assert "≠" not in opinions
    assert "discuss" not in opinions
    assert "The opinions agree on every fact they both give." in opinions


def test_questions_have_ruled_space_and_earlier_answers() -> None:
    data = sample_data(
        questions=(
            QuestionInfo("Do you agree with the stage?"),
            QuestionInfo("Radiation first?", answer="No, surgery first.", answered_by="Dr. Raman"),
            QuestionInfo("Could I join a clinical trial here?"),
        )
    )
    rendered = render_front(data, "letter", None)
    page = next(m.page for m in rendered.marks if m.title == "Questions for this visit")
    text = flat(read(rendered.pdf).texts[page])
    for expected in (
        "1. Do you agree with the stage?",
        "2. Radiation first? No, surgery first. (Dr. Raman)",
        "3. Could I join a clinical trial here?",
        "Asked before, with the answers given",
        "How long will recovery from surgery take? About two weeks before normal activity."
        " (Dr. Marcus Bell, 02 Nov 2026)",
    ):
        assert expected in text, expected
    with pikepdf.open(io.BytesIO(rendered.pdf)) as pdf:
        operators = [str(op) for _, op in pikepdf.parse_content_stream(pdf.pages[page])]
    # The ruled answer lines: a stroked line segment each, ANSWER_LINES per question.
    assert operators.count("l") >= ANSWER_LINES * 3


def test_no_questions_says_so() -> None:
    text = section(front_text(sample_data(questions=(), earlier_questions=())), "Questions")
    assert "No questions written for this visit." in text
    assert "Asked before" not in text


def test_checklist_ticks_what_is_ready() -> None:
    data = sample_data(
        bring=(
            CheckInfo("Photo ID", False, "tick when packed"),
            CheckInfo("Medication list", True, "in this packet"),
        ),
        preparation=(
            CheckInfo("Staff told this is a second-opinion visit", True, "yes"),
            CheckInfo("Records sent ahead", False, "not yet"),
            CheckInfo("Staff told", None, "not needed"),
        ),
    )
    text = section(front_text(data), "Checklist")
    for expected in (
        "What to bring",
        "☐ Photo ID — tick when packed",
        "☑ Medication list — in this packet",
        "Preparation",
        "☑ Staff told this is a second-opinion visit — yes",
        "☐ Records sent ahead — not yet",
        "– Staff told — not needed",
        "Materials",
        "☐ Glass slides: H&E slides (from Mercy General) — requested",
    ):
        assert expected in text, expected


def test_care_team_gives_roles_and_contacts() -> None:
    text = section(front_text(), "Checklist")  # the care team follows on the same page
    care = text[text.index("Care team") :]
    for expected in (
        "Dr. Helen Park",
        "Family medicine",
        "primary care",
        "Riverside Primary Care",
        "(617) 555-0110",
        "park@riverside.example",
        "Dr. Marcus Bell",
        "diagnosing",
        "referred by Dr. Helen Park",
        "(617) 555-0120",
    ):
        assert expected in care, expected


def records_for_index() -> list[Any]:
    return [
        record_info(7, "Core biopsy pathology report", on=date(2026, 10, 21)),
        record_info(3, "Chest CT", on=date(2026, 10, 30), kind="imaging", source="Mercy Radiology"),
    ]


def test_records_index_lists_each_record_with_its_page() -> None:
    data = sample_data(records_for_index())
    index = section(front_text(data, {7: 8, 3: 12}), "Records index")
    assert "Date Kind Title Source Page" in index
    assert (
        "21 Oct 2026 pathology Core biopsy pathology report Dr. Marcus Bell, Mercy General"
        " Hospital 8" in index
    )
    assert "30 Oct 2026 imaging Chest CT Mercy Radiology 12" in index


def test_records_index_without_the_records_still_lists_them() -> None:
    data = sample_data(records_for_index())
    index = section(front_text(data, None), "Records index")
    assert "The records are not included in this copy of the packet." in index
    assert "Core biopsy pathology report" in index
    assert "Chest CT Mercy Radiology —" in index


def test_records_index_without_records_says_so() -> None:
    assert "No records in this packet." in section(front_text(), "Records index")


def test_user_text_with_markup_characters_prints_literally() -> None:
    data = sample_data([record_info(1, f"Receptors {MARKUP}")])
    data = replace(
        data,
        visit=replace(data.visit, location="<Building B> & annex", companion="Marco & <Lia>"),
        current=replace(data.current, diagnosis=f"IDC, {MARKUP}"),
        opinions=(data.opinions[0], replace(data.current, diagnosis=f"IDC, {MARKUP}")),
        questions=(QuestionInfo(f"Is {MARKUP} a good sign?"),),
        care_team=(person("Dr. <b>Bold</b>", "Onc & Rad", role="treating"),),
        health=replace(
            data.health,
            medications=(MedicationInfo("Tamoxifen <20 mg> & co"),),
            allergies=(AllergyInfo("Latex", "rash & <hives>"),),
        ),
    )
    text = flat("\n".join(front_text(data, {1: 8})))
    for expected in (
        "<Building B> & annex",
        "Marco & <Lia>",
        f"Summary IDC, {MARKUP}",
        "Tamoxifen <20 mg> & co",
        "rash & <hives>",
        f"1. Is {MARKUP} a good sign?",
        "Dr. <b>Bold</b>",
        "Onc & Rad",
        f"Receptors {MARKUP}",
    ):
        assert expected in text, expected
    assert "&amp;" not in text
    assert "&lt;" not in text


UNICODE_PATIENT = "Nguyễn Thị Ánh"
UNICODE_DOCTOR = "Dr. Øyvind Ødegård"


def test_names_in_any_script_print_with_an_embedded_font() -> None:
    data = sample_data()
    data = replace(
        data,
        patient=replace(data.patient, name=UNICODE_PATIENT),
        visit=replace(data.visit, doctor=person(UNICODE_DOCTOR, "Onkologi", "Haukeland")),
        consulted=(person("Dr. Ζωή Παπαδοπούλου", "Ογκολογία"), person("Д-р Иван Петров")),
    )
    rendered = render_front(data, "letter", None)
    cover = flat(read(rendered.pdf).texts[0])
    for name in (UNICODE_PATIENT, UNICODE_DOCTOR, "Dr. Ζωή Παπαδοπούλου", "Д-р Иван Петров"):
        assert name in cover, name
    with pikepdf.open(io.BytesIO(rendered.pdf)) as pdf:
        assert any("DejaVuSans" in font for font in font_files(pdf)), font_files(pdf)


# --- the stamp ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("paper", "size"), [("letter", LETTER), ("a4", A4)])
def test_stamp_is_one_page_with_the_header_and_footer(paper: str, size: Any) -> None:
    stamp = render_stamp(sample_data(), paper)
    packet = read(stamp)
    assert packet.pages == 1
    text = flat(packet.texts[0])
    for expected in (
        "Ana Souza",
        "born 12 Apr 1964",
        "Second-opinion visit, 03 Dec 2026",
        "Confidential medical information · prepared 24 Nov 2026",
    ):
        assert expected in text, expected
    assert "Page" not in text  # added per page at assembly
    with packet.pdf() as pdf:
        assert [float(v) for v in pdf.pages[0].mediabox[2:]] == pytest.approx(size, abs=1)
        assert any("DejaVuSans" in font for font in font_files(pdf))


def test_stamp_prints_names_in_any_script() -> None:
    data = sample_data()
    data = replace(data, patient=replace(data.patient, name=UNICODE_PATIENT))
    assert UNICODE_PATIENT in read(render_stamp(data, "letter")).texts[0]


def text_runs(pdf_bytes: bytes) -> list[tuple[str, float]]:
    """(text, x) of every string drawn on the first page."""
    runs: list[tuple[str, float]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            runs.append((text.rstrip("\n"), cm[0] * tm[4] + cm[2] * tm[5] + cm[4]))

    read(pdf_bytes).reader.pages[0].extract_text(visitor_text=visit)
    return runs


@pytest.mark.parametrize(
    "name",
    [
        "Maria da Conceição Aparecida dos Santos Oliveira Pereira de Albuquerque",
        "Maria da Conceição Aparecida dos Santos Oliveira Pereira de Albuquerque e Vasconcelos"
        " Cavalcanti de Menezes Bragança",
    ],
)
def test_stamp_header_keeps_a_long_name_whole_and_apart_from_the_visit(name: str) -> None:
    register_fonts()
    data = sample_data()
    data = replace(data, patient=replace(data.patient, name=name))
    runs = dict(text_runs(render_stamp(data, "letter")))
    assert name in runs  # never cut: it identifies the patient on every page
    born = next(text for text in runs if "born" in text)
    left_end = runs[born] + stringWidth(born, FONT, 8.5)
    assert left_end <= geometry("letter").width - 18 * mm + 0.5
    visit = [text for text in runs if "visit" in text.lower() and text != born]
    for text in visit:  # when there is room for it, the visit never touches the name
        assert left_end + 6 <= runs[text], (left_end, runs[text])


# --- record pages -------------------------------------------------------------------------------


def test_a_record_with_notes_or_nothing_to_print_has_a_page_of_its_own(tmp_path: Path) -> None:
    pdf = file_info(tmp_path / "pathology.pdf", "application/pdf")
    scan = file_info(tmp_path / "scan.dcm", "application/dicom")
    plain = file_info(tmp_path / "plain.pdf", "application/pdf")
    plans = [
        RecordPlan(
            record_info(1, "Core biopsy pathology report", pdf, scan, notes="Slides at Mercy"),
            parts=[PdfPart(pdf, 2)],
            separately=[("scan.dcm", "DICOM medical image: bring the imaging disc")],
            notices=[("pathology.pdf", "the file was damaged and has been repaired")],
        ),
        RecordPlan(record_info(2, "Lab panel", plain), parts=[PdfPart(plain, 1)]),
        RecordPlan(record_info(3, "Phone call notes", on=None, kind="other", source=None)),
    ]
    rendered = render_records(plans, "letter")
    assert rendered is not None
    packet = read(rendered.pdf)
    assert rendered.page_count == packet.pages == 2  # the lab panel needs no page of its own
    assert [(m.title, m.page, m.key) for m in rendered.marks] == [
        ("Core biopsy pathology report", 0, ("record", 1)),
        ("Phone call notes", 1, ("record", 3)),
    ]
    first, second = (flat(t) for t in packet.texts)
    for expected in (
        "Core biopsy pathology report",
        "Date 01 Oct 2026",
        "Kind pathology",
        "Source Dr. Marcus Bell, Mercy General Hospital",
        "Notes Slides at Mercy",
        "In this packet",
        "pathology.pdf (2 pages)",
        "Before reading",
        "pathology.pdf: the file was damaged and has been repaired",
        "Bring separately",
        "scan.dcm: DICOM medical image: bring the imaging disc",
    ):
        assert expected in first, expected
    assert "No file is attached to this record." in second
    assert "Date — Kind other" in second


def test_no_page_of_its_own_when_every_record_has_files_to_print(tmp_path: Path) -> None:
    plain = file_info(tmp_path / "plain.pdf", "application/pdf")
    assert (
        render_records([RecordPlan(record_info(1, "Lab", plain), [PdfPart(plain, 1)])], "a4")
        is None
    )


def test_a_record_page_prints_markup_and_unicode_literally() -> None:
    plan = RecordPlan(record_info(1, f"Nguyễn: {MARKUP}", source="Øyvind & <Co>"))
    rendered = render_records([plan], "a4")
    assert rendered is not None
    text = flat(read(rendered.pdf).texts[0])
    assert f"Nguyễn: {MARKUP}" in text
    assert "Øyvind & <Co>" in text


def test_each_record_has_a_band_naming_it(tmp_path: Path) -> None:
    plain = file_info(tmp_path / "plain.pdf", "application/pdf")
    plans = [
        RecordPlan(record_info(1, f"Nguyễn: {MARKUP}", plain, source="Øyvind & <Co>")),
        RecordPlan(record_info(2, "Phone call", on=None, kind="treatment-plan", source=None)),
    ]
    bands = read(render_bands(plans, "letter"))
    assert bands.pages == 2
    first, second = (flat(t) for t in bands.texts)
    assert first == f"Record 1 of 2 Nguyễn: {MARKUP} · pathology · 01 Oct 2026 · Øyvind & <Co>"
    assert second == "Record 2 of 2 Phone call · treatment plan"


def band_runs(data: bytes) -> list[tuple[str, float, float]]:
    """(text, x, y) of each string drawn on the first page of `data`."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        runs, x, y = [], 0.0, 0.0
        for operands, operator in pikepdf.parse_content_stream(pdf.pages[0]):
            if str(operator) == "Td":
                x, y = float(operands[0]), float(operands[1])
            elif str(operator) == "Tm":
                x, y = float(operands[4]), float(operands[5])
            elif str(operator) == "Tj":
                runs.append((bytes(operands[0]).decode("latin-1"), x, y))
        return runs


def test_a_long_band_is_cut_to_the_line_and_sits_in_the_header_band() -> None:
    title = "CT_chest_abdomen_pelvis_with_contrast_2026-10-02_final_report_signed" * 2
    source = "Dr. Marcus Bell, Mercy General Hospital, Department of Diagnostic Radiology"
    plan = RecordPlan(record_info(1, title, source=source))
    bands = read(render_bands([plan], "letter"))
    text = flat(bands.texts[0])
    assert text.startswith("Record 1 of 1 CT_chest_abdomen")
    assert "…" in text
    page_h = LETTER[1]
    runs = band_runs(render_bands([plan], "letter"))
    assert len(runs) == 3  # "Record 1 of 1", the title, then kind, date and source
    for _, x, y in runs:
        # Below the header's rule, above the area the record's own page is shrunk into.
        assert page_h - BAND_TOP < y < page_h - BAND_TOP / 2 - 2.2 * mm, y
        assert x >= 18 * mm - 0.5


def test_record_page_lines_fit_the_page_width(tmp_path: Path) -> None:
    register_fonts()
    # Names as hospital portals hand them out.
    stem = "2026-10-21_Surgical_Pathology_Report_Core_Needle_Biopsy_Left_Breast_MercyGeneral"
    long_file = file_info(tmp_path / f"{stem}.pdf", "application/pdf")
    long_scan = file_info(tmp_path / f"{stem}.dcm", "application/dicom")
    title = "CT_chest_abdomen_pelvis_with_contrast_2026-10-02_final_report_signed"
    plan = RecordPlan(
        record_info(1, title, long_file, long_scan, notes="See the addendum"),
        parts=[PdfPart(long_file, 1)],
        separately=[(long_scan.name, "DICOM medical image: bring the imaging disc")],
    )
    width = geometry("letter").frame[2]
    page = RecordPage(plan, width, 600)
    too_wide = []
    for font, size, _, line in page.lines:
        _, tab, value = line.partition("\t")
        if tab:
            right = LABEL_WIDTH + stringWidth(value, font, size)
        else:
            right = stringWidth(line, font, size)
        if right > width + 0.5:
            too_wide.append(line)
    assert too_wide == []


# --- the timeline -------------------------------------------------------------------------------


def timeline_events() -> list[Event]:
    """Fourteen key events over three months: a work-up, two opinions, two visits."""
    labels = [
        "CBC and metabolic panel",
        "Diagnostic mammogram and ultrasound",
        "Core biopsy pathology report",
        "Breast MRI with contrast",
        "Genetic counselling note",
        "BRCA1/2 panel result",
        "Surgical consultation",
        "Sentinel lymph node biopsy operative report",
        "Oncotype DX recurrence score",
        "Chest CT staging",
    ]
    start = date(2026, 9, 1)
    events = [Event(start + timedelta(days=4 * i), t, "record") for i, t in enumerate(labels)]
    events += [
        Event(date(2026, 10, 20), "Visit: Dr. Marcus Bell", "appointment"),
        Event(date(2026, 10, 24), "Opinion: Dr. Marcus Bell", "opinion"),
        Event(date(2026, 11, 12), "Opinion: Dr. Priya Raman", "opinion"),
        Event(date(2026, 12, 3), "Visit: Dr. Wei Chen", "appointment"),
    ]
    return sorted(events, key=lambda e: e.date)


def label_boxes(shapes: list[Any]) -> list[tuple[float, float, float, float]]:
    register_fonts()
    return [
        (s.x, s.y, s.x + stringWidth(s.text, s.fontName, s.fontSize), s.y + 0.72 * s.fontSize)
        for s in shapes
        if isinstance(s, String)
    ]


def test_timeline_labels_do_not_overlap_each_other() -> None:
    width = geometry("letter").frame[2]
    picture = drawing(timeline_events(), width)
    boxes = label_boxes(picture.contents)
    assert len(boxes) == 2 * 14
    for i, a in enumerate(boxes):
        assert a[0] >= 0 and a[2] <= width + 0.5, a
        for b in boxes[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_timeline_leader_lines_never_strike_through_other_labels() -> None:
    """Where events crowd, a leader line may pass behind another label, but that label
    is drawn later, on a white ground that covers the line."""
    picture = drawing(timeline_events(), geometry("letter").frame[2])
    shapes = list(picture.contents)
    grounds = [(i, s) for i, s in enumerate(shapes) if isinstance(s, Rect) and s.fillColor == white]
    struck = []
    for i, shape in enumerate(shapes):
        if not (isinstance(shape, Line) and shape.x1 == shape.x2 and shape.strokeWidth < 1):
            continue
        low, high = sorted((shape.y1, shape.y2))
        for box, label in zip(
            label_boxes(shapes), [s for s in shapes if isinstance(s, String)], strict=True
        ):
            if not (box[0] < shape.x1 < box[2] and low < box[3] and box[1] < high):
                continue
            covered = any(
                j > i
                and g.x <= shape.x1 <= g.x + g.width
                and g.y <= box[1]
                and box[3] <= g.y + g.height
                for j, g in grounds
            )
            if not covered:
                struck.append(label.text)
    assert struck == []


@pytest.mark.parametrize("count", [1, 3, 14])
def test_timeline_stays_inside_its_drawing(count: int) -> None:
    """Everything is drawn within the drawing's height, also when every label sits on one
    side of the line: the legend below it must not land on the line."""
    events = sample_data().timeline if count == 3 else timeline_events()[:count]
    picture = drawing(events, geometry("letter").frame[2])
    for shape in picture.contents:
        low, high = shape_span(shape)
        assert 0 <= low <= high <= picture.height + 0.01, (shape, low, high, picture.height)


def shape_span(shape: Any) -> tuple[float, float]:
    """The lowest and highest y a shape of the timeline reaches."""
    if isinstance(shape, Line):
        return min(shape.y1, shape.y2), max(shape.y1, shape.y2)
    if isinstance(shape, Rect):
        return shape.y, shape.y + shape.height
    if isinstance(shape, String):
        return shape.y, shape.y + shape.fontSize
    ys = (
        shape.points[1::2] if hasattr(shape, "points") else [shape.cy - shape.r, shape.cy + shape.r]
    )
    return min(ys), max(ys)


def test_no_dated_events_gives_a_note() -> None:
    texts = front_text(sample_data(timeline=()))
    assert "No dated events yet." in section(texts, "Summary")
