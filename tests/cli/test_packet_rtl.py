"""`carebinder packet` for a binder kept in Hebrew and Arabic: names, titles and notes typed
at the command line come out right to left, Arabic joined (tests/packet/test_rtl.py has the
details and explains the two ways the PDF is read back)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from tests.conftest import Cli
from tests.packet.pdfutil import drawn_text, read, text_pdf

PATIENT, PATIENT_DRAWN = "שרה כהן", "ןהכ הרש"
DOCTOR = "د. محمد عبد الله"
# Each letter joined, right to left.
DOCTOR_DRAWN = "\ufeea\ufee0\ufedf\ufe8d \ufeaa\ufe92\ufecb \ufeaa\ufee4\ufea4\ufee3 .\ufea9"
TITLE, TITLE_DRAWN = "דוח פתולוגיה", "היגולותפ חוד"
NOTE = (  # two lines on the record's own page
    "יש לבקש את חוות הדעת של הפתולוג על כל הדגימות לפני הניתוח ולשאול על טיפול מונע נוסף"
    " וגם לברר אם אפשר להצטרף לניסוי קליני במרכז הרפואי"
)


def test_packet_prints_hebrew_and_arabic_typed_at_the_command_line(
    binder: Cli, tmp_path: Path
) -> None:
    binder.ok("patient", "edit", "1", "--name", PATIENT)
    binder.ok("doctor", "add", DOCTOR, "--institution", "مستشفى الشفاء")
    report = text_pdf(tmp_path / "report.pdf", ["REPORT page 1"])
    binder.ok(
        "record", "add", "pathology", TITLE, "--date", "2026-10-12", "--doctor", "1",
        "--notes", NOTE, "--file", str(report),
    )  # fmt: skip
    binder.ok("appointment", "add", "--doctor", "1", "--at", "2026-12-03 09:30", "--tz", "UTC")
    out = tmp_path / "packet.pdf"
    binder.ok("packet", "1", "-o", str(out))

    packet = read(out)
    pages = [drawn_text(out, page) for page in range(packet.pages)]
    for number, drawn in enumerate(pages):  # the header, merged pages too
        assert PATIENT_DRAWN in drawn, number
    assert DOCTOR_DRAWN in pages[0]
    (own,) = [drawn for drawn in pages if "Record 1 of 1" in drawn]  # the record's own page
    assert own.count(TITLE_DRAWN) == 2  # in the band across its top, and as its heading
    notes = [line for line in own if len(line) > 10 and line[::-1] in NOTE]
    assert len(notes) >= 2 and " ".join(line[::-1] for line in notes) == NOTE
    # What copying the text gives: the order typed (pypdf flips right-to-left runs back).
    text = unicodedata.normalize("NFKC", packet.all_text())
    for typed in (PATIENT, DOCTOR, TITLE):
        assert typed in text, typed
