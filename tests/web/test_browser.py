"""The web face in a real browser (Debian's chromium, driven by Playwright), started as a
person starts it: `carebinder serve`, the printed address, then forms and buttons only.
axe-core checks every page; screenshots at desktop and phone widths are kept for a look
(set CAREBINDER_SCREENSHOTS=folder)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.conftest import Cli
from tests.web.livesite import Server, look


def test_a_caregiver_sets_up_a_binder_with_the_mouse(
    chromium: Any, server: Server, shots: Path, cli: Cli
) -> None:
    page = chromium.new_page()
    page.goto(server.address)
    assert "?key=" not in page.url  # the key became a cookie and left the address
    assert "Start with the person whose binder this is." in page.get_by_role("status").inner_text()
    look(page, shots, "01-welcome")

    page.get_by_label("Name").fill("Ana Souza")
    page.get_by_role("button", name="Save").click()  # no date of birth: the browser asks
    assert page.get_by_label("Date of birth").evaluate("e => !e.validity.valid")
    page.get_by_label("Date of birth").fill("1964-04-12")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Ana Souza"
    assert "Added Ana Souza." in page.get_by_role("status").inner_text()
    look(page, shots, "02-home")

    for name, specialty in [("Dr. Wei Chen", "Medical oncology"), ("Dr. Lena Park", "")]:
        page.get_by_role("navigation").get_by_role("link", name="Doctors").click()
        page.get_by_role("link", name="Add a doctor").click()
        page.get_by_label("Name").fill(name)
        page.get_by_label("Specialty").fill(specialty)
        if name == "Dr. Lena Park":
            page.get_by_label("Referred by").select_option(label="Dr. Wei Chen")
            page.get_by_label("NPI").fill("12345")  # refused beside the field, kept
            page.get_by_role("button", name="Save").click()
            assert "an NPI is 10 digits" in page.locator(".error").inner_text()
            assert page.get_by_label("Name").input_value() == "Dr. Lena Park"
            look(page, shots, "03-doctor-refused")
            page.get_by_label("NPI").fill("")
        page.get_by_role("button", name="Save").click()
        assert page.get_by_role("heading", level=1).inner_text() == name
    look(page, shots, "04-doctor")
    page.get_by_role("navigation").get_by_role("link", name="Doctors").click()
    look(page, shots, "05-doctors")

    page.get_by_role("navigation").get_by_role("link", name="Questions").click()
    page.get_by_label("Question").fill("Is the sentinel node biopsy necessary?")
    page.get_by_role("button", name="Add the question").click()
    page.get_by_text("Write the answer").click()
    page.get_by_label("Answer", exact=True).fill("Yes, to stage the cancer.")
    page.get_by_label("Answered by").select_option(label="Dr. Wei Chen")
    page.get_by_role("button", name="Save the answer").click()
    assert "from Dr. Wei Chen" in page.locator(".answer").inner_text()
    look(page, shots, "06-questions")

    # The same binder on the command line, and a change there seen on the next page load.
    assert "Dr. Lena Park" in cli.ok("doctor", "list").stdout
    cli.ok("question", "add", "Which trials am I eligible for?")
    page.reload()
    assert page.get_by_text("Which trials am I eligible for?").is_visible()

    code, said = server.stop()
    assert code == 0, said
    assert "Traceback" not in said
    assert not re.search("Souza|Chen|Park|sentinel", said)  # the log names no one


def test_adding_a_doctor_with_the_keyboard_alone(chromium: Any, server: Server, cli: Cli) -> None:
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    page = chromium.new_page()
    page.goto(server.address)
    page.goto(server.origin + "/doctors/new")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to the page"
    page.get_by_label("Name").focus()
    page.keyboard.type("Dr. Wei Chen")
    page.keyboard.press("Tab")
    page.keyboard.type("Medical oncology")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_url(re.compile(r"/doctors/1"))
    assert "Medical oncology" in cli.ok("doctor", "list").stdout


def test_a_page_opened_without_the_key_shows_nothing(
    chromium: Any, server: Server, cli: Cli
) -> None:
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    page = chromium.new_page()
    response = page.goto(server.origin + "/")
    assert response is not None and response.status == 403
    assert "Ana" not in page.content()
    assert "address `carebinder serve` printed" in page.inner_text("main")


def test_a_whole_case_from_the_first_page_to_the_packet(
    chromium: Any, server: Server, shots: Path, tmp_path: Path
) -> None:
    """As the issue asks: the patient, two doctors, a PDF record, two differing opinions
    compared, an appointment and its questions, the checklist from missing to ready, and
    the packet downloaded and read back. axe checks each page; each is photographed."""
    import pikepdf

    from tests.packet.pdfutil import text_pdf

    page = chromium.new_page(accept_downloads=True)
    page.goto(server.address)
    page.get_by_label("Name").fill("Ana Souza")
    page.get_by_label("Date of birth").fill("1964-04-12")
    page.get_by_role("button", name="Save").click()

    def nav(section: str) -> None:
        page.get_by_role("navigation").get_by_role("link", name=section, exact=True).click()

    for name, specialty in [("Dr. Wei Chen", "Medical oncology"), ("Dr. Lena Park", "Surgery")]:
        nav("Doctors")
        page.get_by_role("link", name="Add a doctor").click()
        page.get_by_label("Name").fill(name)
        page.get_by_label("Specialty").fill(specialty)
        page.get_by_role("button", name="Save").click()

    # A pathology report, uploaded.
    report = text_pdf(tmp_path / "core-biopsy.pdf", ["Final diagnosis: invasive ductal carcinoma"])
    nav("Records")
    page.get_by_role("link", name="Add a record").click()
    look(page, shots, "10-record-new")
    page.get_by_label("Kind").select_option("pathology")
    page.get_by_label("Title").fill("Core biopsy pathology")
    page.locator("#f-date").fill("2026-10-02")
    page.get_by_label("Files").set_input_files(str(report))
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Core biopsy pathology"
    assert "core-biopsy.pdf" in page.inner_text("main")
    look(page, shots, "11-record")
    nav("Records")
    look(page, shots, "12-records")

    # Two opinions that differ, side by side.
    for doctor, stage, plan in [
        ("Dr. Wei Chen", "IIA", "Lumpectomy, then radiation"),
        ("Dr. Lena Park", "IIB", "Mastectomy"),
    ]:
        nav("Opinions")
        page.get_by_role("link", name="Add an opinion").click()
        page.get_by_label("Doctor").select_option(label=doctor)
        page.get_by_label("Diagnosis").fill("Invasive ductal carcinoma")
        page.get_by_label("Stage").fill(stage)
        page.get_by_label("Plan").fill(plan)
        page.get_by_role("button", name="Save").click()
    look(page, shots, "13-opinions")
    page.get_by_role("link", name="See the opinions side by side").click()
    differs = page.locator("tr.differs th").all_inner_texts()
    assert any(t.startswith("Stage") for t in differs)
    assert not any(t.startswith("Diagnosis") for t in differs)
    look(page, shots, "14-compare")

    # A visit, its questions, and its checklist from missing to ready.
    nav("Appointments")
    page.get_by_role("link", name="Add an appointment").click()
    page.get_by_label("Doctor").select_option(label="Dr. Lena Park")
    page.locator("#f-date").fill("2027-01-15")
    page.get_by_label("Time", exact=True).fill("09:30")
    page.get_by_label("Time zone").fill("America/New_York")
    look(page, shots, "15-appointment-new")
    page.get_by_role("button", name="Save").click()
    look(page, shots, "16-checklist-missing")
    missing_before = page.locator(".missing").count()
    assert missing_before > 0
    page.get_by_role("link", name="Write the questions to ask at this visit").click()
    for question in ["Is a mastectomy necessary?", "Would radiation be needed after?"]:
        page.get_by_label("Question").fill(question)
        page.get_by_role("button", name="Add the question").click()
    nav("Appointments")
    page.get_by_role("link", name="Checklist").first.click()
    assert page.locator(".missing").count() < missing_before
    assert "2 questions" in page.locator("#c-questions").inner_text()  # both for this visit
    forms = {  # the fixes made on the appointment's form, and how
        "staff": lambda: page.get_by_label("Staff told").check(),
        "Send the records": lambda: page.get_by_label("Records sent on").fill("2026-12-01"),
        "coverage": lambda: page.get_by_label("Insurance coverage").select_option("confirmed"),
        "coming": lambda: page.get_by_label("Companion").fill("Maria Souza"),
    }
    while True:  # follow each fix the page offers; records and slides are left missing
        links = page.locator(".missing a.fix")
        words = [links.nth(i).inner_text() for i in range(links.count())]
        todo = [(i, w) for i, w in enumerate(words) for key in forms if key in w]
        if not todo:
            break
        index, link_words = todo[0]
        links.nth(index).click()
        next(fill for key, fill in forms.items() if key in link_words)()
        page.get_by_role("button", name="Save").click()
    # the treatment plan, the slides, the medications and the allergies (their pages come
    # with the medication and allergy forms)
    assert page.locator(".missing").count() == 4
    look(page, shots, "17-checklist")
    nav("Home")
    look(page, shots, "18-home")

    # The packet, built and downloaded, read back.
    nav("Packet")
    look(page, shots, "19-packet")
    page.get_by_role(
        "link", name=re.compile("^Make the packet for the visit with Dr. Lena Park")
    ).click()
    page.get_by_role("button", name="Build the packet").click()
    page.get_by_role("link", name=re.compile("^Download")).wait_for(timeout=60_000)
    look(page, shots, "20-packet-built")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^Download")).click()
    saved = tmp_path / "packet.pdf"
    download.value.save_as(saved)
    with pikepdf.open(saved) as pdf:
        assert len(pdf.pages) >= 2
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(saved).pages)
    assert "Ana Souza" in text
    assert "invasive ductal carcinoma" in text  # the report's own page, merged in

    for path, name in [
        ("/materials", "21-materials"),
        ("/questions", "22-questions"),
        ("/search?q=carcinoma", "23-search"),
        ("/more", "24-more"),
        ("/import", "25-import"),
        ("/export", "26-export"),
        ("/calendar", "27-calendar"),
        ("/backup", "28-backup"),
        ("/audit", "29-audit"),
        ("/verify", "30-verify"),
        ("/patients", "31-patients"),
        ("/patients/1/edit", "32-patient-edit"),
        ("/doctors/1/edit", "33-doctor-edit"),
        ("/records/1/edit", "34-record-edit"),
        ("/appointments", "35-appointments"),
        ("/packet/1", "37-packet-form"),
        ("/doctors/new", "38-doctor-new"),
        ("/doctors/1/remove", "39-doctor-remove"),
        ("/records/1/attach", "40-record-attach"),
        ("/records/1/remove", "41-record-remove"),
        ("/records/1/files/1/detach", "42-file-detach"),
        ("/opinions/new", "43-opinion-new"),
        ("/opinions/1/edit", "44-opinion-edit"),
        ("/opinions/1/remove", "45-opinion-remove"),
        ("/appointments/1/edit", "46-appointment-edit"),
        ("/appointments/1/remove", "47-appointment-remove"),
        ("/patients/new", "48-patient-new"),
    ]:
        page.goto(server.origin + path)
        look(page, shots, name)
    page.goto(server.origin + "/verify")
    page.get_by_role("button", name="Check the binder now").click()
    page.get_by_text("Binder OK").wait_for(timeout=60_000)
    look(page, shots, "36-verify-report")
    code, said = server.stop()
    assert code == 0, said


def test_adding_a_record_with_the_keyboard_alone(chromium: Any, server: Server, cli: Cli) -> None:
    """Tab from field to field, arrows in the list of kinds, Enter to save: no mouse."""
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    page = chromium.new_page()
    page.goto(server.address)
    page.goto(server.origin + "/records/new")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the page"
    page.keyboard.press("Enter")  # to the page's own content
    while page.evaluate("document.activeElement.id") != "f-kind":
        page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # the kind after the first one
    kind = page.get_by_label("Kind").input_value()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-title"
    page.keyboard.type("Operative note")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_url(re.compile(r"/records/1"))
    shown = cli.ok("record", "list").stdout
    assert "Operative note" in shown and kind in shown


def test_a_caregiver_records_what_a_new_doctor_asks_first(
    chromium: Any, server: Server, shots: Path, cli: Cli
) -> None:
    """The health summary with the mouse: "takes no medications" then a medication that
    ends it, an allergy, a condition, a treatment, a marker's trend, a medication stopped;
    two opinions with their cancer facts, compared. axe checks each page; each is
    photographed at desktop and phone widths."""
    cli.ok("init", "--name", "Ana Souza", "--born", "1964-04-12")
    for name in ("Dr. Wei Chen", "Dr. Lena Park"):
        cli.ok("doctor", "add", name)
    page = chromium.new_page()
    page.goto(server.address)
    page.get_by_role("navigation").get_by_role("link", name="Health", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "Health summary"
    look(page, shots, "60-health-empty")

    page.get_by_role("button", name="Takes no medications").click()
    assert "Recorded: takes no medications" in page.get_by_role("status").inner_text()
    medications = page.locator("#medications")
    medications.get_by_label("Name").fill("Letrozole")
    medications.get_by_label("Dose").fill("2.5 mg")
    medications.get_by_label("How it is taken").fill("by mouth, once a day")
    medications.get_by_text("More: kind, dates").click()  # the folded fields
    medications.get_by_label("Prescribed by").select_option(label="Dr. Wei Chen")
    medications.get_by_label("Started").fill("2026-02-01")
    medications.get_by_role("button", name="Add the medication").click()
    assert "This ends “takes no medications”" in page.get_by_role("status").inner_text()
    for name, kind in [("Vitamin D", "supplement"), ("Lisinopril", "prescription")]:
        page.locator("#f-name-medication").fill(name)
        page.get_by_text("More: kind, dates").click()
        page.locator("#f-kind-medication").select_option(kind)
        page.get_by_role("button", name="Add the medication").click()
    page.get_by_role("button", name="Stop Lisinopril today").click()
    assert "Stopped Lisinopril" in page.get_by_role("status").inner_text()

    allergies = page.locator("#allergies")
    allergies.get_by_label("Substance").fill("Penicillin")
    allergies.get_by_label("Reaction").fill("Hives and swelling of the throat")
    allergies.get_by_label("Severity").select_option("severe")
    allergies.get_by_role("button", name="Add the allergy").click()
    assert "Added Penicillin." in page.get_by_role("status").inner_text()

    conditions = page.locator("#conditions")
    conditions.get_by_label("Name").fill("High blood pressure")
    conditions.get_by_label("Since").fill("2018-05-01")
    conditions.get_by_role("button", name="Add the condition").click()

    # A refusal beside its field, the form scrolled to and what was typed kept.
    treatments = page.locator("#treatments")
    treatments.get_by_label("Kind").select_option("surgery")
    treatments.get_by_label("Name").fill("Lumpectomy with sentinel node biopsy")
    treatments.get_by_label("Started").fill("2025-12-10")
    treatments.get_by_label("Ended").fill("2025-12-01")
    treatments.get_by_role("button", name="Add the treatment").click()
    assert page.locator("#treatments .error").inner_text() == (
        "Ended (2025-12-01) is before started (2025-12-10). Check the dates."
    )
    assert page.evaluate("location.hash") == "#h-add-treatment"
    assert page.locator("#f-name-treatment").input_value() == "Lumpectomy with sentinel node biopsy"
    look(page, shots, "61-health-refused")
    page.locator("#f-ended-treatment").fill("2025-12-10")
    page.locator("#treatments").get_by_role("button", name="Add the treatment").click()

    for value, day in [("35", "2026-01-05"), ("80", "2026-03-01"), ("120", "2026-05-02")]:
        results = page.locator("#results")
        results.get_by_label("Name").fill("CA 15-3")
        results.get_by_label("Value").fill(value)
        results.get_by_label("Unit").fill("U/mL")
        results.get_by_label("Date").fill(day)
        results.get_by_role("button", name="Add the result").click()
    page.locator("#results").get_by_label("Name").fill("HER2")
    page.locator("#results").get_by_label("Value").fill("3+ (IHC)")
    page.locator("#results").get_by_role("button", name="Add the result").click()
    assert "35 U/mL → 120 U/mL" in page.locator("#results").inner_text()
    look(page, shots, "62-health")
    page.get_by_role("link", name="(3 values)").click()
    assert page.get_by_role("heading", level=1).inner_text() == "CA 15-3"
    look(page, shots, "63-trend")

    page.goto(server.origin + "/medications/1/edit")
    look(page, shots, "64-medication-edit")
    page.goto(server.origin + "/allergies/1/remove")
    look(page, shots, "65-allergy-remove")

    # Two opinions with their cancer facts, differing on T and grade.
    for doctor, t, grade in [("Dr. Wei Chen", "pT2", "G2"), ("Dr. Lena Park", "pT3", "G3")]:
        page.goto(server.origin + "/opinions/new")
        page.get_by_label("Doctor").select_option(label=doctor)
        page.get_by_label("Diagnosis").fill("Invasive ductal carcinoma")
        page.locator("#f-stage").fill("IIB")
        page.get_by_label("Primary site").fill("Left breast")
        page.get_by_label("Laterality").select_option("left")
        page.get_by_label("Histology").fill("Invasive ductal carcinoma, NST")
        page.get_by_label("Grade").fill(grade)
        page.get_by_label("T category").fill(t)
        page.get_by_label("N category").fill("N1a")
        page.get_by_label("M category").fill("M0")
        page.get_by_label("AJCC edition").fill("8")
        page.get_by_label("1: restricted in strenuous activity, can do light work").check()
        if doctor == "Dr. Lena Park":
            look(page, shots, "66-opinion-facts")
        page.get_by_role("button", name="Save").click()
    look(page, shots, "67-opinions")
    page.get_by_role("link", name="Dr. Wei Chen", exact=True).click()
    assert "pT2 pN1a cM0" in page.inner_text("main")
    look(page, shots, "68-opinion")
    page.goto(server.origin + "/opinions/compare")
    differs = [t.split(" ≠")[0] for t in page.locator("tr.differs th").all_inner_texts()]
    assert differs == ["Histology", "Grade", "T"] or differs == ["Grade", "T"]
    look(page, shots, "69-compare-facts")
    code, said = server.stop()
    assert code == 0, said
    assert not re.search("Souza|Letrozole|Penicillin", said)
