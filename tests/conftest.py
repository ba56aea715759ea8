"""Shared fixtures: one database per test run, a fresh schema state per test, one small network.

The backend comes from the environment, as in production: TONGJIE_DATABASE_URL
set means PostgreSQL (a scratch database is created on that server for the
run), unset means SQLite. TONGJIE_ELASTICSEARCH_URL set means Elasticsearch.
Tests that need a service regardless of the run's backend ask for it with
``require_service``: it skips with a reason locally and fails under CI=true.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from app import create_app
from app.db import get_session
from app.migrate import scratch_postgres_database, upgrade
from app.models import Base
from catalog.db import normalise_database_url
from catalog.network_import import import_network

DATA = Path(__file__).parent / "data"
SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SERVICE_ENV = {
    "postgres": "TONGJIE_TEST_POSTGRES_URL",
    "elasticsearch": "TONGJIE_TEST_ELASTICSEARCH_URL",
}


def require_service(name: str) -> str:
    """The URL of a service the test needs: skip locally, fail under CI, when absent."""
    url = os.environ.get(SERVICE_ENV[name]) or ""
    if name == "postgres" and not url and _run_database_url().startswith("postgres"):
        url = _run_database_url()
    if not url:
        reason = f"{name} not available: run scripts/services start (sets {SERVICE_ENV[name]})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " [CI=true: services must run]")
        pytest.skip(reason)
    return url


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        reason = "Debian's chromium is not installed (scripts/test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " [CI=true]")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


def require_shared_data() -> Path:
    """../shared/data holds the real MARC files; absent, skip locally and fail under CI."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SHARED_DATA} is missing [CI=true]")
        pytest.skip(f"{SHARED_DATA} is missing")
    return SHARED_DATA.resolve()


@pytest.fixture
def shared() -> Path:
    """../shared/data, the real MARC files (skips locally, fails under CI, when absent)."""
    return require_shared_data()


def _run_database_url() -> str:
    return os.environ.get("TONGJIE_DATABASE_URL", "")


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at the newest schema for the whole run (SQLite: a template file)."""
    run_url = _run_database_url()
    if run_url:
        url, drop = scratch_postgres_database(run_url)
        upgrade(url)
        _capture_seeds(url)
        yield url
        drop()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{path}")
        yield f"sqlite:///{path}"


_SEEDS: dict[str, list[dict]] = {}


def _capture_seeds(url: str) -> None:
    """Rows the migrations themselves insert (the network default circulation rule)."""
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in connection.execute(table.select())]
            if rows:
                _SEEDS[table.name] = rows
    engine.dispose()


def _fresh_database(template_url: str, tmp_path: Path) -> str:
    """Each test starts from a just-migrated database: a copied SQLite file, or truncated
    tables with the migrations' own rows put back."""
    if template_url.startswith("sqlite"):
        target = tmp_path / "tongjie.db"
        shutil.copy(template_url[len("sqlite:///") :], target)
        return f"sqlite:///{target}"
    engine = create_engine(normalise_database_url(template_url))
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for table in Base.metadata.sorted_tables:
            if table.name in _SEEDS:
                connection.execute(table.insert(), _SEEDS[table.name])
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                    f" (SELECT max(id) FROM {table.name}))"
                ))  # fmt: skip
    engine.dispose()
    return template_url


@pytest.fixture
def app(migrated_database: str, tmp_path: Path) -> Iterator[Flask]:
    url = _fresh_database(migrated_database, tmp_path)
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret-key",
            "ELASTICSEARCH_URL": os.environ.get("TONGJIE_ELASTICSEARCH_URL") or None,
            "INDEX_PREFIX": f"tj_test_{uuid.uuid4().hex[:8]}",
        }
    )
    yield application
    application.extensions["tongjie.search"].close(delete_indices=True)
    application.extensions["tongjie.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator:
    """A session of its own, for arranging and checking state.

    Not inside an app context: requests made by the test client then get
    their own context (their own session, caller and language), as in production.
    """
    session = app.extensions["tongjie.sessionmaker"]()
    yield session
    session.close()


@pytest.fixture
def network(app: Flask) -> None:
    """The one small real network: 清溪县 central, two branches, a village bookshop, a worksite."""
    with app.app_context():
        session = get_session()
        import_network(session, DATA / "network.csv")
        session.commit()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: FlaskClient, username: str, password: str) -> None:
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def make_token(app: Flask, network: None):
    """Factory: a bearer token for a new staff user of ``role`` (or a terminal at a point)."""
    from app.accounts import add_user, create_token

    def factory(role: str, scope: str | None = None, username: str | None = None) -> str:
        with app.app_context():
            session = get_session()
            if role == "terminal":
                _, secret = create_token(session, "kiosk-" + (scope or ""), terminal_point=scope)
            else:
                name = username or f"{role}-{uuid.uuid4().hex[:6]}"
                add_user(session, name, "password-123", role, scope=scope)
                _, secret = create_token(session, name, username=name)
            session.commit()
        return secret

    return factory


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free local port for a real browser; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def sign_in(page, url: str, username: str, password: str) -> None:
    """Sign a browser page in through the login form, as a person would."""
    page.goto(url + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def screenshot(page, name: str) -> None:
    """Save a screenshot when TONGJIE_SCREENSHOTS names a folder (to look at the pages)."""
    folder = os.environ.get("TONGJIE_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def follow(page, name: str) -> None:
    """Click a link and wait for the page it opens (the page before may have a scan field
    too, and a scan typed before the new page loads goes into the old one)."""
    with page.expect_navigation():
        page.get_by_role("link", name=name).click()


def scan(page, text: str) -> None:
    """A keyboard-wedge scanner: the characters, then Enter, into whatever has the focus.

    Like a librarian, it waits until the page has put the focus in a scan field.
    """
    page.wait_for_function(
        "document.activeElement && document.activeElement.matches('[data-scan-field]')"
    )
    page.keyboard.type(text)
    page.keyboard.press("Enter")
