"""catalogue import: record sources, import batches, copy source

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 17:47:48.473637
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["service_points.id"],
            name=op.f("fk_import_batches_location_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_batches_file_sha256"), ["file_sha256"], unique=False
        )

    op.create_table(
        "record_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("flavour", sa.String(length=8), nullable=False),
        sa.Column("marc", sa.LargeBinary(), nullable=False),
        sa.Column("marc_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("record_index", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("matched_by", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_record_sources_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_record_sources_record_id_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_sources")),
    )
    with op.batch_alter_table("record_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_record_sources_marc_sha256"), ["marc_sha256"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_record_sources_record_id"), ["record_id"], unique=False
        )

    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_copies_source_id_record_sources"),
            "record_sources",
            ["source_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("copies", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_copies_source_id_record_sources"), type_="foreignkey"
        )
        batch_op.drop_column("source_id")

    with op.batch_alter_table("record_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_record_sources_record_id"))
        batch_op.drop_index(batch_op.f("ix_record_sources_marc_sha256"))

    op.drop_table("record_sources")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batches_file_sha256"))

    op.drop_table("import_batches")
