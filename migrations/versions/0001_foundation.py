"""foundation: network, records, copies, patrons, ledger, outbox, accounts

Revision ID: 0001
Revises:
Create Date: 2026-11-21 17:07:51.448223
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_pinyin", sa.Text(), nullable=True),
        sa.Column("other_title", sa.Text(), nullable=True),
        sa.Column("responsibility", sa.Text(), nullable=True),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("authors_pinyin", sa.JSON(), nullable=False),
        sa.Column("edition", sa.String(length=200), nullable=True),
        sa.Column("publisher", sa.String(length=300), nullable=True),
        sa.Column("pub_place", sa.String(length=200), nullable=True),
        sa.Column("pub_year", sa.String(length=4), nullable=True),
        sa.Column("extent", sa.String(length=300), nullable=True),
        sa.Column("series", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("clc", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=3), nullable=True),
        sa.Column("isbn13", sa.String(length=13), nullable=True),
        sa.Column("isbns", sa.JSON(), nullable=False),
        sa.Column("price", sa.String(length=64), nullable=True),
        sa.Column("match_key", sa.String(length=400), nullable=True),
        sa.Column("marc_flavour", sa.String(length=8), nullable=True),
        sa.Column("marc", sa.LargeBinary(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_records")),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_records_clc"), ["clc"], unique=False)
        batch_op.create_index(batch_op.f("ix_records_isbn13"), ["isbn13"], unique=False)
        batch_op.create_index(batch_op.f("ix_records_match_key"), ["match_key"], unique=False)

    op.create_table(
        "search_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    with op.batch_alter_table("search_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_outbox_record_id"), ["record_id"], unique=False)

    op.create_table(
        "service_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("opening_days", sa.String(length=7), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_service_points_not_own_parent")
        ),
        sa.CheckConstraint(
            "population >= 0", name=op.f("ck_service_points_population_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["service_points.id"],
            name=op.f("fk_service_points_parent_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_points")),
        sa.UniqueConstraint("code", name=op.f("uq_service_points_code")),
    )
    with op.batch_alter_table("service_points", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_points_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "closed_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["service_points.id"],
            name=op.f("fk_closed_days_point_id_service_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_days")),
        sa.UniqueConstraint("point_id", "day", name="point_day"),
    )
    op.create_table(
        "copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("home_point_id", sa.Integer(), nullable=False),
        sa.Column("current_point_id", sa.Integer(), nullable=False),
        sa.Column("call_number", sa.String(length=100), nullable=False),
        sa.Column("item_type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.String(length=300), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("date_added", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["current_point_id"],
            ["service_points.id"],
            name=op.f("fk_copies_current_point_id_service_points"),
        ),
        sa.ForeignKeyConstraint(
            ["home_point_id"],
            ["service_points.id"],
            name=op.f("fk_copies_home_point_id_service_points"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_copies_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copies")),
        sa.UniqueConstraint("barcode", name=op.f("uq_copies_barcode")),
    )
    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_copies_current_point_id"), ["current_point_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_copies_date_added"), ["date_added"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_copies_home_point_id"), ["home_point_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_copies_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_copies_status"), ["status"], unique=False)

    op.create_table(
        "patrons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("home_point_id", sa.Integer(), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("id_number_hash", sa.String(length=64), nullable=True),
        sa.Column("id_number_masked", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_point_id"],
            ["service_points.id"],
            name=op.f("fk_patrons_home_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrons")),
        sa.UniqueConstraint("card", name=op.f("uq_patrons_card")),
    )
    with op.batch_alter_table("patrons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_patrons_category"), ["category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_patrons_home_point_id"), ["home_point_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_patrons_id_number_hash"), ["id_number_hash"], unique=False
        )

    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("scope_point_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scope_point_id"],
            ["service_points.id"],
            name=op.f("fk_staff_users_scope_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("point_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["point_id"], ["service_points.id"], name=op.f("fk_api_tokens_point_id_service_points")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_api_tokens_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "circulation_ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("copy_id", sa.Integer(), nullable=True),
        sa.Column("patron_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["copy_id"], ["copies.id"], name=op.f("fk_circulation_ledger_copy_id_copies")
        ),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["patrons.id"], name=op.f("fk_circulation_ledger_patron_id_patrons")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["service_points.id"],
            name=op.f("fk_circulation_ledger_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circulation_ledger")),
    )
    with op.batch_alter_table("circulation_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_circulation_ledger_copy_id"), ["copy_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_circulation_ledger_event"), ["event"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_circulation_ledger_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_circulation_ledger_patron_id"), ["patron_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_circulation_ledger_point_id"), ["point_id"], unique=False
        )

    create_ledger_guards()


def downgrade() -> None:
    drop_ledger_guards()
    with op.batch_alter_table("circulation_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_circulation_ledger_point_id"))
        batch_op.drop_index(batch_op.f("ix_circulation_ledger_patron_id"))
        batch_op.drop_index(batch_op.f("ix_circulation_ledger_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_circulation_ledger_event"))
        batch_op.drop_index(batch_op.f("ix_circulation_ledger_copy_id"))

    op.drop_table("circulation_ledger")
    op.drop_table("api_tokens")
    op.drop_table("staff_users")
    with op.batch_alter_table("patrons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patrons_id_number_hash"))
        batch_op.drop_index(batch_op.f("ix_patrons_home_point_id"))
        batch_op.drop_index(batch_op.f("ix_patrons_category"))

    op.drop_table("patrons")
    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_copies_status"))
        batch_op.drop_index(batch_op.f("ix_copies_record_id"))
        batch_op.drop_index(batch_op.f("ix_copies_home_point_id"))
        batch_op.drop_index(batch_op.f("ix_copies_date_added"))
        batch_op.drop_index(batch_op.f("ix_copies_current_point_id"))

    op.drop_table("copies")
    op.drop_table("closed_days")
    with op.batch_alter_table("service_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_points_parent_id"))

    op.drop_table("service_points")
    with op.batch_alter_table("search_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_outbox_record_id"))

    op.drop_table("search_outbox")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_records_match_key"))
        batch_op.drop_index(batch_op.f("ix_records_isbn13"))
        batch_op.drop_index(batch_op.f("ix_records_clc"))

    op.drop_table("records")


# The circulation ledger is append-only: statistics are recomputed from it, so
# the database itself refuses UPDATE and DELETE (TRUNCATE stays an admin tool).
def create_ledger_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION circulation_ledger_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'circulation_ledger is append-only (% refused)', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER circulation_ledger_append_only BEFORE UPDATE OR DELETE"
            " ON circulation_ledger FOR EACH ROW EXECUTE FUNCTION circulation_ledger_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER circulation_ledger_no_{action.lower()} BEFORE {action}"
                " ON circulation_ledger BEGIN"
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
