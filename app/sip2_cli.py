"""``tongjie sip2``: the SIP2 server for self-check kiosks and its terminal accounts."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import sessionmaker

from app.cli import unit_of_work
from catalog.db import make_engine
from circulation.sip2.terminals import ENCODINGS, add_terminal, all_terminals, get_terminal
from circulation.sip2.terminals import remove_terminal as remove

sip2_group = AppGroup("sip2", help="SIP2 server for self-check kiosks (自助借还机).")
terminals_group = AppGroup("terminals", help="SIP2 terminal accounts, one per kiosk.")
sip2_group.add_command(terminals_group)


@sip2_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=6001, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Processes sharing the port (2 uses both cores of a small server).")  # fmt: skip
@click.option("--db-connections", default=10, show_default=True, type=click.IntRange(1, 100),
              help="Database connections per process (PostgreSQL).")  # fmt: skip
@click.option("--idle-timeout", default=600.0, show_default=True,
              help="Seconds before an idle connection is closed.")  # fmt: skip
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False))
def serve(
    host: str,
    port: int,
    workers: int,
    db_connections: int,
    idle_timeout: float,
    tls_cert: str | None,
    tls_key: str | None,
) -> None:
    """Serve SIP2 on HOST:PORT until stopped (SIGTERM or Ctrl-C)."""
    from circulation.sip2.server import serve as run
    from circulation.sip2.server import tls_context

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("TLS needs both --tls-cert and --tls-key")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(message)s")
    url = current_app.config["DATABASE_URL"]
    # No ping before each use: a message is a few milliseconds, a ping a round trip more. A
    # connection the database dropped fails one message (answered "try again") and is replaced.
    options = (
        {}
        if url.startswith("sqlite")
        else {"pool_size": db_connections, "max_overflow": 0, "pool_pre_ping": False}
    )
    current_app.extensions["tongjie.engine"].dispose()

    def sessions() -> sessionmaker:
        return sessionmaker(bind=make_engine(url, **options), expire_on_commit=False)

    def ready(address: tuple[str, int]) -> None:
        scheme = "TLS" if tls_cert else "plain TCP"
        click.echo(f"SIP2 on {address[0]}:{address[1]} ({scheme}, {workers} process(es))")

    tls = tls_context(tls_cert, tls_key) if tls_cert and tls_key else None
    run(sessions, host, port, workers=workers, idle_timeout=idle_timeout, tls=tls, ready=ready)


@terminals_group.command("add")
@click.argument("login")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--location", required=True, help="Code of the service point where the kiosk is.")
@click.option("--institution", help="Institution id (AO) the kiosk sends; default: the "
              "central library's code.")  # fmt: skip
@click.option("--encoding", default="utf-8", show_default=True, type=click.Choice(ENCODINGS))
@click.option("--error-detection/--no-error-detection", default=True, show_default=True,
              help="Whether the kiosk sends AY/AZ checksums.")  # fmt: skip
def add(
    login: str,
    password: str,
    location: str,
    institution: str | None,
    encoding: str,
    error_detection: bool,
) -> None:
    """Create the SIP2 account of one kiosk (its password is stored hashed)."""
    with unit_of_work() as session:
        terminal = add_terminal(session, login, password, location, institution=institution,
                                encoding=encoding, error_detection=error_detection)  # fmt: skip
        click.echo(f"terminal {terminal.login} at {location} (institution {terminal.institution})")


@terminals_group.command("list")
def list_() -> None:
    """Every terminal: login, point, institution, encoding, error detection, state, last login."""
    with unit_of_work() as session:
        for t in all_terminals(session):
            last = t.last_login_at.isoformat(timespec="seconds") if t.last_login_at else "never"
            click.echo(
                f"{t.login}\t{t.point.code}\t{t.institution}\t{t.encoding}\t"
                f"{'checksums' if t.error_detection else 'no checksums'}\t"
                f"{'enabled' if t.enabled else 'disabled'}\tlast login {last}"
            )


def _set_enabled(login: str, enabled: bool) -> None:
    with unit_of_work() as session:
        get_terminal(session, login).enabled = enabled
    click.echo(f"terminal {login} {'enabled' if enabled else 'disabled'}")


@terminals_group.command("disable")
@click.argument("login")
def disable(login: str) -> None:
    """Refuse the kiosk's next login (and sign out a kiosk page enrolled with it)."""
    _set_enabled(login, False)


@terminals_group.command("enable")
@click.argument("login")
def enable(login: str) -> None:
    _set_enabled(login, True)


@terminals_group.command("remove")
@click.argument("login")
def remove_(login: str) -> None:
    """Delete the account; its loans and returns stay in the ledger under its name."""
    with unit_of_work() as session:
        remove(session, login)
    click.echo(f"terminal {login} removed")
