"""Benchmark: checkout and check-in pairs through the HTTP API under gunicorn, on PostgreSQL.

    .venv/bin/python scripts/bench/circulation.py [--postgres URL] [--copies N] [--patrons N]
        [--past-loans N] [--clients 16] [--seconds 60] [--workers 4] [--threads 1]
        [--rates 100,150]

A scratch PostgreSQL database gets the demo network's 58 points, ``--copies``
copies on a fifth as many records, ``--patrons`` readers, 100,000 open loans,
50 collective cards (集体证) with 320 open loans each, five years of closed days
(each point one day a week), and a history of closed loans with two ledger rows
each (checkout and check-in). The history is
measured twice: with 100,000 past loans, then grown to ``--past-loans``, so the
figures show whether a checkout slows down as history grows. Then paced runs
(``--rates``): each client pauses after an answer so that together they offer
about that many transactions a second, to show the latency below saturation.

``wrk`` (Debian's package; installed when missing) drives ``--clients``
connections, each lending a copy to a reader and taking it back, again and
again, with its own copies; 5% of the checkouts are by collective cards. In
the same run a trivial Flask endpoint under the same gunicorn settings gives
the ceiling, and one checkout and one check-in are counted statement by
statement. Prints a table and writes bench-results/circulation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from settle import settled  # noqa: E402 (scripts/bench/settle.py)
from sqlalchemy import event, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.accounts import add_user, create_token  # noqa: E402
from app.demo.generate import generate_demo  # noqa: E402
from app.migrate import scratch_postgres_database, upgrade  # noqa: E402
from catalog.db import make_engine  # noqa: E402
from catalog.network import ServicePoint, point_by_code  # noqa: E402
from catalog.network_import import import_network  # noqa: E402
from circulation.checkin import checkin  # noqa: E402
from circulation.desk import Desk  # noqa: E402
from circulation.loans import checkout  # noqa: E402
from circulation.policies import save_rule  # noqa: E402

RESULTS = ROOT / "bench-results"
LOAD_COPIES = 100_000  # the last copies are kept on the shelf for the load generator
OPEN_LOANS = 100_000
COLLECTIVE_CARDS = 50
COLLECTIVE_LOANS = 320
FIRST_HISTORY = 100_000
WRK_SCRIPT = ROOT / "scripts" / "bench" / "circulation.lua"
TRIVIAL_APP = "trivial_app:app"  # scripts/bench/trivial_app.py


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_network(session: Session) -> list[int]:
    demo = generate_demo(seed=2026, scale=0.01)
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as f:
        f.write("code,name,kind,parent,region,population,address,opening_days\n")
        for p in demo.points:
            f.write(f"{p.code},{p.name},{p.kind},{p.parent or ''},{p.region},{p.population},"
                    f"{p.address},1234567\n")  # fmt: skip
    import_network(session, Path(f.name))
    os.unlink(f.name)
    session.flush()
    return list(session.scalars(select(ServicePoint.id).order_by(ServicePoint.id)))


def fill(session: Session, copies: int, patrons: int) -> None:
    """Records, copies, readers and open loans, generated inside PostgreSQL."""
    points = load_network(session)
    n_points = len(points)
    first_point = points[0]
    records = max(1, copies // 5)
    run = lambda sql, **kw: session.execute(text(sql), kw)  # noqa: E731
    log(f"{records:,} records")
    run(
        """INSERT INTO records (id, title, authors, authors_pinyin, subjects, isbns, extra,
                               clc, created_at, updated_at)
           SELECT n, 'Bench title ' || n, '[]', '[]', '[]', '[]', '{}', 'I247.5', now(), now()
           FROM generate_series(1, :n) n""",
        n=records,
    )
    log(f"{copies:,} copies")
    run("""INSERT INTO copies (id, barcode, record_id, home_point_id, current_point_id,
                              call_number, item_type, status, status_reason, status_changed_at,
                              date_added, created_at, updated_at, version)
           SELECT n, 'C' || lpad(n::text, 8, '0'), 1 + (n - 1) % :records,
                  :first + (n - 1) % :points, :first + (n - 1) % :points, 'I247.5/' || n, 'book',
                  'available', '', now(), current_date - (n % 2000), now(), now(), 1
           FROM generate_series(1, :n) n""",
        n=copies, records=records, first=first_point, points=n_points)  # fmt: skip
    log(f"{patrons:,} readers and {COLLECTIVE_CARDS} collective cards")
    run(
        """INSERT INTO patrons (id, card, name, category, home_point_id, status, created_at,
                               updated_at)
           SELECT n, 'P' || lpad(n::text, 8, '0'), '读者' || n, 'adult', :first + n % :points,
                  'active', now(), now()
           FROM generate_series(1, :n) n""",
        n=patrons,
        first=first_point,
        points=n_points,
    )
    run("""INSERT INTO patrons (id, card, name, category, home_point_id, status, created_at,
                               updated_at)
           SELECT :base + n, 'I' || lpad(n::text, 5, '0'), '集体证' || n, 'institution',
                  :first + n % :points, 'active', now(), now()
           FROM generate_series(1, :n) n""",
        base=patrons, n=COLLECTIVE_CARDS, first=first_point, points=n_points)  # fmt: skip
    open_total = OPEN_LOANS + COLLECTIVE_CARDS * COLLECTIVE_LOANS
    log(f"{open_total:,} open loans")
    run("""INSERT INTO loans (copy_id, patron_id, point_id, checked_out_at, due_date, renewals)
           SELECT n,
                  CASE WHEN n <= :collective THEN :base + 1 + (n - 1) / :per
                       ELSE 1 + (n::bigint * 7919) % :patrons END,
                  :first + (n - 1) % :points, now() - interval '10 days', current_date + 20, 0
           FROM generate_series(1, :n) n""",
        n=open_total, collective=COLLECTIVE_CARDS * COLLECTIVE_LOANS, base=patrons,
        per=COLLECTIVE_LOANS, patrons=patrons, first=first_point, points=n_points)  # fmt: skip
    run("UPDATE copies SET status = 'on_loan' WHERE id <= :n", n=open_total)
    # Five years of calendar: every point closed one weekday a week, years back and the
    # coming month (the closed days grow every year like the loans do).
    days = run(
        """INSERT INTO closed_days (point_id, day, reason)
           SELECT p, d::date, '闭馆'
           FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) p,
                  generate_series(current_date - 1825, current_date + 30, interval '1 day') d
           WHERE extract(isodow FROM d) = 1 + p % 7""",
        first=first_point, last=first_point + n_points - 1)  # fmt: skip
    log(f"{days.rowcount:,} closed days")
    for table in ("records", "copies", "patrons", "loans"):
        run(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    save_rule(session, {"patron_category": "institution", "max_loans": 600, "loan_days": 180,
                        "overdue_block_items": 0})  # fmt: skip
    session.commit()


def add_history(session: Session, start: int, stop: int, copies: int, patrons: int) -> None:
    """Closed loans ``start``..``stop``-1 over five years, with their ledger rows."""
    log(f"history: past loans {start:,} to {stop:,}")
    point = session.scalar(select(func.min(ServicePoint.id)))
    points = session.scalar(select(func.count(ServicePoint.id)))
    step = 1_000_000
    for low in range(start, stop, step):
        high = min(stop, low + step)
        session.execute(text("""
            WITH made AS (
              INSERT INTO loans (copy_id, patron_id, point_id, checked_out_at, due_date,
                                 renewals, returned_at, return_point_id, outcome)
              SELECT 1 + (n::bigint * 104729) % :copies, 1 + (n::bigint * 7919) % :patrons,
                     :first + n % :points,
                     now() - (n % 1800) * interval '1 day' - interval '30 days',
                     (current_date - (n % 1800) - 30 + 30), 0,
                     now() - (n % 1800) * interval '1 day' - interval '10 days',
                     :first + (n::bigint * 31) % :points, 'returned'
              FROM generate_series(:low, :high - 1) n
              RETURNING id, copy_id, patron_id, point_id, checked_out_at, returned_at,
                        return_point_id)
            INSERT INTO circulation_ledger (occurred_at, event, point_id, actor, copy_id,
                                            patron_id, details)
            SELECT checked_out_at, 'checkout', point_id, 'staff:bench', copy_id, patron_id,
                   '{}'::json
            FROM made
            UNION ALL
            SELECT returned_at, 'checkin', return_point_id, 'staff:bench', copy_id, patron_id,
                   '{}'::json
            FROM made
        """), {"low": low, "high": high, "copies": copies - LOAD_COPIES, "patrons": patrons,
               "first": point, "points": points})  # fmt: skip
        session.commit()
        log(f"  {high:,}")
    session.execute(text("ANALYZE"))
    session.commit()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(app: str, url: str, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "TONGJIE_DATABASE_URL": url, "TONGJIE_SECRET_KEY": "bench"}
    env.pop("TONGJIE_ELASTICSEARCH_URL", None)
    worker = ["-k", "gthread", "--threads", str(threads)] if threads > 1 else []
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", str(workers), *worker,
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         *(["--pythonpath", str(ROOT / "scripts" / "bench")] if app == TRIVIAL_APP else []),
         app],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sys.stderr,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            settled(process.pid)  # the workers have imported the app
            return process, base
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def wrk(base: str, path: str, clients: int, seconds: int, *args: str) -> dict:
    """Run wrk with one connection per thread (so a thread's checkout and check-in pair up)."""
    out = subprocess.run(
        ["wrk", "-t", str(clients), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "5s",
         "-s", str(WRK_SCRIPT), base + path, "--", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    if out.stderr.strip():
        log("first refusals: " + out.stderr.strip().replace("\n", " | ")[:600])
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("{"))
    result: dict = json.loads(line)
    return result


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    log("installing wrk from Debian")
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*prefix, "apt-get", "install", "-y", "-qq", "wrk"], check=True)


def count_statements(url: str, card: str, barcode: str, warm_up: str) -> dict[str, int]:
    """Statements one checkout and one check-in send to the database (in-process), after a
    first pair with another copy (which also reads the network tree into memory). COMMIT
    is counted; like the API's sessions, this one keeps its objects loaded across commits.
    The API asks the network tree's version inside the token's query; here it is a query
    of its own, so the API sends one statement fewer than this counts."""
    engine = make_engine(url)
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    counts = {}
    with Session(engine, expire_on_commit=False) as session:
        desk = Desk(point_by_code(session, "QX"), "staff:bench")
        checkout(session, desk, card, warm_up)
        session.commit()
        checkin(session, desk, warm_up)
        session.commit()
        seen.clear()
        checkout(session, desk, card, barcode)
        session.commit()
        counts["checkout"] = len(seen) + 1  # and COMMIT
        seen.clear()
        checkin(session, desk, barcode)
        session.commit()
        counts["checkin"] = len(seen) + 1
    engine.dispose()
    return counts


def measure(url: str, token: str, args: argparse.Namespace, label: str, offset: int,
            rate: float = 0) -> dict:  # fmt: skip
    """A run flat out, or paced: each client pauses after an answer so that all of them
    together offer about ``rate`` transactions a second (a little less as answers slow)."""
    pause = str(round(args.clients * 1000 / rate)) if rate else "0"
    server, base = serve("wsgi:app", url, args.workers, args.threads)
    try:
        wrk(base, "/api/v1/checkouts", args.clients, 5, token, str(offset), str(args.copies),
            str(args.patrons), pause)  # fmt: skip
        result = wrk(base, "/api/v1/checkouts", args.clients, args.seconds, token,
                     str(offset + 1), str(args.copies), str(args.patrons), pause)  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    result["label"] = label
    log(f"{label}: {result['requests_per_s']:.0f} requests/s, p95 {result['p95_ms']:.1f} ms, "
        f"errors {result['errors']}")  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("TONGJIE_TEST_POSTGRES_URL"))
    parser.add_argument("--copies", type=int, default=1_000_000)
    parser.add_argument("--patrons", type=int, default=500_000)
    parser.add_argument("--past-loans", type=int, default=5_000_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--rates",
        default="100,150",
        help="offered rates of the paced runs after the flat-out ones (0: none)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its URL)")
    args = parser.parse_args()
    if not args.postgres:
        sys.exit(
            "give --postgres URL (or run scripts/services start and set TONGJIE_TEST_POSTGRES_URL)"
        )
    open_total = OPEN_LOANS + COLLECTIVE_CARDS * COLLECTIVE_LOANS
    if args.copies < open_total + LOAD_COPIES:
        sys.exit(
            f"give --copies {open_total + LOAD_COPIES:,} or more: {open_total:,} are lent "
            f"out and the last {LOAD_COPIES:,} are the load generator's"
        )
    ensure_wrk()
    url, drop = scratch_postgres_database(args.postgres, prefix="tongjie_bench")
    engine = make_engine(url)
    try:
        upgrade(url)
        with Session(engine) as session:
            fill(session, args.copies, args.patrons)
            add_user(session, "bench", "bench-password", "network_admin")
            _, token = create_token(session, "bench", username="bench")
            session.commit()
            add_history(session, 0, FIRST_HISTORY, args.copies, args.patrons)
        statements = count_statements(
            url, "P00000001", f"C{args.copies - 1:08d}", f"C{args.copies - 2:08d}"
        )
        ceiling_server, ceiling_base = serve(TRIVIAL_APP, url, args.workers, args.threads)
        try:
            ceiling = wrk(ceiling_base, "/echo", args.clients, min(args.seconds, 20), token,
                          "0", str(args.copies), str(args.patrons))  # fmt: skip
        finally:
            ceiling_server.send_signal(signal.SIGTERM)
            ceiling_server.wait()
        log(f"ceiling: {ceiling['requests_per_s']:.0f} requests/s, p95 {ceiling['p95_ms']:.1f} ms")
        small = measure(url, token, args, f"{FIRST_HISTORY:,} past loans", 0)
        with Session(engine) as session:
            add_history(session, FIRST_HISTORY, args.past_loans, args.copies, args.patrons)
            history = session.scalar(select(func.count()).select_from(text("loans")))
        large = measure(url, token, args, f"{args.past_loans:,} past loans", 2)
        rates = [float(r) for r in args.rates.split(",") if float(r)]
        paced = [measure(url, token, args, f"offered {rate:g}/s", 3 + i, rate)
                 for i, rate in enumerate(rates)]  # fmt: skip
    finally:
        engine.dispose()
        if args.keep:
            log(f"kept {url}")
        else:
            drop()
    report = {
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "settings": vars(args) | {"postgres": "(scratch database)"},
        "loans_in_table": history,
        "statements": statements,
        "ceiling": ceiling,
        "runs": [small, large, *paced],
        "ratio_to_ceiling": round(large["requests_per_s"] / ceiling["requests_per_s"], 3),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "circulation.json").write_text(json.dumps(report, indent=2))
    print(f"\n{'run':<28}{'requests/s':>12}{'pairs/s':>10}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p99 ms':>9}{'errors':>8}")  # fmt: skip
    for run in (ceiling | {"label": "trivial Flask endpoint"}, small, large, *paced):
        print(f"{run['label']:<28}{run['requests_per_s']:>12.0f}{run['requests_per_s'] / 2:>10.0f}"
              f"{run['p50_ms']:>9.1f}{run['p95_ms']:>9.1f}{run['p99_ms']:>9.1f}"
              f"{run['errors']:>8}")  # fmt: skip
    print(
        f"statements per checkout: {statements['checkout']}, per check-in: "
        f"{statements['checkin']}; ratio to the ceiling: {report['ratio_to_ceiling']}"
    )


if __name__ == "__main__":
    main()
