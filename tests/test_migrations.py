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


def schema_differences(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return diffs


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
