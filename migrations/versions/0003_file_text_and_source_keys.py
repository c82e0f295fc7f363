"""Text of attached PDFs, and where imported rows came from.

`file.text` and `file.has_text` hold the words of a PDF, read once at attach time, for
search (files attached before this revision have `has_text` NULL: not read yet).
`source_key` remembers the FHIR ids and identifiers of imported rows, so that importing
the same bundle twice adds nothing the second time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("file") as batch:
        batch.add_column(sa.Column("text", sa.Text()))
        batch.add_column(sa.Column("has_text", sa.Boolean()))
    op.create_table(
        "source_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name="fk_source_key_patient_id_patient",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_source_key"),
        sa.UniqueConstraint(
            "patient_id", "entity", "key", name="uq_source_key_patient_id_entity_key"
        ),
    )


def downgrade() -> None:
    op.drop_table("source_key")
    with op.batch_alter_table("file") as batch:
        batch.drop_column("has_text")
        batch.drop_column("text")
