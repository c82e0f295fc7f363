"""`carebinder opinion add|list|show|edit|remove|compare`."""

from __future__ import annotations

import pytest

from tests.cli.cliutil import (
    COMPARE_KEYS,
    OPINION_KEYS,
    as_json,
    assert_keys,
    assert_refused,
    snapshot,
)
from tests.conftest import Cli


@pytest.fixture
def doctors(binder: Cli) -> Cli:
    """Doctors #1 Dr. Wei Chen and #2 Dr. Ada Park; records #1 and #2."""
    binder.ok("doctor", "add", "Dr. Wei Chen")
    binder.ok("doctor", "add", "Dr. Ada Park")
    binder.ok("record", "add", "pathology", "Core biopsy")
    binder.ok("record", "add", "imaging", "MRI")
    return binder


@pytest.fixture
def two_opinions(doctors: Cli) -> Cli:
    doctors.ok(
        "opinion",
        "add",
        "--doctor",
        "1",
        "--diagnosis",
        "Invasive ductal carcinoma",
        "--stage",
        "IIA",
        "--plan",
        "Lumpectomy, then radiation",
        "--date",
        "2026-10-05",
        "--record",
        "1",
    )
    doctors.ok(
        "opinion",
        "add",
        "--doctor",
        "2",
        "--diagnosis",
        "invasive ductal carcinoma.",
        "--stage",
        "IIB",
        "--plan",
        "Mastectomy",
        "--date",
        "2026-10-20",
    )
    return doctors


# --- happy paths --------------------------------------------------------------------------


def test_add_prints_the_new_id(doctors: Cli) -> None:
    result = doctors.ok("opinion", "add", "--doctor", "1", "--diagnosis", "IDC")
    assert result.stdout == "Added opinion #1 from Dr. Wei Chen\n"
    assert result.stderr == ""


def test_add_json_has_every_fact(doctors: Cli) -> None:
    data = as_json(
        doctors.ok(
            "opinion",
            "add",
            "--doctor",
            "2",
            "--diagnosis",
            " Invasive ductal carcinoma ",
            "--date",
            "2026-10-05",
            "--stage",
            "pT2 N1a M0, stage IIB",
            "--plan",
            "Neoadjuvant chemotherapy,\nthen surgery",
            "--notes",
            "Wants genomic testing first",
            "--record",
            "1",
            "--record",
            "2",
            "--record",
            "1",
            "--json",
        )
    )
    assert_keys(data, OPINION_KEYS)
    assert data == {
        "id": 1,
        "doctor": 2,
        "doctor_name": "Dr. Ada Park",
        "date": "2026-10-05",
        "diagnosis": "Invasive ductal carcinoma",
        "stage": "pT2 N1a M0, stage IIB",
        "plan": "Neoadjuvant chemotherapy,\nthen surgery",
        "notes": "Wants genomic testing first",
        "records": [1, 2],
        # No structured cancer fact given: each is null.
        "site": None,
        "laterality": None,
        "histology": None,
        "grade": None,
        "t": None,
        "n": None,
        "m": None,
        "staging": None,
        "tnm": None,
        "ajcc_edition": None,
        "ecog": None,
    }


@pytest.mark.parametrize("command", ["add", "edit"])
def test_add_and_edit_json_match_show(doctors: Cli, command: str) -> None:
    records = ("--record", "2", "--record", "1")
    if command == "add":
        args: tuple[str, ...] = ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC")
    else:
        doctors.ok("opinion", "add", "--doctor", "1", "--diagnosis", "IDC")
        args = ("opinion", "edit", "1")
    printed = as_json(doctors.ok(*args, *records, "--json"))
    assert printed == as_json(doctors.ok("opinion", "show", "1", "--json"))


def test_list_table_and_json(two_opinions: Cli) -> None:
    result = two_opinions.ok("opinion", "list")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "DATE", "DOCTOR", "DIAGNOSIS", "STAGE", "PLAN"]
    assert lines[1].split()[:2] == ["1", "2026-10-05"]
    assert "Dr. Wei Chen" in lines[1]
    rows = as_json(two_opinions.ok("opinion", "list", "--json"))
    assert [(o["id"], o["doctor_name"]) for o in rows] == [(1, "Dr. Wei Chen"), (2, "Dr. Ada Park")]
    for row in rows:
        assert_keys(row, OPINION_KEYS)


def test_list_when_empty(doctors: Cli) -> None:
    result = doctors.ok("opinion", "list")
    assert result.stdout == ""
    assert "No opinions yet" in result.stderr


def test_show_human_and_json(two_opinions: Cli) -> None:
    result = two_opinions.ok("opinion", "show", "1")
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "Opinion:   #1 from #1 Dr. Wei Chen",
        "Date:      2026-10-05",
        "Diagnosis: Invasive ductal carcinoma",
        "Stage:     IIA",
        "Plan:      Lumpectomy, then radiation",
        "Based on:  record #1",
    ]
    data = as_json(two_opinions.ok("opinion", "show", "2", "--json"))
    assert_keys(data, OPINION_KEYS)
    assert data["stage"] == "IIB"
    assert data["records"] == []


def test_edit_changes_fields_and_replaces_records(two_opinions: Cli) -> None:
    result = two_opinions.ok("opinion", "edit", "1", "--stage", "IIB")
    assert result.stdout == "Updated opinion #1\n"
    assert result.stderr == ""
    data = as_json(
        two_opinions.ok(
            "opinion",
            "edit",
            "1",
            "--doctor",
            "2",
            "--notes",
            "Second look",
            "--plan",
            "",
            "--record",
            "2",
            "--date",
            "",
            "--json",
        )
    )
    assert data["doctor"] == 2
    assert data["doctor_name"] == "Dr. Ada Park"
    assert data["stage"] == "IIB"
    assert data["plan"] is None
    assert data["date"] is None
    assert data["notes"] == "Second look"
    assert data["records"] == [2]
    assert as_json(two_opinions.ok("opinion", "show", "1", "--json")) == data


def test_remove_with_yes(two_opinions: Cli) -> None:
    result = two_opinions.ok("opinion", "remove", "2", "--yes")
    assert result.stdout == ""
    assert result.stderr == "Removed opinion #2.\n"
    assert [o["id"] for o in as_json(two_opinions.ok("opinion", "list", "--json"))] == [1]
    # The doctor can go once no opinion names them.
    two_opinions.ok("doctor", "remove", "2", "--yes")


def test_compare_marks_the_differences(two_opinions: Cli) -> None:
    result = two_opinions.ok("opinion", "compare")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert "#1 Dr. Wei Chen" in lines[0]
    assert "#2 Dr. Ada Park" in lines[0]
    labels = {line.split("  ")[0].strip() for line in lines[1:5]}
    # Case and a final full stop do not make the diagnoses differ.
    assert labels == {"Date", "Diagnosis", "Stage group ≠", "Plan ≠"}
    assert len(lines) == 5 + 1 + 3  # no row for the structured facts neither opinion gives
    assert "≠ marks where the opinions differ." in lines
    assert any("third opinion" in line for line in lines)


def test_compare_json(two_opinions: Cli) -> None:
    data = as_json(two_opinions.ok("opinion", "compare", "--json"))
    assert_keys(data, COMPARE_KEYS)
    assert [o["id"] for o in data["opinions"]] == [1, 2]
    for opinion in data["opinions"]:
        assert_keys(opinion, OPINION_KEYS)
    assert data["differing_fields"] == ["plan", "stage"]
    assert len(data["notes"]) == 2


def test_compare_when_they_agree(doctors: Cli) -> None:
    for doctor in ("1", "2"):
        doctors.ok("opinion", "add", "--doctor", doctor, "--diagnosis", "IDC", "--stage", "IIA")
    result = doctors.ok("opinion", "compare")
    assert result.stdout.splitlines()[-1] == (
        "The opinions agree on diagnosis, stage and plan, and on every fact both give."
    )
    data = as_json(doctors.ok("opinion", "compare", "--json"))
    assert data["differing_fields"] == []
    assert data["notes"] == []


def test_compare_with_one_opinion(doctors: Cli) -> None:
    doctors.ok("opinion", "add", "--doctor", "1", "--diagnosis", "IDC")
    result = doctors.ok("opinion", "compare")
    assert result.stdout.splitlines()[-1] == "Only one opinion so far: nothing to compare yet."


def test_compare_with_none(doctors: Cli) -> None:
    result = doctors.ok("opinion", "compare")
    assert result.stdout == ""
    assert "No opinions yet" in result.stderr
    assert as_json(doctors.ok("opinion", "compare", "--json")) == {
        "opinions": [],
        "differing_fields": [],
        "notes": [],
    }


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (("opinion", "add", "--diagnosis", "IDC"), 2, ("--doctor",)),
        (("opinion", "add", "--doctor", "1"), 2, ("--diagnosis",)),
        (("opinion", "add", "--doctor", "99", "--diagnosis", "IDC"), 1, ("doctor #99",)),
        (("opinion", "add", "--doctor", "1", "--diagnosis", ""), 1, ("--diagnosis", "empty")),
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--date", "2026-13-45"),
            1,
            ("--date", "2026-13-45"),
        ),
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--date", "next week"),
            1,
            ("--date", "next week"),
        ),
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--record", "99"),
            1,
            ("record #99",),
        ),
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--tumour-size", "2"),
            2,
            ("--tumour-size",),
        ),
        (("opinion", "show", "99"), 1, ("opinion #99", "carebinder opinion list")),
        (("opinion", "edit", "99", "--stage", "I"), 1, ("opinion #99",)),
        (("opinion", "edit", "1", "--doctor", "99"), 1, ("doctor #99",)),
        (("opinion", "edit", "1", "--record", "99"), 1, ("record #99",)),
        (("opinion", "edit", "1", "--diagnosis", "  "), 1, ("--diagnosis", "empty")),
        (("opinion", "edit", "1", "--date", "2026-13-45"), 1, ("--date",)),
        (("opinion", "remove", "99", "--yes"), 1, ("opinion #99",)),
        (("opinion", "remove", "1"), 1, ("--yes", "terminal", "opinion #1")),
        (("opinion", "compare", "1"), 2, ()),
    ],
)
def test_refusals_change_nothing(
    two_opinions: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(two_opinions, "opinion")
    assert_refused(two_opinions(*args), code, *needles)
    assert snapshot(two_opinions, "opinion") == before


# --- the structured cancer facts ----------------------------------------------------------

FACTS = (
    "--site", "breast", "--laterality", "left", "--histology", "invasive ductal carcinoma",
    "--grade", "G2", "--t", "pT2", "--n", "pN1a", "--m", "cM0", "--ajcc-edition", "8",
    "--ecog", "1",
)  # fmt: skip


@pytest.fixture
def staged(doctors: Cli) -> Cli:
    """Opinion #1 (Dr. Wei Chen): clinical cT1c cN0 cM0, G2, stage IA, ECOG 0; opinion #2
    (Dr. Ada Park): pathologic pT2 pN1a cM0, G2, stage IIB, ECOG 0."""
    first = (
        "opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--stage", "IA",
        "--date", "2026-10-05", "--laterality", "left", "--grade", "G2",
        "--t", "cT1c", "--n", "cN0", "--m", "cM0", "--ecog", "0",
    )  # fmt: skip
    second = (
        "opinion", "add", "--doctor", "2", "--diagnosis", "IDC", "--stage", "IIB",
        "--date", "2026-10-20", "--laterality", "left", "--grade", "g2",
        "--t", "pT2", "--n", "pN1a", "--m", "cM0", "--ecog", "0",
    )  # fmt: skip
    doctors.ok(*first)
    doctors.ok(*second)
    return doctors


def test_add_json_has_the_structured_facts(doctors: Cli) -> None:
    args = ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", *FACTS, "--json")
    data = as_json(doctors.ok(*args))
    assert_keys(data, OPINION_KEYS)
    assert {key: data[key] for key in OPINION_KEYS - {"id", "doctor", "doctor_name"}} == {
        "date": None,
        "diagnosis": "IDC",
        "stage": None,
        "plan": None,
        "notes": None,
        "records": [],
        "site": "breast",
        "laterality": "left",
        "histology": "invasive ductal carcinoma",
        "grade": "G2",
        "t": "T2",
        "n": "N1a",
        "m": "M0",
        "staging": "pathologic",
        "tnm": "pT2 pN1a cM0",
        "ajcc_edition": 8,
        "ecog": 1,
    }
    assert as_json(doctors.ok("opinion", "show", "1", "--json")) == data


def test_show_prints_the_structured_facts(doctors: Cli) -> None:
    args = ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--stage", "IIB", *FACTS)
    doctors.ok(*args)
    result = doctors.ok("opinion", "show", "1")
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "Opinion:      #1 from #1 Dr. Wei Chen",
        "Diagnosis:    IDC",
        "Primary site: breast",
        "Laterality:   left",
        "Histology:    invasive ductal carcinoma",
        "Grade:        G2",
        "TNM:          pT2 pN1a cM0 (pathologic)",
        "Stage:        IIB",
        "AJCC edition: 8",
        "ECOG:         1 (restricted in strenuous activity, can do light work)",
    ]


def test_show_a_basis_without_categories(doctors: Cli) -> None:
    doctors.ok("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--staging", "clinical")
    assert "Staging:   clinical" in doctors.ok("opinion", "show", "1").stdout.splitlines()


def test_edit_sets_and_clears_facts(staged: Cli) -> None:
    args = ("opinion", "edit", "1", "--grade", "", "--t", "T2", "--ecog", "2", "--json")
    data = as_json(staged.ok(*args))
    assert (data["grade"], data["t"], data["tnm"], data["ecog"]) == (None, "T2", "cT2 cN0 cM0", 2)
    assert as_json(staged.ok("opinion", "show", "1", "--json")) == data


def test_compare_shows_the_structured_rows_and_the_advice(staged: Cli) -> None:
    result = staged.ok("opinion", "compare")
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    rows = {line.split("  ")[0].strip(): line for line in lines[1:] if line and "  " in line}
    assert list(rows)[:10] == [
        "Date",  # opinions are given on different days: that is no difference
        "Diagnosis",
        "Laterality",
        "Grade",  # G2 and g2 are one grade
        "T ≠",
        "N ≠",
        "M",
        "TNM basis ≠",
        "Stage group ≠",
        "ECOG",
    ]
    assert rows["TNM basis ≠"].split()[-2:] == ["clinical", "pathologic"]
    assert rows["Laterality"].split()[-2:] == ["left", "left"]
    assert "Primary site" not in rows  # neither opinion gives it
    assert lines[-4:] == [
        "≠ marks where the opinions differ.",
        "The opinions differ. Insurers usually cover a third opinion when the first two differ.",
        "They differ on T and N, which decide the stage and the treatment: ask whether each"
        " doctor saw the same pathology, and whether the slides can be reviewed again.",
        "You can ask the doctors to discuss their conclusions with each other.",
    ]
    data = as_json(staged.ok("opinion", "compare", "--json"))
    assert data["differing_fields"] == ["n", "stage", "staging", "t"]
    assert len(data["notes"]) == 3


@pytest.mark.parametrize(
    ("args", "code", "needles"),
    [
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--ecog", "7"),
            1,
            ("--ecog must be 0, 1, 2, 3 or 4 (ECOG performance status), not 7.",),
        ),
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--ecog", "two"),
            2,
            ("--ecog",),
        ),
        (
            (
                "opinion",
                "add",
                "--doctor",
                "1",
                "--diagnosis",
                "IDC",
                "--t",
                "pT2",
                "--staging",
                "clinical",
            ),
            1,
            ("The T, N or M category says pathologic but --staging is clinical",),
        ),
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--t", "pT2", "--n", "cN1"),
            1,
            ("mix c (clinical) and p (pathologic)", "--staging"),
        ),
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--n", "T2"),
            1,
            ("--n should read like N0, N1, N2a or NX (got 'T2')",),
        ),
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--ajcc-edition", "0"),
            1,
            ("--ajcc-edition is the AJCC manual's edition",),
        ),
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--laterality", "middle"),
            2,
            ("--laterality", "middle"),
        ),
        (
            ("opinion", "add", "--doctor", "1", "--diagnosis", "IDC", "--staging", "guessed"),
            2,
            ("--staging",),
        ),
        (("opinion", "edit", "1", "--ecog", "7"), 1, ("--ecog must be 0, 1, 2, 3 or 4",)),
        (
            ("opinion", "edit", "1", "--t", "pT2"),
            1,
            ("This opinion's staging is clinical", "give --staging pathologic too"),
        ),
        (("opinion", "edit", "1", "--grade", "G\x1b[2J"), 1, ("--grade", "control character")),
    ],
)
def test_refusals_of_the_structured_facts_change_nothing(
    staged: Cli, args: tuple[str, ...], code: int, needles: tuple[str, ...]
) -> None:
    before = snapshot(staged, "opinion")
    assert_refused(staged(*args), code, *needles)
    assert snapshot(staged, "opinion") == before
