"""`carebinder question …`: what to ask, and what the doctors answered."""

from __future__ import annotations

from typing import Annotated

import typer

from carebinder.cli.common import (
    App,
    confirm_removal,
    date_or_none,
    emit_json,
    note,
    patient_session,
    result,
    table,
)
from carebinder.cli.options import DateOpt, Json, Yes

app = App(help="Questions to ask at your visits, and their answers.")

QuestionId = Annotated[
    int, typer.Argument(help="The question's id (see `carebinder question list`).")
]


@app.command("add")
def add(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The question, in your own words.")],
    appointment: Annotated[
        int | None, typer.Option(help="Id of the appointment to ask it at.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Add a question to ask.

    Example: carebinder question add "Would you recommend genomic testing?" --appointment 1
    """
    from carebinder.services import questions

    with patient_session(ctx, write=True) as (s, patient):
        data = questions.to_json(
            questions.add_question(s, patient.id, text=text, appointment=appointment)
        )
    result(data, as_json, f"Added question #{data['id']}")


@app.command("list")
def list_(
    ctx: typer.Context,
    appointment: Annotated[
        int | None, typer.Option(help="Only the questions for this appointment.")
    ] = None,
    unanswered: Annotated[bool, typer.Option(help="Only questions not yet answered.")] = False,
    as_json: Json = False,
) -> None:
    """List the questions, with their answers.

    Example: carebinder question list --appointment 1
    """
    from carebinder.services import questions

    with patient_session(ctx) as (s, patient):
        rows = questions.list_questions(
            s, patient.id, appointment=appointment, unanswered=unanswered
        )
        data = [questions.to_json(q) for q in rows]
        by = [q.answered_by.name if q.answered_by else None for q in rows]
    if as_json:
        emit_json(data)
        return
    table(
        ["ID", "APPT", "QUESTION", "ANSWER", "BY"],
        [
            [q["id"], q["appointment"], q["text"], q["answer"], who]
            for q, who in zip(data, by, strict=True)
        ],
        empty='No questions yet. Add one: carebinder question add "TEXT" --appointment ID',
    )


@app.command("answer")
def answer(
    ctx: typer.Context,
    question: QuestionId,
    text: Annotated[str, typer.Argument(help="The answer you were given.")],
    by: Annotated[int | None, typer.Option(help="Id of the doctor who answered.")] = None,
    date: DateOpt = None,
    as_json: Json = False,
) -> None:
    """Record the answer to a question.

    Example: carebinder question answer 4 "Yes, Oncotype DX" --by 2
    """
    from carebinder.services import questions

    on = date_or_none(date, "--date")
    with patient_session(ctx, write=True) as (s, patient):
        row = questions.get_question(s, patient.id, question)
        data = questions.to_json(questions.answer_question(s, row, answer=text, by=by, on=on))
    result(data, as_json, f"Answered question #{data['id']}")


@app.command("remove")
def remove(ctx: typer.Context, question: QuestionId, yes: Yes = False) -> None:
    """Remove a question.

    Example: carebinder question remove 4 --yes
    """
    from carebinder.services import questions

    with patient_session(ctx, write=True) as (s, patient):
        row = questions.get_question(s, patient.id, question)
        confirm_removal(f"question #{row.id}", yes)
        questions.remove_question(s, row)
    note(f"Removed question #{question}.")
