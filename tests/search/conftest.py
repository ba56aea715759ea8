"""Fixtures for the search tests: index now, and the judged set's catalogue built once per run."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from app import create_app
from app.migrate import scratch_postgres_database, upgrade
from tests.conftest import require_service, require_shared_data
from tests.search.corpus import build_corpus


@pytest.fixture
def index_now(app: Flask):
    """Drain the outbox into every index now (Elasticsearch refreshed), as the indexer would."""

    def run() -> int:
        return app.extensions["tongjie.search"].drain(refresh=True).records

    return run


@dataclass
class Judged:
    app: Flask
    grades: dict[str, dict[int, int]]
    backend: str  # "elasticsearch", "embedded-sqlite" or "embedded-postgresql"


def _judged_app(database_url: str, elasticsearch_url: str | None) -> Flask:
    return create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "judged-set",
        "ELASTICSEARCH_URL": elasticsearch_url,
        "INDEX_PREFIX": f"tj_judged_{uuid.uuid4().hex[:8]}",
    })  # fmt: skip


def _close(app: Flask) -> None:
    app.extensions["tongjie.search"].close(delete_indices=True)
    app.extensions["tongjie.engine"].dispose()


@pytest.fixture(scope="session")
def judged(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Judged]:
    """The run's own backend: SQLite + embedded, or PostgreSQL + Elasticsearch."""
    shared = require_shared_data()
    es_url = os.environ.get("TONGJIE_ELASTICSEARCH_URL") or None
    drop = None
    if migrated_database.startswith("sqlite"):
        path = tmp_path_factory.mktemp("judged") / "judged.db"
        shutil.copy(migrated_database[len("sqlite:///") :], path)
        url = f"sqlite:///{path}"
    else:
        url, drop = scratch_postgres_database(migrated_database, prefix="tongjie_judged")
        upgrade(url)
    app = _judged_app(url, es_url)
    grades = build_corpus(app, Path(shared))
    dialect = "postgresql" if drop else "sqlite"
    yield Judged(app, grades, "elasticsearch" if es_url else f"embedded-{dialect}")
    _close(app)
    if drop:
        drop()


@pytest.fixture(scope="session")
def judged_postgres(judged: Judged) -> Iterator[Judged]:
    """The same catalogue on PostgreSQL's own text search (no Elasticsearch)."""
    if judged.backend != "embedded-sqlite":
        yield judged  # the run is on PostgreSQL already: its embedded index is beside ES
        return
    url, drop = scratch_postgres_database(require_service("postgres"), prefix="tongjie_judged")
    upgrade(url)
    app = _judged_app(url, None)
    grades = build_corpus(app, require_shared_data())
    yield Judged(app, grades, "embedded-postgresql")
    _close(app)
    drop()
