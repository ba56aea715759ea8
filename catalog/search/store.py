"""The embedded search index's tables, in the same database as the catalogue.

``search_documents`` holds one row per record: its tokens (for SQLite the
text an FTS5 table indexes, for PostgreSQL a ``tsvector`` with a GIN index),
the values results are sorted by and its facet values. ``search_words``
holds every Latin word indexed (for typo tolerance). The FTS5 table
``search_fts`` (SQLite) and the GIN index (PostgreSQL) are made by migration
0005 only: SQLAlchemy has no model for an FTS5 table, and
tests/test_migrations.py names them as its only exclusions.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, String, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from catalog.db import Base

TOKENS_TYPE: Any = Text().with_variant(TSVECTOR(), "postgresql")


class SearchDocument(Base):
    """A record as the embedded search sees it (检索文档)."""

    __tablename__ = "search_documents"

    record_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    sort_title: Mapped[str] = mapped_column(String(200), default="")
    year: Mapped[int | None]
    held: Mapped[int] = mapped_column(default=0)
    title_length: Mapped[int] = mapped_column(default=0)
    facets: Mapped[str] = mapped_column(Text, default="")  # pt:QX01 cc:I ln:chi ...
    display: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Numbered as written, from search_sequence (SQLite): what each process's copy
    # of the values reads again (catalog/search/columns.py). PostgreSQL leaves it empty.
    seq: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # Last: SQLite reads a row's columns in order, and the tokens run to kilobytes.
    tokens: Mapped[Any] = mapped_column(TOKENS_TYPE)


class SearchSequence(Base):
    """The last number given to a written search document (one row; never goes down)."""

    __tablename__ = "search_sequence"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(BigInteger, default=0)


class SearchWord(Base):
    """A Latin word seen in some document: the dictionary typo tolerance corrects against."""

    __tablename__ = "search_words"

    word: Mapped[str] = mapped_column(String(64), primary_key=True)
