"""The packet's own pages, laid out with ReportLab from gathered data. No database here.

Two documents come out: the front matter (cover to records index) and the record pages
(a separator per record, then its images placed on pages). Merged PDF pages are not
rendered here; assemble.py inserts them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
)

from carebinder.packet.data import CheckInfo, PacketData, PersonInfo, QuestionInfo
from carebinder.packet.layout import (
    Mark,
    Rendered,
    build,
    cell,
    fmt_date,
    markup,
    or_dash,
    p,
    pairs,
    shorten,
    table,
)
from carebinder.packet.rtl import display
from carebinder.packet.styles import (
    DIFFERS,
    FONT_BOLD,
    NOT_APPLICABLE,
    OPEN,
    RULE,
    TICK,
    geometry,
    text,
)
from carebinder.packet.summary import summary

ANSWER_LINES = 3


def _listed(*parts: str | None) -> str:
    """Markup: the parts given, separated by commas. Each is user text set on its own (in its
    own direction), so a Hebrew name stays left of ", Hadassah" as it is in English."""
    return ", ".join(text(x) for x in parts if x)


def _person_line(who: PersonInfo) -> str:
    return _listed(who.name, who.specialty, who.institution)


def _check(item: CheckInfo) -> Paragraph:
    mark = TICK if item.ready else (NOT_APPLICABLE if item.ready is None else OPEN)
    detail = f' <font color="#52606d">— {text(item.detail)}</font>' if item.detail else ""
    return markup(f"{mark}&nbsp;&nbsp;{text(item.label)}{detail}", "check")


# --- front matter ---------------------------------------------------------------------------


def _cover(data: PacketData, width: float) -> list[Flowable]:
    v, pt = data.visit, data.patient
    when = f"{v.start:%A %d %B %Y, %H:%M} ({v.start.tzname()}, {v.time_zone})"
    story: list[Flowable] = [
        Mark("Cover"),
        p(v.title, "title"),
        markup(f"<b>{text(v.doctor.name)}</b>", "big"),
        markup(_listed(v.doctor.specialty, v.doctor.institution) or " ", "big"),
        Spacer(1, 2 * mm),
        p(when, "big_bold"),
    ]
    if v.location:
        story.append(p(v.location, "big"))
    story += [Spacer(1, 8 * mm), p("Patient", "h2")]
    identity = [
        ("Name", pt.name),
        ("Date of birth", fmt_date(pt.born)),
        ("MRN", pt.mrn),
        ("Phone", pt.phone),
        ("Email", pt.email),
        ("Address", pt.address),
    ]
    story.append(pairs(identity, width))
    story.append(p("Insurance", "h2"))
    coverage = v.coverage + (f" (reference {v.coverage_ref})" if v.coverage_ref else "")
    story.append(
        pairs(
            [
                ("Payer", pt.insurer),
                ("Plan", pt.plan),
                ("Member id", pt.member_id),
                ("Insurer phone", pt.insurer_phone),
                ("Coverage for this visit", coverage),
            ],
            width,
        )
    )
    story.append(p("Companion", "h2"))
    story.append(p(v.companion or "None named", "body"))
    story.append(p("Why I am here", "h2"))
    seeking = {
        "second-opinion": "a second opinion",
        "third-opinion": "a third opinion",
    }.get(v.purpose.value)
    if seeking:
        statement = f"I am seeking {seeking} on my diagnosis and proposed treatment."
    elif v.purpose.value == "other":
        statement = "This visit is about my diagnosis and care."
    else:
        statement = f"This is a {v.purpose.value.replace('-', ' ')} visit."
    story.append(p(statement, "body"))
    if data.consulted:
        story.append(p("Doctors I have already consulted:", "body"))
        for doctor in data.consulted:
            story.append(markup(f"•&nbsp;{_person_line(doctor)}", "check"))
    return story


# Opinions side by side: at most this many to a table, so that each column stays readable;
# more go on in another table below, with the facts' names again.
OPINIONS_PER_TABLE = 3
LABEL_WIDTH = 30 * mm


def _opinions(data: PacketData, width: float) -> list[Flowable]:
    story: list[Flowable] = [PageBreak(), Mark("Opinions so far"), p("Opinions so far", "h1")]
    if not data.opinions:
        return [*story, p("No opinion has been recorded yet.")]
    for start in range(0, len(data.opinions), OPINIONS_PER_TABLE):
        shown = range(start, min(start + OPINIONS_PER_TABLE, len(data.opinions)))
        story += [_side_by_side(data, shown, width), Spacer(1, 3 * mm)]
    differing = [row.label.removesuffix(" ≠") for row in data.compared if row.differs]
    if differing:
        names = ", ".join(name if name[:2].isupper() else name.lower() for name in differing)
        story.append(p(f"≠ and shading mark where the opinions differ: {names}.", "body"))
        for note in data.opinion_notes:
            story.append(p(note, "body"))
    elif len(data.opinions) > 1:
        story.append(p("The opinions agree on every fact they both give.", "body"))
    return story


def _side_by_side(data: PacketData, shown: range, width: float) -> Table:
    """The opinions in `shown`, one column each, a row per compared fact; the header row,
    each opinion's doctor and date, repeats when the table goes on over a page."""
    header: list[object] = [""]
    for index in shown:
        o = data.opinions[index]
        when = _listed(o.institution, fmt_date(o.date) if o.date else None)
        below = f'<br/><font color="#52606d">{when}</font>' if when else ""
        header.append(markup(f"<b>{text(o.doctor)}</b>{below}", "cell"))
    # Every table of the page has the same columns: a last one with fewer opinions too.
    each = (width - LABEL_WIDTH) / min(len(data.opinions), OPINIONS_PER_TABLE)
    rows: list[list[object]] = [header]
    for row in data.compared:
        rows.append(
            [
                cell(row.label, LABEL_WIDTH, "cell_bold" if row.differs else "cell"),
                *(cell(row.values[index], each) for index in shown),
            ]
        )
    shade = [
        command
        for number, row in enumerate(data.compared, 1)
        if row.differs
        for command in (
            ("BACKGROUND", (0, number), (-1, number), DIFFERS),
            ("FONT", (0, number), (0, number), FONT_BOLD, 8.5, 10.5),
        )
    ]
    return table(rows, [LABEL_WIDTH, *[each] * len(shown)], extra=shade)


class Ruled(Flowable):
    """Lines to write an answer on."""

    def __init__(self, width: float, lines: int = ANSWER_LINES, gap: float = 8 * mm) -> None:
        super().__init__()
        self.width, self.lines, self.gap = width, lines, gap
        self.height = lines * gap

    def draw(self) -> None:
        self.canv.setStrokeColor(RULE)
        self.canv.setLineWidth(0.5)
        for i in range(1, self.lines + 1):
            y = self.height - i * self.gap
            self.canv.line(0, y, self.width, y)


def _questions(data: PacketData, width: float) -> list[Flowable]:
    story: list[Flowable] = [
        PageBreak(),
        Mark("Questions for this visit"),
        p("Questions for this visit", "h1"),
    ]
    if not data.questions:
        story.append(p("No questions written for this visit.", "muted"))
    for number, q in enumerate(data.questions, 1):
        block: list[Flowable] = [markup(f"{number}. {text(q.text)}", "question")]
        if q.answer:
            block.append(_answer(q))
        block.append(Ruled(width))
        story.append(KeepTogether(block))
    if data.earlier_questions:
        story += [p("Asked before, with the answers given", "h2")]
        for q in data.earlier_questions:
            story.append(KeepTogether([p(q.text, "question"), _answer(q)]))
    return story


def _answer(q: QuestionInfo) -> Paragraph:
    who = _listed(q.answered_by, fmt_date(q.answered_on) if q.answered_on else None)
    suffix = f' <font color="#52606d">({who})</font>' if who else ""
    return markup(f"{text(q.answer)}{suffix}", "body")


def _checklist(data: PacketData, width: float) -> list[Flowable]:
    story: list[Flowable] = [
        PageBreak(),
        Mark("Checklist"),
        p("Checklist", "h1"),
        p("What to bring", "h2"),
    ]
    story += [_check(item) for item in data.bring]
    story.append(p("Preparation", "h2"))
    story += [_check(item) for item in data.preparation]
    story.append(p("Materials", "h2"))
    if data.materials:
        story += [_check(item) for item in data.materials]
    else:
        story.append(p("No slides, blocks or discs recorded.", "muted"))
    return story


def _care_team(data: PacketData, width: float) -> list[Flowable]:
    story: list[Flowable] = [
        CondPageBreak(60 * mm),
        Spacer(1, 6 * mm),
        Mark("Care team"),
        p("Care team", "h1"),
    ]
    if not data.care_team:
        return [*story, p("No doctors recorded.", "muted")]
    rows: list[list[object]] = [["Name", "Role", "Institution", "Contact"]]
    for who in data.care_team:
        name = who.name + (f"\n{who.specialty}" if who.specialty else "")
        role = (who.role or "—").replace("-", " ") + (
            f"\nreferred by {who.referred_by}" if who.referred_by else ""
        )
        contact = "\n".join(
            x
            for x in (who.phone, who.email, who.address, f"NPI {who.npi}" if who.npi else None)
            if x
        )
        rows.append(
            [
                p(name, "cell"),
                p(role, "cell"),
                p(or_dash(who.institution), "cell"),
                p(contact or "—", "cell"),
            ]
        )
    story.append(table(rows, [0.26 * width, 0.2 * width, 0.24 * width, 0.30 * width]))
    return story


def _index(
    data: PacketData,
    width: float,
    pages: Mapping[int, int] | None,
    notes: Mapping[int, Sequence[str]],
) -> list[Flowable]:
    story: list[Flowable] = [PageBreak(), Mark("Records index"), p("Records index", "h1")]
    if not data.records:
        return [*story, p("No records in this packet.", "muted")]
    if pages is None:
        story.append(p("The records are not included in this copy of the packet.", "muted"))
    widths = [0.14 * width, 0.14 * width, 0.38 * width, 0.24 * width, 0.10 * width]
    rows: list[list[object]] = [["Date", "Kind", "Title", "Source", "Page"]]
    for r in data.records:
        page = "—" if pages is None else str(pages.get(r.id, "—"))
        told = notes.get(r.id, ())
        title = (
            markup(
                "<br/>".join(
                    [text(r.title)]
                    + [f'<font size="7.5" color="#52606d">{text(line)}</font>' for line in told]
                ),
                "cell",
            )
            if told
            else cell(r.title, widths[2])
        )
        rows.append(
            [
                fmt_date(r.date),
                cell(r.kind.replace("-", " "), widths[1]),
                title,
                cell(r.source, widths[3]),
                page,
            ]
        )
    story.append(table(rows, widths))
    return story


def render_front(
    data: PacketData,
    paper: str,
    record_pages: Mapping[int, int] | None,
    notes: Mapping[int, Sequence[str]] | None = None,
) -> Rendered:
    """Cover to records index, as one document. `record_pages` maps record id → packet
    page (1-based); `notes`, record id → what the index says under its title (notices,
    files left out)."""
    width = geometry(paper).frame[2]
    story = [*_sections(data, width), *_index(data, width, record_pages, notes or {})]
    return build(story, paper, f"{data.visit.title}: packet")


def render_sections(data: PacketData, paper: str) -> Rendered:
    """Cover to care team: the front pages that do not depend on the records' pages, laid
    out once (the index after them is laid out again until its page numbers settle)."""
    return build(_sections(data, geometry(paper).frame[2]), paper, f"{data.visit.title}: packet")


def render_index(
    data: PacketData,
    paper: str,
    record_pages: Mapping[int, int] | None,
    notes: Mapping[int, Sequence[str]] | None = None,
) -> Rendered:
    """The records index alone, on pages of its own (see render_front)."""
    _, *story = _index(data, geometry(paper).frame[2], record_pages, notes or {})
    return build(story, paper, f"{data.visit.title}: records index")


def _sections(data: PacketData, width: float) -> list[Flowable]:
    return [
        *_cover(data, width),
        *summary(data, width),
        *_opinions(data, width),
        *_questions(data, width),
        *_checklist(data, width),
        *_care_team(data, width),
    ]


def render_stamp(data: PacketData, paper: str) -> bytes:
    """The header and footer every page carries, as a one-page PDF (made a form later).

    "Page X of Y" is not in it: assembly adds that per page.
    """
    import io

    from reportlab.pdfgen.canvas import Canvas

    from carebinder.packet.styles import (
        BAND_BOTTOM,
        BAND_TOP,
        FONT,
        FONT_BOLD,
        MARGIN_SIDE,
        MUTED,
        register_fonts,
    )

    register_fonts()
    geo = geometry(paper)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(geo.width, geo.height))
    top = geo.height - BAND_TOP / 2
    left, right = MARGIN_SIDE, geo.width - MARGIN_SIDE
    canvas.setFillColor(MUTED)
    born = f"  ·  born {fmt_date(data.patient.born)}"
    visit = f"{data.visit.title}, {fmt_date(data.visit.start.date())}"
    # The name identifies the patient on every page: it is never cut. It shrinks only if it
    # cannot fit the line at all; the visit on the right gives way to it first.
    name = display(data.patient.name)
    size = 8.5
    while size > 5 and (
        canvas.stringWidth(name, FONT_BOLD, size) + canvas.stringWidth(born, FONT, size)
        > right - left
    ):
        size -= 0.5
    identity = canvas.stringWidth(name, FONT_BOLD, size) + canvas.stringWidth(born, FONT, size)
    canvas.setFont(FONT_BOLD, size)
    canvas.drawString(left, top, name)
    canvas.setFont(FONT, size)
    canvas.drawString(left + canvas.stringWidth(name, FONT_BOLD, size), top, born)
    room = right - left - identity - 6 * mm
    if room >= 30 * mm:
        canvas.setFont(FONT, 8.5)
        canvas.drawRightString(right, top, shorten(visit, FONT, 8.5, room))
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.4)
    canvas.line(left, top - 2.2 * mm, right, top - 2.2 * mm)
    bottom = BAND_BOTTOM / 2 - 4
    canvas.line(left, bottom + 4.5 * mm, right, bottom + 4.5 * mm)
    canvas.setFont(FONT, 7)
    canvas.drawString(
        left, bottom, f"Confidential medical information · prepared {fmt_date(data.generated_on)}"
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
