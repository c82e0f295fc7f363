"""Scans and photos read (OCR): the text-layer version of a file, and a patient's settings.

`text_layer` links a file to its text-layer version: a PDF made from the original with an
invisible layer of recognised words, kept in the store like any file (`sha256`), with how
many pages were read, Tesseract's mean word confidence and the languages; or why it could
not be made (`failed`). A row with neither waits for `carebinder record read-text`.
`setting` keeps a patient's choices, such as the languages scans are read in.

Files attached before this revision that are scans (a PDF without a text layer) or images
get a waiting row, so `read-text` reads them; the originals are not touched.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from carebinder.columns import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The images carebinder reads (carebinder.sandbox.IMAGE_TYPES), as of this revision.
IMAGES = ("image/jpeg", "image/png", "image/tiff", "image/gif", "image/bmp", "image/webp")


def upgrade() -> None:
    op.create_table(
        "text_layer",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("pages_recognised", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("languages", sa.String(100), nullable=True),
        sa.Column("made_at", UTCDateTime(), nullable=True),
        sa.Column("failed", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"], ["file.id"], name="fk_text_layer_file_id_file", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("file_id", name="pk_text_layer"),
    )
    op.create_index("ix_text_layer_sha256", "text_layer", ["sha256"])
    op.create_table(
        "setting",
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name="fk_setting_patient_id_patient", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("patient_id", "name", name="pk_setting"),
    )
    file = sa.table(
        "file",
        sa.column("id", sa.Integer()),
        sa.column("page_count", sa.Integer()),
        sa.column("media_type", sa.String()),
        sa.column("has_text", sa.Boolean()),
        sa.column("unreadable", sa.Text()),
        sa.column("unprintable", sa.Text()),
    )
    scans = sa.select(file.c.id, file.c.page_count).where(
        file.c.unreadable.is_(None),
        file.c.unprintable.is_(None),
        sa.or_(file.c.has_text.is_(False), file.c.media_type.in_(IMAGES)),
    )
    text_layer = sa.table("text_layer", sa.column("file_id"), sa.column("pages"))
    op.execute(sa.insert(text_layer).from_select(["file_id", "pages"], scans))


def downgrade() -> None:
    op.drop_table("setting")
    op.drop_index("ix_text_layer_sha256", table_name="text_layer")
    op.drop_table("text_layer")
