"""The summary page: what a new oncologist reads first. No database here.

In this order: the cancer card (from the most recent opinion), key results, treatments so
far, current medications, allergies, other conditions, then the proposed treatment and the
key dates. A typical case fits on one page; a long list goes on over the next page, as a
table whose header repeats there, never cut off.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

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

from carebinder.packet.data import (
    AllergyInfo,
    HealthInfo,
    MarkerInfo,
    OpinionInfo,
    PacketData,
    ResultInfo,
    TreatmentInfo,
)
from carebinder.packet.layout import Mark, cell, fmt_date, markup, p, table
from carebinder.packet.styles import (
    ACCENT,
    ACCENT_HEX,
    ALERT,
    ALERT_ROW,
    CARD,
    CARD_RULE,
    FONT,
    FONT_BOLD,
    INK,
    MUTED,
    text,
)
from carebinder.packet.timeline import drawing, key_events, legend

# Room a section needs below its heading (its first rows) to start on this page.
SECTION_ROOM = 22 * mm
# The summary's tables are set a little tighter than the packet's others, to fit a page.
TIGHT = [("TOPPADDING", (0, 0), (-1, -1), 1.4), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.4)]
MUTED_FONT = '<font color="#52606d">'
PLEASE_ASK = "not recorded — please ask"
# Left and right padding of the card's cells, together.
CARD_PADDING = 9
# How the summary marks a medication that is not a prescription.
MEDICATION_KINDS = {"supplement": "supplement", "over-the-counter": "over the counter"}


def summary(data: PacketData, width: float) -> list[Flowable]:
    """The summary page's flowables, from its page break to the key dates."""
    health = data.health
    return [
        PageBreak(),
        Mark("Summary"),
        p("Summary", "h1"),
        *_card(data.current, width),
        *_results(health, width),
        *_treatments(health.treatments, width),
        *_medications(health, width),
        *_allergies(health, width),
        *_conditions(health),
        *_plan(data.current),
        *_key_dates(data, width),
    ]


def _listing(
    title: str,
    columns: Sequence[str],
    rows: list[list[object]],
    widths: Sequence[float],
    extra: Sequence[object] = (),
) -> list[Flowable]:
    """A section that is a list: a table whose header row carries the section's title
    over its first column (and repeats on the next page, when the list goes on there)."""
    style = [
        *TIGHT,
        ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
        ("FONT", (0, 0), (0, 0), FONT_BOLD, 10, 12),
        ("TEXTCOLOR", (0, 0), (0, 0), ACCENT),
        *extra,
    ]
    header: list[object] = [title, *columns]
    return [
        CondPageBreak(SECTION_ROOM),
        Spacer(1, 2.5 * mm),
        table([header, *rows], widths, extra=style),
    ]


# The first column's plain cells in bold (a Paragraph sets its own font).
BOLD_FIRST = [("FONT", (0, 1), (0, -1), FONT_BOLD, 8.5, 10.5)]


def _run_in(title: str, words: str, *, alert: bool = False) -> list[Flowable]:
    """A section that is a paragraph, its title run in: "Allergies: not recorded — please
    ask". `words` is markup."""
    colour = f' color="{ALERT}"' if alert else ""
    return [
        CondPageBreak(SECTION_ROOM),
        markup(
            f'<font color="{ACCENT_HEX}"><b>{title}:</b></font> <font{colour}>{words}</font>',
            "state",
        ),
    ]


# --- the cancer card --------------------------------------------------------------------------


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _facts(o: OpinionInfo) -> list[tuple[str, str]]:
    """(label, value) for each fact the opinion gives."""
    tnm = o.tnm and (o.tnm + (f" ({o.staging})" if o.staging else ""))
    ecog = None
    if o.ecog is not None:
        ecog = f"{o.ecog}" + (f" — {o.ecog_meaning}" if o.ecog_meaning else "")
    facts = [
        ("Primary site", o.site),
        ("Laterality", o.laterality),
        ("Histology", o.histology),
        ("Grade", o.grade),
        ("TNM", tnm),
        ("Stage group", o.stage),
        ("AJCC edition", _ordinal(o.ajcc_edition) if o.ajcc_edition else None),
        ("ECOG", ecog),
    ]
    return [(label, value) for label, value in facts if value]


def _card(current: OpinionInfo | None, width: float) -> list[Flowable]:
    """The diagnosis, then the facts two to a row (a last one alone spans the row), then
    whose opinion it is."""
    if current is None:
        return [p("No opinion has been recorded yet.", "body")]
    label = 25 * mm
    value = width / 2 - label
    rows: list[list[object]] = [[p(current.diagnosis, "card_title"), "", "", ""]]
    spans = [("SPAN", (0, 0), (-1, 0))]
    facts = _facts(current)
    room = CARD_PADDING - 6  # more than the padding `cell` allows for
    for at in range(0, len(facts), 2):
        pair = facts[at : at + 2]
        cells: list[object] = []
        for name, fact in pair:
            span = value if len(pair) == 2 else width - label
            cells += [name, cell(fact, span - room)]
        if len(pair) == 1:
            cells += ["", ""]
            spans.append(("SPAN", (1, len(rows)), (-1, len(rows))))
        rows.append(cells)
    # Each part is user text set on its own, in its own direction (a Hebrew name stays
    # left of ", 24 Oct 2026", as in English).
    parts = (current.doctor, fmt_date(current.date) if current.date else None)
    source = ", ".join(text(x) for x in parts if x)
    rows.append(["According to", markup(source, "cell"), "", ""])
    spans.append(("SPAN", (1, len(rows) - 1), (-1, len(rows) - 1)))
    card = Table(rows, colWidths=[label, value, label, value], hAlign="LEFT")
    card.setStyle(
        [
            *spans,
            ("FONT", (0, 0), (-1, -1), FONT, 8.5, 10.5),
            ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ("TEXTCOLOR", (0, 1), (0, -1), MUTED),
            ("TEXTCOLOR", (2, 1), (2, -1), MUTED),
            ("BACKGROUND", (0, 0), (-1, -1), CARD),
            ("BOX", (0, 0), (-1, -1), 0.6, CARD_RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 5),
            ("RIGHTPADDING", (0, 0), (-1, -1), CARD_PADDING - 5),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("TOPPADDING", (0, 0), (-1, 0), 5),
            ("BOTTOMPADDING", (0, 0), (-1, 0), 3),
            ("BOTTOMPADDING", (0, -1), (-1, -1), 5),
        ]
    )
    return [card]


# --- key results --------------------------------------------------------------------------------


def _value(result: ResultInfo, *, unit: bool = True) -> str:
    """ "38 U/mL", "95%", "1+ (negative)"."""
    shown = result.value
    if unit and result.unit:
        shown += result.unit if result.unit == "%" else f" {result.unit}"
    said = result.interpretation
    if said and said.casefold() not in result.value.casefold():
        shown += f" ({said})"
    return shown


def _trend(marker: MarkerInfo) -> str:
    """First → latest: "22 → 38 U/mL, 4 values since 01 Sep 2026"."""
    first, latest = marker.first, marker.latest
    if first is None:
        return ""
    if first.unit == latest.unit:
        change = f"{first.value} → {latest.value}" + (
            (latest.unit if latest.unit == "%" else f" {latest.unit}") if latest.unit else ""
        )
    else:
        change = f"{_value(first, unit=True)} → {_value(latest, unit=True)}"
    since = f" since {fmt_date(first.on)}" if first.on else ""
    return f"{change}, {marker.count} values{since}"


def _results(health: HealthInfo, width: float) -> list[Flowable]:
    if not health.markers:
        words = "none recorded"
        if health.other_results:
            words += f" (besides {health.other_results} other laboratory results, not shown)"
        return _run_in("Key results", words)
    widths = [0.17 * width, 0.25 * width, 0.15 * width, 0.43 * width]
    rows: list[list[object]] = []
    for marker in health.markers:
        rows.append(
            [
                cell(marker.name, widths[0], "cell_bold"),
                cell(_value(marker.latest), widths[1]),
                fmt_date(marker.latest.on),
                cell(_trend(marker), widths[3]) if marker.first else "",
            ]
        )
    columns = ["Latest", "Date", "First → latest"]
    story = _listing("Key results", columns, rows, widths, BOLD_FIRST)
    if health.other_results:
        story.append(
            p(
                f"{health.other_results} other laboratory results, imported from health"
                " records, are not shown here.",
                "muted",
            )
        )
    return story


# --- treatments, medications, allergies, conditions ---------------------------------------------


def _when(started: date | None, ended: date | None) -> str:
    if started and ended:
        return fmt_date(started) if started == ended else f"{fmt_date(started)} – {fmt_date(ended)}"
    if started:
        return f"since {fmt_date(started)}"
    if ended:
        return f"until {fmt_date(ended)}"
    return "—"


def _treatment_name(t: TreatmentInfo, width: float) -> str | Paragraph:
    if not t.doctor:
        return cell(t.name, width)
    return markup(f"{text(t.name)}<br/>{MUTED_FONT}{text(t.doctor)}</font>", "cell")


def _treatments(treatments: Sequence[TreatmentInfo], width: float) -> list[Flowable]:
    if not treatments:
        return _run_in("Treatments so far", "none recorded")
    widths = [0.34 * width, 0.16 * width, 0.26 * width, 0.24 * width]
    rows: list[list[object]] = []
    for t in treatments:
        rows.append(
            [
                _treatment_name(t, widths[0]),
                cell(t.kind.replace("-", " "), widths[1]),
                cell(_when(t.started, t.ended), widths[2]),
                cell(t.response, widths[3]),
            ]
        )
    return _listing("Treatments so far", ["Kind", "When", "Response"], rows, widths)


def _medications(health: HealthInfo, width: float) -> list[Flowable]:
    if not health.medications:
        if health.no_medications_on:
            return _run_in(
                "Current medications", f"none (as of {fmt_date(health.no_medications_on)})"
            )
        return _run_in("Medications", PLEASE_ASK, alert=True)
    widths = [0.30 * width, 0.13 * width, 0.31 * width, 0.26 * width]
    rows: list[list[object]] = []
    for m in health.medications:
        kind = MEDICATION_KINDS.get(m.kind)
        name = (
            markup(f"{text(m.name)} <i>({kind})</i>", "cell") if kind else cell(m.name, widths[0])
        )
        rows.append(
            [
                name,
                cell(m.dose, widths[1]),
                cell(m.how, widths[2]),
                cell(m.reason, widths[3]),
            ]
        )
    return _listing("Current medications", ["Dose", "How taken", "For"], rows, widths)


def _severity(allergy: AllergyInfo, width: float) -> str | Paragraph:
    if allergy.severity == "severe":
        return markup(f'<font color="{ALERT}"><b>⚠ severe</b></font>', "cell")
    return cell(allergy.severity, width)


def _allergies(health: HealthInfo, width: float) -> list[Flowable]:
    if not health.allergies:
        if health.no_allergies_on:
            return [
                CondPageBreak(SECTION_ROOM),
                markup(
                    f"<b>No known allergies</b> (as of {fmt_date(health.no_allergies_on)})",
                    "state",
                ),
            ]
        return _run_in("Allergies", PLEASE_ASK, alert=True)
    widths = [0.32 * width, 0.44 * width, 0.24 * width]
    rows: list[list[object]] = []
    severe = []
    for index, a in enumerate(health.allergies, 1):
        substance = (
            markup(f"<b>{text(a.substance)}</b> {MUTED_FONT}({text(a.kind)})</font>", "cell")
            if a.kind
            else cell(a.substance, widths[0], "cell_bold")
        )
        rows.append([substance, cell(a.reaction, widths[1]), _severity(a, widths[2])])
        if a.severity == "severe":
            severe.append(("BACKGROUND", (0, index), (-1, index), ALERT_ROW))
    return _listing("Allergies", ["Reaction", "Severity"], rows, widths, [*BOLD_FIRST, *severe])


def _conditions(health: HealthInfo) -> list[Flowable]:
    if not health.conditions:
        return _run_in("Other conditions", "none recorded")
    listed = " · ".join(
        text(c.name) + (f" {MUTED_FONT}(since {fmt_date(c.since)})</font>" if c.since else "")
        for c in health.conditions
    )
    return _run_in("Other conditions", listed)


# --- the plan and the key dates -----------------------------------------------------------------


def _plan(current: OpinionInfo | None) -> list[Flowable]:
    """The plan as a paragraph of its own, under its title: a plan written right to left
    wraps and lines up as such, which it could not among our words."""
    if current is None:
        return []
    if not current.plan:
        return _run_in("Proposed treatment", "not given in the latest opinion")
    return [CondPageBreak(SECTION_ROOM), p("Proposed treatment", "h3"), p(current.plan)]


def _key_dates(data: PacketData, width: float) -> list[Flowable]:
    """The timeline and its events: kept together, on the next page if need be."""
    story: list[Flowable] = [
        p("Key dates", "h3"),
        drawing(data.timeline, width),
        legend(width),
    ]
    events = key_events(data.timeline)
    if events:
        # Two columns, each read top to bottom, to keep the page short.
        half = (len(events) + 1) // 2 if len(events) > 4 else len(events)
        left, right = events[:half], events[half:]
        date_width = 24 * mm
        widths = (
            [date_width, width / 2 - date_width] * 2 if right else [date_width, width - date_width]
        )
        rows = []
        for i, event in enumerate(left):
            row: list[object] = [fmt_date(event.date), cell(event.label, widths[1])]
            if right:
                other = right[i] if i < len(right) else None
                row += [fmt_date(other.date), cell(other.label, widths[3])] if other else ["", ""]
            rows.append(row)
        story.append(Spacer(1, 1.5 * mm))
        story.append(table(rows, widths, header=False, extra=TIGHT))
        hidden = len(data.timeline) - len(events)
        if hidden > 0:
            story.append(
                p(
                    f"…and {hidden} more events, not shown here (the records are listed"
                    " in the records index).",
                    "muted",
                )
            )
    return [KeepTogether(story)]
