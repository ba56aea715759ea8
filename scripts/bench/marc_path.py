"""Benchmark: the MARC path of an import without the database (read, map, storage form).

    .venv/bin/python scripts/bench/marc_path.py [--limit N] [--file PATH]

Reads the first N records (default 20,000) of the Library of Congress file
bench-data/BooksAll.2016.part01.utf8 and prints records per second for each
stage on its own and for the three together, the way catalog/imports.py runs
them:

- read:      catalog.marc.reader.read_marc
- normalise: catalog.marc.mapping.normalise on every record read
- store:     catalog.marc.mapping.to_utf8_iso2709 on every record read
- combined:  read + normalise + store, the wall time of the whole run

The file is not in the repository: ``python scripts/bench/import_loc.py``
fetches pymarc's 5.4.0 sdist with pip and extracts it into bench-data/.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from catalog.marc.mapping import normalise, to_utf8_iso2709  # noqa: E402
from catalog.marc.reader import read_marc  # noqa: E402

CORPUS = ROOT / "bench-data" / "BooksAll.2016.part01.utf8"
BATCH = 1000


TARGET = 8000  # records/second for the three together: half an import's budget


def _rate(count: int, seconds: float) -> str:
    if not count or seconds <= 0:
        return "        - rec/s"
    return f"{count / seconds:>9,.0f} rec/s  {seconds / count * 1e6:>7.1f} µs/rec"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20000, help="records to read (20000)")
    parser.add_argument("--file", type=Path, default=CORPUS, help="MARC file to read")
    args = parser.parse_args(argv)
    path: Path = args.file
    if not path.exists():
        print(
            f"{path} is missing; fetch it with: python scripts/bench/import_loc.py "
            "(downloads pymarc 5.4.0's sdist and extracts BooksAll.2016.part01.utf8)",
            file=sys.stderr,
        )
        return 2
    limit: int = args.limit

    # Records go through in batches of 1,000, as catalog/imports.py takes them,
    # so that the garbage collector sees what it sees in an import (holding
    # all N records at once makes every stage look several times slower).
    read_s = norm_s = store_s = 0.0
    read_n = good_n = 0
    results = read_marc(path)
    clock = time.perf_counter
    started = clock()
    while read_n < limit:
        t0 = clock()
        batch = list(itertools.islice(results, min(BATCH, limit - read_n)))
        t1 = clock()
        if not batch:
            break
        good = [(r.record, r.flavour) for r in batch if r.record is not None]
        for record, flavour in good:
            normalise(record, flavour)
        t2 = clock()
        for record, flavour in good:
            to_utf8_iso2709(record, flavour)
        t3 = clock()
        read_s += t1 - t0
        norm_s += t2 - t1
        store_s += t3 - t2
        read_n += len(batch)
        good_n += len(good)
    all_s = clock() - started
    if not read_n:
        print(f"{path} has no records", file=sys.stderr)
        return 1

    print(f"{path.name}, first {read_n:,} records ({good_n:,} read, the rest reported)")
    print(f"  read       {_rate(read_n, read_s)}")
    print(f"  normalise  {_rate(good_n, norm_s)}")
    print(f"  store      {_rate(good_n, store_s)}")
    print(f"  combined   {_rate(read_n, all_s)}  (target {TARGET:,} rec/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
