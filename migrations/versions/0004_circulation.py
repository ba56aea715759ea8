"""circulation: loans, holds, transits, fines, blocks, policies, notices, idempotency keys

Also: a version number on copies (no lost updates between counters), floating
stock per subtree, attribution columns on the ledger, and the ledger guard
relaxed for one change only: erasing an old row's patron link (privacy).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:04.313077
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint("caller", "key", name="caller_key"),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_keys_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "circulation_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=True),
        sa.Column("patron_category", sa.String(length=32), nullable=True),
        sa.Column("item_type", sa.String(length=32), nullable=True),
        sa.Column("loan_days", sa.Integer(), nullable=True),
        sa.Column("max_renewals", sa.Integer(), nullable=True),
        sa.Column("max_loans", sa.Integer(), nullable=True),
        sa.Column("max_holds", sa.Integer(), nullable=True),
        sa.Column("hold_shelf_days", sa.Integer(), nullable=True),
        sa.Column("fine_per_day", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("fine_cap", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("overdue_block_items", sa.Integer(), nullable=True),
        sa.Column("fine_block_amount", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("lendable", sa.Boolean(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "fine_block_amount IS NULL OR fine_block_amount >= 0",
            name=op.f("ck_circulation_policies_fine_block_amount"),
        ),
        sa.CheckConstraint(
            "fine_cap IS NULL OR fine_cap >= 0", name=op.f("ck_circulation_policies_fine_cap")
        ),
        sa.CheckConstraint(
            "fine_per_day IS NULL OR fine_per_day >= 0",
            name=op.f("ck_circulation_policies_fine_per_day"),
        ),
        sa.CheckConstraint(
            "hold_shelf_days IS NULL OR hold_shelf_days BETWEEN 1 AND 365",
            name=op.f("ck_circulation_policies_hold_shelf_days"),
        ),
        sa.CheckConstraint(
            "loan_days IS NULL OR loan_days BETWEEN 1 AND 3650",
            name=op.f("ck_circulation_policies_loan_days"),
        ),
        sa.CheckConstraint(
            "max_holds IS NULL OR max_holds >= 0", name=op.f("ck_circulation_policies_max_holds")
        ),
        sa.CheckConstraint(
            "max_loans IS NULL OR max_loans >= 0", name=op.f("ck_circulation_policies_max_loans")
        ),
        sa.CheckConstraint(
            "max_renewals IS NULL OR max_renewals >= 0",
            name=op.f("ck_circulation_policies_max_renewals"),
        ),
        sa.CheckConstraint(
            "overdue_block_items IS NULL OR overdue_block_items >= 0",
            name=op.f("ck_circulation_policies_overdue_block_items"),
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["service_points.id"],
            name=op.f("fk_circulation_policies_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circulation_policies")),
    )
    op.create_index(
        "uq_circulation_policies_scope",
        "circulation_policies",
        [
            sa.text("coalesce(point_id, 0)"),
            sa.text("coalesce(patron_category, '')"),
            sa.text("coalesce(item_type, '')"),
        ],
        unique=True,
    )
    insert_network_default()
    op.create_table(
        "patron_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_by", sa.String(length=100), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=100), nullable=True),
        sa.Column("lift_reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patrons.id"], name=op.f("fk_patron_blocks_patron_id_patrons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patron_blocks")),
    )
    with op.batch_alter_table("patron_blocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patron_blocks_patron_id"), ["patron_id"], unique=False)

    op.create_table(
        "patron_notices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patrons.id"], name=op.f("fk_patron_notices_patron_id_patrons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patron_notices")),
    )
    with op.batch_alter_table("patron_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patron_notices_patron_id"), ["patron_id"], unique=False
        )

    op.create_table(
        "holds",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("patron_id", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("pickup_point_id", sa.Integer(), nullable=False),
        sa.Column("placed_point_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=True),
        sa.Column("trapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shelf_until", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(["copy_id"], ["copies.id"], name=op.f("fk_holds_copy_id_copies")),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patrons.id"], name=op.f("fk_holds_patron_id_patrons")
        ),
        sa.ForeignKeyConstraint(
            ["pickup_point_id"],
            ["service_points.id"],
            name=op.f("fk_holds_pickup_point_id_service_points"),
        ),
        sa.ForeignKeyConstraint(
            ["placed_point_id"],
            ["service_points.id"],
            name=op.f("fk_holds_placed_point_id_service_points"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_holds_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index("ix_holds_patron_status", ["patron_id", "status"], unique=False)
        batch_op.create_index(
            "ix_holds_open_status",
            ["status"],
            unique=False,
            sqlite_where=sa.text("status IN ('waiting', 'targeted', 'in_transit', 'ready')"),
            postgresql_where=sa.text("status IN ('waiting', 'targeted', 'in_transit', 'ready')"),
        )
        batch_op.create_index("ix_holds_record_status", ["record_id", "status"], unique=False)
        batch_op.create_index(
            "uq_holds_promised_copy",
            ["copy_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('targeted', 'in_transit', 'ready')"),
            postgresql_where=sa.text("status IN ('targeted', 'in_transit', 'ready')"),
        )

    op.create_table(
        "loans",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=True),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_point_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["copy_id"], ["copies.id"], name=op.f("fk_loans_copy_id_copies")),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patrons.id"], name=op.f("fk_loans_patron_id_patrons")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"], ["service_points.id"], name=op.f("fk_loans_point_id_service_points")
        ),
        sa.ForeignKeyConstraint(
            ["return_point_id"],
            ["service_points.id"],
            name=op.f("fk_loans_return_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loans_checked_out_at"), ["checked_out_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_loans_copy_id"), ["copy_id"], unique=False)
        batch_op.create_index(
            "ix_loans_open_patron_due",
            ["patron_id", "due_date"],
            unique=False,
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )
        batch_op.create_index(batch_op.f("ix_loans_patron_id"), ["patron_id"], unique=False)
        batch_op.create_index(
            "uq_loans_open_copy",
            ["copy_id"],
            unique=True,
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )

    op.create_table(
        "fines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("copy_id", sa.Integer(), nullable=True),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("paid", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("waived", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_fines_amount_positive")),
        sa.CheckConstraint("paid + waived <= amount", name=op.f("ck_fines_not_overpaid")),
        sa.CheckConstraint(
            "paid >= 0 AND waived >= 0", name=op.f("ck_fines_paid_waived_not_negative")
        ),
        sa.ForeignKeyConstraint(["copy_id"], ["copies.id"], name=op.f("fk_fines_copy_id_copies")),
        sa.ForeignKeyConstraint(["loan_id"], ["loans.id"], name=op.f("fk_fines_loan_id_loans")),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patrons.id"], name=op.f("fk_fines_patron_id_patrons")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"], ["service_points.id"], name=op.f("fk_fines_point_id_service_points")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fines")),
    )
    with op.batch_alter_table("fines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fines_open_patron",
            ["patron_id"],
            unique=False,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.create_index(batch_op.f("ix_fines_patron_id"), ["patron_id"], unique=False)

    op.create_table(
        "transits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("copy_id", sa.Integer(), nullable=False),
        sa.Column("from_point_id", sa.Integer(), nullable=False),
        sa.Column("to_point_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("hold_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_point_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_point_id"],
            ["service_points.id"],
            name=op.f("fk_transits_closed_point_id_service_points"),
        ),
        sa.ForeignKeyConstraint(
            ["copy_id"], ["copies.id"], name=op.f("fk_transits_copy_id_copies")
        ),
        sa.ForeignKeyConstraint(
            ["from_point_id"],
            ["service_points.id"],
            name=op.f("fk_transits_from_point_id_service_points"),
        ),
        sa.ForeignKeyConstraint(["hold_id"], ["holds.id"], name=op.f("fk_transits_hold_id_holds")),
        sa.ForeignKeyConstraint(
            ["to_point_id"],
            ["service_points.id"],
            name=op.f("fk_transits_to_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transits")),
    )
    with op.batch_alter_table("transits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transits_copy_id"), ["copy_id"], unique=False)
        batch_op.create_index("ix_transits_from_open", ["from_point_id", "closed_at"], unique=False)
        batch_op.create_index("ix_transits_to_open", ["to_point_id", "closed_at"], unique=False)
        batch_op.create_index(
            "uq_transits_open_copy",
            ["copy_id"],
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )

    drop_ledger_guards()
    with op.batch_alter_table("circulation_ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("copy_home_point_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("patron_home_point_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_circulation_ledger_patron_home_point_id_service_points"),
            "service_points",
            ["patron_home_point_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_circulation_ledger_copy_home_point_id_service_points"),
            "service_points",
            ["copy_home_point_id"],
            ["id"],
        )
    create_ledger_guards(allow_erasing_patron=True)

    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )

    with op.batch_alter_table("service_points", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("floating", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("service_points", schema=None) as batch_op:
        batch_op.drop_column("floating")

    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.drop_column("version")

    drop_ledger_guards()
    with op.batch_alter_table("circulation_ledger", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_circulation_ledger_copy_home_point_id_service_points"),
            type_="foreignkey",
        )
        batch_op.drop_constraint(
            batch_op.f("fk_circulation_ledger_patron_home_point_id_service_points"),
            type_="foreignkey",
        )
        batch_op.drop_column("patron_home_point_id")
        batch_op.drop_column("copy_home_point_id")
    create_ledger_guards(allow_erasing_patron=False)

    with op.batch_alter_table("transits", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_transits_open_copy",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.drop_index("ix_transits_to_open")
        batch_op.drop_index("ix_transits_from_open")
        batch_op.drop_index(batch_op.f("ix_transits_copy_id"))

    op.drop_table("transits")
    with op.batch_alter_table("fines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fines_patron_id"))
        batch_op.drop_index(
            "ix_fines_open_patron",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )

    op.drop_table("fines")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_loans_open_copy",
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_loans_patron_id"))
        batch_op.drop_index(
            "ix_loans_open_patron_due",
            sqlite_where=sa.text("returned_at IS NULL"),
            postgresql_where=sa.text("returned_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_loans_copy_id"))
        batch_op.drop_index(batch_op.f("ix_loans_checked_out_at"))

    op.drop_table("loans")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_holds_promised_copy",
            sqlite_where=sa.text("status IN ('targeted', 'in_transit', 'ready')"),
            postgresql_where=sa.text("status IN ('targeted', 'in_transit', 'ready')"),
        )
        batch_op.drop_index(
            "ix_holds_open_status",
            sqlite_where=sa.text("status IN ('waiting', 'targeted', 'in_transit', 'ready')"),
            postgresql_where=sa.text("status IN ('waiting', 'targeted', 'in_transit', 'ready')"),
        )
        batch_op.drop_index("ix_holds_record_status")
        batch_op.drop_index("ix_holds_patron_status")

    op.drop_table("holds")
    with op.batch_alter_table("patron_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patron_notices_patron_id"))

    op.drop_table("patron_notices")
    with op.batch_alter_table("patron_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patron_blocks_patron_id"))

    op.drop_table("patron_blocks")
    op.drop_index("uq_circulation_policies_scope", table_name="circulation_policies")
    op.drop_table("circulation_policies")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_keys_created_at"))

    op.drop_table("idempotency_keys")


# The network default rule (POLICY-1): every setting filled, so resolution always ends in a value.
# Many public libraries in China charge no overdue fine and block borrowing instead: that is
# the default; an administrator changes it in the policy page.
def insert_network_default() -> None:
    now = (
        sa.func.now()
        if op.get_bind().dialect.name == "postgresql"
        else sa.text("CURRENT_TIMESTAMP")
    )
    table = sa.table(
        "circulation_policies",
        *(
            sa.column(name)
            for name in (
                "loan_days",
                "max_renewals",
                "max_loans",
                "max_holds",
                "hold_shelf_days",
                "fine_per_day",
                "fine_cap",
                "overdue_block_items",
                "fine_block_amount",
                "lendable",
                "note",
                "created_at",
                "updated_at",
            )
        ),
    )
    op.execute(
        table.insert().values(
            loan_days=30,
            max_renewals=1,
            max_loans=10,
            max_holds=5,
            hold_shelf_days=7,
            fine_per_day=0,
            fine_cap=0,
            overdue_block_items=1,
            fine_block_amount=0,
            lendable=True,
            note="network default",
            created_at=now,
            updated_at=now,
        )
    )


# LEDGER-2 and LEDGER-3: the ledger refuses UPDATE and DELETE, except (from this revision)
# an UPDATE that erases the patron link of a row and changes nothing else.
_UNCHANGED = (
    "id",
    "occurred_at",
    "event",
    "point_id",
    "actor",
    "copy_id",
    "copy_home_point_id",
    "patron_home_point_id",
)


def create_ledger_guards(*, allow_erasing_patron: bool) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    columns = _UNCHANGED if allow_erasing_patron else ()
    if postgres:
        same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in columns)
        erasing = (
            f"IF TG_OP = 'UPDATE' AND NEW.patron_id IS NULL AND {same}"
            " AND NEW.details::text = OLD.details::text THEN RETURN NEW; END IF;"
            if allow_erasing_patron
            else ""
        )
        op.execute(
            "CREATE FUNCTION circulation_ledger_append_only() RETURNS trigger AS $$ BEGIN "
            f"{erasing} RAISE EXCEPTION 'circulation_ledger is append-only (% refused)', TG_OP; "
            "END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER circulation_ledger_append_only BEFORE UPDATE OR DELETE"
            " ON circulation_ledger FOR EACH ROW EXECUTE FUNCTION circulation_ledger_append_only()"
        )
        return
    when = ""
    if allow_erasing_patron:
        same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in (*columns, "details"))
        when = f" WHEN NOT (NEW.patron_id IS NULL AND {same})"
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER circulation_ledger_no_{action.lower()} BEFORE {action}"
            f" ON circulation_ledger{when if action == 'UPDATE' else ''} BEGIN"
            f" SELECT RAISE(ABORT, 'circulation_ledger is append-only ({action} refused)');"
            " END"
        )


def drop_ledger_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER circulation_ledger_append_only ON circulation_ledger")
        op.execute("DROP FUNCTION circulation_ledger_append_only()")
    else:
        op.execute("DROP TRIGGER circulation_ledger_no_update")
        op.execute("DROP TRIGGER circulation_ledger_no_delete")
