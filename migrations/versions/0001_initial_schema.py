"""Initial schema.

Patients, doctors, records and their files, opinions, appointments, questions, materials.
Generated with `alembic revision --autogenerate`, then tidied: shared column shapes are
helpers, the tables are created parents first, and every constraint has its conventional
name so batch mode on SQLite can find it later.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _choice(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            name,
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        )
        for name in ("created_at", "updated_at")
    ]


def _patient_id(table: str) -> sa.Column:
    return sa.Column(
        "patient_id",
        sa.Integer(),
        sa.ForeignKey("patient.id", name=f"fk_{table}_patient_id_patient", ondelete="CASCADE"),
        nullable=False,
    )


def _doctor_fk(table: str, column: str, ondelete: str | None, *, nullable: bool) -> sa.Column:
    return sa.Column(
        column,
        sa.Integer(),
        sa.ForeignKey("doctor.id", name=f"fk_{table}_{column}_doctor", ondelete=ondelete),
        nullable=nullable,
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns))


def upgrade() -> None:
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("born", sa.Date(), nullable=False),
        sa.Column("mrn", sa.String(200)),
        sa.Column("phone", sa.String(200)),
        sa.Column("email", sa.String(200)),
        sa.Column("address", sa.Text()),
        sa.Column("insurer", sa.String(200)),
        sa.Column("plan", sa.String(200)),
        sa.Column("member_id", sa.String(200)),
        sa.Column("insurer_phone", sa.String(200)),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_patient"),
    )

    op.create_table(
        "doctor",
        sa.Column("id", sa.Integer(), nullable=False),
        _patient_id("doctor"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("specialty", sa.String(200)),
        sa.Column("institution", sa.String(200)),
        sa.Column(
            "role",
            _choice(
                "role",
                "diagnosing",
                "treating",
                "second-opinion",
                "third-opinion",
                "primary-care",
                "nurse-navigator",
                "social-worker",
                "other",
            ),
        ),
        sa.Column("phone", sa.String(200)),
        sa.Column("email", sa.String(200)),
        sa.Column("address", sa.Text()),
        sa.Column("npi", sa.String(10)),
        _doctor_fk("doctor", "referred_by_id", "SET NULL", nullable=True),
        sa.Column("notes", sa.Text()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_doctor"),
    )
    _index("doctor", "patient_id")
    _index("doctor", "referred_by_id")

    op.create_table(
        "record",
        sa.Column("id", sa.Integer(), nullable=False),
        _patient_id("record"),
        sa.Column(
            "kind",
            _choice(
                "kind",
                "pathology",
                "surgery",
                "treatment-plan",
                "imaging",
                "lab",
                "genomic",
                "consultation",
                "discharge",
                "medication-list",
                "other",
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("date", sa.Date()),
        _doctor_fk("record", "doctor_id", "SET NULL", nullable=True),
        sa.Column("institution", sa.String(200)),
        sa.Column("notes", sa.Text()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_record"),
    )
    _index("record", "patient_id")
    _index("record", "doctor_id")

    op.create_table(
        "file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "record_id",
            sa.Integer(),
            sa.ForeignKey("record.id", name="fk_file_record_id_record", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("original_name", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("page_count", sa.Integer()),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("unreadable", sa.Text()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_file"),
    )
    _index("file", "record_id")
    _index("file", "sha256")

    op.create_table(
        "opinion",
        sa.Column("id", sa.Integer(), nullable=False),
        _patient_id("opinion"),
        _doctor_fk("opinion", "doctor_id", None, nullable=False),
        sa.Column("date", sa.Date()),
        sa.Column("diagnosis", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(200)),
        sa.Column("plan", sa.Text()),
        sa.Column("notes", sa.Text()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_opinion"),
    )
    _index("opinion", "patient_id")
    _index("opinion", "doctor_id")

    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        _patient_id("appointment"),
        _doctor_fk("appointment", "doctor_id", None, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("location", sa.Text()),
        sa.Column(
            "purpose",
            _choice(
                "purpose", "second-opinion", "third-opinion", "follow-up", "treatment", "other"
            ),
            nullable=False,
        ),
        sa.Column("status", _choice("status", "planned", "done", "cancelled"), nullable=False),
        sa.Column("companion", sa.String(200)),
        sa.Column("notes", sa.Text()),
        sa.Column("staff_told", sa.Boolean(), nullable=False),
        sa.Column("records_sent_on", sa.Date()),
        sa.Column(
            "coverage",
            _choice("coverage", "unknown", "confirmed", "pre-auth-needed", "denied"),
            nullable=False,
        ),
        sa.Column("coverage_ref", sa.String(200)),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_appointment"),
    )
    _index("appointment", "patient_id")
    _index("appointment", "doctor_id")

    for owner in ("opinion", "appointment"):
        table = f"{owner}_record"
        op.create_table(
            table,
            sa.Column(
                f"{owner}_id",
                sa.Integer(),
                sa.ForeignKey(
                    f"{owner}.id", name=f"fk_{table}_{owner}_id_{owner}", ondelete="CASCADE"
                ),
                nullable=False,
            ),
            sa.Column(
                "record_id",
                sa.Integer(),
                sa.ForeignKey("record.id", name=f"fk_{table}_record_id_record", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.PrimaryKeyConstraint(f"{owner}_id", "record_id", name=f"pk_{table}"),
        )
        _index(table, "record_id")

    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        _patient_id("question"),
        sa.Column(
            "appointment_id",
            sa.Integer(),
            sa.ForeignKey(
                "appointment.id",
                name="fk_question_appointment_id_appointment",
                ondelete="SET NULL",
            ),
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text()),
        _doctor_fk("question", "answered_by_id", "SET NULL", nullable=True),
        sa.Column("answered_on", sa.Date()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_question"),
    )
    _index("question", "patient_id")
    _index("question", "appointment_id")
    _index("question", "answered_by_id")

    op.create_table(
        "material",
        sa.Column("id", sa.Integer(), nullable=False),
        _patient_id("material"),
        sa.Column(
            "kind",
            _choice(
                "kind", "glass-slides", "tissue-blocks", "imaging-disc", "records-copy", "other"
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("institution", sa.String(200)),
        sa.Column(
            "status",
            _choice("status", "needed", "requested", "received", "sent", "returned"),
            nullable=False,
        ),
        sa.Column("requested_on", sa.Date()),
        sa.Column("received_on", sa.Date()),
        sa.Column("sent_on", sa.Date()),
        sa.Column("returned_on", sa.Date()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_material"),
    )
    _index("material", "patient_id")


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes.
    for table in (
        "material",
        "question",
        "appointment_record",
        "opinion_record",
        "appointment",
        "opinion",
        "file",
        "record",
        "doctor",
        "patient",
    ):
        op.drop_table(table)
