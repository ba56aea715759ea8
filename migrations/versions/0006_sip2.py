"""sip2: terminal accounts, remembered answers of retried transactions, PIN lockout

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-01 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sip2_terminals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("institution", sa.String(length=64), nullable=False),
        sa.Column("encoding", sa.String(length=16), nullable=False),
        sa.Column("error_detection", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["service_points.id"],
            name=op.f("fk_sip2_terminals_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sip2_terminals")),
        sa.UniqueConstraint("login", name=op.f("uq_sip2_terminals_login")),
    )
    op.create_table(
        "sip2_transactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_id"],
            ["sip2_terminals.id"],
            name=op.f("fk_sip2_transactions_terminal_id_sip2_terminals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sip2_transactions")),
        sa.UniqueConstraint("terminal_id", "request_key", name="terminal_request"),
    )
    with op.batch_alter_table("patrons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pin_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("pin_locked_until", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    # Not a batch (copy and rename) on SQLite: loans and holds point at patrons. SQLite
    # drops an unindexed column in place since 3.35.
    op.execute("ALTER TABLE patrons DROP COLUMN pin_locked_until")
    op.execute("ALTER TABLE patrons DROP COLUMN pin_failures")
    op.drop_table("sip2_transactions")
    op.drop_table("sip2_terminals")
