"""`build_packet` end to end, without a database: hand-built data, real files, and the
produced PDF read back page by page."""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from carebinder.packet.build import Options, Result, build_packet
from carebinder.packet.data import PacketData, RecordInfo
from carebinder.packet.render import render_front
from carebinder.packet.styles import BAND_BOTTOM, BAND_TOP, MARGIN_SIDE
from tests.packet.pdfutil import (
    A4,
    LETTER,
    Packet,
    assert_stamped,
    broken_pdf,
    dicom,
    encrypted_pdf,
    file_info,
    flat,
    font_files,
    multi_tiff,
    page_images,
    png,
    read,
    record_info,
    rotated_jpeg,
    sample_data,
    text_pdf,
    text_pdf_bytes,
)

PDF = "application/pdf"
SECTIONS = [
    ("Cover", 0),
    ("Summary", 0),
    ("Opinions so far", 0),
    ("Questions for this visit", 0),
    ("Checklist", 0),
    ("Care team", 0),
    ("Records index", 0),
]
TITLES = [
    "Core biopsy pathology report",
    "Breast imaging",
    "Outside records ER <5% & PR+",
    "Operative report",
]
BAD_FILES = [
    ("broken.pdf", "the PDF is damaged (PdfError)"),
    ("locked.pdf", "the PDF is password-protected"),
    ("scan.dcm", "DICOM medical image: bring the imaging disc"),
]


def records(folder: Path) -> tuple[RecordInfo, ...]:
    """Four records: PDFs (letter and A4) with images between, images only, files that
    cannot be printed, and a plain one-page PDF."""
    folder.mkdir(exist_ok=True)
    pathology = text_pdf(folder / "pathology.pdf", ["PATHOLOGY page 1", "PATHOLOGY page 2"])
    addendum = text_pdf(folder / "addendum-a4.pdf", ["ADDENDUM on A4"], size=A4)
    surgery = text_pdf(folder / "surgery.pdf", ["SURGERY page 1"])
    return (
        record_info(
            1,
            TITLES[0],
            file_info(pathology, PDF),
            file_info(rotated_jpeg(folder / "photo.jpg"), "image/jpeg"),
            file_info(addendum, PDF),
            on=date(2026, 10, 21),
        ),
        record_info(
            2,
            TITLES[1],
            file_info(multi_tiff(folder / "fax.tiff", 3), "image/tiff"),
            file_info(png(folder / "chart.png"), "image/png"),
            on=date(2026, 10, 25),
            kind="imaging",
            source="Mercy Radiology",
        ),
        record_info(
            3,
            TITLES[2],
            file_info(broken_pdf(folder / "broken.pdf"), PDF),
            file_info(encrypted_pdf(folder / "locked.pdf"), PDF),
            file_info(dicom(folder / "scan.dcm"), "application/dicom"),
            on=date(2026, 10, 28),
            kind="other",
        ),
        record_info(4, TITLES[3], file_info(surgery, PDF), on=date(2026, 11, 4), kind="surgery"),
    )


# Each record's pages: its PDF pages and images in the order of its files; record 3, with
# nothing to print, has a page of its own instead.
MERGED_PAGES = 2 + 1 + 1
IMAGE_PAGES = 1 + 3 + 1
OWN_PAGES = 1
RECORD_PAGES = OWN_PAGES + MERGED_PAGES + IMAGE_PAGES


@dataclass
class Built:
    data: PacketData
    result: Result
    packet: Packet
    front_pages: int

    def start(self, number: int) -> int:
        """0-based page where the `number`-th record starts (its band names it)."""
        (page,) = self.packet.find(f"Record {number} of {len(self.data.records)}")
        return page


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The full packet, built once for the tests that only read it."""
    folder = tmp_path_factory.mktemp("built")
    data = sample_data(records(folder / "files"))
    progress: list[str] = []
    result = build_packet(data, folder / "packet.pdf", Options(), progress=progress.append)
    assert progress == [
        "4 records, 9 files: putting their pages together.",
        f"Saving {result.pages} pages.",
    ]
    front = render_front(data, "letter", None).page_count
    return Built(data, result, read(result.path), front)


# --- the whole packet --------------------------------------------------------------------------


def test_page_count_is_own_pages_plus_merged_and_image_pages(built: Built) -> None:
    assert built.front_pages == 6
    assert built.packet.pages == built.front_pages + RECORD_PAGES
    assert built.result.pages == built.packet.pages
    assert built.result.records == 4
    with built.packet.pdf() as pdf:
        assert len(pdf.pages) == built.packet.pages
        assert pdf.check_pdf_syntax() == []


def test_every_page_has_the_header_and_its_page_number(built: Built) -> None:
    assert_stamped(built.packet, "Ana Souza", "12 Apr 1964")
    for text in built.packet.texts:
        assert "Second-opinion visit, 03 Dec 2026" in text
        assert "Confidential medical information" in text


def test_every_section_is_in_the_packet(built: Built) -> None:
    text = flat(built.packet.all_text())
    for expected in (
        "Second-opinion visit",
        "Thursday 03 December 2026, 09:30 (EST, America/New_York)",
        "Member id BHH-22871934",
        "I am seeking a second opinion",
        "Summary Invasive ductal carcinoma, left breast Primary site Breast",
        "Key results",
        "Current medications",
        "Penicillin (medication) hives and swelling of the face ⚠ severe",
        "Opinions so far",
        "Stage group ≠ IA IIB",
        "discuss their conclusions together",
        "Questions for this visit",
        "1. Do you agree with the stage, given the micrometastasis?",
        "About two weeks before normal activity. (Dr. Marcus Bell, 02 Nov 2026)",
        "Checklist",
        "Care team",
        "referred by Dr. Helen Park",
        "Records index",
        "PATHOLOGY page 1",
        "ADDENDUM on A4",
        "SURGERY page 1",
    ):
        assert expected in text, expected


def test_outline_has_the_sections_each_record_and_its_files(built: Built) -> None:
    outline = built.packet.outline()
    sections = [(title, depth) for title, depth, _ in outline[: len(SECTIONS)]]
    assert sections == SECTIONS
    for title, _, page in outline[: len(SECTIONS)]:
        heading = "Second-opinion visit" if title == "Cover" else title
        assert heading in built.packet.texts[page], title
    assert outline[len(SECTIONS)] == ("Records", 0, built.front_pages)
    entries = outline[len(SECTIONS) + 1 :]
    start = built.start
    # A record of several files has a bookmark for each, at its first page.
    assert entries == [
        (TITLES[0], 1, start(1)),
        ("pathology.pdf", 2, start(1)),
        ("photo.jpg", 2, start(1) + 2),
        ("addendum-a4.pdf", 2, start(1) + 3),
        (TITLES[1], 1, start(2)),
        ("fax.tiff", 2, start(2)),
        ("chart.png", 2, start(2) + 3),
        (TITLES[2], 1, start(3)),
        (TITLES[3], 1, start(4)),
    ]
    for number, title in enumerate(TITLES, 1):
        assert title in built.packet.texts[start(number)]


def test_records_index_gives_the_page_each_record_starts_on(built: Built) -> None:
    (index,) = [t for t in built.packet.texts if t.startswith("Records index")]
    lines = index.splitlines()
    for number, title in enumerate(TITLES, 1):
        at = next(i for i, line in enumerate(lines) if title in line)
        shown = next(line for line in lines[at:] if re.fullmatch(r"\d+", line.strip()))
        assert int(shown) == built.start(number) + 1, title


def test_a_record_starts_on_its_first_file_with_its_identity_above(built: Built) -> None:
    texts = built.packet.texts
    first = built.start(1)
    assert first == built.front_pages  # no page of its own: straight to its first file
    band = flat(texts[first])
    assert (
        "Record 1 of 4 Core biopsy pathology report · pathology · 21 Oct 2026"
        " · Dr. Marcus Bell, Mercy General Hospital"
    ) in band
    assert "PATHOLOGY page 1" in band
    # Only the first page of a record carries its band.
    assert [n for n, t in enumerate(texts) if "Record 1 of 4" in t] == [first]


def test_record_pages_come_in_file_order(built: Built) -> None:
    first = built.start(1)
    texts = built.packet.texts
    assert "PATHOLOGY page 1" in texts[first]
    assert "PATHOLOGY page 2" in texts[first + 1]
    assert "ADDENDUM on A4" in texts[first + 3]  # after the photo, as the files are listed
    assert built.start(2) == first + 4
    assert built.start(3) == built.start(2) + 4  # three TIFF frames and the PNG
    assert built.start(4) == built.start(3) + 1  # nothing printable: a page of its own
    assert "SURGERY page 1" in texts[built.start(4)]
    assert len(texts) == built.start(4) + 1


def test_metadata_names_the_visit_and_the_patient(built: Built) -> None:
    meta = built.packet.reader.metadata
    assert meta is not None
    assert meta.title == "Second-opinion visit with Dr. Wei Chen, 03 Dec 2026"
    assert meta.author == "Ana Souza"
    assert meta.subject == ("Medical records and questions of Ana Souza for a second opinion visit")
    with built.packet.pdf() as pdf:
        assert pdf.Root.PageMode == pikepdf.Name.UseOutlines


def test_bad_files_are_listed_to_bring_separately(built: Built) -> None:
    assert built.result.separately == tuple((TITLES[2], n, r) for n, r in BAD_FILES)
    page = flat(built.packet.texts[built.start(3)])
    assert "Bring separately" in page
    assert "In this packet" not in page
    for name, reason in BAD_FILES:
        assert f"☐ {name}: {reason}" in page
    (index,) = [flat(t) for t in built.packet.texts if t.startswith("Records index")]
    for name, reason in BAD_FILES:
        assert f"Bring separately: {name}: {reason}" in index


def test_images_are_upright_and_one_page_per_frame(built: Built) -> None:
    with built.packet.pdf() as pdf:
        (photo,) = page_images(pdf.pages[built.start(1) + 2]).values()
        assert (int(photo.Width), int(photo.Height)) == (60, 120)  # stored 120×60, EXIF 6
        tiff = built.start(2)
        for page in range(tiff, tiff + 4):  # three frames, then the PNG
            assert len(page_images(pdf.pages[page])) == 1, page
        assert page_images(pdf.pages[built.start(3)]) == {}


def opening(page: pikepdf.Page) -> list[float]:
    """The numbers of the `cm` operators that open a merged page's content."""
    first = page.obj.Contents[0].read_bytes().decode()
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", first.split(" re ")[0])]


def assert_fitted(page: pikepdf.Page, source: tuple[float, float], paper: tuple[float, float]):
    """The page has the packet's size, and its own content is shrunk (never enlarged) into
    the band between the header and the footer."""
    assert [float(v) for v in page.obj.MediaBox] == pytest.approx([0, 0, *paper], abs=1)
    for name in ("/CropBox", "/Rotate", "/TrimBox"):
        assert name not in page.obj
    numbers = opening(page)
    tx, ty, scale = numbers[4], numbers[5], numbers[6]
    assert numbers[6:12] == [scale, 0, 0, scale, 0, 0]
    assert 0 < scale < 1
    width, height = source[0] * scale, source[1] * scale
    assert tx >= MARGIN_SIDE - 0.5
    assert tx + width <= paper[0] - MARGIN_SIDE + 0.5
    assert ty >= BAND_BOTTOM - 0.5
    assert ty + height <= paper[1] - BAND_TOP + 0.5


def test_merged_pages_are_shrunk_between_the_header_and_footer(built: Built) -> None:
    first = built.start(1)
    with built.packet.pdf() as pdf:
        for page in (first, first + 1, built.start(4)):
            assert_fitted(pdf.pages[page], LETTER, LETTER)
        assert_fitted(pdf.pages[first + 3], A4, LETTER)
        # Rendered pages keep their size and are not moved.
        for page in (0, built.start(2), built.start(3)):
            assert [float(v) for v in pdf.pages[page].obj.MediaBox] == pytest.approx(
                [0, 0, *LETTER], abs=1
            )


def test_fonts_are_embedded(built: Built) -> None:
    with built.packet.pdf() as pdf:
        fonts = font_files(pdf)
    assert any(font.endswith("DejaVuSans") for font in fonts), fonts
    assert any(font.endswith("DejaVuSans-Bold") for font in fonts), fonts


def test_user_text_with_markup_characters_appears_literally(built: Built) -> None:
    pages = built.packet.find("Outside records ER <5% & PR+")
    assert built.start(3) in pages
    assert any(built.packet.texts[p].startswith("Records index") for p in pages)
    assert "&amp;" not in built.packet.all_text()


def test_the_file_is_private(built: Built) -> None:
    assert os.stat(built.result.path).st_mode & 0o777 == 0o600
    leftovers = [p.name for p in built.result.path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


# --- options and variations -------------------------------------------------------------------


@pytest.fixture
def small(tmp_path: Path) -> PacketData:
    """One record: a one-page letter PDF and a PNG."""
    report = text_pdf(tmp_path / "report.pdf", ["REPORT page 1"])
    chart = png(tmp_path / "chart.png")
    return sample_data(
        [record_info(1, "Report", file_info(report, PDF), file_info(chart, "image/png"))]
    )


def test_a4_paper_makes_every_page_a4(small: PacketData, tmp_path: Path) -> None:
    result = build_packet(small, tmp_path / "a4.pdf", Options(paper="a4"))
    packet = read(result.path)
    assert_stamped(packet, "Ana Souza", "12 Apr 1964")
    with packet.pdf() as pdf:
        for page in pdf.pages:
            assert [float(v) for v in page.mediabox] == pytest.approx([0, 0, *A4], abs=1)
        (report,) = packet.find("REPORT page 1")
        assert_fitted(pdf.pages[report], LETTER, A4)


def test_password_is_required_and_encryption_is_aes_256(small: PacketData, tmp_path: Path) -> None:
    password = "pässwörd 42"
    result = build_packet(small, tmp_path / "locked.pdf", Options(password=password))
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(result.path)
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(result.path, password="wrong")
    with pikepdf.open(result.path, password=password) as pdf:
        assert pdf.is_encrypted
        assert pdf.encryption.R == 6
        assert pdf.encryption.bits == 256
        assert pdf.encryption.stream_method.name == "aesv3"  # AES-256
        assert pdf.encryption.string_method.name == "aesv3"
        assert len(pdf.pages) == result.pages
    packet = read(result.path, password=password)
    assert_stamped(packet, "Ana Souza", "12 Apr 1964")
    assert packet.find("REPORT page 1")
    assert [title for title, _, _ in packet.outline()][-4:] == [
        "Records",
        "Report",
        "report.pdf",
        "chart.png",
    ]


def test_without_records_only_the_summary_pages_are_made(tmp_path: Path) -> None:
    data = sample_data(records(tmp_path / "files"))
    result = build_packet(data, tmp_path / "short.pdf", Options(include_records=False))
    packet = read(result.path)
    assert result.pages == packet.pages == render_front(data, "letter", None).page_count
    assert result.records == 0
    assert result.separately == ()
    assert_stamped(packet, "Ana Souza", "12 Apr 1964")
    assert packet.find("Record 1 of") == []
    assert packet.find("PATHOLOGY page 1") == []
    (index,) = [flat(t) for t in packet.texts if t.startswith("Records index")]
    assert "The records are not included in this copy of the packet." in index
    for title in TITLES:
        assert title in index
    assert "Records" not in [title for title, _, _ in packet.outline()]


def test_names_in_any_script_print_on_every_page(small: PacketData, tmp_path: Path) -> None:
    name = "Nguyễn Thị Ánh"
    data = replace(
        small,
        patient=replace(small.patient, name=name),
        visit=replace(small.visit, doctor=replace(small.visit.doctor, name="Dr. Øyvind Ødegård")),
    )
    result = build_packet(data, tmp_path / "unicode.pdf", Options())
    packet = read(result.path)
    assert_stamped(packet, name, "12 Apr 1964")
    assert "Dr. Øyvind Ødegård" in packet.texts[0]
    assert packet.reader.metadata is not None
    assert packet.reader.metadata.author == name
    with packet.pdf() as pdf:
        assert any(font.endswith("DejaVuSans") for font in font_files(pdf))


def test_an_existing_file_is_kept_unless_forced(small: PacketData, tmp_path: Path) -> None:
    out = tmp_path / "packet.pdf"
    out.write_bytes(b"my own file")
    with pytest.raises(FileExistsError):
        build_packet(small, out, Options())
    assert out.read_bytes() == b"my own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.png", "packet.pdf", "report.pdf"]

    result = build_packet(small, out, Options(force=True))
    assert read(out).pages == result.pages
    assert os.stat(out).st_mode & 0o777 == 0o600


def test_the_same_file_in_two_records_is_printed_in_both(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "shared.pdf", ["SHARED 1", "SHARED 2"])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        # One resources dictionary for both pages, as many PDF writers make them.
        resources = pdf.make_indirect(pdf.pages[0].obj.Resources)
        for page in pdf.pages:
            page.obj.Resources = resources
        pdf.save(path)
    shared = file_info(path, PDF)
    data = sample_data(
        [
            record_info(1, "First", shared),
            record_info(2, "Second", shared, on=date(2026, 10, 2)),
        ]
    )
    result = build_packet(data, tmp_path / "shared-packet.pdf", Options())
    packet = read(result.path)
    front = render_front(data, "letter", None).page_count
    assert result.pages == packet.pages == front + 2 * 2
    assert packet.find("SHARED 1") == [front, front + 2]
    assert packet.find("SHARED 2") == [front + 1, front + 3]
    # Each record's first page names its own record.
    assert packet.find("Record 1 of 2") == [front]
    assert packet.find("Record 2 of 2") == [front + 2]
    assert_stamped(packet, "Ana Souza", "12 Apr 1964")


def test_a_rotated_page_is_turned_upright_and_fitted(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "landscape.pdf", ["TURNED page"])
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        pdf.pages[0].obj.Rotate = 90
        pdf.save(path)
    data = sample_data([record_info(1, "Scan", file_info(path, PDF))])
    result = build_packet(data, tmp_path / "rotated.pdf", Options())
    packet = read(result.path)
    (page,) = packet.find("TURNED page")
    with packet.pdf() as pdf:
        # Shown turned, the page is 792 wide and 612 tall.
        assert_fitted(pdf.pages[page], (792, 612), LETTER)
        assert "0 -1 1 0 0 612 cm" in pdf.pages[page].obj.Contents[0].read_bytes().decode()


def empty_pdf(path: Path) -> Path:
    pikepdf.new().save(path)
    return path


def truncated_png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.effect_noise((200, 150), 80).convert("RGB").save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue()[:400])
    return path


@pytest.mark.parametrize(
    ("name", "media_type", "make", "reason"),
    [
        ("broken.pdf", PDF, broken_pdf, "the PDF is damaged (PdfError)"),
        ("locked.pdf", PDF, encrypted_pdf, "the PDF is password-protected"),
        ("scan.dcm", "application/dicom", dicom, "DICOM medical image: bring the imaging disc"),
        ("empty.pdf", PDF, empty_pdf, "the PDF has no pages"),
        ("cut.png", "image/png", truncated_png, "the image cannot be read"),
        ("gone.pdf", PDF, None, "missing from the binder's file store"),
    ],
)
def test_a_bad_file_never_fails_the_packet(
    tmp_path: Path, name: str, media_type: str, make: object, reason: str
) -> None:
    path = tmp_path / name
    if callable(make):
        make(path)
    good = text_pdf(tmp_path / "good.pdf", ["GOOD page"])
    data = sample_data([record_info(1, "Mixed", file_info(path, media_type), file_info(good, PDF))])
    result = build_packet(data, tmp_path / "packet.pdf", Options())
    ((record, file, why),) = result.separately
    assert (record, file) == ("Mixed", name)
    assert why.startswith(reason)
    packet = read(result.path)
    assert result.pages == packet.pages == 6 + 1
    (index,) = [flat(t) for t in packet.texts if t.startswith("Records index")]
    assert f"Mixed Bring separately: {name}: {reason}" in index
    assert "GOOD page" in packet.texts[6]
    assert "Record 1 of 1 Mixed" in flat(packet.texts[6])
    assert_stamped(packet, "Ana Souza", "12 Apr 1964")


def truncated_photo(path: Path) -> Path:
    """A phone photo (EXIF orientation 6) cut short, as by an interrupted copy."""
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.effect_noise((400, 300), 80).convert("RGB").save(buffer, format="JPEG", exif=exif)
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


def test_a_truncated_photo_never_fails_the_packet(tmp_path: Path) -> None:
    photo = file_info(truncated_photo(tmp_path / "photo.jpg"), "image/jpeg")
    data = sample_data([record_info(1, "Photo", photo)])
    result = build_packet(data, tmp_path / "packet.pdf", Options())
    assert [(n, r.split(" (")[0]) for _, n, r in result.separately] == [
        ("photo.jpg", "the image cannot be read")
    ]
    assert read(result.path).pages == 6 + 1


@pytest.fixture
def many(tmp_path: Path) -> PacketData:
    page = text_pdf(tmp_path / "page.pdf", ["ONE page"])
    return sample_data(
        [record_info(i, f"Lab result {i:02}", file_info(page, PDF)) for i in range(1, 26)]
    )


def test_a_long_packet_keeps_its_index_and_outline_right(many: PacketData, tmp_path: Path) -> None:
    result = build_packet(many, tmp_path / "long.pdf", Options())
    packet = read(result.path)
    front = render_front(many, "letter", None).page_count
    assert result.pages == packet.pages == front + 25
    assert_stamped(packet, "Ana Souza", "12 Apr 1964")
    outline = packet.outline()
    records = [(title, page) for title, depth, page in outline if depth == 1]
    assert records == [(f"Lab result {i:02}", front + i - 1) for i in range(1, 26)]
    (start,) = [page for title, _, page in outline if title == "Records index"]
    assert front - start == 2  # the index runs onto a second page
    index = flat(" ".join(packet.texts[start:front]))
    for i in range(1, 26):
        row = f"Lab result {i:02} Dr. Marcus Bell, Mercy General Hospital {front + i}"
        assert row in index, i


def needs_appearances_form(path: Path) -> Path:
    """A filled-in form as many hospital systems write it: the value in the field, no
    appearance stream, and /NeedAppearances asking the reader to draw one."""
    from pikepdf import Array, Dictionary, Name, String

    pdf = pikepdf.open(io.BytesIO(text_pdf_bytes(["FORM page"])))
    page = pdf.pages[0].obj
    font = pdf.make_indirect(
        Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    )
    field = pdf.make_indirect(
        Dictionary(
            Type=Name.Annot,
            Subtype=Name.Widget,
            FT=Name.Tx,
            T=String("mrn"),
            V=String("FIELD VALUE"),
            DA=String("/Helv 12 Tf 0 g"),
            Rect=Array([72, 600, 272, 620]),
            F=4,
            P=page,
        )
    )
    page.Annots = Array([field])
    pdf.Root.AcroForm = Dictionary(
        Fields=Array([field]),
        NeedAppearances=True,
        DA=String("/Helv 12 Tf 0 g"),
        DR=Dictionary(Font=Dictionary(Helv=font)),
    )
    pdf.save(path)
    return path


def test_form_fields_without_appearance_streams_print_their_values(tmp_path: Path) -> None:
    path = needs_appearances_form(tmp_path / "form.pdf")
    with pikepdf.open(path) as source:
        assert "/AP" not in source.pages[0].obj.Annots[0]
    data = sample_data([record_info(1, "Referral form", file_info(path, PDF))])
    result = build_packet(data, tmp_path / "packet.pdf", Options())
    assert result.notices == ()
    packet = read(result.path)
    (page,) = packet.find("FORM page")
    assert "FIELD VALUE" in packet.texts[page]
    with packet.pdf() as pdf:
        assert "/Annots" not in pdf.pages[page].obj


def test_filled_in_form_fields_print_as_part_of_the_page(tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "form.pdf"
    canvas = Canvas(str(path))
    canvas.drawString(72, 700, "FORM page")
    canvas.acroForm.textfield(name="mrn", value="FIELD VALUE", x=72, y=600, width=200, height=20)
    canvas.showPage()
    canvas.save()
    with pikepdf.open(path) as source:  # ReportLab draws the field's appearance itself
        assert "/AP" in source.pages[0].obj.Annots[0]
    data = sample_data([record_info(1, "Referral form", file_info(path, PDF))])
    result = build_packet(data, tmp_path / "packet.pdf", Options())
    packet = read(result.path)
    (page,) = packet.find("FORM page")
    assert "FIELD VALUE" in packet.texts[page]
    with packet.pdf() as pdf:
        assert "/Annots" not in pdf.pages[page].obj
