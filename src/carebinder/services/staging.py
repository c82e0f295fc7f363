"""The structured cancer facts of an opinion: checks for what a person types, and TNM as a
doctor writes it (cT2 cN1 cM0; pT2 pN1a cM0).

A T, N or M category is kept without its c/p prefix, with its letter ("T2", "N1a", "M0");
the prefix is the opinion's staging basis. "pT2" typed with no basis sets it to
pathologic; "pT2" typed with `clinical` is refused, as it contradicts itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carebinder.errors import FIELD, InvalidInput
from carebinder.models import Opinion, StagingBasis

ECOG_RANGE = range(0, 5)
AJCC_RANGE = range(1, 100)
# What may follow the letter: TX, T0, Tis, T1mi, T2a, N0(i+), N1mic, M1a, M1b(1)… It starts
# with a digit, X or "is", so a category typed in the wrong place ("T2" as N) is refused
# rather than kept as "NT2".
CATEGORY = re.compile(r"(?:[0-9]|[Xx]|[Ii][Ss])[0-9A-Za-z()+\-/.]{0,16}")
PREFIXES = {"c": StagingBasis.CLINICAL, "p": StagingBasis.PATHOLOGIC}
# What the staging basis prints before T and N (M is written cM0 in a pathologic stage:
# "pM0" is not a category; pM1 is, when a metastasis was confirmed in tissue).
PREFIX = {StagingBasis.CLINICAL: "c", StagingBasis.PATHOLOGIC: "p"}

ECOG_MEANING = {
    0: "fully active",
    1: "restricted in strenuous activity, can do light work",
    2: "up and about more than half the day, cannot work",
    3: "in bed or a chair more than half the day",
    4: "completely disabled",
}


@dataclass(frozen=True)
class Category:
    value: str  # "T2"
    basis: StagingBasis | None  # from a "c" or "p" typed before it


def category(text: str | None, letter: str, field: str) -> Category | None:
    """A T, N or M category as typed ("T2", "pT2", "2", "t1c"), checked; None when blank."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    basis = None
    if len(value) > 1 and value[0] in PREFIXES and value[1].upper() == letter:
        basis, value = PREFIXES[value[0]], value[1:]
        if letter == "M" and basis is StagingBasis.CLINICAL:
            # cM0 is written in a pathologic stage too (pT2 pN1a cM0, as `tnm` prints it):
            # it says nothing of the basis.
            basis = None
    if value[0].upper() == letter:
        value = value[1:]
    if not CATEGORY.fullmatch(value):
        raise InvalidInput(
            f"{FIELD} should read like {letter}0, {letter}1, {letter}2a or {letter}X"
            f" (got {text.strip()[:30]!r}).",
            field=field,
        )
    return Category(letter + value, basis)


def basis_of(
    given: StagingBasis | None,
    categories: list[Category | None],
    field: str = "staging",
    *,
    kept: bool = False,
) -> StagingBasis | None:
    """The staging basis: the one given, or the one the categories were typed with.
    Refuses a c/p prefix that contradicts the basis given, or another prefix. `kept`: the
    basis is the opinion's own, not one typed with the categories (an edit)."""
    typed = {c.basis for c in categories if c is not None and c.basis is not None}
    if given is not None:
        if typed - {given} and kept:
            said = ", ".join(sorted(t.value for t in typed))
            raise InvalidInput(
                f"This opinion's staging is {given.value}, but the T, N or M category says"
                f" {said}. If the basis changed, give {FIELD} {said} too.",
                field=field,
            )
        if typed - {given}:
            raise InvalidInput(
                f"The T, N or M category says {', '.join(sorted(t.value for t in typed))}"
                f" but {FIELD} is {given.value}. Give one of them.",
                field=field,
            )
        return given
    if len(typed) > 1:
        raise InvalidInput(
            "The T, N and M categories mix c (clinical) and p (pathologic). Type them"
            f" without c or p and give {FIELD}.",
            field=field,
        )
    return next(iter(typed), None)


def ecog(value: int | None) -> int | None:
    if value is not None and value not in ECOG_RANGE:
        raise InvalidInput(
            f"{FIELD} must be 0, 1, 2, 3 or 4 (ECOG performance status), not {value}.",
            field="ecog",
        )
    return value


def ajcc_edition(value: int | None) -> int | None:
    if value is not None and value not in AJCC_RANGE:
        raise InvalidInput(
            f"{FIELD} is the AJCC manual's edition, a number such as 8 (not {value}).",
            field="ajcc_edition",
        )
    return value


def tnm(opinion: Opinion) -> str | None:
    """TNM as a doctor writes it: "cT2 cN1 cM0", "pT1c pN0 cM0", or "T2 N0" with no basis."""
    prefix = PREFIX.get(opinion.staging) if opinion.staging else ""
    parts = []
    for value in (opinion.t_category, opinion.n_category):
        if value:
            parts.append(f"{prefix}{value}")
    if opinion.m_category:
        m = opinion.m_category
        if opinion.staging is StagingBasis.PATHOLOGIC and not m.upper().startswith("M1"):
            parts.append(f"c{m}")
        else:
            parts.append(f"{prefix}{m}")
    return " ".join(parts) or None
