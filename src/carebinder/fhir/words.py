"""What an import says it did, in the words both faces use (the command line prints these
lines; the web face shows them)."""

from __future__ import annotations

from carebinder.fhir.context import Summary

# The nouns of the summary, in the order a person reads them.
NOUNS = (
    ("patient", "patient", "patients"),
    ("doctor", "doctor", "doctors"),
    ("record", "record", "records"),
    ("file", "file", "files"),
    ("opinion", "opinion", "opinions"),
    ("appointment", "appointment", "appointments"),
    ("medication", "medication", "medications"),
    ("no_medications", '"takes no medications"', '"takes no medications"'),
    ("allergy", "allergy", "allergies"),
    ("no_allergies", '"no known allergies"', '"no known allergies"'),
    ("condition", "other condition", "other conditions"),
    ("treatment", "treatment", "treatments"),
    ("result", "result", "results"),
    ("question", "question", "questions"),
    ("material", "material", "materials"),
    ("coverage", "insurance", "insurances"),
)


# After the lines of the files left out: what was done all the same.
REST = "everything else was imported."


def summary_lines(summary: Summary) -> list[str]:
    """The patients, what was imported, already there and skipped: one line each."""
    lines = []
    for ident, name, how in summary.patients:
        plain = how in ("new", "already in the binder")
        shown = how if plain else f"already in the binder: {how}"
        lines.append(f"Patient #{ident} {name} ({shown}).")
    lines.append(f"Imported: {counts(summary.imported) or 'nothing new'}.")
    if +summary.already:
        lines.append(f"Already in the binder: {counts(summary.already)}.")
    if summary.skipped:
        lines.append(f"Skipped {sum(summary.skipped.values()):,}:")
        for (kind, reason), count in sorted(summary.skipped.items(), key=lambda i: -i[1]):
            lines.append(f"  {count:>5,} {kind}: {reason}")
    return lines


def counts(found: dict[str, int]) -> str:
    parts = []
    for key, one, many in NOUNS:
        if found.get(key):
            parts.append(f"{found[key]:,} {one if found[key] == 1 else many}")
    return ", ".join(parts)
