"""Benchmark: every figure over five million ledger events (issue 10: each under two seconds).

    .venv/bin/python scripts/bench/figures.py [--postgres URL] [--sqlite] [--events 5000000]
        [--copies 400000] [--patrons 100000] [--years 5] [--keep | --reuse URL]

A scratch database (PostgreSQL by default; ``--sqlite`` for the embedded default) gets
the demo network's points, ``--copies`` copies and ``--patrons`` readers spread over the
points as a county network spreads them (half the stock at the central library), and
``--years`` of history ending yesterday: ``--events`` ledger rows, of which about 45%
checkouts, 42% check-ins, 9% renewals and the rest status changes, copy moves (rotation)
and hold and transit events, with a seasonal curve and through-borrowing (three loans in
ten are of another point's copy), and a loans row for each checkout. Loans and returns
carry the copy's and the reader's home, as circulation writes them. Then:

1. ``tongjie figures rebuild`` (the daily counts from the ledger), timed once;
2. each figure the pages, the API and the CLI ask for, timed three times (the slowest
   is reported): the three tables of a year in each attribution, five years by point,
   a past year (holdings undone through every later change), one branch's subtree,
   loans per month over five years, idle copies, the rotation planner, the XLSX export,
   and the whole dashboard page through the app.

Prints a table and writes bench-results/figures.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, func, insert, select, text, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.migrate import scratch_postgres_database, upgrade  # noqa: E402
from catalog.db import make_engine  # noqa: E402
from catalog.network import PointKind, ServicePoint  # noqa: E402
from catalog.records import Copy, Record  # noqa: E402
from circulation.desk import NETWORK_TIMEZONE  # noqa: E402
from circulation.ledger import LedgerEntry  # noqa: E402
from circulation.models import Loan  # noqa: E402
from circulation.patrons import Patron  # noqa: E402

RESULTS = ROOT / "bench-results"
TARGET_SECONDS = 2.0
CHUNK = 20_000
CLASSES = ["I", "S", "G", "K", "TS", "R", "F", "D", "B", "J", "TP", "H", "O", "Z"]
# Loans per month relative to the mean: summer and winter holidays are busiest.
OTHER_EVENTS = ("hold_placed", "hold_filled", "transit_sent", "transit_received")
SEASON = [1.1, 1.3, 0.9, 0.8, 0.8, 0.9, 1.3, 1.4, 0.9, 1.0, 0.8, 0.8]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _circulation_bench():  # scripts/bench/circulation.py: its network loader
    spec = importlib.util.spec_from_file_location(
        "bench_circulation", ROOT / "scripts" / "bench" / "circulation.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _weighted_homes(session: Session) -> tuple[list[int], list[float]]:
    """Where copies and readers live: half at the central library, the rest spread."""
    points = list(session.execute(select(ServicePoint.id, ServicePoint.kind)))
    weight = {PointKind.CENTRAL: 0.5 * len(points), PointKind.BRANCH: 1.5}
    return [p.id for p in points], [weight.get(p.kind, 0.4) for p in points]


def _chunks(rows: Iterator[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(session: Session, args: argparse.Namespace) -> None:
    rng = random.Random(2026)
    _circulation_bench().load_network(session)
    session.commit()
    ids, weights = _weighted_homes(session)
    today = dt.date.today()
    start = today - dt.timedelta(days=365 * args.years)
    now = dt.datetime.now(dt.UTC)
    records = max(1, args.copies // 3)
    log(f"{records:,} records")
    for batch in _chunks(
        {"id": n, "title": f"基准书目 {n}", "authors": [], "authors_pinyin": [], "subjects": [],
         "isbns": [], "extra": {}, "clc": rng.choice(CLASSES) + "1", "created_at": now,
         "updated_at": now}
        for n in range(1, records + 1)
    ):  # fmt: skip
        session.execute(insert(Record), batch)
    log(f"{args.copies:,} copies")
    homes = rng.choices(ids, weights, k=args.copies)
    for batch in _chunks(
        {"id": n, "barcode": f"C{n:08d}", "record_id": 1 + (n * 7919) % records,
         "home_point_id": homes[n - 1], "current_point_id": homes[n - 1],
         "call_number": f"I247.5/{n}", "item_type": "book", "status": "available",
         "status_reason": "", "status_changed_at": now,
         "date_added": start - dt.timedelta(days=rng.randrange(0, 3650)) if n % 5
         else start + dt.timedelta(days=rng.randrange(0, 365 * args.years)),
         "created_at": now, "updated_at": now, "version": 1}
        for n in range(1, args.copies + 1)
    ):  # fmt: skip
        session.execute(insert(Copy), batch)
    log(f"{args.patrons:,} readers")
    readers = rng.choices(ids, weights, k=args.patrons)
    for batch in _chunks(
        {"id": n, "card": f"P{n:08d}", "name": f"读者{n}", "category": "adult",
         "home_point_id": readers[n - 1], "status": "active",
         "created_at": dt.datetime.combine(start, dt.time(), dt.UTC)
         + dt.timedelta(days=rng.randrange(0, 365 * args.years)), "updated_at": now}
        for n in range(1, args.patrons + 1)
    ):  # fmt: skip
        session.execute(insert(Patron), batch)
    session.commit()
    last_lent = history(session, args, rng, ids, homes, readers, start)
    log("each copy's last loan day")
    copies = Copy.__table__
    for batch in _chunks({"i": cid, "d": day} for cid, day in last_lent.items()):
        session.execute(
            update(copies).where(copies.c.id == bindparam("i")).values(last_lent_on=bindparam("d")),
            batch,
        )
    session.execute(text("ANALYZE"))
    session.commit()


def history(
    session: Session,
    args: argparse.Namespace,
    rng: random.Random,
    ids: list[int],
    homes: list[int],
    readers: list[int],
    start: dt.date,
) -> dict[int, dt.date]:
    """``--events`` ledger rows over the years from ``start`` to yesterday, and a loan row
    for each checkout. Readers mostly borrow at their own point and mostly that point's
    copies; three loans in ten are of another point's copy (通借通还)."""
    days = (dt.date.today() - start).days
    yesterday = dt.datetime.combine(dt.date.today(), dt.time(), NETWORK_TIMEZONE)
    day_weights = [SEASON[(start + dt.timedelta(days=d)).month - 1] for d in range(days)]
    shelves: dict[int, list[int]] = defaultdict(list)
    for copy_id, home in enumerate(homes, start=1):
        shelves[home].append(copy_id)
    readers_at: dict[int, list[int]] = defaultdict(list)
    for patron_id, home in enumerate(readers, start=1):
        readers_at[home].append(patron_id)
    busy = [p for p in ids if shelves[p] and readers_at[p]]
    last_lent: dict[int, dt.date] = {}
    gone: set[int] = set()
    moved: set[int] = set()
    loans: list[dict] = []
    made = 0

    def rows() -> Iterator[dict]:
        nonlocal made
        while made < args.events:
            for day_index in rng.choices(range(days), day_weights, k=10_000):
                day = start + dt.timedelta(days=day_index)
                at = dt.datetime.combine(day, dt.time(9 + rng.randrange(9), rng.randrange(60)),
                                         NETWORK_TIMEZONE).astimezone(dt.UTC)  # fmt: skip
                reader_home = rng.choice(busy)
                patron_id = rng.choice(readers_at[reader_home])
                point = reader_home if rng.random() < 0.8 else rng.choice(busy)
                local = rng.random() < 0.7
                copy_id = rng.choice(shelves[point]) if local else rng.randrange(1, len(homes) + 1)
                home = homes[copy_id - 1]
                kind = rng.random()
                base = {"occurred_at": at, "point_id": point, "actor": "staff:bench",
                        "copy_id": copy_id, "patron_id": patron_id,
                        "copy_home_point_id": home, "patron_home_point_id": reader_home,
                        "details": {}}  # fmt: skip
                if kind < 0.45:
                    last_lent[copy_id] = max(day, last_lent.get(copy_id, day))
                    back = min(at + dt.timedelta(days=rng.randrange(5, 40)), yesterday)
                    loans.append({"copy_id": copy_id, "patron_id": patron_id, "point_id": point,
                                  "checked_out_at": at, "due_date": day + dt.timedelta(days=30),
                                  "renewals": 0, "returned_at": back, "return_point_id": point,
                                  "outcome": "returned"})  # fmt: skip
                    yield base | {"event": "checkout"}
                elif kind < 0.87:
                    yield base | {"event": "checkin"}
                elif kind < 0.96:
                    yield base | {"event": "renew"}
                elif kind < 0.97 and copy_id not in gone:
                    gone.add(copy_id)  # withdrawn (剔旧) or lost: undone for earlier days
                    yield base | {"event": "status_changed", "patron_id": None,
                                  "details": {"from": "available", "to": "withdrawn"}}  # fmt: skip
                elif kind < 0.98:
                    to = rng.choice(ids)  # a rotation batch or a transfer
                    homes[copy_id - 1] = to
                    moved.add(copy_id)
                    yield base | {"event": "copy_moved", "patron_id": None,
                                  "details": {"from": home, "to": to}}  # fmt: skip
                else:
                    yield base | {"event": rng.choice(OTHER_EVENTS)}
                made += 1
                if made >= args.events:
                    return

    for n, batch in enumerate(_chunks(rows(), 50_000)):
        session.execute(insert(LedgerEntry), batch)
        session.execute(insert(Loan), loans)
        loans.clear()
        session.commit()
        if n % 20 == 19:
            log(f"  {made:,} ledger rows")
    # the copies today agree with the ledger: withdrawn ones withdrawn, moved ones moved
    copies = Copy.__table__
    for batch in _chunks({"i": cid} for cid in sorted(gone)):
        session.execute(
            update(copies).where(copies.c.id == bindparam("i")).values(status="withdrawn"), batch
        )
    for batch in _chunks({"i": cid, "h": homes[cid - 1]} for cid in sorted(moved)):
        session.execute(
            update(copies).where(copies.c.id == bindparam("i"))
            .values(home_point_id=bindparam("h"), current_point_id=bindparam("h")), batch
        )  # fmt: skip
    session.commit()
    return last_lent


def timed(name: str, work: Callable[[], object], runs: int = 3) -> dict:
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - began)
    worst = max(seconds)
    log(f"{name}: {worst:.3f} s (slowest of {runs})")
    return {"figure": name, "seconds": round(worst, 3), "runs": [round(s, 3) for s in seconds]}


def measure(url: str) -> tuple[list[dict], dict]:
    from app import create_app
    from app.accounts import StaffUser, add_user
    from circulation.figures.aggregates import rebuild
    from circulation.figures.compute import compute, compute_many
    from circulation.figures.export import to_xlsx
    from circulation.figures.series import idle_by_point, loans_by_month
    from circulation.rotation.planner import plan

    engine = make_engine(url)
    today = dt.date.today()
    year = (dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31))
    five = (today - dt.timedelta(days=5 * 365), today - dt.timedelta(days=1))
    past = (dt.date(today.year - 4, 1, 1), dt.date(today.year - 4, 12, 31))
    with Session(engine) as session:
        began = time.perf_counter()
        daily_rows = rebuild(session)
        session.commit()
        rebuilt = {"seconds": round(time.perf_counter() - began, 1), "rows": daily_rows}
        log(f"rebuild: {rebuilt['seconds']} s, {daily_rows:,} daily rows")
        events = session.scalar(select(func.count()).select_from(LedgerEntry))
        branch = session.scalar(select(ServicePoint.id).where(ServicePoint.kind == "branch"))
        if (
            session.scalar(select(StaffUser.id).where(StaffUser.username == "bench")) is None
        ):  # --reuse
            add_user(session, "bench", "bench-password", "network_admin")
            session.commit()
        results = [
            timed(f"year, point+branch+region, {a}",
                  lambda a=a: compute_many(session, *year, ("point", "branch", "region"), a))
            for a in ("point", "copy_home", "patron_home")
        ]  # fmt: skip
        results += [
            timed("five years, by point", lambda: compute(session, *five, "point")),
            timed("a year four years ago, by point", lambda: compute(session, *past, "point")),
            timed("year, one branch's subtree",
                  lambda: compute(session, *year, "point", within=branch)),
            timed("network total, year", lambda: compute(session, *year, "network")),
            timed("loans per month, five years", lambda: loans_by_month(session, *five)),
            timed("idle copies per point", lambda: idle_by_point(session, today, 12)),
            timed("rotation planner", lambda: plan(session, today)),
            timed("XLSX export by point, year",
                  lambda: to_xlsx(compute(session, *year, "point"), *year, "point")),
        ]  # fmt: skip
        session.rollback()
    app = create_app({"TESTING": False})
    client = app.test_client()
    token = client.get("/login")  # the form's CSRF token
    csrf = token.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    client.post("/login", data={"username": "bench", "password": "bench-password",
                                "csrf_token": csrf})  # fmt: skip

    def page() -> None:
        response = client.get(f"/staff/figures/?from={year[0]}&to={year[1]}")
        assert response.status_code == 200, response.status_code

    results.append(timed("dashboard page (all charts), year", page))
    app.extensions["tongjie.search"].close()  # its indexer thread holds a connection
    app.extensions["tongjie.engine"].dispose()
    engine.dispose()
    return results, {"events": events, "rebuild": rebuilt}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("TONGJIE_TEST_POSTGRES_URL"))
    parser.add_argument("--sqlite", action="store_true", help="the embedded default instead")
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--copies", type=int, default=400_000)
    parser.add_argument("--patrons", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    parser.add_argument("--reuse", metavar="URL", help="measure what an earlier --keep made")
    args = parser.parse_args()
    folder = None
    if args.reuse:
        url, drop = args.reuse, lambda: None
        args.keep = True
    elif args.sqlite:
        folder = tempfile.mkdtemp(prefix="tongjie-bench-")
        url, drop = f"sqlite:///{folder}/bench.db", lambda: None
    elif args.postgres:
        url, drop = scratch_postgres_database(args.postgres, prefix="tongjie_bench")
    else:
        sys.exit("give --postgres URL (or run scripts/services start), or --sqlite")
    os.environ["TONGJIE_DATABASE_URL"] = url
    os.environ.pop("TONGJIE_ELASTICSEARCH_URL", None)
    os.environ.setdefault("TONGJIE_SECRET_KEY", "bench")
    try:
        upgrade(url)
        if not args.reuse:
            engine = make_engine(url)
            began = time.perf_counter()
            with Session(engine) as session:
                fill(session, args)
            engine.dispose()
            log(f"data made in {time.perf_counter() - began:.0f} s")
        results, totals = measure(url)
    finally:
        if args.keep:
            log(f"kept {url}")
        else:
            drop()
            if folder:
                for name in os.listdir(folder):
                    os.unlink(os.path.join(folder, name))
                os.rmdir(folder)
    report = {
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "backend": "sqlite" if url.startswith("sqlite") else "postgresql",
        "settings": vars(args) | {"postgres": "(scratch database)", "reuse": bool(args.reuse)},
        **totals,
        "figures": results,
        "slowest": max(r["seconds"] for r in results),
        "target_seconds": TARGET_SECONDS,
    }
    RESULTS.mkdir(exist_ok=True)
    name = "figures-sqlite.json" if url.startswith("sqlite") else "figures.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\n{totals['events']:,} ledger events, {report['backend']}; daily counts rebuilt "
          f"in {totals['rebuild']['seconds']} s ({totals['rebuild']['rows']:,} rows)")  # fmt: skip
    print(f"{'figure':<44}{'seconds':>9}")
    for r in results:
        print(f"{r['figure']:<44}{r['seconds']:>9.3f}{'' if r['seconds'] < 2 else '  OVER'}")


if __name__ == "__main__":
    main()
