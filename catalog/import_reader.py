"""The reading half of `tongjie catalog import`: MARC file -> batches of prepared records.

Reading, mapping and keying a record is most of an import's work, and needs
no database; writing needs the database and little else. So a large file is
read in a second process (``python -c``, a clean interpreter: no inherited
database connections, nothing of the caller's main module re-run) that
sends prepared batches down a pipe while this process writes the previous
ones: on two cores, both halves run at once. A small file is read here,
because starting an interpreter costs more than it saves. The batches, and
what is written from them, are the same either way (tested).

Memory stays flat: the pipe blocks the reader when the writer is behind, so
it is never more than a batch or two ahead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import pickle
import subprocess
import sys
import traceback
from collections.abc import Generator, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO, Any, NamedTuple

from catalog.dedupe import record_key
from catalog.isbn import first_isbn13
from catalog.marc.mapping import normalise, to_utf8_iso2709
from catalog.marc.reader import MarcReadResult, read_marc

PARALLEL_MIN_BYTES = 4_000_000  # below this, starting a reading process costs more than it saves


class Prepared(NamedTuple):
    """One record of the file, read, mapped and keyed: what the writing side needs, and no more.

    Made in the reading process (see ``prepared_batches``) and sent to the
    writing one, so it holds only plain values that pickle fast: ``row``
    holds the records table's values in ``RECORD_COLUMNS`` order (JSON
    columns already encoded), ``holdings`` the holdings as tuples in
    ``Holding`` field order. A record that cannot be imported has ``row``
    None, ``error`` saying why and ``raw`` holding its bytes for the reject file.
    """

    number: int  # the record's number in the file, from 1
    offset: int | None
    flavour: str
    warnings: tuple[str, ...]
    error: str | None
    raw: bytes
    row: tuple[Any, ...] | None
    sha: str
    holdings: tuple[tuple[str | None, ...], ...]


RECORD_COLUMNS = (
    "title", "title_pinyin", "other_title", "responsibility", "authors", "authors_pinyin",
    "edition", "publisher", "pub_place", "pub_year", "extent", "series", "summary", "subjects",
    "clc", "language", "isbn13", "isbns", "price", "match_key", "marc_flavour", "marc", "extra",
)  # fmt: skip
COL_CLC, COL_ISBN13, COL_PRICE, COL_KEY, COL_MARC = (  # positions in Prepared.row
    RECORD_COLUMNS.index(c) for c in ("clc", "isbn13", "price", "match_key", "marc")
)


def prepare(result: MarcReadResult) -> Prepared:
    """Map one read result to what the writer needs; never raises for a bad record."""
    warnings = list(result.warnings)
    if result.record is None:
        return Prepared(result.index, result.offset, result.flavour, tuple(warnings),
                        result.error or "unreadable record", result.raw, None, "", ())  # fmt: skip
    try:
        record = normalise(result.record, result.flavour)
        marc = to_utf8_iso2709(result.record, result.flavour)
    except Exception as exc:  # a record pymarc read but we cannot map: report, go on
        reason = f"cannot map the record: {type(exc).__name__}: {exc}"
        return Prepared(result.index, result.offset, result.flavour, tuple(warnings), reason,
                        result.raw, None, "", ())  # fmt: skip
    isbn13, problems = first_isbn13(record.isbns)
    warnings.extend(f"{problem}; kept as text" for problem in problems)
    warnings.extend(record.warnings)
    key = record_key(record)
    row = (
        record.title,
        record.title_pinyin,
        record.other_title,
        record.responsibility,
        _json_list(record.authors),
        _json_list(record.authors_pinyin),
        _cut(record.edition, 200),
        _cut(record.publisher, 300),
        _cut(record.pub_place, 200),
        record.pub_year[:4] if record.pub_year else None,
        _cut(record.extent, 300),
        record.series,
        record.summary,
        _json_list(record.subjects),
        _cut(record.clc, 64),
        record.language[:3] if record.language else None,
        isbn13,
        _json_list(record.isbns),
        _cut(record.price, 64),
        key,
        result.flavour,
        marc,
        "{}",
    )
    holdings = tuple(
        (h.barcode, h.home, h.current, h.call_number, h.item_type, h.price) for h in record.holdings
    )
    sha = hashlib.sha256(marc).hexdigest()
    return Prepared(result.index, result.offset, result.flavour, tuple(warnings), None, b"",
                    row, sha, holdings)  # fmt: skip


def _json_list(values: list[str]) -> str:
    return json.dumps(values, ensure_ascii=False) if values else "[]"


def _cut(text: str | None, size: int) -> str | None:
    return text[:size] if text else text


def _batches(results: Iterable[MarcReadResult], size: int) -> Iterator[list[MarcReadResult]]:
    iterator = iter(results)
    while batch := list(islice(iterator, size)):
        yield batch


def prepared_batches(
    path: Path, *, format: str, encoding: str, batch_size: int, jobs: int = 0
) -> Generator[list[Prepared], None, None]:
    """The file's records, prepared, batch by batch, in file order.

    ``jobs`` 2: read in a second process (see the module docstring); 1: read
    here; 0: 2 for a file of some megabytes on a machine with more than one
    core, else 1.
    """
    if jobs not in (0, 1, 2):
        raise ValueError(f"jobs must be 0 (choose), 1 or 2, not {jobs}")
    if jobs == 0:
        big = path.stat().st_size >= PARALLEL_MIN_BYTES
        jobs = 2 if big and (os.cpu_count() or 1) > 1 else 1
    if jobs == 1:
        for results in _batches(read_marc(path, format=format, encoding=encoding), batch_size):
            yield [prepare(r) for r in results]
        return
    yield from _from_reader_process(path, format, encoding, batch_size)


def _from_reader_process(
    path: Path, format: str, encoding: str, batch_size: int
) -> Generator[list[Prepared], None, None]:
    package_root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    command = "from catalog.import_reader import reader_main; reader_main()"
    process = subprocess.Popen(
        [sys.executable, "-c", command, str(path), format, encoding, str(batch_size)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    _widen(process.stdout)
    try:
        while True:
            try:
                message = pickle.load(process.stdout)
            except EOFError:
                code = process.wait()
                raise RuntimeError(
                    f"the reading process for {path.name} stopped early (exit code {code})"
                ) from None
            if message is None:
                break
            if isinstance(message, str):
                last = message.strip().splitlines()[-1]
                raise RuntimeError(f"the reading process for {path.name} failed: {last}\n{message}")
            yield message
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()


PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged process


def _widen(pipe: IO[bytes]) -> None:
    """Let the reader run up to about a batch further ahead (the pipe holds 64 KiB by default)."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), set_size, PIPE_BYTES)


def reader_main() -> None:
    """The reading process: argv = path format encoding batch_size; pickles to standard output.

    Sends each batch (a list of Prepared), then None; on failure, the
    traceback as a string. Anything else printed goes to standard error, so
    it cannot corrupt the stream.
    """
    path, format, encoding, batch_size = sys.argv[1:5]
    out: IO[bytes] = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    try:
        records = read_marc(Path(path), format=format, encoding=encoding)
        for results in _batches(records, int(batch_size)):
            pickle.dump([prepare(r) for r in results], out, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(None, out)
    except (BrokenPipeError, KeyboardInterrupt):  # the writer stopped or was interrupted
        return
    except BaseException:
        with contextlib.suppress(BrokenPipeError):
            pickle.dump(traceback.format_exc(), out)
    with contextlib.suppress(BrokenPipeError):
        out.close()
