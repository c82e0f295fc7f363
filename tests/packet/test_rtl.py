"""Right-to-left names and notes (Hebrew, Arabic) in the packet: drawn in visual order, Arabic
letters joined, long texts reordered line by line after wrapping; Latin text untouched.

The PDFs are read back two ways, on purpose:

- `drawn_text()` gives the strings as the PDF draws them, left to right on the page: visual
  order. "שרה כהן" typed is expected drawn as "ןהכ הרש"; Arabic is expected as joined
  presentation forms (U+FE70…U+FEFC), also right to left.
- pypdf's `extract_text()` is what someone copying or searching the text gets. It flips each
  run of right-to-left letters it reads ("Arabic and Hebrew are extracted in the correct
  order", its docs say), so a name drawn in visual order comes back as it was typed, and one
  drawn as typed (what ReportLab did before) would come back reversed. Its guess goes wrong
  around digits and brackets inside right-to-left text, so it is used here on names and
  titles without them. Arabic comes back as presentation forms: NFKC turns them back into
  the letters typed.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont

from carebinder.packet import rtl
from carebinder.packet.build import Options, build_packet
from carebinder.packet.data import Event, PacketData
from carebinder.packet.layout import Para, build, markup, p, wrap_text
from carebinder.packet.render import render_front
from carebinder.packet.styles import FONT, FONT_DIR, geometry, styles, text
from tests.packet.pdfutil import (
    BELL,
    assert_stamped,
    drawn_text,
    file_info,
    person,
    read,
    record_info,
    sample_data,
    text_pdf,
)

PDF = "application/pdf"
BORN = "12 Apr 1964"
# Arabic letters as typed (not joined): none may be drawn, only their joined forms.
UNJOINED = {chr(c) for c in range(0x0621, 0x064B)}

# Long enough to wrap in the summary's table and on the record's own page; no digits or
# brackets, so that a drawn line reversed is exactly the typed text (see the module's doc).
NOTE_HE = (
    "הגידול נמצא בשד השמאלי ויש לשקול ביופסיה נוספת לפני הניתוח ולבקש את חוות הדעת של"
    " הפתולוג על הדגימות כולן והמטופלת מבקשת לדעת אם יש טיפול מונע נוסף שמתאים לה"
)
NOTE_AR = (
    "لا توجد علامات انتشار في الصور الأخيرة ويوصي الطبيب بإجراء خزعة إضافية قبل الجراحة"
    " وطلب رأي أخصائي علم الأمراض في جميع العينات مع مراجعة خطة العلاج"
)


@dataclass(frozen=True)
class Script:
    """Texts typed in one script, and how each must be drawn (written out by hand, and
    checked on the rendered pages)."""

    patient: str
    patient_drawn: str
    doctor: str
    doctor_drawn: str
    title: str
    title_drawn: str
    note: str


HEBREW = Script(
    patient="שרה כהן-לוי",
    patient_drawn="יול-ןהכ הרש",
    doctor="ד״ר אברהם כהן",
    doctor_drawn="ןהכ םהרבא ר״ד",
    title="דוח פתולוגיה: ביופסיית מחט",
    title_drawn="טחמ תייספויב :היגולותפ חוד",
    note=NOTE_HE,
)
# Each Arabic letter in its joined form (initial, medial, final or isolated), right to left.
ARABIC = Script(
    patient="فاطمة الزهراء",
    patient_drawn="\ufe80\ufe8d\ufeae\ufeeb\ufeb0\ufedf\ufe8d \ufe94\ufee4\ufec3\ufe8e\ufed3",
    doctor="د. محمد عبد الله",
    doctor_drawn="\ufeea\ufee0\ufedf\ufe8d \ufeaa\ufe92\ufecb \ufeaa\ufee4\ufea4\ufee3 .\ufea9",
    title="تقرير الأشعة للثدي الأيسر",
    # لأ is one glyph (U+FEF7): lam-alef ligatures are required in Arabic.
    title_drawn="\ufeae\ufeb4\ufef3\ufef7\ufe8d \ufef1\ufeaa\ufe9c\ufee0\ufedf"
    " \ufe94\ufecc\ufeb7\ufef7\ufe8d \ufeae\ufef3\ufeae\ufed8\ufe97",
    note=NOTE_AR,
)


def logical(drawn: str) -> str:
    """Typed text back from a drawn line of right-to-left letters only (no digits, brackets
    or Latin): reversed, and Arabic presentation forms made letters again."""
    return unicodedata.normalize("NFKC", drawn[::-1])


def note_lines(drawn: list[str], note: str) -> list[str]:
    """The drawn lines that are pieces of `note`, in the order drawn (top to bottom)."""
    return [s for s in drawn if len(s) > 10 and logical(s) in unicodedata.normalize("NFKC", note)]


def script_data(script: Script, folder: Path) -> PacketData:
    folder.mkdir(exist_ok=True)
    report = text_pdf(folder / "report.pdf", ["REPORT page 1"])
    data = sample_data(
        (
            record_info(
                1, script.title, file_info(report, PDF), source=script.doctor, notes=script.note
            ),
            record_info(2, "Operative report", on=date(2026, 11, 1)),
        ),
        current=replace(BELL, doctor=script.doctor, plan=script.note),
        timeline=(Event(date(2026, 12, 3), f"Visit: {script.doctor}", "appointment"),),
    )
    return replace(
        data,
        patient=replace(data.patient, name=script.patient),
        visit=replace(data.visit, doctor=person(script.doctor, "Oncology", "Hadassah")),
    )


# --- the packet, end to end ---------------------------------------------------------------


@pytest.mark.parametrize("script", [HEBREW, ARABIC], ids=["hebrew", "arabic"])
def test_packet_draws_names_titles_and_notes_right_to_left(script: Script, tmp_path: Path) -> None:
    out = tmp_path / "packet.pdf"
    result = build_packet(script_data(script, tmp_path / "files"), out, Options())
    packet = read(out)
    pages = [drawn_text(out, page) for page in range(result.pages)]

    # The header on every page, merged record pages too: drawn right to left...
    assert logical(script.patient_drawn) == unicodedata.normalize("NFKC", script.patient)
    for number, drawn in enumerate(pages):
        assert script.patient_drawn in drawn, (number, drawn)
    # ...and read back in the order typed.
    normal = [unicodedata.normalize("NFKC", t) for t in packet.texts]
    assert_stamped(
        replace(packet, texts=normal), unicodedata.normalize("NFKC", script.patient), BORN
    )

    cover, summary = pages[0], pages[1]
    assert script.doctor_drawn in cover  # the visit's doctor, a paragraph of its own
    assert f"Visit: {script.doctor_drawn}" in summary  # a timeline label and a table cell
    assert f"{script.doctor_drawn}, 24 Oct 2026" in summary  # among our words: date after
    assert unicodedata.normalize("NFKC", script.doctor) in normal[0]

    # The record's title: in the index (a table cell), and on the record's own page (it has
    # notes) twice, in the band across its top and as its heading.
    (index,) = [drawn for drawn in pages if "Records index" in drawn]
    assert script.title_drawn in index
    (own,) = [drawn for drawn in pages if "Record 1 of 2" in drawn]
    assert own.count(script.title_drawn) == 2
    assert unicodedata.normalize("NFKC", script.title) in "\n".join(normal)

    # The long note wraps; each line is reordered on its own, so the top line holds the
    # start of the note and the lines read back, in order, as the whole note.
    for drawn in (summary, own):
        lines = note_lines(drawn, script.note)
        assert len(lines) >= 2, lines
        assert " ".join(logical(line) for line in lines) == unicodedata.normalize(
            "NFKC", script.note
        )

    # Arabic is drawn joined: no letter in its unjoined form anywhere.
    for number, drawn in enumerate(pages):
        assert not UNJOINED & set("".join(drawn)), number


def test_latin_packet_draws_every_string_as_typed() -> None:
    rendered = render_front(sample_data(), "letter", None)
    drawn = drawn_text(rendered.pdf, 0)
    for typed in ("Dr. Wei Chen", "Ana Souza", "Marco Souza (husband)", "Blue Harbor Health"):
        assert typed in drawn, typed


# --- the pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "latin",
    [
        "Ana Souza",
        "Nguyễn Thị Ánh",
        "Dr. Ζωή Παπαδοπούλου",
        "Д-р Иван Петров",
        "李小龙",
        "ER <5% & PR+ — “quoted”",
        "",
    ],
)
def test_text_without_right_to_left_letters_is_left_as_it_is(latin: str) -> None:
    assert not rtl.needs_bidi(latin)
    assert rtl.display(latin) is latin
    assert rtl.shape(latin) is latin
    assert rtl.embed(latin) is latin
    assert rtl.LineOrder("L")(latin) is latin
    assert not Para(text(latin), styles()["body"]).bidi


@pytest.mark.parametrize(
    ("typed", "drawn"),
    [
        ("שרה כהן", "ןהכ הרש"),
        # Latin parts stay in their order, the Hebrew run reads right to left.
        ("Dr. אברהם כהן, Hadassah", "Dr. ןהכ םהרבא, Hadassah"),
        # Brackets are mirrored in a right-to-left run, so they still face what they enclose.
        ("שרה כהן (לוי)", "(יול) ןהכ הרש"),
        # Digits keep their order inside Hebrew.
        ("חדר 305", "305 רדח"),
        # Arabic joined: initial, medial and final forms; lam-alef becomes its ligature.
        ("محمد", "\ufeaa\ufee4\ufea4\ufee3"),
        ("لا", "\ufefb"),
    ],
)
def test_a_line_is_drawn_in_visual_order(typed: str, drawn: str) -> None:
    assert rtl.display(typed) == drawn


def test_user_text_among_our_words_keeps_its_own_direction() -> None:
    # The question mark ends the Hebrew question (its left), not the line after "1. ".
    assert rtl.reorder("1. " + rtl.embed("שאלה?"), "L") == "1. ?הלאש"
    # A date after a Hebrew name stays after it, instead of joining the Hebrew run.
    assert rtl.reorder(rtl.embed("שרה") + ", 24 Oct 2026", "L") == "הרש, 24 Oct 2026"
    assert rtl.reorder("שרה, 24 Oct 2026", "L") == "24 ,הרש Oct 2026"  # what embed avoids


def test_direction_controls_typed_by_someone_never_break_the_layout() -> None:
    for typed in ("a\u2068שלום\u2069b", "\u2067שלום\u2069 x", "\u202eabc", "\u200fשלום\u200e"):
        drawn = rtl.display(typed)
        assert not set(drawn) & set("\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u202e")
        assert not set(drawn) & {"\u200e", "\u200f"}  # invisible marks are not drawn


def test_wrap_text_breaks_in_typed_order_then_reorders_each_line() -> None:
    lines = wrap_text(NOTE_HE, FONT, 10, 200)
    assert len(lines) >= 3
    logical_lines = simpleSplit(NOTE_HE, FONT, 10, 200)
    assert lines == [rtl.display(line) for line in logical_lines]
    assert lines[0].endswith(NOTE_HE.split()[0][::-1])  # the first word, at the right


def line_starts(pdf: bytes) -> list[float]:
    """The x where each string on the first page starts, for a page of Paragraphs (ReportLab
    sets a Tm per paragraph, then a relative Td before each line)."""
    starts: list[float] = []
    x = 0.0
    with pikepdf.open(io.BytesIO(pdf)) as document:
        operations = list(pikepdf.parse_content_stream(document.pages[0]))
    for operands, operator in operations:
        if str(operator) == "Tm":
            x = float(operands[4])
        elif str(operator) == "Td":
            x += float(operands[0])
        elif str(operator) == "Tj":
            starts.append(x)
    return starts


def test_several_right_to_left_lines_are_set_flush_right_one_stays_left() -> None:
    """A reader of Hebrew starts each line at its right end: those ends line up. A single
    line (a name in a table) stays beside its label, where a Latin one would be."""
    rendered = build([p(NOTE_HE), p("שרה כהן"), p("Ana Souza")], "letter", "t")
    drawn, starts = drawn_text(rendered.pdf, 0), line_starts(rendered.pdf)
    assert len(drawn) == len(starts) == 4  # two lines of the note, the name, the Latin
    width = geometry("letter").frame[2]
    *note, name, latin = zip(drawn, starts, strict=True)
    for line, x in note:
        assert x + stringWidth(line, FONT, 9.5) == pytest.approx(width, abs=0.5), line
    assert name[1] == latin[1] == 0


def test_a_right_to_left_paragraph_split_across_pages_reads_on() -> None:
    """ReportLab splits a paragraph in its logical order; each part reorders its own lines."""
    long = " ".join([NOTE_HE] * 60)
    rendered = build([p(long)], "letter", "t")
    assert rendered.page_count >= 2
    lines = [line for page in range(rendered.page_count) for line in drawn_text(rendered.pdf, page)]
    assert " ".join(line[::-1] for line in lines) == long


def test_our_markup_is_left_to_right_whatever_the_user_text() -> None:
    line = markup(f"1. {text('שאלה?')}")
    assert line.bidi and type(line).base == "L"
    assert type(p("שאלה?")).base is None  # a paragraph of user text alone: its own direction


@pytest.mark.parametrize("font", ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"])
def test_the_font_has_every_glyph_arabic_shaping_produces(font: str) -> None:
    """Each Arabic and Persian letter alone, first, in the middle and last of a word, with
    lam-alef ligatures and harakat: all that shaping yields is in the embedded font.

    (DejaVu Sans lacks Urdu's heh goal and yeh barree, Persian's heh with yeh above, and
    U+063B…U+063F, shaped or not: those print as empty boxes, as they did before.)"""
    glyphs = TTFont("probe", str(FONT_DIR / font)).face.charToGlyph
    arabic = [chr(c) for c in (*range(0x0621, 0x063B), *range(0x0640, 0x064B))]
    letters = arabic + list("پچژگکیھ")
    words = [f"{x}" for x in letters]
    words += [f"ب{x}ب" for x in letters] + [f"{x}ب" for x in letters] + [f"ب{x}" for x in letters]
    words += ["لا", "لأ", "لإ", "لآ", "بلا", "مُحَمَّد", "اللّٰه"]
    missing = {c for w in words for c in rtl.shape(w) if ord(c) not in glyphs}
    assert missing == set(), sorted(f"U+{ord(c):04X}" for c in missing)
