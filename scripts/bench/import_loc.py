"""Benchmark: import the 250,000 Library of Congress records from the pymarc 5.4.0 sdist.

    .venv/bin/python scripts/bench/import_loc.py [--limit N] [--postgres URL]

Fetches the sdist with pip (cached in bench-data/, never committed), extracts
BooksAll.2016.part01.utf8, then in one run measures:
- pymarc's own parse rate on the file (MARCReader, nothing else);
- our reader's rate (catalog.marc.reader.read_marc, reading only);
- the whole import (read, map, dedupe, write records, sources and copies)
  into a fresh SQLite file and, when a PostgreSQL URL is given (or
  TONGJIE_TEST_POSTGRES_URL is set), into a scratch PostgreSQL database;
- resident memory at 25%, 50% and 75% of the import and its peak, the
  reading process included (flat = streaming).
Prints a table and writes bench-results/import_loc.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import pymarc  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.demo.loc import first_records, loc_corpus  # noqa: E402
from app.migrate import scratch_postgres_database, upgrade  # noqa: E402
from catalog.db import make_engine  # noqa: E402
from catalog.imports import import_file  # noqa: E402
from catalog.marc.reader import read_marc  # noqa: E402
from catalog.network import ServicePoint  # noqa: E402

CACHE = ROOT / "bench-data"
RESULTS = ROOT / "bench-results"


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process and of its children (the import's reading process)."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) / 1024
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += rss_mb(child)
    return total


def pymarc_rate(path: Path) -> dict[str, float]:
    started = time.perf_counter()
    good = bad = 0
    with path.open("rb") as handle:
        for record in pymarc.MARCReader(handle, to_unicode=True, force_utf8=True):
            if record is None:
                bad += 1
            else:
                good += 1
    seconds = time.perf_counter() - started
    return {"records": good, "unreadable": bad, "seconds": round(seconds, 2),
            "per_second": round(good / seconds)}  # fmt: skip


def reader_rate(path: Path) -> dict[str, float]:
    started = time.perf_counter()
    good = sum(1 for r in read_marc(path) if r.record is not None)
    seconds = time.perf_counter() - started
    return {"records": good, "seconds": round(seconds, 2), "per_second": round(good / seconds)}


def import_into(url: str, path: Path, total_bytes: int) -> dict[str, object]:
    upgrade(url)
    engine = make_engine(url)
    memory: dict[str, float] = {}
    marks = [0.25, 0.5, 0.75]

    def progress(_records: int, offset: int) -> None:
        while marks and offset >= marks[0] * total_bytes:
            memory[f"{int(marks.pop(0) * 100)}%"] = round(rss_mb(), 1)
        memory["peak"] = max(memory.get("peak", 0.0), round(rss_mb(), 1))

    with Session(engine) as session:
        session.add(ServicePoint(code="BENCH", name="基准测试馆", kind="central",
                                 region_code="430321", population=0))  # fmt: skip
        session.commit()
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as reports:
            report = import_file(session, path, location="BENCH", report_dir=Path(reports),
                                 progress=progress)  # fmt: skip
        seconds = time.perf_counter() - started
    engine.dispose()
    readable = report.read - report.rejected
    return {
        "seconds": round(seconds, 1),
        "records_per_second": round(report.read / seconds),
        "counts": report.counts(),
        "rss_mb": memory,
        "readable": readable,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N records")
    parser.add_argument("--postgres", default=os.environ.get("TONGJIE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    corpus = loc_corpus(CACHE)
    path = first_records(corpus, args.limit, CACHE) if args.limit else corpus
    size = path.stat().st_size
    print(f"corpus: {path.name}, {size / 1e6:.0f} MB", flush=True)
    result: dict[str, object] = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        "python": platform.python_version(),
        "pymarc": pymarc_rate(path),
    }
    print("pymarc MARCReader:", result["pymarc"], flush=True)
    result["reader"] = reader_rate(path)
    print("tongjie reader:", result["reader"], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = import_into(f"sqlite:///{tmp}/bench.db", path, size)
    print("import into SQLite:", result["sqlite"], flush=True)
    if args.postgres:
        url, drop = scratch_postgres_database(args.postgres, prefix="tongjie_bench")
        try:
            result["postgresql"] = import_into(url, path, size)
        finally:
            drop()
        print("import into PostgreSQL:", result["postgresql"], flush=True)
    pymarc_per_second = result["pymarc"]["per_second"]  # type: ignore[index]
    for backend in ("sqlite", "postgresql"):
        if backend in result:
            rate = result[backend]["records_per_second"]  # type: ignore[index]
            result[backend]["ratio_to_pymarc_parse"] = round(rate / pymarc_per_second, 2)  # type: ignore[index]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import_loc.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
