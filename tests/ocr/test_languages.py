"""The languages scans are read in: Tesseract's codes, the locale's default with English,
a patient's choice (`record ocr-lang`), and refusals that change nothing."""

from __future__ import annotations

import pytest

from carebinder.errors import InvalidInput
from carebinder.ocr import languages
from tests.conftest import Cli


@pytest.mark.parametrize(
    ("environ", "have", "expected"),
    [
        ({"LANG": "es_ES.UTF-8"}, {"eng", "spa"}, "spa+eng"),
        ({"LC_ALL": "es_MX.UTF-8", "LANG": "en_US.UTF-8"}, {"eng", "spa"}, "spa+eng"),
        ({"LANG": "fr_FR.UTF-8"}, {"eng", "spa"}, "eng"),  # no French data: English alone
        ({"LANG": "en_GB.UTF-8"}, {"eng", "spa"}, "eng"),
        ({"LANG": "C.UTF-8"}, {"eng"}, "eng"),
    ],
)
def test_the_default_is_the_locales_language_and_english(
    environ: dict[str, str], have: set[str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(languages, "installed", lambda: frozenset(have))
    assert languages.from_locale(environ) == expected


def test_codes_are_checked_and_a_missing_pack_is_named() -> None:
    assert languages.check("SPA+eng+spa", frozenset({"eng", "spa"})) == "spa+eng"
    assert languages.package("chi_sim") == "tesseract-ocr-chi-sim"
    with pytest.raises(InvalidInput, match="tesseract-ocr-deu"):
        languages.check("deu", frozenset({"eng"}))
    for bad in ("", "spanish", "es", "spa;rm -rf", "+"):
        with pytest.raises(InvalidInput, match="language codes joined by"):
            languages.parse(bad)


def test_a_patients_choice_is_kept_and_used(binder: Cli) -> None:
    default = binder.ok("record", "ocr-lang").stdout
    assert default.endswith("(this computer's default).\n")
    if "spa" not in languages.installed():
        refused = binder("record", "ocr-lang", "spa+eng")
        assert refused.exit_code == 1
        assert "sudo apt-get install tesseract-ocr-spa" in refused.stderr
        return
    assert binder.ok("record", "ocr-lang", "spa+eng").stdout == (
        "Scans are read in spa+eng (chosen for this patient).\n"
    )
    assert "spa+eng (chosen" in binder.ok("record", "ocr-lang").stdout
    bad = binder("record", "ocr-lang", "sp a")
    assert (bad.exit_code, bad.stderr) == (
        1,
        "Error: LANGS must be Tesseract's language codes joined by +, e.g. spa+eng (got 'sp a').\n",
    )
    assert "spa+eng (chosen" in binder.ok("record", "ocr-lang").stdout  # unchanged
    assert binder.ok("record", "ocr-lang", "--clear").stdout == default
