"""``tongjie figures ...``: the assessment tables (export) and the daily counts (rebuild)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli import unit_of_work
from circulation.figures.compute import ATTRIBUTIONS, BY

figures_group = AppGroup("figures", help="The network's figures: assessment tables and counts.")


def _day(_ctx: object, _param: object, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"'{value}' is not a date like 2026-12-31") from exc


@figures_group.command("export")
@click.option("--from", "start", required=True, callback=_day, help="First day, YYYY-MM-DD.")
@click.option("--to", "end", required=True, callback=_day, help="Last day, YYYY-MM-DD.")
@click.option("--by", default="point", show_default=True, type=click.Choice(BY))
@click.option("--format", "format_", default="csv", show_default=True,
              type=click.Choice(["csv", "xlsx"]))  # fmt: skip
@click.option("--attribution", default="point", show_default=True,
              type=click.Choice(ATTRIBUTIONS),
              help="Count loans where lent, or by the copy's or patron's home.")  # fmt: skip
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")  # fmt: skip
def figures_export(
    start: dt.date, end: dt.date, by: str, format_: str, attribution: str, output: Path | None
) -> None:
    """Write the figures of every point, branch group or region for a period (FIG-14)."""
    from circulation.figures.compute import compute
    from circulation.figures.export import to_csv, to_xlsx

    if end < start:
        raise click.BadParameter("--to must not be before --from")
    with unit_of_work() as session:
        table = compute(session, start, end, by=by, attribution=attribution)
    data = (to_xlsx if format_ == "xlsx" else to_csv)(table, start, end, attribution)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)
        click.echo(f"{len(table)} rows written to {output}", err=True)


@figures_group.command("rebuild")
def figures_rebuild() -> None:
    """Recompute the daily counts from the ledger (they are also kept with every event)."""
    from circulation.figures.aggregates import rebuild

    with unit_of_work() as session:
        rows = rebuild(session)
    click.echo(f"{rows} daily rows rebuilt from the ledger")
