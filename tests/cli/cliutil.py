"""Helpers the CLI tests share: reading JSON output, checking refusals, snapshots."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from typer.testing import Result

from tests.conftest import Cli

# The documented, stable JSON keys of each noun (`id` plus the domain's facts, snake_case).
PATIENT_KEYS = {
    "id",
    "name",
    "born",
    "mrn",
    "phone",
    "email",
    "address",
    "insurance",
    "no_medications_on",
    "no_allergies_on",
}
INSURANCE_KEYS = {"payer", "plan", "member_id", "phone"}
DOCTOR_KEYS = {
    "id",
    "name",
    "specialty",
    "institution",
    "role",
    "phone",
    "email",
    "address",
    "npi",
    "referred_by",
    "notes",
}
RECORD_KEYS = {"id", "kind", "title", "date", "doctor", "institution", "notes", "files"}
FILE_KEYS = {
    "id",
    "name",
    "media_type",
    "size",
    "page_count",
    "sha256",
    "unreadable",
    "has_text",
    "unprintable",
    "notice",
    "ocr",
    "ocr_pages",
    "ocr_confidence",
    "ocr_languages",
    "ocr_failed",
}
OPINION_KEYS = {
    "id",
    "doctor",
    "doctor_name",
    "date",
    "diagnosis",
    "stage",
    "plan",
    "notes",
    "records",
    "site",
    "laterality",
    "histology",
    "grade",
    "t",
    "n",
    "m",
    "staging",
    "tnm",
    "ajcc_edition",
    "ecog",
}
APPOINTMENT_KEYS = {
    "id",
    "doctor",
    "doctor_name",
    "start",
    "time_zone",
    "location",
    "purpose",
    "status",
    "companion",
    "notes",
    "staff_told",
    "records_sent_on",
    "coverage",
    "coverage_ref",
    "records",
}
QUESTION_KEYS = {"id", "text", "appointment", "answer", "answered_by", "answered_on"}
MATERIAL_KEYS = {
    "id",
    "kind",
    "description",
    "institution",
    "status",
    "requested_on",
    "received_on",
    "sent_on",
    "returned_on",
}
MEDICATION_KEYS = {
    "id",
    "name",
    "dose",
    "how",
    "kind",
    "started",
    "stopped",
    "current",
    "reason",
    "prescriber",
    "prescriber_name",
    "notes",
}
ALLERGY_KEYS = {"id", "substance", "reaction", "severity", "kind", "notes"}
CONDITION_KEYS = {"id", "name", "since", "notes"}
TREATMENT_KEYS = {
    "id",
    "kind",
    "name",
    "started",
    "ended",
    "doctor",
    "doctor_name",
    "response",
    "notes",
}
RESULT_KEYS = {"id", "name", "value", "unit", "date", "interpretation", "record", "notes"}
CHECKLIST_KEYS = {"appointment", "ready", "applicable", "items"}
CHECKLIST_ITEM_KEYS = {"key", "label", "ready", "detail", "fix"}
COMPARE_KEYS = {"opinions", "differing_fields", "notes"}
BRING_KEYS = {"appointment", "all_records", "records"}
DB_STATUS_KEYS = {"current", "head", "up_to_date", "home", "database", "store", "store_problem"}

NOUNS = ("doctor", "record", "opinion", "appointment", "question", "material")

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr


def as_json(result: Result, *, quiet: bool = True) -> Any:
    """The JSON document a successful `--json` command printed (stdout holds nothing else)."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    no_traceback(result)
    if quiet:
        assert result.stderr == "", result.stderr
    return json.loads(result.stdout)


def assert_keys(obj: dict[str, Any], keys: set[str]) -> None:
    assert set(obj) == keys, sorted(set(obj) ^ keys)
    assert all(_SNAKE.match(key) for key in obj), sorted(obj)
    if "id" in keys:
        assert isinstance(obj["id"], int)


def assert_refused(result: Result, code: int, *needles: str) -> str:
    """A refusal: the exit code, nothing on stdout, one `Error:` line naming the problem.

    Returns the error line. Refused operations (exit 1) print exactly one line; usage errors
    (exit 2) come from the argument parser, which adds its "Usage:" lines around it.
    """
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    no_traceback(result)
    assert result.stdout == "", result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    if code == 1:
        assert result.stderr == errors[0] + "\n", result.stderr
    line = errors[0]
    for needle in needles:
        assert needle.casefold() in line.casefold(), (needle, line)
    return line


def snapshot(cli: Cli, *nouns: str, global_args: tuple[str, ...] = ()) -> dict[str, Any]:
    """`NOUN list --json` for each noun (all of them by default), to compare before/after."""
    data: dict[str, Any] = {}
    for noun in nouns or ("patient", *NOUNS):
        data[noun] = as_json(cli.ok(*global_args, noun, "list", "--json"))
    return data


def added_id(result: Result) -> int:
    """The id from an `add … --json` result."""
    data = as_json(result)
    assert isinstance(data["id"], int)
    return int(data["id"])


def forget_chosen_patient() -> None:
    """As for a teammate on a shared binder who never chose a patient: no state file."""
    from carebinder import config

    (Path(os.environ[config.HOME_ENV]) / config.STATE_FILE).unlink(missing_ok=True)
