"""Service tests: the structured cancer facts of an opinion (TNM as typed and as printed,
ECOG, AJCC edition) and how the comparison reads them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from carebinder.errors import InvalidInput
from carebinder.models import Doctor, Laterality, Opinion, Patient, StagingBasis
from carebinder.services import doctors, opinions, staging


@pytest.fixture
def doctor(session: Session, patient: Patient) -> Doctor:
    return doctors.add_doctor(session, patient.id, name="Dr. First")


@pytest.fixture
def second(session: Session, patient: Patient) -> Doctor:
    return doctors.add_doctor(session, patient.id, name="Dr. Second")


# --- a T, N or M category as typed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "letter", "value", "basis"),
    [
        ("T2", "T", "T2", None),
        (" pT2 ", "T", "T2", StagingBasis.PATHOLOGIC),
        ("cT1c", "T", "T1c", StagingBasis.CLINICAL),
        ("2", "T", "T2", None),
        ("t1c", "T", "T1c", None),
        ("Tis", "T", "Tis", None),
        ("TX", "T", "TX", None),
        ("T1mi", "T", "T1mi", None),
        ("pN1a", "N", "N1a", StagingBasis.PATHOLOGIC),
        ("N0(i+)", "N", "N0(i+)", None),
        ("M1b(1)", "M", "M1b(1)", None),
        ("pM1", "M", "M1", StagingBasis.PATHOLOGIC),
        # cM0 belongs to a pathologic stage too (pT2 pN1a cM0): it says nothing of the basis.
        ("cM0", "M", "M0", None),
    ],
)
def test_a_category_is_read_as_a_doctor_writes_it(
    typed: str, letter: str, value: str, basis: StagingBasis | None
) -> None:
    assert staging.category(typed, letter, letter.lower()) == staging.Category(value, basis)


@pytest.mark.parametrize("typed", [None, "", "   "])
def test_a_blank_category_is_none(typed: str | None) -> None:
    assert staging.category(typed, "T", "t") is None


@pytest.mark.parametrize(
    ("typed", "letter"),
    [
        ("T2 bad", "T"),
        ("T2; DROP", "T"),
        ("big", "T"),
        ("T2", "N"),  # a T category typed as N: refused, not kept as "NT2"
        ("pT2", "N"),
        ("ypT2", "T"),  # after neoadjuvant therapy: the free-text stage keeps it
        ("T" + "1" * 30, "T"),
    ],
)
def test_a_category_that_is_not_one_is_refused(typed: str, letter: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        staging.category(typed, letter, letter.lower())
    assert refused.value.field == letter.lower()
    assert refused.value.naming(f"--{letter.lower()}").startswith(
        f"--{letter.lower()} should read like {letter}0, {letter}1, {letter}2a or {letter}X"
    )


def test_the_basis_comes_from_the_prefix_or_from_the_option() -> None:
    p_t2 = staging.category("pT2", "T", "t")
    n1 = staging.category("N1", "N", "n")
    c_n1 = staging.category("cN1", "N", "n")
    assert staging.basis_of(None, [p_t2, n1, None]) is StagingBasis.PATHOLOGIC
    assert staging.basis_of(StagingBasis.CLINICAL, [n1]) is StagingBasis.CLINICAL
    assert staging.basis_of(None, [n1]) is None
    with pytest.raises(InvalidInput, match="says pathologic but staging is clinical"):
        staging.basis_of(StagingBasis.CLINICAL, [p_t2])
    with pytest.raises(InvalidInput, match=re.escape("mix c (clinical) and p (pathologic)")):
        staging.basis_of(None, [p_t2, c_n1])


@pytest.mark.parametrize("value", [0, 1, 2, 3, 4, None])
def test_ecog_takes_0_to_4(value: int | None) -> None:
    assert staging.ecog(value) == value


@pytest.mark.parametrize("value", [-1, 5, 7, 2**70])
def test_ecog_outside_0_to_4_is_refused(value: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        staging.ecog(value)
    assert refused.value.naming("--ecog") == (
        f"--ecog must be 0, 1, 2, 3 or 4 (ECOG performance status), not {value}."
    )


@pytest.mark.parametrize("value", [0, -8, 100])
def test_an_impossible_ajcc_edition_is_refused(value: int) -> None:
    with pytest.raises(InvalidInput, match="AJCC manual's edition"):
        staging.ajcc_edition(value)
    assert staging.ajcc_edition(8) == 8


def test_every_ecog_grade_has_its_meaning() -> None:
    assert sorted(staging.ECOG_MEANING) == [0, 1, 2, 3, 4]


# --- TNM as printed ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "n", "m", "basis", "printed"),
    [
        ("T2", "N1", "M0", StagingBasis.CLINICAL, "cT2 cN1 cM0"),
        ("T1c", "N0", "M0", StagingBasis.PATHOLOGIC, "pT1c pN0 cM0"),
        ("T3", "N2", "M1a", StagingBasis.PATHOLOGIC, "pT3 pN2 pM1a"),
        ("T2", "N0", None, None, "T2 N0"),
        (None, "N1a", None, StagingBasis.PATHOLOGIC, "pN1a"),
        (None, None, None, StagingBasis.CLINICAL, None),
        (None, None, None, None, None),
    ],
)
def test_tnm_is_printed_with_its_prefixes(
    t: str | None, n: str | None, m: str | None, basis: StagingBasis | None, printed: str | None
) -> None:
    opinion = Opinion(t_category=t, n_category=n, m_category=m, staging=basis)
    assert staging.tnm(opinion) == printed


def test_what_tnm_prints_is_read_back_the_same(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    """`pT2 pN1a cM0`, as the packet and `opinion show` print it, typed back in."""
    op = opinions.add_opinion(
        session, patient.id, doctor=doctor.id, diagnosis="IDC", t="pT2", n="pN1a", m="cM0"
    )
    data = opinions.to_json(op)
    assert (data["t"], data["n"], data["m"]) == ("T2", "N1a", "M0")
    assert data["staging"] == "pathologic"
    assert data["tnm"] == "pT2 pN1a cM0"


# --- on an opinion -------------------------------------------------------------------------


def test_add_opinion_keeps_every_structured_fact(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    op = opinions.add_opinion(
        session,
        patient.id,
        doctor=doctor.id,
        diagnosis="Invasive ductal carcinoma",
        stage="IIB",
        site=" Breast, upper outer quadrant ",
        laterality=Laterality.LEFT,
        histology="Invasive ductal carcinoma",
        grade="G2",
        t="T2",
        n="N1a",
        m="M0",
        staging=StagingBasis.PATHOLOGIC,
        ajcc_edition=8,
        ecog=1,
    )
    session.expire_all()
    data = opinions.to_json(opinions.get_opinion(session, patient.id, op.id))
    assert {key: data[key] for key in ("site", "laterality", "histology", "grade")} == {
        "site": "Breast, upper outer quadrant",
        "laterality": "left",
        "histology": "Invasive ductal carcinoma",
        "grade": "G2",
    }
    assert (data["t"], data["n"], data["m"], data["staging"]) == ("T2", "N1a", "M0", "pathologic")
    assert (data["tnm"], data["stage"], data["ajcc_edition"], data["ecog"]) == (
        "pT2 pN1a cM0",
        "IIB",
        8,
        1,
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"ecog": 7}, "ecog", "ecog must be 0, 1, 2, 3 or 4"),
        ({"ajcc_edition": 0}, "ajcc_edition", "ajcc edition is the AJCC manual's edition"),
        ({"t": "pT2", "staging": StagingBasis.CLINICAL}, "staging", "says pathologic"),
        ({"t": "pT2", "n": "cN1"}, "staging", "mix c (clinical) and p (pathologic)"),
        ({"n": "T2"}, "n", "n should read like N0"),
        ({"grade": "G2\x1b[2J"}, "grade", "grade contains a control character"),
        ({"site": "x" * 201}, "site", "site is too long"),
    ],
)
def test_add_opinion_refuses_bad_facts_and_adds_nothing(
    session: Session,
    patient: Patient,
    doctor: Doctor,
    kwargs: dict[str, object],
    field: str,
    message: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        opinions.add_opinion(session, patient.id, doctor=doctor.id, diagnosis="IDC", **kwargs)
    assert refused.value.field == field
    assert message in refused.value.message
    assert opinions.list_opinions(session, patient.id) == []


def test_edit_opinion_keeps_the_basis_and_refuses_a_prefix_against_it(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    op = opinions.add_opinion(
        session, patient.id, doctor=doctor.id, diagnosis="IDC", t="cT1c", n="cN0", m="cM0"
    )
    opinions.edit_opinion(session, op, t="T2")  # no prefix: the opinion's own basis
    assert (op.t_category, op.staging, staging.tnm(op)) == (
        "T2",
        StagingBasis.CLINICAL,
        "cT2 cN0 cM0",
    )
    with pytest.raises(InvalidInput) as refused:
        opinions.edit_opinion(session, op, t="pT2")
    assert refused.value.naming("--staging") == (
        "This opinion's staging is clinical, but the T, N or M category says pathologic."
        " If the basis changed, give --staging pathologic too."
    )
    session.expire_all()
    assert (op.t_category, op.staging) == ("T2", StagingBasis.CLINICAL)
    # With the basis given, the same edit is taken.
    opinions.edit_opinion(session, op, t="pT2", n="pN1", staging=StagingBasis.PATHOLOGIC)
    assert staging.tnm(op) == "pT2 pN1 cM0"


def test_edit_opinion_clears_a_fact_and_keeps_the_others(
    session: Session, patient: Patient, doctor: Doctor
) -> None:
    op = opinions.add_opinion(
        session, patient.id, doctor=doctor.id, diagnosis="IDC", t="T2", grade="G3", ecog=2
    )
    opinions.edit_opinion(session, op, grade="", ecog=None, laterality=Laterality.RIGHT)
    data = opinions.to_json(op)
    assert (data["t"], data["grade"], data["ecog"], data["laterality"]) == (
        "T2",
        None,
        None,
        "right",
    )
    with pytest.raises(InvalidInput, match="not 5"):
        opinions.edit_opinion(session, op, ecog=5)
    session.expire_all()
    assert op.ecog is None


# --- the comparison ------------------------------------------------------------------------


def _two(
    session: Session,
    patient: Patient,
    first: Doctor,
    second: Doctor,
    a: dict[str, object],
    b: dict[str, object],
) -> opinions.Comparison:
    opinions.add_opinion(session, patient.id, doctor=first.id, diagnosis="IDC", **a)
    opinions.add_opinion(session, patient.id, doctor=second.id, diagnosis="IDC", **b)
    return opinions.compare(session, patient.id)


def test_the_comparison_shows_the_structured_rows_that_are_given(
    session: Session, patient: Patient, doctor: Doctor, second: Doctor
) -> None:
    result = _two(
        session,
        patient,
        doctor,
        second,
        {"laterality": Laterality.LEFT, "t": "cT1c", "grade": "G2", "ecog": 0},
        {"laterality": Laterality.LEFT, "t": "pT2", "grade": "G3", "ecog": 0},
    )
    assert result.rows == [
        ("Date", "date"),
        ("Diagnosis", "diagnosis"),
        ("Laterality", "laterality"),
        ("Grade ≠", "grade"),
        ("T ≠", "t"),
        ("TNM basis ≠", "staging"),
        ("Stage group", "stage"),
        ("ECOG", "ecog"),
        ("Plan", "plan"),
    ]
    # Values of enums are their words; numbers are text.
    left, right = result.opinions
    assert [opinions.shown(o, "laterality") for o in (left, right)] == ["left", "left"]
    assert [opinions.shown(o, "staging") for o in (left, right)] == ["clinical", "pathologic"]
    assert opinions.shown(left, "ecog") == "0"
    assert opinions.shown(left, "site") == ""


@pytest.mark.parametrize(
    ("a", "b", "facts"),
    [
        ({"t": "T1c"}, {"t": "T2"}, "T"),
        ({"n": "N0", "m": "M0"}, {"n": "N1", "m": "M1"}, "N and M"),
        (
            {"t": "T1", "grade": "G1", "histology": "ductal"},
            {"t": "T2", "grade": "G3", "histology": "lobular"},
            "T, grade and histology",
        ),
    ],
)
def test_the_closing_advice_names_the_decisive_facts_that_differ(
    session: Session,
    patient: Patient,
    doctor: Doctor,
    second: Doctor,
    a: dict[str, object],
    b: dict[str, object],
    facts: str,
) -> None:
    result = _two(session, patient, doctor, second, a, b)
    assert result.notes == [
        opinions.THIRD_OPINION_NOTE,
        opinions.DECISIVE_NOTE.format(facts=facts),
        opinions.DISCUSS_NOTE,
    ]
    assert f"They differ on {facts}, which decide the stage and the treatment" in result.notes[1]


def test_facts_that_do_not_decide_the_stage_leave_the_advice_as_it_was(
    session: Session, patient: Patient, doctor: Doctor, second: Doctor
) -> None:
    result = _two(session, patient, doctor, second, {"ecog": 0}, {"ecog": 1, "site": "breast"})
    assert result.differing == frozenset({"ecog"})  # one site given is not a difference
    assert result.notes == [opinions.THIRD_OPINION_NOTE, opinions.DISCUSS_NOTE]


def test_the_same_facts_agree(
    session: Session, patient: Patient, doctor: Doctor, second: Doctor
) -> None:
    same = {"t": "pT2", "n": "pN0", "grade": "G2", "laterality": Laterality.RIGHT}
    result = _two(session, patient, doctor, second, same, {**same, "grade": "g2."})
    assert result.differing == frozenset()
    assert result.verdict == [opinions.AGREE]
