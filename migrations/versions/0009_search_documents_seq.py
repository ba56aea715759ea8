"""search documents numbered as written: each process reads again only what changed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows written before this revision keep no number: a process reads every row
    # the first time it searches, and every later write numbers its rows.
    op.add_column("search_documents", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_search_documents_seq"), "search_documents", ["seq"])
    sequence = op.create_table(
        "search_sequence",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_sequence")),
    )
    op.bulk_insert(sequence, [{"id": 1, "last": 0}])


def downgrade() -> None:
    op.drop_table("search_sequence")
    op.drop_index(op.f("ix_search_documents_seq"), table_name="search_documents")
    op.drop_column("search_documents", "seq")  # SQLite 3.35 and later drop a column in place
