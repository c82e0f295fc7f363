"""Helpers the packet tests share: small files to put in records, sample packet data, and
reading a produced PDF back (pypdf for text and metadata, pikepdf for structure)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pikepdf
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from carebinder.choices import Purpose
from carebinder.packet.data import (
    DOCTORS_NOTE,
    AllergyInfo,
    CheckInfo,
    ComparedRow,
    ConditionInfo,
    Event,
    FileInfo,
    HealthInfo,
    MarkerInfo,
    MedicationInfo,
    OpinionInfo,
    PacketData,
    PatientInfo,
    PersonInfo,
    QuestionInfo,
    RecordInfo,
    ResultInfo,
    TreatmentInfo,
    VisitInfo,
)

LETTER = (612.0, 792.0)
A4 = (595.28, 841.89)
PAPER_SIZES = {"letter": LETTER, "a4": A4}

# --- files to put in records --------------------------------------------------------------


def text_pdf(path: Path, texts: Sequence[str], size: tuple[float, float] = LETTER) -> Path:
    """A PDF with one page per text, the text printed near the top so it can be found back."""
    canvas = Canvas(str(path), pagesize=size)
    for text in texts:
        canvas.setFont("Helvetica", 14)
        canvas.drawString(72, size[1] - 100, text)
        canvas.showPage()
    canvas.save()
    return path


def scan_pdf(path: Path, pages: int = 1) -> Path:
    """A PDF as a scanner makes it: each page a picture, without any text layer."""
    from reportlab.lib.utils import ImageReader

    canvas = Canvas(str(path), pagesize=LETTER)
    for page in range(pages):
        picture = Image.effect_noise((200, 260), 40 + page).convert("RGB")
        canvas.drawImage(ImageReader(picture), 36, 36, LETTER[0] - 72, LETTER[1] - 72)
        canvas.showPage()
    canvas.save()
    return path


def broken_pdf(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n garbage")
    return path


def encrypted_pdf(path: Path) -> Path:
    source = pikepdf.open(io.BytesIO(text_pdf_bytes(["Secret page"])))
    source.save(path, encryption=pikepdf.Encryption(owner="o", user="secret"))
    return path


def text_pdf_bytes(texts: Sequence[str], size: tuple[float, float] = LETTER) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=size)
    for text in texts:
        canvas.setFont("Helvetica", 14)
        canvas.drawString(72, size[1] - 100, text)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def dicom(path: Path) -> Path:
    path.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 64)
    return path


def rotated_jpeg(path: Path, size: tuple[int, int] = (120, 60)) -> Path:
    """A JPEG stored wider than tall whose EXIF says "rotate 90° clockwise" (orientation 6)."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, format="JPEG", exif=exif)
    return path


def multi_tiff(path: Path, frames: int = 3) -> Path:
    images = [Image.new("RGB", (40, 50), (i * 60, 90, 90)) for i in range(frames)]
    images[0].save(path, format="TIFF", save_all=True, append_images=images[1:])
    return path


def png(path: Path, size: tuple[int, int] = (50, 40)) -> Path:
    Image.new("RGBA", size, (0, 120, 200, 255)).save(path, format="PNG")
    return path


# --- sample data (no database) --------------------------------------------------------------

ZONE = ZoneInfo("America/New_York")


def person(
    name: str, specialty: str | None = None, institution: str | None = None, **kw: Any
) -> PersonInfo:
    return PersonInfo(name=name, specialty=specialty, institution=institution, **kw)


def file_info(path: Path, media_type: str, unreadable: str | None = None) -> FileInfo:
    return FileInfo(
        name=path.name, media_type=media_type, path=path, page_count=None, unreadable=unreadable
    )


def record_info(
    ident: int,
    title: str,
    *files: FileInfo,
    on: date | None = date(2026, 10, 1),
    kind: str = "pathology",
    source: str | None = "Dr. Marcus Bell, Mercy General Hospital",
    notes: str | None = None,
) -> RecordInfo:
    return RecordInfo(
        id=ident, date=on, kind=kind, title=title, source=source, notes=notes, files=files
    )


BELL = OpinionInfo(
    doctor="Dr. Marcus Bell",
    institution="Mercy General Hospital",
    date=date(2026, 10, 24),
    diagnosis="Invasive ductal carcinoma, left breast",
    stage="IA",
    plan="Lumpectomy with sentinel node biopsy",
    site="Breast",
    laterality="left",
    histology="Invasive ductal carcinoma",
    grade="2",
    tnm="cT2 cN1 cM0",
    staging="clinical",
    ajcc_edition=8,
    ecog=0,
    ecog_meaning="fully active",
)
RAMAN = OpinionInfo(
    doctor="Dr. Priya Raman",
    institution="Mercy General Hospital",
    date=date(2026, 11, 12),
    diagnosis="Invasive ductal carcinoma, left breast",
    stage="IIB",
    plan="Axillary dissection, radiation and endocrine therapy",
    site="Breast",
    laterality="left",
    histology="Invasive ductal carcinoma",
    grade="3",
    tnm="pT2 pN1a cM0",
    staging="pathologic",
    ajcc_edition=8,
    ecog=1,
    ecog_meaning="restricted in strenuous activity, can do light work",
)
# (label, field, value of each) for the opinions side by side, as gather makes them.
COMPARED_FACTS = (
    ("Diagnosis", "diagnosis", lambda o: o.diagnosis),
    ("Primary site", "site", lambda o: o.site),
    ("Laterality", "laterality", lambda o: o.laterality),
    ("Histology", "histology", lambda o: o.histology),
    ("Grade", "grade", lambda o: o.grade),
    ("T", "t", lambda o: o.tnm and o.tnm.split()[0][1:]),
    ("N", "n", lambda o: o.tnm and o.tnm.split()[1][1:]),
    ("M", "m", lambda o: o.tnm and o.tnm.split()[2][1:]),
    ("TNM basis", "staging", lambda o: o.staging),
    ("Stage group", "stage", lambda o: o.stage),
    ("AJCC edition", "ajcc_edition", lambda o: o.ajcc_edition),
    ("ECOG", "ecog", lambda o: o.ecog),
    ("Plan", "plan", lambda o: o.plan),
)


def compared(opinions: Sequence[OpinionInfo]) -> tuple[ComparedRow, ...]:
    """The rows of `opinions` side by side, marked where they differ (as gather does)."""
    rows = []
    for label, field, value in COMPARED_FACTS:
        values = tuple("" if value(o) is None else str(value(o)) for o in opinions)
        if not any(values) and field not in ("diagnosis", "stage", "plan"):
            continue
        differs = len({v.casefold() for v in values} - {""}) > 1
        rows.append(ComparedRow(f"{label} ≠" if differs else label, field, values, differs))
    return tuple(rows)


HEALTH = HealthInfo(
    markers=(
        MarkerInfo("ER", ResultInfo("95", "%", date(2026, 10, 20), "positive")),
        MarkerInfo("HER2", ResultInfo("1+", None, date(2026, 10, 20), "negative")),
        MarkerInfo(
            "CA 15-3",
            ResultInfo("34", "U/mL", date(2026, 11, 20), "high"),
            first=ResultInfo("21", "U/mL", date(2026, 9, 1), "normal"),
            count=4,
        ),
    ),
    treatments=(
        TreatmentInfo(
            "surgery",
            "Sentinel lymph node biopsy",
            date(2026, 11, 2),
            date(2026, 11, 2),
            doctor="Dr. Marcus Bell",
            response="1 of 2 nodes positive",
        ),
        TreatmentInfo("hormone-therapy", "Letrozole", date(2026, 11, 6)),
    ),
    medications=(
        MedicationInfo("Letrozole", "2.5 mg", "by mouth, once a day", reason="breast cancer"),
        MedicationInfo("Lisinopril", "10 mg", "by mouth, once a day", reason="blood pressure"),
        MedicationInfo("Vitamin D3", "2000 IU", "by mouth, once a day", kind="supplement"),
    ),
    allergies=(
        AllergyInfo("Penicillin", "hives and swelling of the face", "severe", "medication"),
        AllergyInfo("Adhesive tape", "skin rash", "mild"),
    ),
    conditions=(
        ConditionInfo("High blood pressure", date(2015, 3, 1)),
        ConditionInfo("Hypothyroidism"),
    ),
)


def sample_data(records: Sequence[RecordInfo] = (), **changes: Any) -> PacketData:
    """A complete packet's data for Ana Souza's second-opinion visit with Dr. Wei Chen."""
    data = PacketData(
        visit=VisitInfo(
            appointment_id=1,
            purpose=Purpose.SECOND_OPINION,
            title="Second-opinion visit",
            doctor=person(
                "Dr. Wei Chen", "Breast medical oncology", "Northeastern Cancer Institute"
            ),
            start=datetime(2026, 12, 3, 9, 30, tzinfo=ZONE),
            time_zone="America/New_York",
            location="450 Longwood Ave, 3rd floor, Boston",
            companion="Marco Souza (husband)",
            coverage="confirmed",
            coverage_ref="PA-88231",
        ),
        patient=PatientInfo(
            name="Ana Souza",
            born=date(1964, 4, 12),
            mrn="MRN 004417-2",
            phone="(617) 555-0143",
            email="ana.souza@example.org",
            address=None,
            insurer="Blue Harbor Health",
            plan="PPO Select",
            member_id="BHH-22871934",
            insurer_phone="(800) 555-0199",
        ),
        consulted=(
            person("Dr. Marcus Bell", "Breast surgery", "Mercy General Hospital"),
            person("Dr. Priya Raman", "Medical oncology", "Mercy General Hospital"),
        ),
        current=RAMAN,
        opinions=(BELL, RAMAN),
        differing=frozenset({"grade", "n", "t", "staging", "stage", "ecog", "plan"}),
        opinion_notes=(DOCTORS_NOTE,),
        questions=(
            QuestionInfo("Do you agree with the stage, given the micrometastasis?"),
            QuestionInfo("Could I join a clinical trial here?"),
        ),
        earlier_questions=(
            QuestionInfo(
                "How long will recovery from surgery take?",
                answer="About two weeks before normal activity.",
                answered_by="Dr. Marcus Bell",
                answered_on=date(2026, 11, 2),
            ),
        ),
        bring=(
            CheckInfo("Photo ID", False, "tick when packed"),
            CheckInfo("Imaging discs", True, "received"),
        ),
        preparation=(
            CheckInfo("Staff told this is a second-opinion visit", True, "yes"),
            CheckInfo("Records sent ahead", False, "not yet"),
        ),
        materials=(CheckInfo("Glass slides: H&E slides (from Mercy General)", False, "requested"),),
        care_team=(
            person(
                "Dr. Helen Park",
                "Family medicine",
                "Riverside Primary Care",
                role="primary-care",
                phone="(617) 555-0110",
                email="park@riverside.example",
            ),
            person(
                "Dr. Marcus Bell",
                "Breast surgery",
                "Mercy General Hospital",
                role="diagnosing",
                phone="(617) 555-0120",
                referred_by="Dr. Helen Park",
            ),
        ),
        records=tuple(records),
        timeline=(
            Event(date(2026, 10, 24), "Opinion: Dr. Marcus Bell", "opinion"),
            Event(date(2026, 11, 12), "Opinion: Dr. Priya Raman", "opinion"),
            Event(date(2026, 12, 3), "Visit: Dr. Wei Chen", "appointment"),
        ),
        generated_on=date(2026, 11, 24),
        health=HEALTH,
        compared=compared((BELL, RAMAN)),
    )
    if "opinions" in changes and "compared" not in changes:
        changes["compared"] = compared(changes["opinions"])
    return replace(data, **changes)


# --- reading a produced PDF back ------------------------------------------------------------


@dataclass
class Packet:
    """A produced PDF, read back once: each page's text, and structure through pikepdf."""

    source: Path | bytes
    texts: list[str]
    reader: PdfReader
    password: str | None = None

    @property
    def pages(self) -> int:
        return len(self.texts)

    def pdf(self) -> pikepdf.Pdf:
        data = io.BytesIO(self.source) if isinstance(self.source, bytes) else self.source
        return pikepdf.open(data, password=self.password or "")

    def outline(self) -> list[tuple[str, int, int]]:
        """(title, depth, 0-based page) for every bookmark, depth first."""
        entries: list[tuple[str, int, int]] = []
        with self.pdf() as pdf:
            index = {page.obj.objgen: i for i, page in enumerate(pdf.pages)}
            with pdf.open_outline() as outline:

                def walk(items: Any, depth: int) -> None:
                    for item in items:
                        destination = item.destination
                        assert destination is not None, item.title
                        entries.append((item.title, depth, index[destination[0].objgen]))
                        walk(item.children, depth + 1)

                walk(outline.root, 0)
        return entries

    def find(self, needle: str) -> list[int]:
        """The 0-based pages whose text contains `needle`."""
        return [i for i, text in enumerate(self.texts) if needle in text]

    def all_text(self) -> str:
        return "\n".join(self.texts)


def read(source: Path | bytes, password: str | None = None) -> Packet:
    """Read a produced PDF back. An encrypted one is opened with `password` by pikepdf
    (pypdf would need the `cryptography` package for AES-256) and its text read from a
    decrypted copy."""
    data = source.read_bytes() if isinstance(source, Path) else source
    if password is not None:
        plain = io.BytesIO()
        with pikepdf.open(io.BytesIO(data), password=password) as pdf:
            pdf.save(plain)
        data = plain.getvalue()
    reader = PdfReader(io.BytesIO(data))
    return Packet(source, [page.extract_text() for page in reader.pages], reader, password)


def flat(text: str) -> str:
    """Text with every run of whitespace made one space (table cells wrap onto lines)."""
    return " ".join(text.split())


def page_number_of(text: str) -> tuple[int, int]:
    found = re.findall(r"Page (\d+) of (\d+)", text)
    assert len(found) == 1, text
    return int(found[0][0]), int(found[0][1])


def assert_stamped(packet: Packet, name: str, born: str) -> None:
    """Every page carries the patient's name, date of birth and its own "Page X of Y"."""
    total = packet.pages
    for index, text in enumerate(packet.texts):
        assert name in text, (index, text)
        assert f"born {born}" in text, (index, text)
        assert page_number_of(text) == (index + 1, total), (index, text)


def page_images(page: pikepdf.Page) -> dict[str, pikepdf.Stream]:
    """The image XObjects in `page`'s own resources, by resource name."""
    resources = page.obj.get("/Resources", pikepdf.Dictionary())
    xobjects = resources.get("/XObject", pikepdf.Dictionary())
    return {
        str(name): xobject
        for name, xobject in xobjects.items()
        if xobject.get("/Subtype") == pikepdf.Name.Image
    }


def font_files(pdf: pikepdf.Pdf) -> set[str]:
    """BaseFont of every font embedded with a TrueType program (/FontFile2)."""
    found: set[str] = set()
    for obj in pdf.objects:
        if (
            isinstance(obj, pikepdf.Dictionary)
            and obj.get("/Type") == pikepdf.Name.FontDescriptor
            and "/FontFile2" in obj
        ):
            found.add(str(obj.FontName))
    return found


def drawn_text(source: Path | bytes, page: int) -> list[str]:
    """The strings page `page` (0-based) shows, one per text-showing operator, in the order
    drawn (Form XObjects such as the header stamp followed where they are used), decoded
    through each font's ToUnicode map. Unlike a text extractor, this reorders nothing: a
    right-to-left name comes back in the visual order it was drawn in."""
    data = source.read_bytes() if isinstance(source, Path) else source
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return _drawn(pdf.pages[page].obj, pdf.pages[page].Resources, {})


def _drawn(stream: Any, resources: Any, maps: dict[Any, dict[int, str]]) -> list[str]:
    shown: list[str] = []
    code_map: dict[int, str] = {}
    for operands, operator in pikepdf.parse_content_stream(stream):
        op = str(operator)
        if op == "Tf":
            font = resources.Font[operands[0]]
            key = font.objgen
            if key not in maps:
                maps[key] = _to_unicode(font)
            code_map = maps[key]
        elif op in ("Tj", "'", '"'):
            shown.append(_decode(bytes(operands[-1]), code_map))
        elif op == "TJ":
            parts = [bytes(x) for x in operands[0] if isinstance(x, pikepdf.String)]
            shown.append("".join(_decode(part, code_map) for part in parts))
        elif op == "Do":
            xobject = resources.XObject[operands[0]]
            if xobject.get("/Subtype") == pikepdf.Name.Form:
                shown += _drawn(xobject, xobject.get("/Resources", resources), maps)
    return shown


def _to_unicode(font: Any) -> dict[int, str]:
    """A simple font's character codes → text, from its ToUnicode CMap (bfchar entries, as
    ReportLab writes them); a standard font's codes are Latin-1."""
    if "/ToUnicode" not in font:
        return {}
    cmap = font.ToUnicode.read_bytes().decode("latin-1")
    found: dict[int, str] = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            found[int(code, 16)] = bytes.fromhex(text).decode("utf-16-be")
    return found


def _decode(raw: bytes, code_map: dict[int, str]) -> str:
    return "".join(code_map.get(byte, chr(byte)) for byte in raw)
