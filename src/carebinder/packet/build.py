"""From gathered data to the packet file: triage, render, assemble. No database here."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf

from carebinder.packet.assemble import Assembler, Metadata, record_start_pages, segments
from carebinder.packet.gather import PacketData
from carebinder.packet.layout import fmt_date
from carebinder.packet.record_pages import render_records
from carebinder.packet.render import render_front, render_stamp
from carebinder.packet.triage import ImagePart, RecordPlan, planned

PAPERS = ("letter", "a4")


@dataclass(frozen=True)
class Options:
    paper: str = "letter"
    password: str | None = None
    include_records: bool = True
    force: bool = False


@dataclass(frozen=True)
class Result:
    path: Path
    pages: int
    records: int
    # (record title, file name, reason) for every file to bring separately
    separately: tuple[tuple[str, str, str], ...]


def _quiet(_: str) -> None:
    pass


def build_packet(
    data: PacketData, out: Path, options: Options, progress: Callable[[str], None] = _quiet
) -> Result:
    """Write the packet for `data` to `out`. Bad record files are listed, never fatal."""
    records = data.records if options.include_records else ()
    with ExitStack() as open_files:
        # qpdf copies pages lazily: every source stays open until the packet is saved.
        plans = open_files.enter_context(planned(records))
        records_doc, marks = render_records(plans, options.paper) if plans else (None, [])
        if plans:
            merged = sum(plan.merged_pages for plan in plans)
            progress(f"Laid out {len(plans)} records; merging {merged} pages of their files.")
        # The index's page numbers change only digits; lay out again until they settle.
        front = render_front(data, options.paper, {r.id: 99999 for r in records} or None)
        for _ in range(3):
            starts = record_start_pages(front.page_count, records_doc, marks, plans)
            again = render_front(data, options.paper, starts or None)
            settled = again.page_count == front.page_count
            front = again
            if settled:
                break

        assembler = Assembler(options.paper, render_stamp(data, options.paper))
        open_files.callback(assembler.close)
        outline = list(front.bookmarks)
        assembler.add_rendered(open_files.enter_context(pikepdf.open(io.BytesIO(front.pdf))))
        if records_doc is not None:
            rendered = open_files.enter_context(pikepdf.open(io.BytesIO(records_doc.pdf)))
            _add_records(assembler, rendered, marks, plans, outline, progress)
        assembler.stamp_pages()
        assembler.outline(outline)
        pages = len(assembler.pdf.pages)
        progress(f"Saving {pages} pages.")
        visit, patient = data.visit, data.patient
        assembler.save(
            out,
            Metadata(
                title=f"{visit.title} with {visit.doctor.name}, {fmt_date(visit.start.date())}",
                author=patient.name,
                subject=f"Medical records and questions of {patient.name}"
                f" for a {visit.purpose.value.replace('-', ' ')} visit",
            ),
            options.password,
            force=options.force,
        )
        separately = tuple(
            (plan.record.title, name, reason) for plan in plans for name, reason in plan.separately
        )
    return Result(out, pages, len(plans), separately)


def _add_records(
    assembler: Assembler,
    rendered: pikepdf.Pdf,
    marks: Sequence[Any],
    plans: Sequence[RecordPlan],
    outline: list[tuple[str, int, int]],
    progress: Callable[[str], None],
) -> None:
    pieces = segments(marks, len(rendered.pages))
    outline.append(("Records", 0, len(assembler.pdf.pages)))
    for done, plan in enumerate(plans, 1):
        rid = plan.record.id
        outline.append((plan.record.title, 1, len(assembler.pdf.pages)))
        assembler.add_rendered(rendered, pieces[("record", rid)])
        for index, part in enumerate(plan.parts):
            if isinstance(part, ImagePart):
                assembler.add_rendered(rendered, pieces[("image", rid, index)])
            else:
                assembler.add_record_pdf(part)
        if done % 50 == 0 and done < len(plans):
            progress(f"Merged {done} of {len(plans)} records.")
