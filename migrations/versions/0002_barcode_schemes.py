"""barcode schemes: how new copy barcodes and patron cards are numbered

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # No rows: until a network sets a scheme, catalog.barcodes.DEFAULTS apply.
    op.create_table(
        "barcode_schemes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("check_digit", sa.String(length=8), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "check_digit IN ('luhn', 'none')", name=op.f("ck_barcode_schemes_known_check_digit")
        ),
        sa.CheckConstraint("name IN ('copy', 'card')", name=op.f("ck_barcode_schemes_known_name")),
        sa.CheckConstraint(
            "next_value >= 0", name=op.f("ck_barcode_schemes_next_value_not_negative")
        ),
        sa.CheckConstraint("width BETWEEN 4 AND 32", name=op.f("ck_barcode_schemes_width_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barcode_schemes")),
        sa.UniqueConstraint("name", name=op.f("uq_barcode_schemes_name")),
    )


def downgrade() -> None:
    op.drop_table("barcode_schemes")
