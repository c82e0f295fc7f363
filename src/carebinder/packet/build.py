"""From gathered data to the packet file: triage, render, assemble. No database here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from carebinder.packet.assemble import Assembler, Metadata, record_start_pages
from carebinder.packet.gather import PacketData
from carebinder.packet.triage import RecordPlan, planned

if TYPE_CHECKING:
    from carebinder.packet.layout import Rendered

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


@dataclass(frozen=True)
class Pages:
    """Everything ReportLab makes for one packet."""

    front: Rendered
    records: Rendered | None
    stamp: bytes


def render_pages(data: PacketData, plans: Sequence[RecordPlan], paper: str) -> Pages:
    """Lay out the packet's own pages with ReportLab."""
    from carebinder.packet.record_pages import render_records
    from carebinder.packet.render import render_front, render_stamp

    records = render_records(plans, paper) if plans else None
    # The index's page numbers change only digits; lay out again until the count settles.
    front = render_front(data, paper, {p.record.id: 99999 for p in plans} or None)
    for _ in range(3):
        again = render_front(
            data, paper, record_start_pages(front.page_count, records, plans) or None
        )
        settled = again.page_count == front.page_count
        front = again
        if settled:
            break
    return Pages(front, records, render_stamp(data, paper))


def _quiet(_: str) -> None:
    pass


def build_packet(
    data: PacketData, out: Path, options: Options, progress: Callable[[str], None] = _quiet
) -> Result:
    """Write the packet for `data` to `out`. Bad record files are listed, never fatal."""
    records = data.records if options.include_records else ()
    with planned(records) as (plans, opened):
        merged = sum(plan.merged_pages for plan in plans)
        if plans:
            progress(f"{len(plans)} records; merging {merged} pages of their files.")
        assembler = Assembler(options.paper)
        try:
            pages = render_pages(data, plans, options.paper)
            assembler.add_record_pdfs(plans, opened)
            outline = assembler.insert_rendered(pages.front, pages.records, plans)
            assembler.stamp_pages(pages.stamp)
            assembler.outline(outline)
            total = len(assembler.pdf.pages)
            progress(f"Saving {total} pages.")
            visit, patient = data.visit, data.patient
            assembler.save(
                out,
                Metadata(
                    title=f"{visit.title} with {visit.doctor.name}, {visit.start:%d %b %Y}",
                    author=patient.name,
                    subject=f"Medical records and questions of {patient.name}"
                    f" for a {visit.purpose.value.replace('-', ' ')} visit",
                ),
                options.password,
                force=options.force,
            )
        finally:
            assembler.close()
        separately = tuple(
            (plan.record.title, name, reason) for plan in plans for name, reason in plan.separately
        )
    return Result(out, total, len(plans), separately)
