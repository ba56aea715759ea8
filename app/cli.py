"""The ``tongjie`` command: a Flask CLI group bound to the app factory.

Each command runs in one database session and one transaction: it commits
when everything succeeded and writes nothing otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup
from sqlalchemy.orm import Session

from app import migrate
from app.accounts import STAFF_ROLES, add_user, create_token
from app.db import get_session
from catalog.errors import DomainError, InvalidFile
from catalog.network import all_points


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """Commit if the block succeeds; roll back and exit non-zero on a domain error."""
    session = get_session()
    try:
        yield session
        session.commit()
    except InvalidFile as exc:
        session.rollback()
        for error in exc.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(f"{exc.message_en} / {exc.message_zh}", err=True)
        sys.exit(1)
    except DomainError as exc:
        session.rollback()
        click.echo(f"error: {exc.message_en} / {exc.message_zh}", err=True)
        sys.exit(1)


db_group = AppGroup("db", help="Database schema (Alembic migrations).")


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema to REVISION (default: the newest)."""
    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(url, revision)
    click.echo(
        f"database at revision {migrate.head_revision() if revision == 'head' else revision}"
    )


@db_group.command("downgrade")
@click.argument("revision", default="-1")
def db_downgrade(revision: str) -> None:
    """Step the schema back to REVISION (default: one step)."""
    migrate.downgrade(current_app.config["DATABASE_URL"], revision)


@db_group.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    click.echo(migrate.current_revision(current_app.extensions["tongjie.engine"]) or "empty")


network_group = AppGroup("network", help="The network of service points.")


@network_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def network_import(file: Path) -> None:
    """Import or update service points from CSV or YAML (all or nothing)."""
    from catalog.network_import import import_network

    with unit_of_work() as session:
        summary = import_network(session, file)
    click.echo(
        f"{file.name}: {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged"
    )


patrons_group = AppGroup("patrons", help="Patrons and their cards.")


@patrons_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def patrons_import(file: Path) -> None:
    """Import or update patrons from CSV (all or nothing)."""
    from circulation.patrons_import import import_patrons

    with unit_of_work() as session:
        summary = import_patrons(session, file, current_app.config["SECRET_KEY"])
    click.echo(
        f"{file.name}: {summary.created} created, {summary.updated} updated, "
        f"{summary.unchanged} unchanged"
    )


users_group = AppGroup("users", help="Staff accounts.")


@users_group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in STAFF_ROLES]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--scope", help="Branch librarian: code of the point whose subtree they run.")
@click.option("--name", "display_name", default="", help="Name shown on pages.")
def users_add(
    username: str, role: str, password: str, scope: str | None, display_name: str
) -> None:
    """Create a staff account."""
    with unit_of_work() as session:
        add_user(session, username, password, role, display_name=display_name, scope=scope)
    click.echo(f"user {username} ({role}) created")


tokens_group = AppGroup("tokens", help="API tokens for staff and self-service terminals.")


@tokens_group.command("create")
@click.option("--user", "username", help="Token acting as this staff user.")
@click.option("--terminal", "terminal_name", help="Token for a terminal with this name.")
@click.option("--location", help="Terminal: code of the point where it stands.")
@click.option("--days", type=int, help="Expire after this many days (default: never).")
def tokens_create(
    username: str | None, terminal_name: str | None, location: str | None, days: int | None
) -> None:
    """Create a bearer token; the secret is printed once and stored only hashed."""
    if (username is None) == (terminal_name is None):
        raise click.UsageError("give --user USERNAME or --terminal NAME --location CODE")
    if terminal_name is not None and location is None:
        raise click.UsageError("a terminal token needs --location CODE")
    with unit_of_work() as session:
        _, secret = create_token(
            session,
            name=username or terminal_name or "",
            username=username,
            terminal_point=location if terminal_name else None,
            days=days,
        )
    click.echo(secret)


demo_group = AppGroup("demo", help="The generated demo network.")


@demo_group.command("load")
@click.option("--seed", default=2026, show_default=True, help="Same seed, same network.")
@click.option("--scale", default=1.0, show_default=True, help="Fraction of records/copies/patrons.")
@click.option("--admin-password", default="tongjie-demo", show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if points exist.")
def demo_load(seed: int, scale: float, admin_password: str, if_empty: bool) -> None:
    """Load the demo network (only into an empty database) with a staff login 'admin'."""
    from app.demo.load import load_demo

    with unit_of_work() as session:
        if if_empty and all_points(session):
            click.echo("the database already holds a network; demo not loaded")
            return
        counts = load_demo(
            session,
            seed=seed,
            scale=scale,
            admin_password=admin_password,
            id_key=current_app.config["SECRET_KEY"],
        )
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))


def init_app(app: Flask) -> None:
    for group in (db_group, network_group, patrons_group, users_group, tokens_group, demo_group):
        app.cli.add_command(group)


def _create_app(*_args: Any) -> Flask:
    from app import create_app

    return create_app()


main: Callable[..., Any] = FlaskGroup(
    create_app=_create_app, add_default_commands=True, help="Tongjie 通借 library system."
)
