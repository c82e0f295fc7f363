"""`carebinder packet APPOINTMENT`: the PDF to bring to the visit, read back page by page."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace

import pikepdf
import pytest
from typer.testing import Result

from carebinder.cli import common as cli_common
from tests.cli.cliutil import assert_refused, no_traceback
from tests.conftest import Cli
from tests.packet.pdfutil import (
    A4,
    Packet,
    assert_stamped,
    broken_pdf,
    dicom,
    encrypted_pdf,
    flat,
    font_files,
    page_images,
    read,
    rotated_jpeg,
    text_pdf,
)

AT = ("--at", "2026-12-03 09:30", "--tz", "America/New_York")
DEFAULT_NAME = "packet-Ana-Souza-2026-12-03.pdf"
BORN = "12 Apr 1964"
TITLES = ["Mammogram", "Core biopsy pathology report", "Proposed plan ER <5% & PR+"]

# Merged PDF pages (biopsy 2, plan 1) and image pages (the photo) of the `case` binder.
MERGED, IMAGES = 3, 1


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def case(binder: Cli, inbox: Path) -> Cli:
    """Ana Souza's binder, every part of the packet filled in.

    Doctors #1 Bell and #2 Raman (opinions that differ), #3 Chen (the visit's doctor).
    Records in date order: Mammogram (a DICOM, an encrypted and a broken PDF), Core biopsy
    (a 2-page PDF and a photo), Proposed plan (a 1-page PDF). Appointment #1 with Chen.
    """
    binder.ok(
        "patient",
        "edit",
        "1",
        "--mrn",
        "MRN 004417-2",
        "--phone",
        "(617) 555-0143",
        "--insurer",
        "Blue Harbor Health",
        "--plan",
        "PPO Select",
        "--member-id",
        "BHH-22871934",
    )
    for name, specialty, role, phone in (
        ("Dr. Marcus Bell", "Breast surgery", "diagnosing", "(617) 555-0120"),
        ("Dr. Priya Raman", "Medical oncology", "treating", "(617) 555-0121"),
    ):
        binder.ok(
            "doctor",
            "add",
            name,
            "--specialty",
            specialty,
            "--institution",
            "Mercy General Hospital",
            "--role",
            role,
            "--phone",
            phone,
        )
    binder.ok(
        "doctor",
        "add",
        "Dr. Wei Chen",
        "--specialty",
        "Breast medical oncology",
        "--institution",
        "Northeastern Cancer Institute",
        "--role",
        "second-opinion",
        "--referred-by",
        "1",
        "--email",
        "breastclinic@nci.example.org",
    )
    biopsy = text_pdf(inbox / "pathology.pdf", ["BIOPSY page 1", "BIOPSY page 2"])
    photo = rotated_jpeg(inbox / "photo.jpg")
    plan = text_pdf(inbox / "plan.pdf", ["PLAN page 1"])
    binder.ok(
        "record",
        "add",
        "pathology",
        TITLES[1],
        "--date",
        "2026-10-21",
        "--doctor",
        "1",
        "--file",
        str(biopsy),
        "--file",
        str(photo),
    )
    binder.ok(
        "record",
        "add",
        "imaging",
        TITLES[0],
        "--date",
        "2026-10-15",
        "--doctor",
        "1",
        "--file",
        str(dicom(inbox / "scan.dcm")),
        "--file",
        str(encrypted_pdf(inbox / "locked.pdf")),
        "--file",
        str(broken_pdf(inbox / "broken.pdf")),
    )
    binder.ok(
        "record",
        "add",
        "treatment-plan",
        TITLES[2],
        "--date",
        "2026-11-11",
        "--doctor",
        "2",
        "--file",
        str(plan),
    )
    binder.ok(
        "opinion",
        "add",
        "--doctor",
        "1",
        "--diagnosis",
        "Invasive ductal carcinoma",
        "--date",
        "2026-10-24",
        "--stage",
        "cT1c N0 M0, stage IA",
        "--plan",
        "Lumpectomy with sentinel node biopsy",
    )
    binder.ok(
        "opinion",
        "add",
        "--doctor",
        "2",
        "--diagnosis",
        "Invasive ductal carcinoma",
        "--date",
        "2026-11-12",
        "--stage",
        "pT1c N1mi M0, stage IB",
        "--plan",
        "Axillary dissection, then radiation",
    )
    binder.ok(
        "appointment",
        "add",
        "--doctor",
        "3",
        *AT,
        "--location",
        "450 Longwood Ave, 3rd floor, Boston",
        "--companion",
        "Marco Souza",
    )
    binder.ok(
        "appointment",
        "edit",
        "1",
        "--coverage",
        "confirmed",
        "--coverage-ref",
        "PA-88231",
        "--told-staff",
    )
    binder.ok("question", "add", "Do you agree with the stage?", "--appointment", "1")
    binder.ok("question", "add", "How long will recovery take?")
    binder.ok("question", "answer", "2", "About two weeks.", "--by", "1", "--date", "2026-11-02")
    binder.ok(
        "material",
        "add",
        "glass-slides",
        "H&E slides",
        "--from",
        "Mercy pathology",
        "--status",
        "requested",
        "--date",
        "2026-11-19",
    )
    return binder


@pytest.fixture
def visit(binder: Cli, inbox: Path) -> Cli:
    """A small binder: doctor #1, one record with a one-page PDF, appointment #1."""
    binder.ok("doctor", "add", "Dr. Wei Chen")
    report = text_pdf(inbox / "report.pdf", ["REPORT page 1"])
    binder.ok("record", "add", "lab", "CBC", "--date", "2026-11-01", "--file", str(report))
    binder.ok("appointment", "add", "--doctor", "1", *AT)
    return binder


def written(result: Result, out: Path) -> Packet:
    """The packet a successful command wrote to `out`, read back."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    no_traceback(result)
    assert result.stdout == f"{out}\n"
    return read(out)


def start(packet: Packet, number: int, total: int = 3) -> int:
    """0-based page where the `number`-th record starts (its band names it)."""
    (page,) = packet.find(f"Record {number} of {total}")
    return page


# --- the packet ---------------------------------------------------------------------------------


def test_packet_has_every_section_with_the_binders_data(case: Cli, tmp_path: Path) -> None:
    out = tmp_path / "packet.pdf"
    packet = written(case("packet", "1", "-o", str(out)), out)
    front = start(packet, 1)
    cover = flat(packet.texts[0])
    for expected in (
        "Second-opinion visit",
        "Dr. Wei Chen",
        "Breast medical oncology, Northeastern Cancer Institute",
        "Thursday 03 December 2026, 09:30 (EST, America/New_York)",
        "450 Longwood Ave, 3rd floor, Boston",
        "Name Ana Souza",
        f"Date of birth {BORN}",
        "MRN MRN 004417-2",
        "Phone (617) 555-0143",
        "Payer Blue Harbor Health",
        "Plan PPO Select",
        "Member id BHH-22871934",
        "Coverage for this visit confirmed (reference PA-88231)",
        "Companion Marco Souza",
        "I am seeking a second opinion on my diagnosis and proposed treatment.",
        "Dr. Marcus Bell, Breast surgery, Mercy General Hospital",
        "Dr. Priya Raman, Medical oncology, Mercy General Hospital",
    ):
        assert expected in cover, expected
    rest = flat(" ".join(packet.texts[1:front]))
    for expected in (
        # summary: the latest opinion, what is not recorded, the plan and the key dates
        "Summary Invasive ductal carcinoma Stage group pT1c N1mi M0, stage IB",
        "According to Dr. Priya Raman, 12 Nov 2026",
        "Key results: none recorded",
        "Medications: not recorded — please ask",
        "Allergies: not recorded — please ask",
        "Proposed treatment Axillary dissection, then radiation",
        "15 Oct 2026 Mammogram",
        "03 Dec 2026 Visit: Dr. Wei Chen",
        # opinions
        "Dr. Marcus Bell Mercy General Hospital, 24 Oct 2026"
        " Dr. Priya Raman Mercy General Hospital, 12 Nov 2026",
        "Stage group ≠ cT1c N0 M0, stage IA pT1c N1mi M0, stage IB",
        "Plan ≠ Lumpectomy with sentinel node biopsy Axillary dissection, then radiation",
        "≠ and shading mark where the opinions differ: stage group, plan.",
        "may ask the doctors to discuss their conclusions together",
        # questions
        "1. Do you agree with the stage?",
        "Asked before, with the answers given How long will recovery take?"
        " About two weeks. (Dr. Marcus Bell, 02 Nov 2026)",
        # checklist
        "☑ Staff told this is a second-opinion visit — yes",
        "☐ Records sent ahead — not yet",
        "☑ Insurance coverage confirmed — confirmed (ref. PA-88231)",
        "☑ A companion named — Marco Souza",
        "☐ Pathology slides — not yet received",
        "☐ Medication list — not recorded yet: list each medicine and supplement taken, or say"
        " there are none",
        "☐ Allergies recorded — not recorded yet: list each allergy, or say there are none known",
        "☐ Glass slides: H&E slides (from Mercy pathology) — requested 2026-11-19",
        # care team
        "breastclinic@nci.example.org",
        "referred by Dr. Marcus Bell",
        "(617) 555-0121",
        # records index
        "Date Kind Title Source Page",
        f"{TITLES[2]} Dr. Priya Raman, Mercy General",
    ):
        assert expected in rest, expected
    assert "Diagnosis ≠" not in rest


def test_packet_pages_stamps_outline_and_index(case: Cli, tmp_path: Path) -> None:
    out = tmp_path / "packet.pdf"
    result = case("packet", "1", "-o", str(out))
    packet = written(result, out)
    front = start(packet, 1)
    outline = packet.outline()
    sections = [title for title, depth, _ in outline if depth == 0]
    assert sections == [
        "Cover",
        "Summary",
        "Opinions so far",
        "Questions for this visit",
        "Checklist",
        "Care team",
        "Records index",
        "Records",
    ]
    index_page = next(page for title, _, page in outline if title == "Records index")
    assert front == index_page + 1

    # The packet's own pages, then the records' merged pages and image pages; the mammogram,
    # with nothing printable, has a page of its own.
    assert packet.pages == front + 1 + MERGED + IMAGES
    assert f"Wrote {packet.pages} pages (3 records)." in result.stderr
    assert_stamped(packet, "Ana Souza", BORN)

    records = [(title, page) for title, depth, page in outline if depth == 1]
    assert records == [(title, start(packet, n)) for n, title in enumerate(TITLES, 1)]
    for number, (title, page) in enumerate(records, 1):
        assert title in packet.texts[page]
        assert f"Record {number} of 3" in packet.texts[page]

    index = packet.texts[index_page].splitlines()
    for title, page in records:
        at = next(i for i, line in enumerate(index) if title in line)
        shown = next(line for line in index[at:] if re.fullmatch(r"\d+", line.strip()))
        assert int(shown) == page + 1, title

    biopsy = start(packet, 2)
    assert "BIOPSY page 1" in packet.texts[biopsy]
    assert "BIOPSY page 2" in packet.texts[biopsy + 1]
    assert "PLAN page 1" in packet.texts[start(packet, 3)]
    with packet.pdf() as pdf:
        (photo,) = page_images(pdf.pages[biopsy + 2]).values()
        assert int(photo.Height) > int(photo.Width)  # turned upright per its EXIF
        assert pdf.check_pdf_syntax() == []
        assert any(font.endswith("DejaVuSans") for font in font_files(pdf))


def test_packet_metadata_and_file_mode(case: Cli, tmp_path: Path) -> None:
    out = tmp_path / "packet.pdf"
    packet = written(case("packet", "1", "-o", str(out)), out)
    meta = packet.reader.metadata
    assert meta is not None
    assert meta.title == "Second-opinion visit with Dr. Wei Chen, 03 Dec 2026"
    assert meta.author == "Ana Souza"
    assert meta.subject == "Medical records and questions of Ana Souza for a second opinion visit"
    assert os.stat(out).st_mode & 0o777 == 0o600


def test_files_that_cannot_be_printed_are_listed_to_bring_separately(
    case: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "packet.pdf"
    result = case("packet", "1", "-o", str(out))
    packet = written(result, out)
    notes = [line for line in result.stderr.splitlines() if line.startswith("Bring separately")]
    assert notes[:2] == [
        "Bring separately: scan.dcm (record 'Mammogram'): DICOM medical image:"
        " bring the imaging disc.",
        "Bring separately: locked.pdf (record 'Mammogram'): the PDF is password-protected.",
    ]
    assert notes[2].startswith(
        "Bring separately: broken.pdf (record 'Mammogram'): the PDF is damaged ("
    )
    assert len(notes) == 3

    page = flat(packet.texts[start(packet, 1)])
    assert "Bring separately" in page
    assert "☐ scan.dcm: DICOM medical image: bring the imaging disc" in page
    assert "☐ locked.pdf: the PDF is password-protected" in page
    assert "☐ broken.pdf: the PDF is damaged (" in page
    # Nothing of the record is printable: the next record follows at once.
    assert start(packet, 2) == start(packet, 1) + 1
    assert_stamped(packet, "Ana Souza", BORN)


def test_no_records_makes_only_the_summary_pages(case: Cli, tmp_path: Path) -> None:
    out = tmp_path / "short.pdf"
    result = case("packet", "1", "-o", str(out), "--no-records")
    packet = written(result, out)
    assert packet.find("Record 1 of") == []
    assert packet.find("BIOPSY page 1") == []
    index = [flat(t) for t in packet.texts if t.startswith("Records index")]
    assert len(index) == 1
    assert "The records are not included in this copy of the packet." in index[0]
    for title in TITLES:
        assert title in index[0]
    assert packet.texts[-1].startswith("Records index")
    assert "Records" not in [title for title, _, _ in packet.outline()]
    assert_stamped(packet, "Ana Souza", BORN)
    assert "Bring separately" not in result.stderr
    assert f"Wrote {packet.pages} pages (0 records)." in result.stderr


def test_chosen_records_alone_go_in_the_packet(case: Cli, tmp_path: Path) -> None:
    case.ok("appointment", "bring", "1", "3", "1")
    out = tmp_path / "chosen.pdf"
    packet = written(case("packet", "1", "-o", str(out)), out)
    records = [title for title, depth, _ in packet.outline() if depth == 1]
    assert records == [TITLES[1], TITLES[2]]  # date order, not the order given
    assert packet.find("Record 1 of 2") and packet.find("Record 2 of 2")
    assert TITLES[0] not in packet.all_text()


@pytest.mark.parametrize("paper", ["a4", "A4"])
def test_a4_paper_makes_every_page_a4(visit: Cli, tmp_path: Path, paper: str) -> None:
    out = tmp_path / "a4.pdf"
    packet = written(visit("packet", "1", "-o", str(out), "--paper", paper), out)
    assert_stamped(packet, "Ana Souza", BORN)
    with packet.pdf() as pdf:
        for page in pdf.pages:
            assert [float(v) for v in page.mediabox] == pytest.approx([0, 0, *A4], abs=1)
    assert packet.find("REPORT page 1")


def test_the_closing_note_counts_one_record_in_the_singular(visit: Cli, tmp_path: Path) -> None:
    out = tmp_path / "one.pdf"
    result = visit("packet", "1", "-o", str(out))
    packet = written(result, out)
    assert result.stderr == f"Wrote {packet.pages} pages (1 record).\n"


def test_letter_is_the_default_paper(visit: Cli, tmp_path: Path) -> None:
    out = tmp_path / "letter.pdf"
    packet = written(visit("packet", "1", "-o", str(out)), out)
    with packet.pdf() as pdf:
        for page in pdf.pages:
            assert [float(v) for v in page.mediabox] == pytest.approx([0, 0, 612, 792], abs=1)


@pytest.mark.parametrize("paper", ["legal", "A5", ""])
def test_other_papers_are_refused(visit: Cli, tmp_path: Path, paper: str) -> None:
    out = tmp_path / "packet.pdf"
    assert_refused(visit("packet", "1", "-o", str(out), "--paper", paper), 1, "--paper", "a4")
    assert not out.exists()


# --- where the file goes ------------------------------------------------------------------------


def test_default_file_is_named_for_the_patient_and_day_in_this_folder(
    visit: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = visit("packet", "1")
    packet = written(result, tmp_path / DEFAULT_NAME)
    assert_stamped(packet, "Ana Souza", BORN)


def test_default_file_name_is_plain_ascii(
    visit: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    visit.ok("patient", "edit", "1", "--name", "Nguyễn Thị Ánh")
    monkeypatch.chdir(tmp_path)
    packet = written(visit("packet", "1"), tmp_path / "packet-Nguyen-Thi-Anh-2026-12-03.pdf")
    assert_stamped(packet, "Nguyễn Thị Ánh", BORN)


def test_an_existing_file_is_replaced_only_with_force(visit: Cli, tmp_path: Path) -> None:
    out = tmp_path / "packet.pdf"
    out.write_bytes(b"my own notes")
    assert_refused(visit("packet", "1", "-o", str(out)), 1, "already exists", "--force")
    assert out.read_bytes() == b"my own notes"

    packet = written(visit("packet", "1", "-o", str(out), "--force"), out)
    assert packet.find("REPORT page 1")
    assert os.stat(out).st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_the_default_file_is_not_overwritten_either(
    visit: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / DEFAULT_NAME).write_bytes(b"yesterday's packet")
    assert_refused(visit("packet", "1"), 1, "already exists")
    assert (tmp_path / DEFAULT_NAME).read_bytes() == b"yesterday's packet"


def test_a_missing_folder_is_refused(visit: Cli, tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "packet.pdf"
    assert_refused(visit("packet", "1", "-o", str(out)), 1, "does not exist")
    assert not (tmp_path / "no").exists()


def test_a_folder_is_refused_as_the_output(visit: Cli, tmp_path: Path) -> None:
    assert_refused(visit("packet", "1", "-o", str(tmp_path)), 1, "is a folder")


# --- password -----------------------------------------------------------------------------------


def test_password_from_the_environment_is_required_to_open_the_packet(
    visit: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREBINDER_PACKET_PASSWORD", "s3cret")
    out = tmp_path / "locked.pdf"
    result = visit("packet", "1", "-o", str(out), "--password")
    assert result.exit_code == 0, result.stderr
    assert "encrypted" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(out)
    with pikepdf.open(out, password="s3cret") as pdf:
        assert pdf.encryption.R == 6
        assert pdf.encryption.bits == 256
    assert_stamped(read(out, password="s3cret"), "Ana Souza", BORN)


def test_the_password_variable_alone_does_not_encrypt(
    visit: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREBINDER_PACKET_PASSWORD", "s3cret")
    out = tmp_path / "open.pdf"
    written(visit("packet", "1", "-o", str(out)), out)
    with pikepdf.open(out) as pdf:
        assert not pdf.is_encrypted


@pytest.mark.parametrize("where", ["last", "before another option"])
def test_password_without_a_terminal_or_variable_is_refused(
    visit: Cli, tmp_path: Path, where: str
) -> None:
    out = tmp_path / "locked.pdf"
    if where == "last":
        result = visit("packet", "1", "-o", str(out), "--password")
    else:
        result = visit("packet", "1", "--password", "--no-records", "-o", str(out))
    assert_refused(result, 1, "--password", "no terminal", "CAREBINDER_PACKET_PASSWORD")
    assert not out.exists()


def test_a_password_is_never_taken_from_the_command_line(visit: Cli, tmp_path: Path) -> None:
    out = tmp_path / "locked.pdf"
    result = visit("packet", "1", "-o", str(out), "--password", "s3cret")
    assert result.exit_code == 2  # a usage error: the word is an unexpected argument
    assert not out.exists()


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `packet` believe it runs at a terminal (the runner feeds the typed input)."""
    at_terminal = SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(cli_common, "sys", at_terminal)


def test_password_is_asked_for_twice_without_echo(
    visit: Cli, tmp_path: Path, terminal: None
) -> None:
    out = tmp_path / "locked.pdf"
    result = visit(
        "packet", "1", "--password", "--no-records", "-o", str(out), input="s3cret\ns3cret\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(out)
    packet = read(out, password="s3cret")
    assert packet.find("REPORT page 1") == []  # --no-records was honoured
    assert_stamped(packet, "Ana Souza", BORN)


def test_passwords_that_differ_are_refused(visit: Cli, tmp_path: Path, terminal: None) -> None:
    out = tmp_path / "locked.pdf"
    result = visit("packet", "1", "-o", str(out), "--password", input="s3cret\nsecret\n")
    assert result.exit_code == 1
    no_traceback(result)
    assert "Error: The two passwords differ. Nothing was written." in result.stderr
    assert "s3cret" not in result.stderr
    assert not out.exists()


# --- progress -----------------------------------------------------------------------------------


def test_progress_is_reported_for_long_packets_only(
    visit: Cli, tmp_path: Path, inbox: Path
) -> None:
    page = text_pdf(inbox / "page.pdf", ["ONE page"])
    for i in range(2, 20):
        visit.ok("record", "add", "lab", f"Lab {i:02}", "--date", "2026-10-01", "--file", str(page))
    out = tmp_path / "19.pdf"
    result = visit("packet", "1", "-o", str(out))
    packet = written(result, out)
    assert result.stderr == f"Wrote {packet.pages} pages (19 records).\n"

    visit.ok("record", "add", "lab", "Lab 20", "--date", "2026-10-01", "--file", str(page))
    result = visit("packet", "1", "-o", str(out), "--force")
    packet = written(result, out)
    assert result.stderr.splitlines() == [
        "20 records, 20 files: putting their pages together.",
        f"Saving {packet.pages} pages.",
        f"Wrote {packet.pages} pages (20 records).",
    ]
    assert_stamped(packet, "Ana Souza", BORN)


# --- which appointment --------------------------------------------------------------------------


def test_an_unknown_appointment_is_refused(
    visit: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_refused(visit("packet", "9"), 1, "appointment #9")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_another_patients_appointment_is_refused(
    visit: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    visit.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    visit.ok("--patient", "2", "doctor", "add", "Dr. Ada Park")
    visit.ok("--patient", "2", "appointment", "add", "--doctor", "2", *AT)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_refused(visit("--patient", "1", "packet", "2"), 1, "appointment #2")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    # …while Bob's own packet is his.
    out = tmp_path / "bob.pdf"
    packet = written(visit("--patient", "2", "packet", "2", "-o", str(out)), out)
    assert_stamped(packet, "Bob Lee", "02 Jan 1950")
