"""Names and texts in any script come back exactly as typed (after strip()); control
characters are refused on purpose."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.cli.cliutil import DOCTOR_KEYS, as_json, assert_keys, assert_refused, snapshot
from tests.conftest import Cli

# Any character except control characters (Cc, refused on purpose) and surrogates (Cs,
# which cannot be encoded); scripts people's names are written in get extra weight.
ANY = st.characters(exclude_categories=("Cc", "Cs"))
SCRIPTS = st.one_of(
    ANY,
    st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),  # Arabic
    st.characters(min_codepoint=0x0590, max_codepoint=0x05FF),  # Hebrew
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK ideographs
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF),  # emoji
    st.sampled_from("\u200d\ufe0f\u0301 '-.,"),  # joiners, accents, punctuation, spaces
)
# Something visible: text made only of spaces and invisible format characters (a soft
# hyphen, a zero-width space) counts as empty, on purpose.
TEXT = st.text(SCRIPTS, min_size=1, max_size=60).filter(
    lambda s: any(unicodedata.category(c) not in ("Cf", "Zs") for c in s.strip())
)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=TEXT, specialty=TEXT)
@example(name="José Ñúñez-O'Brien", specialty="Oncología médica")
@example(name="Nguyễn Thị Ánh", specialty="Ung thư")
@example(name="Øyvind", specialty="Onkologi")
@example(name="محمد عبد الله", specialty="علم الأورام")
@example(name="שרה כהן", specialty="אונקולוגיה")
@example(name="李小龙", specialty="肿瘤科")
@example(name="👩‍⚕️ Dr. Emoji", specialty="🩺 Oncology 🎗️")
@example(name="  -Dr. Dash  ", specialty="--json")
@example(name="\u00a0Dr. NBSP\u2003", specialty="a\u2028b")
def test_doctor_text_round_trips(binder: Cli, name: str, specialty: str) -> None:
    # Options before `--`, so a name that starts with "-" is still the NAME argument.
    added = as_json(binder.ok("doctor", "add", f"--specialty={specialty}", "--json", "--", name))
    assert_keys(added, DOCTOR_KEYS)
    assert added["name"] == name.strip()
    assert added["specialty"] == specialty.strip()
    doctor = str(added["id"])
    assert as_json(binder.ok("doctor", "show", doctor, "--json")) == added
    listed = {d["id"]: d for d in as_json(binder.ok("doctor", "list", "--json"))}
    assert listed[added["id"]] == added
    shown = binder.ok("doctor", "show", doctor).stdout
    assert f"#{doctor} {name.strip()}\n" in shown


@pytest.mark.parametrize(
    "bad",
    [
        "Dr.\x00Nul",
        "Dr.\x07Bell",
        "Dr.\x1b[31mRed",
        "Dr.\nNewline",
        "Dr.\tTab",
        "Dr.\x7fDel",
        "Dr.\x9bCsi",
    ],
)
def test_control_characters_are_refused(binder: Cli, bad: str) -> None:
    binder.ok("doctor", "add", "Dr. Wei Chen")
    before = snapshot(binder, "doctor")
    assert_refused(binder("doctor", "add", bad), 1, "NAME", "control character")
    assert_refused(
        binder("doctor", "add", "Dr. Ok", "--specialty", bad), 1, "--specialty", "control"
    )
    assert_refused(binder("doctor", "edit", "1", "--name", bad), 1, "--name", "control")
    assert snapshot(binder, "doctor") == before


def test_notes_may_hold_newlines_and_tabs(binder: Cli) -> None:
    data = as_json(
        binder.ok("doctor", "add", "Dr. Wei Chen", "--notes", "Line one\n\tLine two", "--json")
    )
    assert data["notes"] == "Line one\n\tLine two"
