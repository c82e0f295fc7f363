"""From gathered data to the packet file: place the records' files, render, assemble.
No database here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from carebinder.packet.assemble import Assembler, Metadata, Sheet
from carebinder.packet.data import PacketData
from carebinder.packet.triage import Findings, RecordPlan, plan_records
from carebinder.pdfpages import quiet_libraries

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
    # (record title, file name, notice) for printed files a reader should know about
    notices: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Pages:
    """Everything ReportLab makes for one packet."""

    sections: Rendered  # cover to care team
    index: Rendered  # the records index
    records: Rendered | None  # the records' own pages, for those that have one
    bands: bytes | None  # one page per record: its identity, for its first page
    stamp: bytes


def index_notes(plans: Sequence[RecordPlan]) -> dict[int, list[str]]:
    """What the records index says under each record: notices, the files whose words were
    recognised (the doctor can search them), then files left out."""
    return {
        plan.record.id: [f"Note: {name}: {note}" for name, note in plan.notices]
        + [
            f"Text recognised (OCR), searchable: {part.file.name}"
            for part in plan.parts
            if part.file.recognised
        ]
        + [f"Bring separately: {name}: {reason}" for name, reason in plan.separately]
        for plan in plans
    }


def record_starts(
    front_pages: int, records: Rendered | None, plans: Sequence[RecordPlan]
) -> dict[int, int]:
    """Packet page (1-based) where each record starts."""
    own = _own_pages(records)
    starts: dict[int, int] = {}
    page = front_pages
    for plan in plans:
        starts[plan.record.id] = page + 1
        page += len(own.get(plan.record.id, ())) + plan.printed_pages
    return starts


def _own_pages(records: Rendered | None) -> dict[int, range]:
    if records is None:
        return {}
    marks = records.marks
    return {
        mark.key[1]: range(
            mark.page, marks[i + 1].page if i + 1 < len(marks) else records.page_count
        )
        for i, mark in enumerate(marks)
    }


def render_pages(data: PacketData, plans: Sequence[RecordPlan], paper: str) -> Pages:
    """Lay out the packet's own pages with ReportLab."""
    from carebinder.packet.record_pages import render_bands, render_records
    from carebinder.packet.render import render_index, render_sections, render_stamp

    records = render_records(plans, paper)
    notes: Mapping[int, list[str]] = index_notes(plans)
    sections = render_sections(data, paper)
    # The index's page numbers change only digits; lay it out again until its page count
    # settles (the pages before it are laid out once).
    index = render_index(data, paper, {p.record.id: 99999 for p in plans} or None, notes)
    for _ in range(3):
        starts = record_starts(sections.page_count + index.page_count, records, plans)
        again = render_index(data, paper, starts or None, notes)
        settled = again.page_count == index.page_count
        index = again
        if settled:
            break
    bands = render_bands(plans, paper) if plans else None
    return Pages(sections, index, records, bands, render_stamp(data, paper))


def _order(
    assembler: Assembler,
    pages: Pages,
    plans: Sequence[RecordPlan],
    sheets: Mapping[int, list[Sheet]],
) -> tuple[list[Sheet], list[tuple[str, int, int]]]:
    """Every page of the packet in order, and its bookmarks (title, level, 0-based page)."""
    ordered = assembler.rendered(pages.sections.pdf) + assembler.rendered(pages.index.pdf)
    outline = [(m.title, m.level, m.page) for m in pages.sections.marks]
    outline += [(m.title, m.level, pages.sections.page_count + m.page) for m in pages.index.marks]
    own_sheets = assembler.rendered(pages.records.pdf) if pages.records else []
    own = _own_pages(pages.records)
    bands = assembler.forms(pages.bands) if pages.bands else []
    for index, plan in enumerate(plans):
        start = len(ordered)
        if index == 0:
            outline.append(("Records", 0, start))
        outline.append((plan.record.title, 1, start))
        ordered += [own_sheets[i] for i in own.get(plan.record.id, ())]
        page = len(ordered)
        for part in plan.parts:
            if len(plan.parts) > 1:
                outline.append((part.file.name, 2, page))
            page += part.pages
        ordered += sheets[plan.record.id]
        if len(ordered) > start:
            ordered[start].band = (bands[index], index + 1)
    return ordered, outline


def _quiet(_: str) -> None:
    pass


def _get_ready_to_render() -> None:
    """Load ReportLab and the packet's fonts, which rendering needs later anyway."""
    from carebinder.packet.styles import styles

    styles()


def build_packet(
    data: PacketData, out: Path, options: Options, progress: Callable[[str], None] = _quiet
) -> Result:
    """Write the packet for `data` to `out`. A file that cannot be printed is listed to
    bring separately, never fatal: only the packet's own pages and its file can fail."""
    records = data.records if options.include_records else ()
    findings = Findings(records)  # the sandbox starts reading the files now
    assembler = Assembler(options.paper)
    try:
        with quiet_libraries() as said:
            if records:
                files = sum(len(r.files) for r in records)
                progress(f"{len(records)} records, {files} files: putting their pages together.")
            _get_ready_to_render()  # while the sandbox gets ready
            planned = plan_records(records, assembler, findings, said)
            plans = planned.plans
            pages = render_pages(data, plans, options.paper)
            ordered, outline = _order(assembler, pages, plans, planned.sheets)
            assembler.finish(ordered, pages.stamp)
            assembler.outline(outline)
            progress(f"Saving {len(ordered)} pages.")
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
        findings.close()
        assembler.close()
    return Result(
        out,
        len(ordered),
        len(plans),
        tuple((p.record.title, name, reason) for p in plans for name, reason in p.separately),
        tuple((p.record.title, name, note) for p in plans for name, note in p.notices),
    )
