"""search: embedded index (documents, words; FTS5 on SQLite, GIN on PostgreSQL)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:40:00

The FTS5 virtual table and its triggers (SQLite) and the GIN index
(PostgreSQL) have no SQLAlchemy model; tests/test_migrations.py names them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# FTS5 over search_documents.tokens (an "external content" table: the text is
# stored once, in search_documents). Tokens are made in Python and separated by
# spaces; ':', '_', '.', '/' and '-' are part of a token (tw:红楼梦, cl:i242.4).
FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(tokens, content='search_documents', "
    "content_rowid='record_id', detail=none, columnsize=0, "
    "tokenize=\"unicode61 remove_diacritics 0 tokenchars '_./-:'\")"
)
TRIGGERS = (
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, tokens) VALUES (new.record_id, new.tokens); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.record_id, "
    "old.tokens); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.record_id, "
    "old.tokens); INSERT INTO search_fts(rowid, tokens) VALUES (new.record_id, new.tokens); END",
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "search_documents",
        sa.Column("record_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sort_title", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("title_length", sa.Integer(), nullable=False),
        sa.Column("facets", sa.Text(), nullable=False),
        sa.Column("display", sa.JSON(), nullable=False),
        # Last: a long value, which the sort and facet columns must not sit behind.
        sa.Column("tokens", postgresql.TSVECTOR() if postgres else sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_search_documents")),
    )
    op.create_table(
        "search_words",
        sa.Column("word", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_search_words")),
    )
    with op.batch_alter_table("search_outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("embedded_done", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    if postgres:
        op.execute("CREATE INDEX ix_search_documents_tokens ON search_documents USING gin (tokens)")
    else:
        op.execute(FTS)
        for trigger in TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name in ("search_documents_ai", "search_documents_ad", "search_documents_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    with op.batch_alter_table("search_outbox", schema=None) as batch_op:
        batch_op.drop_column("embedded_done")
    op.drop_table("search_words")
    op.drop_table("search_documents")
