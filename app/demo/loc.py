"""The Library of Congress corpus in pymarc's source distribution: real records for the demo
and the import benchmark.

pymarc 5.4.0's sdist on PyPI carries BooksAll.2016.part01.utf8 (250,000 MARC21
records, UTF-8, about 8,000 Chinese-language). It is fetched with pip into a
cache folder and never committed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from itertools import islice
from pathlib import Path

from catalog.marc.reader import read_marc

SDIST = "pymarc-5.4.0.tar.gz"
MEMBER = "pymarc-5.4.0/BooksAll.2016.part01.utf8"


def loc_corpus(cache: Path) -> Path:
    """The corpus file, fetched and extracted into ``cache`` on first use."""
    target = cache / "BooksAll.2016.part01.utf8"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / SDIST).exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps",
             "pymarc==5.4.0", "-d", str(cache)],
            check=True,
        )  # fmt: skip
    with tarfile.open(cache / SDIST) as tar:
        source = tar.extractfile(MEMBER)
        if source is None:
            raise FileNotFoundError(f"{MEMBER} not in {SDIST}")
        partial = target.with_suffix(f".{os.getpid()}.partial")  # two runs at once
        with partial.open("wb") as out:
            while block := source.read(1 << 20):
                out.write(block)
        partial.rename(target)
    return target


def first_records(corpus: Path, count: int, cache: Path) -> Path:
    """The first ``count`` readable records of the corpus as their own ISO 2709 file."""
    out = cache / f"loc-first-{count}.mrc"
    if not out.exists():
        partial = out.with_suffix(f".{os.getpid()}.partial")
        with partial.open("wb") as handle:
            readable = (r for r in read_marc(corpus) if r.record is not None)
            for result in islice(readable, count):
                handle.write(result.raw)
        partial.rename(out)
    return out
