"""`carebinder opinion …`: what each doctor concluded, and how the opinions compare."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from carebinder.choices import Laterality, StagingBasis
from carebinder.cli.common import (
    App,
    confirm_removal,
    date_or_none,
    emit_json,
    fields,
    keep_date,
    keep_text,
    keep_value,
    note,
    out,
    patient_session,
    result,
    table,
)
from carebinder.cli.options import DateOpt, Json, Notes, Yes

app = App(help="Each doctor's opinion: diagnosis, stage and proposed treatment.")

OpinionId = Annotated[int, typer.Argument(help="The opinion's id (see `carebinder opinion list`).")]
Stage = Annotated[str | None, typer.Option(help="e.g. 'pT2 N1a M0, stage IIB'.")]
Plan = Annotated[str | None, typer.Option(help="The treatment they propose.")]
Records = Annotated[
    list[int] | None,
    typer.Option("--record", help="Id of a record it was based on; repeat for several."),
]
# The structured cancer facts (all optional; --diagnosis and --stage stay for the rest).
Site = Annotated[str | None, typer.Option(help="Primary site, e.g. 'breast'.")]
LateralityOpt = Annotated[
    Laterality | None, typer.Option("--laterality", help="Which side.", show_default=False)
]
Histology = Annotated[str | None, typer.Option(help="e.g. 'invasive ductal carcinoma'.")]
Grade = Annotated[str | None, typer.Option(help="e.g. 'G2' or 'Nottingham grade 2'.")]
T = Annotated[str | None, typer.Option("--t", help="T category, e.g. T2 (pT2: pathologic).")]
N = Annotated[str | None, typer.Option("--n", help="N category, e.g. N1a.")]
M = Annotated[str | None, typer.Option("--m", help="M category, e.g. M0.")]
Staging = Annotated[
    StagingBasis | None,
    typer.Option("--staging", help="What T, N and M rest on.", show_default=False),
]
Ajcc = Annotated[
    int | None,
    typer.Option("--ajcc-edition", metavar="N", help="AJCC manual edition, e.g. 8."),
]
Ecog = Annotated[
    int | None,
    typer.Option("--ecog", metavar="0-4", help="ECOG performance status, 0 (fully active) to 4."),
]


@app.command("add")
def add(
    ctx: typer.Context,
    doctor: Annotated[int, typer.Option(help="Id of the doctor who gave it.")],
    diagnosis: Annotated[str, typer.Option(help="The diagnosis, in their words.")],
    date: DateOpt = None,
    stage: Stage = None,
    plan: Plan = None,
    notes: Notes = None,
    record: Records = None,
    site: Site = None,
    laterality: LateralityOpt = None,
    histology: Histology = None,
    grade: Grade = None,
    t: T = None,
    n: N = None,
    m: M = None,
    staging: Staging = None,
    ajcc_edition: Ajcc = None,
    ecog: Ecog = None,
    as_json: Json = False,
) -> None:
    """Record a doctor's opinion, with the cancer facts they give.

    Example: carebinder opinion add --doctor 1 --diagnosis "Invasive ductal carcinoma"
    --stage IIA --plan "Lumpectomy, then radiation" --record 1 --site breast
    --laterality left --grade G2 --t pT2 --n pN0 --m cM0 --ajcc-edition 8 --ecog 0
    """
    from carebinder.services import opinions

    on = date_or_none(date, "--date")
    with patient_session(ctx, write=True) as (s, patient):
        opinion = opinions.add_opinion(
            s,
            patient.id,
            doctor=doctor,
            diagnosis=diagnosis,
            date=on,
            stage=stage,
            plan=plan,
            notes=notes,
            records=record or [],
            site=site,
            laterality=laterality,
            histology=histology,
            grade=grade,
            t=t,
            n=n,
            m=m,
            staging=staging,
            ajcc_edition=ajcc_edition,
            ecog=ecog,
        )
        data = opinions.to_json(opinion)
    result(data, as_json, f"Added opinion #{data['id']} from {data['doctor_name']}")


@app.command("list")
def list_(ctx: typer.Context, as_json: Json = False) -> None:
    """List the opinions, oldest first.

    Example: carebinder opinion list
    """
    from carebinder.services import opinions

    with patient_session(ctx) as (s, patient):
        data = [opinions.to_json(o) for o in opinions.list_opinions(s, patient.id)]
    if as_json:
        emit_json(data)
        return
    table(
        ["ID", "DATE", "DOCTOR", "DIAGNOSIS", "STAGE", "PLAN"],
        [
            [o["id"], o["date"], o["doctor_name"], o["diagnosis"], o["stage"], o["plan"]]
            for o in data
        ],
        empty=opinions.NO_OPINIONS,
    )


@app.command("show")
def show(ctx: typer.Context, opinion: OpinionId, as_json: Json = False) -> None:
    """Show one opinion in full.

    Example: carebinder opinion show 1
    """
    from carebinder.services import opinions

    with patient_session(ctx) as (s, patient):
        data = opinions.to_json(opinions.get_opinion(s, patient.id, opinion))
    if as_json:
        emit_json(data)
        return
    pairs = [
        ("Opinion", f"#{data['id']} from #{data['doctor']} {data['doctor_name']}"),
        ("Date", data["date"]),
        ("Diagnosis", data["diagnosis"]),
        *_cancer_facts(data),
        ("Plan", data["plan"]),
        ("Notes", data["notes"]),
        ("Based on", ", ".join(f"record #{r}" for r in data["records"])),
    ]
    # Labels line up on the longest one shown: an opinion without the structured facts
    # reads as it always did.
    fields([(label, value) for label, value in pairs if value not in (None, "", [])])


def _cancer_facts(data: dict[str, Any]) -> list[tuple[str, object]]:
    """The structured facts as `opinion show` prints them, the stage group among them."""
    from carebinder.services.staging import ECOG_MEANING

    tnm = data["tnm"]
    if tnm and data["staging"]:
        tnm = f"{tnm} ({data['staging']})"
    ecog = data["ecog"]
    return [
        ("Primary site", data["site"]),
        ("Laterality", data["laterality"]),
        ("Histology", data["histology"]),
        ("Grade", data["grade"]),
        ("TNM", tnm),
        ("Staging", None if tnm else data["staging"]),
        ("Stage", data["stage"]),
        ("AJCC edition", data["ajcc_edition"]),
        ("ECOG", None if ecog is None else f"{ecog} ({ECOG_MEANING.get(ecog, '?')})"),
    ]


@app.command("edit")
def edit(
    ctx: typer.Context,
    opinion: OpinionId,
    doctor: Annotated[int | None, typer.Option(help="Id of the doctor who gave it.")] = None,
    diagnosis: Annotated[str | None, typer.Option(help="The diagnosis.")] = None,
    date: DateOpt = None,
    stage: Stage = None,
    plan: Plan = None,
    notes: Notes = None,
    record: Records = None,
    site: Site = None,
    laterality: LateralityOpt = None,
    histology: Histology = None,
    grade: Grade = None,
    t: T = None,
    n: N = None,
    m: M = None,
    staging: Staging = None,
    ajcc_edition: Ajcc = None,
    ecog: Ecog = None,
    as_json: Json = False,
) -> None:
    """Change an opinion. --record replaces the list of records it was based on; an empty
    value ("") clears a text field.

    Example: carebinder opinion edit 2 --stage "IIB" --record 1 --record 2 --t pT2 --ecog 1
    """
    from carebinder.services import opinions

    with patient_session(ctx, write=True) as (s, patient):
        row = opinions.edit_opinion(
            s,
            opinions.get_opinion(s, patient.id, opinion),
            doctor=keep_value(doctor),
            diagnosis=keep_text(diagnosis),
            date=keep_date(date, "--date"),
            stage=keep_text(stage),
            plan=keep_text(plan),
            notes=keep_text(notes),
            records=keep_value(record),
            site=keep_text(site),
            laterality=keep_value(laterality),
            histology=keep_text(histology),
            grade=keep_text(grade),
            t=keep_text(t),
            n=keep_text(n),
            m=keep_text(m),
            staging=keep_value(staging),
            ajcc_edition=keep_value(ajcc_edition),
            ecog=keep_value(ecog),
        )
        data = opinions.to_json(row)
    result(data, as_json, f"Updated opinion #{data['id']}")


@app.command("remove")
def remove(ctx: typer.Context, opinion: OpinionId, yes: Yes = False) -> None:
    """Remove an opinion.

    Example: carebinder opinion remove 2 --yes
    """
    from carebinder.services import opinions

    with patient_session(ctx, write=True) as (s, patient):
        row = opinions.get_opinion(s, patient.id, opinion)
        confirm_removal(f"opinion #{row.id} from {row.doctor.name}", yes)
        opinions.remove_opinion(s, row)
    note(f"Removed opinion #{opinion}.")


@app.command("compare")
def compare(ctx: typer.Context, as_json: Json = False) -> None:
    """Show every opinion side by side; fields where they differ are marked with ≠.

    Example: carebinder opinion compare
    """
    from carebinder.services import opinions

    with patient_session(ctx) as (s, patient):
        comparison = opinions.compare(s, patient.id)
        data = opinions.comparison_to_json(comparison)
    if as_json:
        emit_json(data)
        return
    if not data["opinions"]:
        note(opinions.NO_OPINIONS)
        return

    columns = [f"#{o['id']} {o['doctor_name']}" for o in data["opinions"]]
    rows = [[name, *(o[field] for o in data["opinions"])] for name, field in comparison.rows]
    table(["", *columns], rows, empty="")
    out()
    for line in comparison.verdict:
        out(line)
