"""The Alembic migrations build the same schema as the models, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from app.migrate import downgrade, head_revision, upgrade
from app.models import Base
from catalog.db import make_engine
from tests.conftest import require_service, scratch_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    url, drop = scratch_postgres_database(require_service("postgres"))
    yield url
    drop()


# Expression indexes (the policy scope's unique index over coalesce(...)) cannot be
# reflected on SQLite, so Alembic skips comparing them there and says so.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*expression-based index:UserWarning",
    "ignore:.*expression-based index:sqlalchemy.exc.SAWarning",
)


# Made by migration 0005 without a model, on purpose: SQLAlchemy has no type for
# an FTS5 virtual table (SQLite), and the GIN index exists only on PostgreSQL
# (on SQLite it would be a useless B-tree over the token text).
MIGRATION_ONLY = {
    "sqlite": {"search_fts", "search_fts_data", "search_fts_idx", "search_fts_config"},
    "postgresql": {"ix_search_documents_tokens"},
}


def _name(diff: tuple) -> str | None:
    return getattr(diff[1], "name", None) if len(diff) > 1 else None


def schema_differences(url: str) -> list:
    """Differences between the migrated schema and the models, less MIGRATION_ONLY."""
    engine = make_engine(url)
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        expected = MIGRATION_ONLY[connection.dialect.name]
        found = {
            n for n in (*inspect(connection).get_table_names(), *_gin_indexes(connection)) if n
        }
    engine.dispose()
    assert expected <= found, f"migration 0005 should have made {expected - found}"
    return [d for d in diffs if _name(d) not in expected]


def _gin_indexes(connection) -> list[str]:
    if connection.dialect.name != "postgresql":
        return []
    return [i["name"] for i in inspect(connection).get_indexes("search_documents")]


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_upgrade_from_empty_matches_the_models(empty_database):
    upgrade(empty_database)
    assert schema_differences(empty_database) == []
    assert {
        "service_points",
        "records",
        "copies",
        "patrons",
        "circulation_ledger",
        "search_outbox",
        "staff_users",
        "api_tokens",
    } <= tables(empty_database)


def test_downgrade_one_step_and_upgrade_again(empty_database):
    upgrade(empty_database)
    downgrade(empty_database, "-1")
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    engine.dispose()
    assert current != head_revision()
    upgrade(empty_database)
    assert schema_differences(empty_database) == []
