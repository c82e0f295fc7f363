"""Which languages scans are read in: Tesseract's names (`spa+eng`), the ones installed on
this computer, and the default from the system's locale, English always included."""

from __future__ import annotations

import functools
import locale
import os
import re
import shutil
import subprocess
from collections.abc import Mapping

from carebinder.errors import InvalidInput

FIELD = "ocr_languages"
ENGLISH = "eng"
# Tesseract's code for the languages of a locale (ISO 639-1), where they differ.
FROM_LOCALE = {
    "ar": "ara", "bg": "bul", "bn": "ben", "ca": "cat", "cs": "ces", "da": "dan", "de": "deu",
    "el": "ell", "en": "eng", "es": "spa", "et": "est", "fa": "fas", "fi": "fin", "fr": "fra",
    "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "id": "ind", "it": "ita", "ja": "jpn",
    "ko": "kor", "lt": "lit", "lv": "lav", "nb": "nor", "nl": "nld", "no": "nor", "pl": "pol",
    "pt": "por", "ro": "ron", "ru": "rus", "sk": "slk", "sl": "slv", "sr": "srp", "sv": "swe",
    "th": "tha", "tl": "tgl", "tr": "tur", "uk": "ukr", "ur": "urd", "vi": "vie",
    "zh": "chi_sim",
}  # fmt: skip
NAMES = {  # for messages
    "eng": "English", "spa": "Spanish", "fra": "French", "deu": "German", "por": "Portuguese",
    "ita": "Italian", "chi_sim": "Chinese", "ara": "Arabic", "heb": "Hebrew", "rus": "Russian",
    "vie": "Vietnamese", "kor": "Korean", "jpn": "Japanese", "hin": "Hindi", "pol": "Polish",
}  # fmt: skip
CODE = re.compile(r"[a-z]{3}(_[a-z]+)?", re.ASCII)
INSTALL = "sudo apt-get install tesseract-ocr"


def tesseract() -> str | None:
    """Tesseract's program on this computer's PATH, or None."""
    return shutil.which("tesseract")


@functools.cache
def installed() -> frozenset[str]:
    """The languages Tesseract has data for here (`tesseract --list-langs`); empty without
    Tesseract."""
    program = tesseract()
    if program is None:
        return frozenset()
    try:
        listed = subprocess.run(  # noqa: S603 - Tesseract found on PATH, fixed arguments
            [program, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    lines = listed.stdout.splitlines()[1:]  # after "List of available languages in …"
    return frozenset(line.strip() for line in lines if CODE.fullmatch(line.strip()))


def package(code: str) -> str:
    """The Debian package with Tesseract's data for `code` (chi_sim: tesseract-ocr-chi-sim)."""
    return f"tesseract-ocr-{code.replace('_', '-')}"


def name(code: str) -> str:
    return NAMES.get(code, code)


def parse(spec: str) -> tuple[str, ...]:
    """`spa+eng` as ("spa", "eng"); refused when it is not Tesseract's form."""
    codes = tuple(dict.fromkeys(part.strip().lower() for part in spec.split("+")))
    if not spec.strip() or not all(CODE.fullmatch(code) for code in codes) or len(codes) > 8:
        raise InvalidInput(
            f"{{field}} must be Tesseract's language codes joined by +, e.g. spa+eng"
            f" (got {spec[:40]!r}).",
            field=FIELD,
        )
    return codes


def check(spec: str, have: frozenset[str] | None = None) -> str:
    """`spec` cleaned (`spa+eng`), refused in one line when a language's data is missing,
    naming the Debian package that brings it."""
    codes = parse(spec)
    have = installed() if have is None else have
    if have:  # without Tesseract at all, another message says how to install it
        for code in codes:
            if code not in have:
                raise InvalidInput(
                    f"{name(code)} ({code}) text cannot be read on this computer yet:"
                    f" install its language data with `sudo apt-get install {package(code)}`,"
                    f" or choose other languages with {{field}}.",
                    field=FIELD,
                )
    return "+".join(codes)


def from_locale(environ: Mapping[str, str] | None = None) -> str:
    """The default: the system locale's language (when its data is installed) and English."""
    env = os.environ if environ is None else environ
    wanted = env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG") or ""
    if not wanted:
        wanted = locale.getlocale()[0] or ""
    code = FROM_LOCALE.get(wanted.split("_")[0].split(".")[0].lower(), ENGLISH)
    have = installed()
    if code == ENGLISH or (have and code not in have):
        return ENGLISH
    return f"{code}+{ENGLISH}"
