"""Reading the words of scans and photos (OCR) for `record add`, `attach` and `read-text`:
the languages, a progress bar, one file saved at a time, and Ctrl-C that keeps what is done.

Recognising takes seconds per page, so it runs after the files are attached and committed,
in a reader process, and each file's words are saved in a write transaction of their own:
an interruption loses only the file being read, and `carebinder record read-text` goes on
from there.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from carebinder.cli.common import note, patient_session, store
from carebinder.words import plural

if TYPE_CHECKING:
    from carebinder.ocr import Progress

NO_TESSERACT = (
    "{name} is a scan or a photo: its words cannot be read on this computer yet. To read"
    " scans, install OCR (sudo apt-get install tesseract-ocr), then run"
    " `carebinder record read-text`."
)
LEFT_FOR_LATER = "{name}: its words are left for later (carebinder record read-text)."
# The bar shows once recognition has run this long without finishing.
BAR_AFTER = 2.0
BAR_WIDTH = 24


def languages(spec: str | None) -> str | None:
    """`--ocr-lang` checked (refused in one line when a language's data is missing), before
    anything is changed; None when not given."""
    if spec is None:
        return None
    from carebinder.ocr.languages import check

    return check(spec)


class Bar:
    """Pages done and left, on stderr, drawn over itself on a terminal once the work has
    taken more than BAR_AFTER seconds; silent elsewhere (each file's line says the rest)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.shown = False
        self.live = sys.stderr.isatty()

    def __call__(self, at: Progress) -> None:
        if not self.live or time.monotonic() - self.started < BAR_AFTER:
            return
        pages = max(at.pages, 1)
        filled = BAR_WIDTH * min(at.done, pages) // pages
        where = f" (file {at.number} of {at.files})" if at.files > 1 else ""
        count = f"page {min(at.done + 1, pages)} of {pages}" if at.pages else "starting"
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = f"Reading the words of {at.name[:40]}{where}: [{bar}] {count}"
        sys.stderr.write("\r" + line[:100].ljust(100))
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()
            self.shown = False


@dataclass
class Outcome:
    """What recognition did: the files read (their JSON) and those not read, with why."""

    read: list[dict[str, Any]] = field(default_factory=list)
    not_read: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False


def recognise(
    ctx: typer.Context,
    files: Sequence[tuple[int, int, str]],
    spec: str,
    *,
    lines: bool = True,
) -> Outcome:
    """Recognise `files` ((file id, record id, name) of the patient's files that wait) in
    `spec`'s languages, saving each as it is done. With `lines`, one line each on stdout."""
    from carebinder.ocr import Recognising
    from carebinder.services import text_layers
    from carebinder.services.files import to_json

    outcome = Outcome()
    if not files:
        return outcome
    target = store(ctx, write=True)
    with patient_session(ctx) as (s, patient):
        wanted = {ident for ident, _, _ in files}
        rows = [f for f in text_layers.waiting(s, patient.id, again=True) if f.id in wanted]
        items = text_layers.items(target, rows)
        names = [f.original_name for f in rows]
        records = {f.id: f.record_id for f in rows}
    bar = Bar()
    try:
        with Recognising(items, spec, names=names, progress=bar) as reading:
            for found, name in zip(reading, names, strict=True):
                with patient_session(ctx, write=True) as (s, patient):
                    saved = text_layers.save(s, target, patient.id, found, spec)
                    data = to_json(saved) if saved is not None else None
                bar.clear()
                where = f"File #{found.key} of record #{records[found.key]}: {name}"
                if data is not None and data["ocr"] == "recognised":
                    outcome.read.append(data)
                    if lines:
                        typer.echo(f"{where}: {recognised(data)}.")
                else:
                    why = (data or {}).get("ocr_failed") or found.error or "it was removed"
                    outcome.not_read.append(
                        {"id": found.key, "record": records[found.key], "name": name, "why": why}
                    )
                    if lines:
                        typer.echo(f"{where}: words not recognised ({why}).")
    except KeyboardInterrupt:
        bar.clear()
        outcome.interrupted = True
    return outcome


def recognised(data: dict[str, Any]) -> str:
    """'text recognised (2 pages, mean confidence 91%)', as `record show` says it."""
    from carebinder.services.text_layers import recognised_words

    return recognised_words(data)


def after_attaching(
    ctx: typer.Context, added: Sequence[dict[str, Any]], record: int, spec: str | None
) -> Outcome:
    """Read the words of the scans and photos just attached (`spec` None: --no-ocr)."""
    from carebinder.ocr.languages import tesseract

    waiting = [(f["id"], record, f["name"]) for f in added if f["ocr"] == "waiting"]
    if not waiting:
        return Outcome()
    if spec is None:
        for _, _, name in waiting:
            note(LEFT_FOR_LATER.format(name=name))
        return Outcome()
    if tesseract() is None:
        note(NO_TESSERACT.format(name=waiting[0][2]))
        return Outcome()
    outcome = recognise(ctx, waiting, spec, lines=False)
    for data in outcome.read:
        note(f"{data['name']}: {recognised(data)}.")
    for item in outcome.not_read:
        note(f"{item['name']}: words not recognised ({item['why']}).")
    if outcome.interrupted:
        interrupted(len(outcome.read), len(waiting))
    return outcome


def interrupted(done: int, files: int) -> None:
    """Ctrl-C during recognition: what was done is kept; say so, and how to go on."""
    note(
        f"Interrupted: the words of {done} of {plural(files, 'file')} were recognised and"
        " kept. Read the rest with `carebinder record read-text`."
    )
    raise typer.Exit(130)
