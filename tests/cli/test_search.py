"""CLI tests: `carebinder search`, the scan notes of `record add/attach/show`, and
`record read-text` for PDFs attached before search."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from carebinder import config
from carebinder.cli.search import Highlighter
from carebinder.db import make_engine
from carebinder.store import Store
from tests.blobdamage import WAYS, damage
from tests.cli.cliutil import as_json, assert_refused
from tests.conftest import Cli
from tests.packet.pdfutil import scan_pdf, text_pdf
from tests.search.healthfacts import TITLES, add_to_binder

UNIQUE = "Xanthogranulomatous"
ANA = "Patient: Ana Souza (#1)\n"  # the binder holds two patients: each message names whose


@pytest.fixture
def filled(binder: Cli, tmp_path: Path) -> Cli:
    """Ana's binder with one of each kind, a PDF with a word found nowhere else, and Bob's
    binder with the same words."""
    binder.ok("doctor", "add", "Dr. Adán Muñoz", "--specialty", "Breast surgery")
    pdf = text_pdf(tmp_path / "pathology.pdf", [f"Final diagnosis: {UNIQUE} mastitis"])
    binder.ok(
        "record", "add", "pathology", "Core biopsy", "--notes", "Sentinel node negative",
        "--file", str(pdf),
    )  # fmt: skip
    binder.ok(
        "opinion", "add", "--doctor", "1", "--diagnosis", "Invasive ductal carcinoma",
        "--stage", "IIA", "--plan", "Lumpectomy and sentinel node biopsy",
    )  # fmt: skip
    binder.ok("question", "add", "Is the sentinel node biopsy necessary?")
    binder.ok("patient", "add", "Bob Lee", "--born", "1950-01-02")
    binder.ok("--patient", "2", "record", "add", "lab", "Sentinel node (Bob)")
    binder.ok("patient", "use", "1")
    return binder


def test_search_lists_the_best_matches_with_marked_snippets(filled: Cli) -> None:
    result = filled.ok("search", "sentinel", "node")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("question #1: Is the [sentinel] [node] biopsy necessary?")
    assert "record #1: Core biopsy" in lines
    assert "    [Sentinel] [node] negative" in lines
    assert "opinion #1: Opinion of Dr. Adán Muñoz" in lines
    assert "Bob" not in result.stdout  # another patient's record
    assert result.stderr == ANA + (
        "3 results for “sentinel node”. See one with: carebinder question list\n"
    )


def test_a_word_only_in_an_attached_pdf_is_found(filled: Cli) -> None:
    result = filled.ok("search", UNIQUE.lower())
    assert result.stdout.splitlines() == [
        "file #1 of record #1: pathology.pdf",
        f"    Final diagnosis: [{UNIQUE}] mastitis",
    ]
    assert "See one with: carebinder record show 1" in result.stderr


def test_phrases_prefixes_and_accents(filled: Cli) -> None:
    def kinds(*query: str) -> list[tuple[str, int]]:
        data = as_json(filled.ok("search", *query, "--json"))
        return [(hit["kind"], hit["id"]) for hit in data["results"]]

    assert kinds('"node biopsy"') == [("question", 1), ("opinion", 1)]
    assert kinds('"biopsy node"') == []
    assert kinds("lumpect*") == [("opinion", 1)]
    assert kinds("adan", "munoz") == [("doctor", 1)]
    assert kinds("surgeries") == [("doctor", 1)]


def test_json_gives_structured_hits(filled: Cli) -> None:
    data = as_json(filled.ok("search", "sentinel", "--json", "--limit", "2"))
    assert data["query"] == "sentinel"
    assert [hit["rank"] for hit in data["results"]] == [1, 2]
    for hit in data["results"]:
        assert set(hit) == {
            "rank", "kind", "id", "record", "title", "snippet", "highlights", "score",
            "recognised", "confidence",
        }  # fmt: skip
        marked = [hit["snippet"][a:b].casefold() for a, b in hit["highlights"]]
        assert marked and set(marked) == {"sentinel"}
    assert data["scans"] == [] and data["unread"] == []


def test_patient_option_scopes_the_search(filled: Cli) -> None:
    data = as_json(filled.ok("--patient", "2", "search", "sentinel", "--json"))
    assert [(h["kind"], h["title"]) for h in data["results"]] == [("record", "Sentinel node (Bob)")]


def test_no_results_is_a_note_not_an_error(filled: Cli) -> None:
    result = filled.ok("search", "osteosarcoma")
    assert result.stdout == ""
    assert result.stderr == ANA + "No results for “osteosarcoma”.\n"
    assert as_json(filled.ok("search", "osteosarcoma", "--json"))["results"] == []


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("",), 1, "QUERY cannot be empty"),
        (("*", "--", "+"), 1, "QUERY has no words to look for"),
        (('"', '"'), 1, "QUERY has no words to look for"),
        (("x" * 600,), 1, "QUERY is too long"),
        (("biopsy", "--limit", "0"), 2, "--limit"),
        ((), 2, "Missing argument"),
    ],
)
def test_bad_queries_are_refused_in_one_line(
    filled: Cli, args: tuple[str, ...], code: int, needle: str
) -> None:
    assert_refused(filled("search", *args), code, needle)


def test_the_marks_are_bold_on_a_terminal_and_brackets_elsewhere() -> None:
    spans = ((4, 8), (9, 13))
    assert Highlighter(bold=False)("the node biop", spans) == "the [node] [biop]"
    assert Highlighter(bold=True)("the node biop", spans) == (
        "the \x1b[1mnode\x1b[0m \x1b[1mbiop\x1b[0m"
    )
    assert Highlighter(bold=False)("plain", ()) == "plain"


def test_search_help_has_an_example(cli: Cli) -> None:
    assert "Example: carebinder search" in cli.ok("search", "--help").stdout
    assert "search" in cli.ok("--help").stdout


# --- scans -------------------------------------------------------------------------------------


def test_a_scan_is_reported_when_attached_shown_and_searched(binder: Cli, tmp_path: Path) -> None:
    """A scan whose words are left unread (--no-ocr; tests/ocr/ reads them)."""
    scan = scan_pdf(tmp_path / "scan.pdf")
    added = binder.ok("record", "add", "imaging", "Outside CT", "--file", str(scan), "--no-ocr")
    assert added.stderr == (
        "scan.pdf: its words are left for later (carebinder record read-text).\n"
    )
    binder.ok("record", "add", "lab", "Labs")
    attached = binder.ok("record", "attach", "2", str(scan), "--json", "--no-ocr")
    assert "scan.pdf: its words are left for later" in attached.stderr
    assert json.loads(attached.stdout)[0]["has_text"] is False

    shown = binder.ok("record", "show", "1").stdout
    assert "scan: words not recognised yet (carebinder record read-text)" in shown
    assert as_json(binder.ok("record", "show", "1", "--json"))["files"][0]["has_text"] is False

    searched = binder.ok("search", "CT")
    assert searched.stdout.splitlines()[0] == "record #1: Outside [CT]"
    assert (
        "2 PDFs are scanned, without a text layer: search cannot see their words"
        " (scan.pdf in record #1, scan.pdf in record #2)." in searched.stderr
    )
    data = as_json(binder.ok("search", "CT", "--json"))
    assert data["scans"] == [
        {"file": 1, "record": 1, "name": "scan.pdf"},
        {"file": 2, "record": 2, "name": "scan.pdf"},
    ]


# --- PDFs attached before search ---------------------------------------------------------------


def forget_words(database_url: str) -> None:
    """Make the binder look like one whose PDFs were attached before carebinder read words."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE file SET text = NULL, has_text = NULL"))
    finally:
        engine.dispose()


def test_read_text_makes_old_pdfs_searchable(
    filled: Cli, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A computer without Tesseract: the scan's words cannot be recognised (tests/ocr/).
    monkeypatch.setenv("PATH", "/nonexistent")
    filled.ok("record", "attach", "1", str(scan_pdf(tmp_path / "old-scan.pdf")), "--no-ocr")
    forget_words(database_url)

    before = filled.ok("search", UNIQUE)
    assert before.stdout == ""
    assert (
        "2 PDFs attached before carebinder could search PDFs are not searched yet"
        " (pathology.pdf in record #1, old-scan.pdf in record #1)."
        " Read them once with: carebinder record read-text" in before.stderr
    )
    assert "words not read yet" in filled.ok("record", "show", "1").stdout

    read = filled.ok("record", "read-text")
    assert read.stdout.splitlines() == [
        "File #1 of record #1: pathology.pdf: read.",
        "File #2 of record #1: old-scan.pdf: no text layer (a scan), search cannot see its words.",
    ]
    assert read.stderr == ANA + (
        "old-scan.pdf is a scan or a photo: its words cannot be read on this computer yet."
        " To read scans, install OCR (sudo apt-get install tesseract-ocr), then run"
        " `carebinder record read-text`.\n"
        "Read 2 of 2 PDFs.\n"
    )

    after = filled.ok("search", UNIQUE)
    assert after.stdout.startswith("file #1 of record #1: pathology.pdf")
    assert "not searched yet" not in after.stderr
    again = filled.ok("record", "read-text")
    assert again.stdout == ""
    assert "Every PDF's words are already read" not in again.stderr  # the scan waits


def test_read_text_json_and_other_patients(filled: Cli, database_url: str, tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "bob.pdf", ["Bob's report"])
    filled.ok("--patient", "2", "record", "attach", "2", str(pdf))
    forget_words(database_url)
    data = as_json(filled.ok("record", "read-text", "--json"))
    assert [(f["id"], f["name"], f["has_text"]) for f in data["read"]] == [
        (1, "pathology.pdf", True)
    ]
    assert data["not_read"] == []
    # Bob's PDF is Bob's to read.
    bob = as_json(filled.ok("--patient", "2", "search", "report", "--json"))
    assert [u["name"] for u in bob["unread"]] == ["bob.pdf"]


def test_read_text_reports_a_pdf_missing_from_the_store(
    filled: Cli, home: Path, database_url: str
) -> None:
    forget_words(database_url)
    for blob in (home / config.STORE_DIR).rglob("*"):
        if blob.is_file():
            blob.unlink()
    result = filled.ok("record", "read-text")
    assert result.stdout == (
        "File #1 of record #1: pathology.pdf: not read (it is missing from the binder's file"
        " store; run `carebinder verify`).\n"
    )
    assert result.stderr == ANA + "Read 0 of 1 PDF.\n"
    data = as_json(filled.ok("record", "read-text", "--json"))
    assert data["read"] == []
    assert data["not_read"] == [
        {
            "id": 1,
            "record": 1,
            "name": "pathology.pdf",
            "why": "it is missing from the binder's file store; run `carebinder verify`",
        }
    ]


@WAYS
def test_read_text_leaves_out_a_bad_blob_and_reads_the_others(
    filled: Cli, database_url: str, tmp_path: Path, how: str
) -> None:
    """A damaged blob's words are not the record's (a flipped bit, a pipe that would make
    the reader wait its whole deadline): it is not read, and says why; the others are."""
    filled.ok("record", "attach", "1", str(text_pdf(tmp_path / "later.pdf", ["Later"])))
    forget_words(database_url)
    first = as_json(filled.ok("record", "show", "1", "--json"))["files"][0]
    damage(Store(config.resolve().store_dir).path_for(first["sha256"]), how)
    result = filled.ok("record", "read-text")
    bad, good = result.stdout.splitlines()
    assert bad.startswith("File #1 of record #1: pathology.pdf: not read (it ")
    assert bad.endswith("; run `carebinder verify`).")
    assert good == "File #2 of record #1: later.pdf: read."
    assert result.stderr == ANA + "Read 1 of 2 PDFs.\n"
    data = as_json(filled.ok("record", "read-text", "--json"))
    prefix = "File #1 of record #1: pathology.pdf: not read ("
    assert [(f["id"], f["why"]) for f in data["not_read"]] == [(1, bad[len(prefix) : -2])]
    assert filled.ok("search", UNIQUE).stdout == ""  # never the damaged copy's words


def test_search_help_does_not_load_the_database_layer() -> None:
    code = "import sys, carebinder.cli; print('sqlalchemy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- the health facts ----------------------------------------------------------------------


def test_health_facts_are_found_and_titled(filled: Cli, settings: config.Settings) -> None:
    ids = add_to_binder(settings, 1, notes="Ask at the tumour board.")
    add_to_binder(settings, 2, notes="Ask at the tumour board.")  # Bob's: never shown
    result = filled.ok("search", "letrozole")
    # The line names the kind once: the title's "Medication: " is the heading's "medication".
    assert result.stdout == f"medication #{ids['medication']}: [Letrozole] 2.5 mg\n"
    assert result.stderr == ANA + (
        f"1 result for “letrozole”. See one with: carebinder medication show {ids['medication']}\n"
    )
    data = as_json(filled.ok("search", "letrozole", "--json"))
    assert [(h["kind"], h["title"]) for h in data["results"]] == [
        ("medication", TITLES["medication"])
    ]
    lines = filled.ok("search", "tumour", "board").stdout.splitlines()
    # Each: its title, then where its words matched (the fields it holds, in one line).
    shown = dict(zip(lines[::2], lines[1::2], strict=True))
    assert shown == {
        f"medication #{ids['medication']}: Letrozole 2.5 mg": (
            "    2.5 mg — Ask at the [tumour] [board]."
        ),
        f"allergy #{ids['allergy']}: Penicillin (severe)": "    Ask at the [tumour] [board].",
        f"condition #{ids['condition']}: Type 2 diabetes": "    Ask at the [tumour] [board].",
        f"treatment #{ids['treatment']}: Lumpectomy (surgery)": (
            "    surgery — Ask at the [tumour] [board]."
        ),
        f"result #{ids['result']}: CA 15-3 45 U/mL, 2026-03-01": (
            "    45 — U/mL — Ask at the [tumour] [board]."
        ),
    }
    # (PostgreSQL marks "15-3" as [15]-[3], FTS5 as [15-3].)
    assert filled.ok("search", "15-3").stdout.replace("]-[", "-") == (
        f"result #{ids['result']}: CA [15-3] 45 U/mL, 2026-03-01\n"
    )


@pytest.mark.parametrize(
    ("query", "command"),
    [
        ("penicillin", "allergy list"),
        ("diabetes", "condition list"),
        ("lumpectomy", "treatment list"),
        ("15-3", "result list"),
    ],
)
def test_each_kind_names_the_command_that_shows_it(
    binder: Cli, settings: config.Settings, query: str, command: str
) -> None:
    add_to_binder(settings, 1, notes=None)
    assert binder.ok("search", query).stderr.endswith(f"See one with: carebinder {command}\n")


def test_every_kind_of_result_has_a_command_that_shows_it() -> None:
    from carebinder.cli.search import SHOW
    from carebinder.search import Kind

    assert set(SHOW) == {str(kind) for kind in Kind}
