"""Benchmark: 100 SIP2 terminals on persistent connections, checkout/checkin pairs, PostgreSQL.

    .venv/bin/python scripts/bench/sip2.py [--postgres URL] [--terminals 100] [--seconds 30]
        [--workers 1,2] [--copies N] [--patrons N] [--past-loans N]

The dataset is the HTTP circulation benchmark's (scripts/bench/circulation.py:
the demo network's 58 points, ``--copies`` copies, ``--patrons`` readers,
116,000 open loans, collective cards, ``--past-loans`` closed loans with their
ledger rows). Each terminal gets its own SIP2 account at one of the points, its
own reader (with a PIN) and five copies on the shelf; it logs in, checks the
reader's PIN once (23), then lends a copy (11) and takes it back (09), and so
on round its copies, as fast as the server answers, checksums on. The server
is ``tongjie sip2 serve`` in its own processes; the load comes from one asyncio
process. A transaction is one checkout or one checkin; its time is from the
first byte sent to the last byte of the answer. Prints a table and writes
bench-results/sip2.json.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1].parent
sys.path.insert(0, str(ROOT))

from settle import settled  # noqa: E402 (scripts/bench/settle.py)
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from app.migrate import scratch_postgres_database, upgrade  # noqa: E402
from catalog.db import make_engine  # noqa: E402
from catalog.network import ServicePoint  # noqa: E402
from circulation.patrons import PIN_HASH_METHOD  # noqa: E402
from circulation.sip2.framing import checksum  # noqa: E402
from circulation.sip2.terminals import Sip2Terminal  # noqa: E402

RESULTS = ROOT / "bench-results"
PASSWORD, PIN = "bench-terminal", "1234"
COPIES_EACH = 5
BLANK = " " * 18


def _http_bench():
    """scripts/bench/circulation.py, for its dataset (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location(
        "bench_circulation", ROOT / "scripts" / "bench" / "circulation.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def arrange_terminals(session: Session, terminals: int, copies: int) -> list[dict]:
    """One account, one reader with a PIN and five shelf copies per terminal."""
    points = list(session.scalars(select(ServicePoint.id).order_by(ServicePoint.id)))
    password = generate_password_hash(PASSWORD)
    session.execute(
        text("UPDATE patrons SET pin_hash = :h WHERE id <= :n"),
        {"h": generate_password_hash(PIN, method=PIN_HASH_METHOD), "n": terminals},
    )
    plan = []
    for n in range(terminals):
        login = f"bench-{n:03d}"
        session.add(Sip2Terminal(login=login, password_hash=password, institution="QX",
                                 point_id=points[n % len(points)], encoding="utf-8",
                                 error_detection=True, enabled=True))  # fmt: skip
        first = copies - (n + 1) * COPIES_EACH  # the last copies of the table are on the shelf
        plan.append({"login": login, "card": f"P{n + 1:08d}",
                     "barcodes": [f"C{first + k:08d}" for k in range(COPIES_EACH)]})  # fmt: skip
    session.commit()
    return plan


def frame(body: str, sequence: int) -> bytes:
    data = f"{body}AY{sequence}AZ".encode()
    return data + checksum(data).encode() + b"\r"


def stamp() -> str:
    return time.strftime("%Y%m%d    %H%M%S")


async def terminal(port: int, plan: dict, clock: dict, out: dict) -> None:
    """Log in and check the PIN, wait for every other terminal to have done so, then work."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sequence = 0

    async def ask(body: str) -> tuple[bytes, float]:
        nonlocal sequence
        started = time.perf_counter()
        writer.write(frame(body, sequence))
        sequence = (sequence + 1) % 10
        answer = await reader.readuntil(b"\r")
        return answer, time.perf_counter() - started

    answer, _ = await ask(f"9300CN{plan['login']}|CO{PASSWORD}|")
    assert answer.startswith(b"941"), answer
    await ask(f"23019{stamp()}AOQX|AA{plan['card']}|AD{PIN}|")
    clock["ready"] += 1
    if clock["ready"] == clock["terminals"]:
        clock["go"].set()
    await clock["go"].wait()
    measure_from, stop_at = clock["measure_from"](), clock["stop_at"]()
    interval = clock["interval"]
    due = time.perf_counter() + random.random() * interval  # terminals start out of step
    turn = 0
    while time.perf_counter() < stop_at:
        barcode = plan["barcodes"][turn % COPIES_EACH]
        turn += 1
        for body, good in (
            (f"11NN{stamp()}{BLANK}AOQX|AA{plan['card']}|AB{barcode}|AC|", b"121"),
            (f"09N{stamp()}{stamp()}APQX|AOQX|AB{barcode}|AC|", b"101"),
        ):
            if interval:  # paced: the next transaction at its time (at once if late)
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                due += interval
            answer, seconds = await ask(body)
            if time.perf_counter() >= measure_from:
                out["times"].append(seconds)
                if not answer.startswith(good):
                    out["errors"] += 1
                    if len(out["samples"]) < 5:
                        out["samples"].append(answer.decode(errors="replace")[:200])
    writer.close()


async def drive(port: int, plans: list[dict], warmup: float, seconds: float, rate: float) -> dict:
    """``rate`` transactions a second in all (0: every terminal as fast as answered)."""
    out: dict = {"times": [], "errors": 0, "samples": []}
    go = asyncio.Event()
    started: list[float] = []

    def start() -> float:
        if not started:
            started.append(time.perf_counter())
        return started[0]

    clock = {"ready": 0, "terminals": len(plans), "go": go,
             "interval": len(plans) / rate if rate else 0.0,
             "measure_from": lambda: start() + warmup,
             "stop_at": lambda: start() + warmup + seconds}  # fmt: skip
    await asyncio.gather(*(terminal(port, p, clock, out) for p in plans))
    times = sorted(out["times"])
    quantile = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1000  # noqa: E731
    return {
        "transactions": len(times),
        "tx_per_s": len(times) / seconds,
        "p50_ms": quantile(0.50),
        "p95_ms": quantile(0.95),
        "p99_ms": quantile(0.99),
        "mean_ms": statistics.fmean(times) * 1000 if times else 0.0,
        "errors": out["errors"],
        "error_samples": out["samples"],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, workers: int, connections: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "TONGJIE_DATABASE_URL": url, "TONGJIE_SECRET_KEY": "bench"}
    env.pop("TONGJIE_ELASTICSEARCH_URL", None)
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "tongjie"), "sip2", "serve", "--port", str(port),
         "--workers", str(workers), "--db-connections", str(connections)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            settled(process.pid)  # every worker process has imported the app
            return process, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the SIP2 server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default=os.environ.get("TONGJIE_TEST_POSTGRES_URL"))
    parser.add_argument("--terminals", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=8)
    parser.add_argument("--workers", default="1,2", help="server processes to try, e.g. 1,2")
    parser.add_argument("--rates", default="300,0",
                        help="offered transactions/s in all, each tried; 0: flat out")  # fmt: skip
    parser.add_argument("--db-connections", type=int, default=8, help="per server process")
    parser.add_argument("--copies", type=int, default=1_000_000)
    parser.add_argument("--patrons", type=int, default=500_000)
    parser.add_argument("--past-loans", type=int, default=1_000_000)
    args = parser.parse_args()
    if not args.postgres:
        sys.exit('give --postgres URL (or eval "$(scripts/services start)")')
    http = _http_bench()
    url, drop = scratch_postgres_database(args.postgres, prefix="tongjie_bench")
    engine = make_engine(url)
    runs = []
    try:
        upgrade(url)
        with Session(engine) as session:
            http.fill(session, args.copies, args.patrons)
            http.add_history(session, 0, args.past_loans, args.copies, args.patrons)
            plans = arrange_terminals(session, args.terminals, args.copies)
        for workers in (int(w) for w in args.workers.split(",")):
            for rate in (float(r) for r in args.rates.split(",")):
                server, port = serve(url, workers, args.db_connections)
                try:
                    load = os.getloadavg()[0]
                    result = asyncio.run(drive(port, plans, args.warmup, args.seconds, rate))
                finally:
                    server.send_signal(signal.SIGTERM)
                    server.wait()
                result |= {"workers": workers, "offered": rate or "max",
                           "load_before": round(load, 2)}  # fmt: skip
                log(f"{workers} process(es), offered {result['offered']}: "
                    f"{result['tx_per_s']:.0f} tx/s, p95 {result['p95_ms']:.1f} ms, "
                    f"errors {result['errors']} {result['error_samples']}")  # fmt: skip
                runs.append(result)
    finally:
        engine.dispose()
        drop()
    report = {
        "machine": f"{platform.node()} {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "settings": vars(args) | {"postgres": "(scratch database)"},
        "runs": runs,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sip2.json").write_text(json.dumps(report, indent=2))
    print(f"\n{'processes':<10}{'offered':>8}{'tx/s':>8}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p99 ms':>9}{'errors':>8}{'load':>6}")  # fmt: skip
    for run in runs:
        print(f"{run['workers']:<10}{run['offered']!s:>8}{run['tx_per_s']:>8.0f}"
              f"{run['p50_ms']:>9.1f}{run['p95_ms']:>9.1f}{run['p99_ms']:>9.1f}"
              f"{run['errors']:>8}{run['load_before']:>6}")  # fmt: skip


if __name__ == "__main__":
    main()
