"""Whether the packet can print an attached file, and what a reader should know of it.

`file.unprintable` says why the packet cannot print a file that can be read (a page of no
size, content that cannot be decoded); `file.notice`, what a reader should know (the file
was damaged and repaired, form fields will not show). Both are found when the file is
read. Files attached before this revision have them NULL: the packet reads every file
again anyway, and says the same in its index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, never a copy of the table: a copy would lose the search index's
# triggers on `file` (revision 0004). SQLite drops a column in place since 3.35.


def upgrade() -> None:
    with op.batch_alter_table("file", recreate="never") as batch:
        batch.add_column(sa.Column("unprintable", sa.Text()))
        batch.add_column(sa.Column("notice", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("file", recreate="never") as batch:
        batch.drop_column("notice")
        batch.drop_column("unprintable")
