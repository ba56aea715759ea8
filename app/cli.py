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
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import migrate, search_cli
from app.accounts import STAFF_ROLES, add_user, create_token
from app.db import get_session
from app.search import runtime as search_runtime
from catalog.errors import DomainError, InvalidFile
from catalog.network import all_points
from catalog.search.outbox import index_lag
from catalog.search.store import SearchDocument


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


catalog_group = AppGroup("catalog", help="The union catalogue: MARC in and out.")


@catalog_group.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--location", help="Point for copies without a known holdings point.")
@click.option("--format", "format_", default="auto",
              type=click.Choice(["auto", "marc21", "unimarc", "cnmarc"]))  # fmt: skip
@click.option("--encoding", default="auto",
              type=click.Choice(["auto", "utf-8", "marc-8", "gb18030"]))  # fmt: skip
@click.option("--report-dir", default="import-reports", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Where the report and the reject file of each input go.")  # fmt: skip
@click.option("--jobs", default="auto", show_default=True, type=click.Choice(["auto", "1", "2"]),
              help="Processes: 2 reads and maps in a second process while this one writes; "
                   "auto: 2 for files over 4 MB when the machine has two cores.")  # fmt: skip
def catalog_import(
    files: tuple[Path, ...],
    location: str | None,
    format_: str,
    encoding: str,
    report_dir: Path,
    jobs: str,
) -> None:
    """Import MARC files (ISO 2709 or MARCXML, MARC21 or CNMARC); exit 2 on any reject."""
    from catalog.imports import import_file

    fmt = "unimarc" if format_ == "cnmarc" else format_
    clean = True
    with unit_of_work() as session:
        for path in files:
            with _progress(path) as progress:
                report = import_file(
                    session,
                    path,
                    location=location,
                    format=fmt,
                    encoding=encoding,
                    report_dir=report_dir,
                    progress=progress,
                    jobs=0 if jobs == "auto" else int(jobs),
                )
            clean = clean and report.clean
            click.echo(
                f"{path.name} ({report.container}, {report.flavour}, {report.encoding}): "
                f"{report.read} read, {report.created} created, {report.merged} merged, "
                f"{report.unchanged} unchanged, {report.copies_added} copies added, "
                f"{report.copies_present} copies already present, {report.rejected} rejected, "
                f"{report.copies_rejected} copies rejected, {report.warnings} warnings"
            )
            problems = [d for d in report.details if d.startswith(("rejected", "warning"))]
            for line in problems[:20]:
                click.echo(f"  {line}", err=True)
            click.echo(f"  report: {report.report_path}", err=True)
            if report.rejects_path:
                click.echo(f"  rejected records, to correct and re-import: {report.rejects_path}",
                           err=True)  # fmt: skip
    if not clean:
        sys.exit(2)


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar (records, rate, time left) on a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    import time

    started = time.monotonic()
    total = path.stat().st_size
    with click.progressbar(length=total, label=path.name, file=sys.stderr,
                           show_eta=True, show_percent=True) as bar:  # fmt: skip

        def update(records: int, offset: int) -> None:
            rate = records / max(time.monotonic() - started, 1e-6)
            bar.label = f"{path.name}: {records} records, {rate:,.0f}/s"
            bar.update(max(0, offset - bar.pos))

        yield update


@catalog_group.command("export")
@click.option("--format", "format_", default="iso2709", type=click.Choice(["iso2709", "marcxml"]))
@click.option("--flavour", type=click.Choice(["marc21", "cnmarc", "unimarc"]),
              help="Default: each record in the flavour it was imported in.")  # fmt: skip
@click.option("--location", help="Only records and copies held at this point.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")  # fmt: skip
def catalog_export(
    format_: str, flavour: str | None, location: str | None, output: Path | None
) -> None:
    """Export records with their current copies in the holdings fields."""
    from catalog.export import export_catalog

    with unit_of_work() as session:
        if output is None:
            count = export_catalog(session, sys.stdout.buffer, format=format_, flavour=flavour,
                                   location=location)  # fmt: skip
            sys.stdout.buffer.flush()
        else:
            with output.open("wb") as handle:
                count = export_catalog(session, handle, format=format_, flavour=flavour,
                                       location=location)  # fmt: skip
    click.echo(f"{count} records exported", err=True)


demo_group = AppGroup("demo", help="The generated demo network.")


@demo_group.command("load")
@click.option("--seed", default=2026, show_default=True, help="Same seed, same network.")
@click.option("--scale", default=1.0, show_default=True, help="Fraction of records/copies/patrons.")
@click.option("--admin-password", default="tongjie-demo", show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if points exist.")
@click.option("--loc", "loc_count", type=int, default=0,
              help="Catalogue N real Library of Congress records (from pymarc's sdist) "
                   "instead of generated ones.")  # fmt: skip
def demo_load(seed: int, scale: float, admin_password: str, if_empty: bool, loc_count: int) -> None:
    """Load the demo network (only into an empty database) with a staff login 'admin'."""
    from app.demo.load import load_demo
    from app.demo.loc import first_records, loc_corpus

    real_records = None
    if loc_count > 0:
        cache = Path(current_app.instance_path) / "loc"
        real_records = first_records(loc_corpus(cache), loc_count, cache)

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
            real_records=real_records,
        )
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))
    search_runtime().drain()  # what the background indexer has not done yet
    with unit_of_work() as session:
        indexed = session.scalar(select(func.count()).select_from(SearchDocument))
        waiting = index_lag(session)["pending"]
    click.echo(f"search: {indexed} records indexed, {waiting} waiting")


circulation_group = AppGroup("circulation", help="Circulation: the daily round.")


@circulation_group.command("daily")
def circulation_daily() -> None:
    """Expire holds left on hold shelves, re-target waiting holds, drop old retry keys.

    Safe to run twice a day (or from cron every hour): a second run changes nothing.
    """
    from app.idempotency import forget_old
    from circulation.desk import Desk
    from circulation.hold_service import daily_round
    from circulation.tree import NetworkTree

    with unit_of_work() as session:
        root = NetworkTree.load(session).root()
        if root is None:
            click.echo("the network has no service points yet")
            return
        desk = Desk(root, "system:daily")
        report = daily_round(session, desk)
        forgotten = forget_old(session, desk.now)
    for hold, routing in report.expired:
        where = ""
        if routing is not None:
            where = routing.action + (
                f" -> {routing.destination.code}" if routing.destination else ""
            )
        copy = hold.copy.barcode if hold.copy else "-"
        click.echo(f"expired hold {hold.id} at {hold.pickup_point.code}: copy {copy} {where}")
    click.echo(
        f"{len(report.expired)} holds expired, {report.retargeted} holds given a copy, "
        f"{report.notices} notices, {forgotten} old retry keys dropped"
    )


@circulation_group.command("anonymise")
@click.option("--older-than", "days", type=click.IntRange(min=1), default=730, show_default=True,
              help="Forget the reader of loans and holds ended this many days ago.")  # fmt: skip
def circulation_anonymise(days: int) -> None:
    """Old loans and holds lose their patron link; every figure stays the same (PRIVACY-1..3)."""
    import datetime as dt

    from catalog.db import utcnow
    from circulation.privacy import anonymise

    with unit_of_work() as session:
        done = anonymise(session, utcnow() - dt.timedelta(days=days))
    click.echo(f"{done.loans} loans, {done.holds} holds and {done.ledger_rows} ledger rows "
               "no longer name their reader")  # fmt: skip


def init_app(app: Flask) -> None:
    groups = (db_group, network_group, patrons_group, users_group, tokens_group, catalog_group,
              demo_group, circulation_group)  # fmt: skip
    for group in groups:
        app.cli.add_command(group)
    app.cli.add_command(search_cli.search_group)
    from app.figures_cli import figures_group
    from app.sip2_cli import sip2_group  # its own module: imports app.cli for unit_of_work

    app.cli.add_command(figures_group)
    app.cli.add_command(sip2_group)


def _create_app(*_args: Any) -> Flask:
    from app import create_app

    return create_app()


main: Callable[..., Any] = FlaskGroup(
    create_app=_create_app, add_default_commands=True, help="Tongjie 通借 library system."
)
