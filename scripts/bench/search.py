"""Benchmark: search analysis, indexing and query latency (figures for docs/benchmarks.md).

    .venv/bin/python scripts/bench/search.py analysis
    .venv/bin/python scripts/bench/search.py embedded [--records 100000]
    .venv/bin/python scripts/bench/search.py elasticsearch [--records 1000000 --copies 5000000]
    .venv/bin/python scripts/bench/search.py quality-loc
    .venv/bin/python scripts/bench/search.py per-query --keep FILE

- analysis: jieba against rjieba (speed and agreement on real titles), and
  the document build rate.
- embedded: SQLite with the given number of records (a quarter of them the
  first Library of Congress records, the rest generated Chinese records, five
  copies each); full reindex rate; the OPAC search API under gunicorn at 4
  concurrent clients (p50/p95/p99).
- elasticsearch: PostgreSQL and a private Elasticsearch node with a larger
  heap (tests/search/es_node.py, stopped afterwards): the 250,000 LoC
  records plus generated Chinese records up to --records, --copies copies;
  full reindex rate; the search API under gunicorn at 20 concurrent
  clients, with Elasticsearch's own time per request (Server-Timing) and our
  overhead on top; outbox catch-up after 10,000 copy status changes.
- per-query: each of the load test's queries alone, in-process, on a database
  kept by ``embedded --keep FILE``: hits and the embedded engine's time (best
  of five), slowest first; where the time goes.
- quality-loc: the judged queries over the Chinese-language LoC records
  (tests/search/judged.py, LOC_JUDGED), on the embedded index.

Each prints its figures and writes bench-results/search_<name>.json. The LoC
file comes from the pymarc 5.4.0 sdist (bench-data/, never committed).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from settle import settled  # noqa: E402 (scripts/bench/settle.py)
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.demo.generate import _make_records  # noqa: E402
from app.demo.load import load_demo  # noqa: E402
from app.demo.loc import first_records, loc_corpus  # noqa: E402
from app.migrate import scratch_postgres_database, upgrade  # noqa: E402
from catalog.bulk import insert_rows  # noqa: E402
from catalog.db import make_engine  # noqa: E402
from catalog.imports import import_file  # noqa: E402
from catalog.network import ServicePoint  # noqa: E402
from catalog.records import Copy, Record  # noqa: E402
from catalog.search.backends import SearchRequest  # noqa: E402
from catalog.search.document import point_infos  # noqa: E402
from catalog.search.elastic import ElasticsearchBackend  # noqa: E402
from catalog.search.embedded import EmbeddedBackend  # noqa: E402
from catalog.search.indexer import Indexer, build_documents  # noqa: E402
from catalog.search.outbox import SearchOutbox  # noqa: E402
from catalog.search.query import parse  # noqa: E402

CACHE = ROOT / "bench-data"
RESULTS = ROOT / "bench-results"
QUERIES = [
    "红楼梦", "hongloumeng", "hlm", "水稻栽培", "shuidao", "曹雪芹", "中国 历史", "zhongguo lishi",
    "养殖技术", "乡村振兴", "history of china", "python", "I24", "F32", "唐诗", "tangshi",
    "病虫害防治", "china", "英语", "儿童", "fzbg", "中国发展报告", "9787020002207", "长安",
    "changan", "文学", "经济", "k928", "小说", "刘dh", "紅樓夢", "健康", "高血压", "jazz",
    "napoleon", "art of war", "yinhang", "鲁迅", "luxun", "农业",
]  # fmt: skip


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}, Python {platform.python_version()}"  # noqa: E501


def save(name: str, result: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    result["machine"] = machine()
    (RESULTS / f"search_{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1)

    return {"n": len(ordered), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99),
            "mean": round(statistics.fmean(ordered), 1)}  # fmt: skip


# ----------------------------------------------------------------------- analysis


def bench_analysis() -> None:
    import jieba
    import rjieba

    from catalog.marc.reader import read_marc

    jieba.setLogLevel(60)
    corpus = loc_corpus(CACHE)
    titles: list[str] = []
    for result in read_marc(corpus):
        if result.record is None:
            continue
        for f in result.record.get_fields("880"):
            if (f.get("6") or "").startswith("245") and f.get("a"):
                titles.append(f.get("a"))
        if len(titles) >= 5000:
            break
    rng = random.Random(1)
    generated = [r.title for r in _make_records(rng, 5000)[0]]
    texts = titles + generated
    out: dict[str, Any] = {"texts": len(texts), "chars": sum(len(t) for t in texts)}
    for name, cut in (("jieba", lambda t: list(jieba.cut(t))), ("rjieba", rjieba.cut)):
        cut("热身")
        started = time.perf_counter()
        for _ in range(3):
            for t in texts:
                cut(t)
        seconds = (time.perf_counter() - started) / 3
        out[name] = {"seconds": round(seconds, 3), "texts_per_second": round(len(texts) / seconds),
                     "us_per_text": round(seconds / len(texts) * 1e6, 1)}  # fmt: skip
    same = sum(1 for t in texts if list(jieba.cut(t)) == rjieba.cut(t))
    out["same_segmentation_share"] = round(same / len(texts), 4)
    out["speedup"] = round(out["jieba"]["seconds"] / out["rjieba"]["seconds"], 1)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/docs.db"
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            session.add(ServicePoint(code="B", name="基准", kind="central", region_code="1"))
            session.commit()
            path = first_records(corpus, 20000, CACHE)
            with tempfile.TemporaryDirectory() as reports:
                import_file(session, path, location="B", report_dir=Path(reports))
            session.commit()
            _generated_records(session, 20000, seed=2)
            ids = list(session.scalars(select(Record.id).order_by(Record.id)))
            points = point_infos(list(session.scalars(select(ServicePoint))))
            started = time.perf_counter()
            for i in range(0, len(ids), 500):
                build_documents(session, ids[i : i + 500], points)
                session.expunge_all()
            seconds = time.perf_counter() - started
        engine.dispose()
    out["documents"] = {"records": len(ids), "seconds": round(seconds, 1),
                        "per_second": round(len(ids) / seconds)}  # fmt: skip
    save("analysis", out)


# ------------------------------------------------------------------ catalogue


def _generated_records(session: Session, count: int, seed: int) -> list[int]:
    """Generated Chinese records (the demo generator's), inserted in bulk."""
    import datetime as dt

    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    ids: list[int] = []
    while count > 0:
        batch = min(count, 50_000)
        records = _make_records(rng, batch)[0]
        rows = [
            (r.title, json.dumps(list(r.authors), ensure_ascii=False), "[]",
             "、".join(r.authors) + "著", r.publisher, r.pub_place, r.pub_year, r.isbn13,
             json.dumps([r.isbn13]), r.clc, r.language,
             json.dumps(list(r.subjects), ensure_ascii=False), r.price, '{"source": "bench"}',
             now, now)
            for r in records
        ]  # fmt: skip
        columns = ("title", "authors", "authors_pinyin", "responsibility", "publisher",
                   "pub_place", "pub_year", "isbn13", "isbns", "clc", "language", "subjects",
                   "price", "extra", "created_at", "updated_at")  # fmt: skip
        ids.extend(insert_rows(session, Record, columns, rows, return_ids=True))
        session.commit()
        count -= batch
    return ids


def _add_copies(session: Session, total: int, seed: int) -> None:
    """Copies spread over every record and point until the catalogue holds ``total``."""
    import datetime as dt

    rng = random.Random(seed)
    have = session.scalar(select(func.count(Copy.id))) or 0
    record_ids = list(session.scalars(select(Record.id)))
    point_ids = list(session.scalars(select(ServicePoint.id)))
    statuses = ["available"] * 8 + ["on_loan", "in_transit"]
    when = dt.datetime.now(dt.UTC)
    added = dt.date(2024, 1, 1)
    n = 0
    need = total - have
    while n < need:
        batch = min(need - n, 200_000)
        rows = []
        for i in range(batch):
            record = record_ids[(n + i) % len(record_ids)]
            home = rng.choice(point_ids)
            rows.append((f"9{n + i:011d}", record, home, home, "", "book", rng.choice(statuses),
                         "", when, added, when, when, 1))  # fmt: skip
        insert_rows(session, Copy, ("barcode", "record_id", "home_point_id", "current_point_id",
                                    "call_number", "item_type", "status", "status_reason",
                                    "status_changed_at", "date_added", "created_at",
                                    "updated_at", "version"), rows)  # fmt: skip
        session.commit()
        n += batch
        print(f"  copies: {have + n:,}", flush=True)


def build_catalogue(url: str, records: int, copies: int, loc: int) -> None:
    """Points from the demo, ``loc`` LoC records, generated records up to ``records``."""
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        load_demo(session, seed=2026, scale=0.001, admin_password="bench-password", id_key="bench")
        session.commit()
        corpus = loc_corpus(CACHE)
        path = corpus if loc >= 250_000 else first_records(corpus, loc, CACHE)
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as reports:
            import_file(session, path, location="QX", report_dir=Path(reports))
        session.commit()
        print(f"  LoC import: {time.perf_counter() - started:.0f} s", flush=True)
        have = session.scalar(select(func.count(Record.id))) or 0
        _generated_records(session, max(0, records - have), seed=3)
        _add_copies(session, copies, seed=4)
        session.execute(SearchOutbox.__table__.delete())
        session.commit()
    engine.dispose()


# --------------------------------------------------------------------- serving


class Server:
    """gunicorn serving the app on a free port, for the load test."""

    def __init__(self, database_url: str, es_url: str | None, prefix: str, workers: int,
                 threads: int = 1) -> None:  # fmt: skip
        from tests.search.es_node import free_port

        self.port = free_port()
        env = {**os.environ, "TONGJIE_DATABASE_URL": database_url, "TONGJIE_INDEX_PREFIX": prefix,
               "TONGJIE_SECRET_KEY": "bench"}  # fmt: skip
        env.pop("TONGJIE_ELASTICSEARCH_URL", None)
        if es_url:
            env["TONGJIE_ELASTICSEARCH_URL"] = es_url
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--workers", str(workers),
             "--threads", str(threads), "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                get(self.port, "/healthz")
                settled(self.process.pid)  # every worker has imported the app
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def get(port: int, path: str, connection: http.client.HTTPConnection | None = None
        ) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    return response.status, dict(response.getheaders()), body


def load_test(port: int, clients: int, requests: int, queries: list[str]) -> dict[str, Any]:
    """``clients`` threads with keep-alive connections, ``requests`` searches in all."""
    latencies: list[float] = []
    overheads: list[float] = []
    engine: list[float] = []
    server: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            q = rng.choice(queries)
            page = rng.choice((1, 1, 1, 2))
            started = time.perf_counter()
            status, headers, _ = get(port, f"/api/v1/search?q={quote(q)}&page={page}", conn)
            ms = (time.perf_counter() - started) * 1000
            timing = headers.get("Server-Timing", "")
            with lock:
                if status != 200:
                    errors += 1
                latencies.append(ms)
                if "app;dur=" in timing:
                    server.append(float(timing.split("app;dur=")[1].split(",")[0]))
                if "engine;dur=" in timing:
                    took = float(timing.split("engine;dur=")[1].split(",")[0])
                    engine.append(took)
                    overheads.append(ms - took)

    for _ in range(4):  # warm every worker's caches (pinyin table, typo dictionary)
        for q in queries:
            get(port, f"/api/v1/search?q={quote(q)}")
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {"clients": clients, "requests": len(latencies), "errors": errors,
                           "requests_per_second": round(len(latencies) / seconds, 1),
                           "latency_ms": percentiles(latencies),
                           "server_ms": percentiles(server)}  # fmt: skip
    if engine:
        out["elasticsearch_took_ms"] = percentiles(engine)
        out["overhead_ms"] = percentiles(overheads)
    return out


# ------------------------------------------------------------------- embedded


def bench_embedded(records: int, keep: Path | None) -> None:
    """``keep``: build the database there once and reuse it (for tuning the queries)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = keep or Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        result: dict[str, Any] = {}
        if not path.exists():
            print(f"building {records:,} records on SQLite", flush=True)
            build_catalogue(url, records, records * 5, loc=records // 4)
            engine = make_engine(url)
            with Session(engine) as session:
                started = time.perf_counter()
                count = Indexer().reindex(session)
                seconds = time.perf_counter() - started
            engine.dispose()
            result["records"] = count
            result["reindex"] = {"seconds": round(seconds, 1),
                                 "records_per_second": round(count / seconds)}  # fmt: skip
        result["database_mb"] = round(path.stat().st_size / 1e6)
        print(result, flush=True)
        server = Server(url, None, "bench", workers=4)
        try:
            result["search"] = load_test(server.port, clients=4, requests=2000, queries=QUERIES)
        finally:
            server.stop()
    save("embedded", result)


def bench_per_query(path: Path) -> None:
    if not path.exists():
        sys.exit(f"{path} does not exist: build it with `embedded --keep {path}` first")
    engine = make_engine(f"sqlite:///{path}")
    rows = []
    with Session(engine) as session:
        backend = EmbeddedBackend(session)
        for q in QUERIES:
            request = SearchRequest(parse(q), 1, 20)
            backend.search(request)
            best, total = float("inf"), 0
            for _ in range(5):
                started = time.perf_counter()
                total = backend.search(request).total
                best = min(best, time.perf_counter() - started)
            rows.append({"query": q, "hits": total, "engine_ms": round(best * 1000, 1)})
    engine.dispose()
    rows.sort(key=lambda r: -r["engine_ms"])
    for r in rows:
        print(f"{r['engine_ms']:8.1f} ms {r['hits']:8,} hits  {r['query']}")
    save("per_query", {"database": str(path), "queries": rows})


# ------------------------------------------------------------- Elasticsearch


def bench_elasticsearch(records: int, copies: int, heap: str) -> None:
    from tests.search.es_node import PrivateNode

    server_url = os.environ.get("TONGJIE_TEST_POSTGRES_URL") or os.environ["TONGJIE_DATABASE_URL"]
    url, drop = scratch_postgres_database(server_url, prefix="tongjie_bench")
    node = PrivateNode(heap=heap)
    result: dict[str, Any] = {"records": records, "copies": copies, "heap": heap}
    try:
        node.start()
        print(f"private Elasticsearch on {node.url}; building {records:,} records", flush=True)
        started = time.perf_counter()
        build_catalogue(url, records, copies, loc=250_000)
        result["catalogue_build_seconds"] = round(time.perf_counter() - started)
        es = ElasticsearchBackend(node.url, "bench", timeout=30)
        engine = make_engine(url)
        with contextlib.ExitStack() as cleanup:
            cleanup.callback(engine.dispose)
            session = cleanup.enter_context(Session(engine))
            result["records"] = session.scalar(select(func.count(Record.id)))
            result["copies"] = session.scalar(select(func.count(Copy.id)))
            started = time.perf_counter()

            def progress(done: int, total: int) -> None:
                if done % 50_000 < 500:
                    rate = done / (time.perf_counter() - started)
                    print(f"  reindex {done:,}/{total:,} ({rate:,.0f}/s)", flush=True)

            count = Indexer(es).reindex_elasticsearch(session, es, progress)
            seconds = time.perf_counter() - started
            result["reindex"] = {"records": count, "seconds": round(seconds),
                                 "records_per_second": round(count / seconds)}  # fmt: skip
            print(result, flush=True)
            server = Server(url, node.url, "bench", workers=4, threads=5)
            try:
                result["search"] = load_test(server.port, 20, 4000, QUERIES)
            finally:
                server.stop()
            print(result["search"], flush=True)
            result["catch_up"] = catch_up(session, es)
    finally:
        node.cleanup()
        drop()
    save("elasticsearch", result)


def catch_up(session: Session, es: ElasticsearchBackend) -> dict[str, Any]:
    """10,000 copy status changes through the ORM (each queues its record), then one drain."""
    copies = list(session.scalars(select(Copy).where(Copy.status == "available").limit(10_000)))
    for c in copies:
        c.status = "on_loan"
    session.commit()
    pending = session.scalar(select(func.count(SearchOutbox.id)))
    started = time.perf_counter()
    report = Indexer(es).drain(session)
    seconds = time.perf_counter() - started
    return {
        "changes": len(copies),
        "outbox_rows": pending,
        "records": report.records,
        "seconds": round(seconds, 1),
        "records_per_second": round(report.records / seconds),
    }


def bench_quality_loc() -> None:
    """The LoC part of the judged set, on the embedded index (SQLite)."""
    from catalog.marc.reader import read_marc
    from tests.search.judged import LOC_JUDGED, evaluate, grades, score_query

    corpus = loc_corpus(CACHE)
    chinese = CACHE / "loc-chinese.mrc"
    if not chinese.exists():
        with chinese.open("wb") as out:
            for result in read_marc(corpus):
                control = result.record.get_fields("008") if result.record is not None else []
                if control and control[0].data[35:38] == "chi":
                    out.write(result.raw)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/loc.db"
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            session.add(ServicePoint(code="B", name="基准", kind="central", region_code="1"))
            session.commit()
            with tempfile.TemporaryDirectory() as reports:
                import_file(session, chinese, location="B", report_dir=Path(reports))
            session.commit()
            Indexer().reindex(session)
            records = list(session.scalars(select(Record).order_by(Record.id)))
            judged = grades(records, LOC_JUDGED)
            from catalog.search import service

            def run(q: str) -> list[int]:
                outcome = service.search(session, q=q, size=10)
                return [h.record_id for h in outcome.result.hits]

            scores = evaluate(run, judged, LOC_JUDGED)
            missing = [q for _k, q, _f, _r in LOC_JUDGED if 2 not in judged[q].values()]
            failing = {q: score_query(run(q), judged[q]) for _k, q, _f, _r in LOC_JUDGED
                       if score_query(run(q), judged[q])[3] < 1}  # fmt: skip
        engine.dispose()
    result = {"records": len(records), "queries": len(LOC_JUDGED), "no_answer": missing,
              "below_1": failing, "kinds": {k: vars(s) for k, s in scores.items()}}  # fmt: skip
    save("quality_loc", result)


def main() -> None:
    # Stopped with SIGTERM: still stop the private node and drop the scratch database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", choices=["analysis", "embedded", "elasticsearch", "quality-loc", "per-query"]
    )
    parser.add_argument("--records", type=int)
    parser.add_argument("--copies", type=int, default=5_000_000)
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--keep", type=Path, help="embedded: keep (and reuse) the database here")
    args = parser.parse_args()
    if args.what == "analysis":
        bench_analysis()
    elif args.what == "quality-loc":
        bench_quality_loc()
    elif args.what == "embedded":
        bench_embedded(args.records or 100_000, args.keep)
    elif args.what == "per-query":
        if args.keep is None:
            sys.exit("per-query needs --keep FILE (a database kept by `embedded --keep FILE`)")
        bench_per_query(args.keep)
    else:
        bench_elasticsearch(args.records or 1_000_000, args.copies, args.heap)


if __name__ == "__main__":
    main()
