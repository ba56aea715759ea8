"""``tongjie search reindex`` and ``tongjie search worker``: the index from the command line."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from flask.cli import AppGroup

from app.db import get_session
from app.search import runtime

search_group = AppGroup("search", help="The search index (检索索引).")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar (records, rate) on a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    started = time.monotonic()
    with click.progressbar(length=1, label=label, file=sys.stderr, show_eta=True) as bar:

        def update(done: int, total: int) -> None:
            bar.length = max(total, 1)
            rate = done / max(time.monotonic() - started, 1e-6)
            bar.label = f"{label}: {done:,} records, {rate:,.0f}/s"
            bar.update(done - bar.pos)

        yield update


@search_group.command("reindex")
def reindex() -> None:
    """Rebuild the index from the database; Elasticsearch: a new index, then the alias swapped."""
    search = runtime()
    session = get_session()
    started = time.monotonic()
    with _progress("reindex") as progress:
        count = search.indexer.reindex(session, progress)
    seconds = time.monotonic() - started
    click.echo(f"{count} records indexed ({search.engine_name}) in {seconds:.1f} s "
               f"({count / max(seconds, 1e-6):,.0f} records/s)")  # fmt: skip


@search_group.command("worker")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between looks.")
@click.option("--once", is_flag=True, help="Drain what is waiting, then stop.")
def worker(interval: float, once: bool) -> None:
    """Drain the outbox into the index for as long as it runs (production)."""
    search = runtime()
    while True:
        report = search.drain()
        if report.records:
            state = " (Elasticsearch down: kept for later)" if report.elasticsearch_down else ""
            click.echo(f"{report.records} records indexed in {report.seconds:.2f} s{state}")
        if once:
            return
        time.sleep(interval)
