"""figures and rotation: daily circulation counts, rotation batches, a copy's last loan day

Existing ledger rows are counted into circulation_daily (by each of the three
attributions and by through-borrowing, as circulation/figures/aggregates.py) and
each copy's last loan day is filled from the loans table, so a database that
already has circulation gets its figures at once.

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01 10:46:31.722884
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    stock_rows = sa.text("event IN ('status_changed', 'copy_moved')")
    op.create_index("ix_circulation_ledger_stock_changes", "circulation_ledger", ["occurred_at"],
                    postgresql_where=stock_rows, sqlite_where=stock_rows,
                    postgresql_include=["copy_id", "event", "id", "details"])  # fmt: skip
    op.create_table(
        "circulation_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("dimension", sa.String(length=12), nullable=False),
        sa.Column("point_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "event", "dimension", "point_id", name=op.f("pk_circulation_daily")
        ),
    )
    op.create_table(
        "rotation_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("from_point_id", sa.Integer(), nullable=False),
        sa.Column("to_point_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recall_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recalled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_point_id"],
            ["service_points.id"],
            name=op.f("fk_rotation_batches_from_point_id_service_points"),
        ),
        sa.ForeignKeyConstraint(
            ["to_point_id"],
            ["service_points.id"],
            name=op.f("fk_rotation_batches_to_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotation_batches")),
    )
    op.create_table(
        "rotation_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("original_home_id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recalled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("back_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["rotation_batches.id"],
            name=op.f("fk_rotation_copies_batch_id_rotation_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["copy_id"], ["copies.id"], name=op.f("fk_rotation_copies_copy_id_copies")
        ),
        sa.ForeignKeyConstraint(
            ["original_home_id"],
            ["service_points.id"],
            name=op.f("fk_rotation_copies_original_home_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rotation_copies")),
        sa.UniqueConstraint("batch_id", "copy_id", name="batch_copy"),
    )
    with op.batch_alter_table("rotation_copies", schema=None) as batch_op:
        batch_op.create_index("ix_rotation_copies_copy_id", ["copy_id"], unique=False)

    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_lent_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_copies_last_lent_on"), ["last_lent_on"], unique=False)

    backfill()


def downgrade() -> None:
    op.drop_index("ix_circulation_ledger_stock_changes", table_name="circulation_ledger")
    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_copies_last_lent_on"))
        batch_op.drop_column("last_lent_on")

    with op.batch_alter_table("rotation_copies", schema=None) as batch_op:
        batch_op.drop_index("ix_rotation_copies_copy_id")

    op.drop_table("rotation_copies")
    op.drop_table("rotation_batches")
    op.drop_table("circulation_daily")


def backfill() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    local_day = (
        "date(timezone('Asia/Shanghai', occurred_at))"
        if postgres
        else "date(occurred_at, '+8 hours')"
    )
    key = (
        f"SELECT {local_day} AS day, event, point_id AS point,"
        " coalesce(copy_home_point_id, 0) AS copy_home,"
        " coalesce(patron_home_point_id, 0) AS patron_home, count(*) AS n"
        " FROM circulation_ledger WHERE event IN ('checkout', 'renew', 'checkin')"
        " GROUP BY 1, 2, 3, 4, 5"
    )
    by = " UNION ALL ".join(
        f"SELECT day, event, '{name}', {column}, sum(n) FROM triples{where}"
        f" GROUP BY day, event, {column}"
        for name, column, where in (
            ("point", "point", ""),
            ("copy_home", "copy_home", ""),
            ("patron_home", "patron_home", ""),
            ("through", "point",
             " WHERE event IN ('checkout', 'checkin') AND copy_home <> point"),
        )
    )  # fmt: skip
    op.execute(
        f"WITH triples AS ({key}) INSERT INTO circulation_daily"
        f" (day, event, dimension, point_id, count) {by}"
    )
    lent_day = (
        "date(timezone('Asia/Shanghai', max(checked_out_at)))"
        if postgres
        else "date(max(checked_out_at), '+8 hours')"
    )
    op.execute(
        f"UPDATE copies SET last_lent_on = (SELECT {lent_day} FROM loans"
        " WHERE loans.copy_id = copies.id)"
        " WHERE EXISTS (SELECT 1 FROM loans WHERE loans.copy_id = copies.id)"
    )
