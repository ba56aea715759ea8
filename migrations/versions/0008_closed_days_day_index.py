"""closed days indexed by day: the network tree's freshness check counts only the days ahead

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01 16:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_closed_days_day"), "closed_days", ["day"])


def downgrade() -> None:
    op.drop_index(op.f("ix_closed_days_day"), table_name="closed_days")
